package dev.buddy.router;

/**
 * Read access to the layer-0 KV cache rows the router routes from. Each call copies one position's row, flattened as
 * {@code [kvHead][headDim]}, into {@code dst} from {@code offset}. The engine's {@code LayerPlanContext} provides
 * exactly this; tests and offline tools can supply any feature stream.
 */
public interface Layer0Features {
    void key(int position, float[] dst, int offset);

    void value(int position, float[] dst, int offset);
}

package dev.buddy.router.lora;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.ProductAddend;

/**
 * A {@link LoraLayer} as the engine's {@link ProductAddend}: what a decorated matrix adds after its base product.
 * A·x goes to scratch owned by the calling thread (grown once, then reused), so decode allocates nothing.
 */
final class LoraAddend implements ProductAddend {
    private static final ThreadLocal<float[][]> HIDDEN = ThreadLocal.withInitial(() -> new float[1][0]);

    private final LoraLayer layer;

    LoraAddend(LoraLayer layer) {
        this.layer = layer;
    }

    @Override
    public void addTo(float[] x, int xOffset, int tokens, float[] out, int outOffset, Parallel pool) {
        float[][] holder = HIDDEN.get();
        int size = tokens * layer.rank();
        if (holder[0].length < size) {
            holder[0] = new float[size];
        }
        layer.forward(x, xOffset, tokens, holder[0], out, outOffset, pool);
    }
}

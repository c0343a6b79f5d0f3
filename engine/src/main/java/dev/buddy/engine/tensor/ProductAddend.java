package dev.buddy.engine.tensor;

/**
 * A term a {@link WeightMatrix} adds to each of its products after the base kernel has written them: the extension
 * point through which a low-rank adapter ({@code y = W·x + s·B·(A·x)}) decorates a frozen, quantised matrix without
 * touching its data. It sees the full-precision input rows, not their quantised form.
 *
 * <p>Implementations must be thread-safe (a matrix may be used by several threads at once) and should not allocate
 * per call: they run once per token in decode.
 */
@FunctionalInterface
public interface ProductAddend {
    /**
     * Adds the term for {@code tokens} input rows: row t is {@code x[xOffset + t·cols ..]}, and its output row
     * {@code out[outOffset + t·rows ..]} already holds the base product.
     */
    void addTo(float[] x, int xOffset, int tokens, float[] out, int outOffset, Parallel pool);
}

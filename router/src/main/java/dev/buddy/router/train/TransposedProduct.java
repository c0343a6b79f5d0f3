package dev.buddy.router.train;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;

/**
 * The input gradient of a frozen linear layer, {@code dX += dY · W}, computed from the matrix in its stored
 * (quantised) format: the forward product {@code Y = X·Wᵀ} is what {@link WeightMatrix#matmul} offers, and its
 * transpose is not stored anywhere, so rows are streamed instead. Each worker takes a contiguous range of positions,
 * dequantises {@value #ROW_BLOCK} rows at a time into its own scratch with {@link WeightMatrix#row}, and adds
 * {@code dY[t][r] · W[r]} into each of its positions' rows. The model is never expanded to F32: at most
 * {@value #ROW_BLOCK} dequantised rows per thread exist at once.
 *
 * <p>Every element of dX is accumulated over rows in ascending order by a single thread, so the result does not
 * depend on the thread count.
 */
final class TransposedProduct {
    /** Rows dequantised together: enough that the row block stays in L2 while the position rows sweep over it. */
    private static final int ROW_BLOCK = 16;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private TransposedProduct() {}

    /**
     * {@code dX[t][c] += Σ_r dY[t][r] · W[r][c]} for {@code t < n}.
     *
     * @param dY {@code n × rows} row-major
     * @param dX {@code n × cols} row-major, accumulated into
     */
    static void accumulate(WeightMatrix w, float[] dY, int n, float[] dX, Parallel pool) {
        int rows = w.rows();
        int cols = w.cols();
        if ((long) n * rows > dY.length || (long) n * cols > dX.length) {
            throw new IllegalArgumentException("gradient buffers too small for " + n + " positions of "
                    + w.name() + " (" + rows + "x" + cols + ")");
        }
        // One chunk per thread: every chunk dequantises the whole matrix once, so fewer chunks means less repeated
        // decoding, and the positions split evenly.
        int grain = Math.max(1, (n + pool.threads() - 1) / pool.threads());
        pool.forRange(n, grain, (from, to) -> accumulateRange(w, dY, dX, from, to));
    }

    private static void accumulateRange(WeightMatrix w, float[] dY, float[] dX, int from, int to) {
        int rows = w.rows();
        int cols = w.cols();
        float[] block = scratch(ROW_BLOCK * cols);
        for (int r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
            int r1 = Math.min(rows, r0 + ROW_BLOCK);
            boolean any = false;
            for (int t = from; t < to && !any; t++) {
                for (int r = r0; r < r1; r++) {
                    if (dY[t * rows + r] != 0f) {
                        any = true;
                        break;
                    }
                }
            }
            if (!any) {
                // Rows whose gradient is zero at every position (e.g. the LM head's rows of tokens no position
                // scored) need not be decoded.
                continue;
            }
            for (int r = r0; r < r1; r++) {
                w.row(r, block, (r - r0) * cols);
            }
            for (int t = from; t < to; t++) {
                int dyRow = t * rows;
                int dxRow = t * cols;
                for (int r = r0; r < r1; r++) {
                    float a = dY[dyRow + r];
                    if (a != 0f) {
                        Vec.axpy(a, block, (r - r0) * cols, dX, dxRow, cols);
                    }
                }
            }
        }
    }

    private static float[] scratch(int size) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < size) {
            holder[0] = new float[size];
        }
        return holder[0];
    }
}

package dev.buddy.router.lora;

import dev.buddy.engine.tensor.Parallel;

/**
 * One adapted projection: {@code y += s·B·(A·x)} with A of {@code rank × in} and B of {@code out × rank}, s = α/r.
 * The weights live in the owning {@link LoraAdapters}' flat parameter vector: A row-major at {@link #aOffset}, and B
 * stored transposed ({@code rank × out}) at {@link #bOffset}, so both products run as contiguous dot products and
 * axpys over the long dimension. (The file stores B as {@code out × rank}, as PEFT and llama.cpp do.)
 *
 * <p>All products are over a whole batch of rows (positions); every output element is computed by one thread in a
 * fixed order, so results do not depend on the thread count.
 */
public final class LoraLayer {
    /** Rows per parallel chunk: below this a hand-off costs more than the few dot products it saves. */
    private static final int MIN_ROWS_PER_TASK = 4;

    private final int block;
    private final LoraTarget target;
    private final float[] params;
    private final int aOffset;
    private final int bOffset;
    private final int rank;
    private final int in;
    private final int out;
    private final float scale;

    LoraLayer(int block, LoraTarget target, float[] params, int aOffset, int bOffset, int rank, int in, int out,
              float scale) {
        this.block = block;
        this.target = target;
        this.params = params;
        this.aOffset = aOffset;
        this.bOffset = bOffset;
        this.rank = rank;
        this.in = in;
        this.out = out;
        this.scale = scale;
    }

    public int block() {
        return block;
    }

    public LoraTarget target() {
        return target;
    }

    public int rank() {
        return rank;
    }

    public int inputs() {
        return in;
    }

    public int outputs() {
        return out;
    }

    /** Offset of A (rank × in, row-major) in the parameter vector. */
    public int aOffset() {
        return aOffset;
    }

    /** Offset of Bᵀ (rank × out, row-major) in the parameter vector. */
    public int bOffset() {
        return bOffset;
    }

    /**
     * For rows {@code t < n}: {@code hidden[t·rank + j] = A_j · x_t} and {@code y_t += s · Σ_j hidden[t·rank+j]·Bᵀ_j},
     * with {@code x_t = x[xOffset + t·in ..]} and {@code y_t = y[yOffset + t·out ..]}.
     *
     * @param hidden at least {@code n·rank} floats; keeps A·x for the backward pass
     * @param pool   splits the rows when there are enough of them; may be null
     */
    public void forward(float[] x, int xOffset, int n, float[] hidden, float[] y, int yOffset, Parallel pool) {
        if (pool == null || n < 2 * MIN_ROWS_PER_TASK || pool.threads() == 1) {
            forwardRows(x, xOffset, hidden, y, yOffset, 0, n);
        } else {
            pool.forRange(n, MIN_ROWS_PER_TASK, (from, to) -> forwardRows(x, xOffset, hidden, y, yOffset, from, to));
        }
    }

    void forwardRows(float[] x, int xOffset, float[] hidden, float[] y, int yOffset, int from, int to) {
        for (int t = from; t < to; t++) {
            int xo = xOffset + t * in;
            int ho = t * rank;
            for (int j = 0; j < rank; j++) {
                hidden[ho + j] = LoraMath.dot(params, aOffset + j * in, x, xo, in);
            }
            int yo = yOffset + t * out;
            for (int j = 0; j < rank; j++) {
                LoraMath.axpy(scale * hidden[ho + j], params, bOffset + j * out, y, yo, out);
            }
        }
    }

    /**
     * The backward pass of {@link #forward} over rows {@code t < n}, for output gradient {@code dY} ({@code n × out}):
     * adds {@code gradScale · ∂/∂A} and {@code gradScale · ∂/∂Bᵀ} of {@code Σ ⟨dY_t, y_t⟩} into {@code gradient}
     * (same layout as the parameters), and {@code Aᵀ·(s·B)ᵀ·dY_t} into {@code dX} ({@code n × in}), unscaled.
     *
     * @param hidden    what {@link #forward} kept for these rows
     * @param gradScale the block's gate: its weight in the residual stream
     * @param scratch   per-call buffers of {@link Scratch#forLayer}
     */
    public void backward(float[] x, int n, float[] hidden, float[] dY, float gradScale, double[] gradient,
                         float[] dX, Scratch scratch, Parallel pool) {
        float[] dHidden = scratch.dHidden;
        float[] dA = scratch.dA;
        float[] dBt = scratch.dBt;
        // dHidden_t = s · B·ᵀ dY_t  (n × rank)
        rows(pool, n, (from, to) -> {
            for (int t = from; t < to; t++) {
                for (int j = 0; j < rank; j++) {
                    dHidden[t * rank + j] = scale * LoraMath.dot(params, bOffset + j * out, dY, t * out, out);
                }
            }
        });
        // dBᵀ_j = s · Σ_t hidden[t][j] · dY_t  and  dA_j = Σ_t dHidden[t][j] · x_t, one rank row per task.
        java.util.Arrays.fill(dA, 0, rank * in, 0f);
        java.util.Arrays.fill(dBt, 0, rank * out, 0f);
        Parallel.RangeTask weights = (from, to) -> {
            for (int j = from; j < to; j++) {
                for (int t = 0; t < n; t++) {
                    LoraMath.axpy(scale * hidden[t * rank + j], dY, t * out, dBt, j * out, out);
                    LoraMath.axpy(dHidden[t * rank + j], x, t * in, dA, j * in, in);
                }
            }
        };
        if (pool == null || pool.threads() == 1) {
            weights.run(0, rank);
        } else {
            pool.forRange(rank, 1, weights);
        }
        for (int i = 0; i < rank * in; i++) {
            gradient[aOffset + i] += (double) gradScale * dA[i];
        }
        for (int i = 0; i < rank * out; i++) {
            gradient[bOffset + i] += (double) gradScale * dBt[i];
        }
        // dX_t += Σ_j dHidden[t][j] · A_j
        rows(pool, n, (from, to) -> {
            for (int t = from; t < to; t++) {
                for (int j = 0; j < rank; j++) {
                    LoraMath.axpy(dHidden[t * rank + j], params, aOffset + j * in, dX, t * in, in);
                }
            }
        });
    }

    private static void rows(Parallel pool, int n, Parallel.RangeTask task) {
        if (pool == null || n < 2 * MIN_ROWS_PER_TASK || pool.threads() == 1) {
            task.run(0, n);
        } else {
            pool.forRange(n, MIN_ROWS_PER_TASK, task);
        }
    }

    /** Backward scratch shared by every layer of a pass (backward runs one layer at a time). */
    public static final class Scratch {
        final float[] dHidden;
        final float[] dA;
        final float[] dBt;

        /** Buffers for {@code capacity} rows of the widest layer of {@code adapters}. */
        public static Scratch forLayer(LoraAdapters adapters, int capacity) {
            return new Scratch(capacity * adapters.config().rank(), adapters.config().rank() * adapters.widest());
        }

        private Scratch(int hidden, int weights) {
            dHidden = new float[hidden];
            dA = new float[weights];
            dBt = new float[weights];
        }
    }
}

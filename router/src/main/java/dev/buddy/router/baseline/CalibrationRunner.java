package dev.buddy.router.baseline;

import java.util.Arrays;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.ResidualObserver;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;

/**
 * Runs a model over calibration tokens in independent windows (each starts at position 0 with an empty cache) and
 * measures what the static baselines need: the mean next-token loss with a set of blocks removed, and ShortGPT's
 * block influence. Every window is one prefill call, so all its positions go through the blocks as a GEMM; the
 * logits of every position are computed here from the residual after the last block, which the engine shows through
 * a {@link ResidualObserver}.
 */
public final class CalibrationRunner implements AutoCloseable {
    private final Model model;
    private final ModelSpec spec;
    private final Transformer transformer;
    private final Parallel pool;
    private final InferenceState state;
    private final int[] tokens;
    private final int window;
    private final float[] normed;
    private final float[] logits;

    /**
     * @param tokens  the calibration tokens, at least {@link CalibrationTokens#MIN_TOKENS}
     * @param window  tokens per window (also the context and batch size); a shorter tail window is measured too
     * @param threads worker threads
     */
    public CalibrationRunner(Model model, int[] tokens, int window, int threads) {
        if (tokens.length < CalibrationTokens.MIN_TOKENS) {
            throw new CalibrationException("calibration needs at least " + CalibrationTokens.MIN_TOKENS
                    + " tokens, got " + tokens.length);
        }
        if (window < 2) {
            throw new IllegalArgumentException("a calibration window needs at least 2 tokens, got " + window);
        }
        this.model = model;
        this.spec = model.spec();
        this.tokens = tokens.clone();
        this.window = Math.min(window, Math.min(tokens.length, spec.contextLength()));
        this.pool = new Parallel(threads);
        this.transformer = new Transformer(model, pool);
        // Removed blocks never attend, so their cache rows are never read: MASK is the cheapest policy to leave.
        this.state = transformer.newState(this.window, KvCacheType.F32, this.window, SkippedKvPolicy.MASK);
        this.normed = new float[this.window * spec.embeddingLength()];
        this.logits = new float[this.window * spec.vocabSize()];
    }

    public int layerCount() {
        return spec.blockCount();
    }

    /** Number of calibration tokens whose next token is predicted (every window loses its last one). */
    public int predictedTokens() {
        int full = tokens.length / window;
        int tail = tokens.length % window;
        return full * (window - 1) + Math.max(0, tail - 1);
    }

    /** Perplexity exp(mean NLL) with the blocks marked in {@code removed} (length L) skipped at every position. */
    public double perplexity(boolean[] removed) {
        return Math.exp(meanNll(removed));
    }

    /** Mean next-token negative log-likelihood (nats) with the blocks marked in {@code removed} skipped. */
    public double meanNll(boolean[] removed) {
        if (removed.length != spec.blockCount()) {
            throw new IllegalArgumentException("removal mask has " + removed.length + " entries for "
                    + spec.blockCount() + " blocks");
        }
        if (removed[0]) {
            throw new IllegalArgumentException("block 0 always runs and cannot be removed");
        }
        boolean[] skip = removed.clone();
        LayerPlanner planner = (ctx, runBlock) -> {
            for (int b = 1; b < runBlock.length; b++) {
                if (skip[b]) {
                    runBlock[b] = false;
                }
            }
        };
        NllAccumulator nll = new NllAccumulator();
        forEachWindow(planner, nll);
        return nll.sum / nll.count;
    }

    /**
     * ShortGPT's Block Influence of every block: 1 − cos(input, output) of its residual stream, averaged over all
     * calibration tokens, with the full model running. Each value lies in [0, 2].
     */
    public double[] blockInfluence() {
        InfluenceAccumulator bi = new InfluenceAccumulator();
        forEachWindow(null, bi);
        double[] out = new double[spec.blockCount()];
        for (int b = 0; b < out.length; b++) {
            out[b] = bi.sum[b] / bi.count;
        }
        return out;
    }

    /** The last position's logits as the observer path computes them, so tests can check it against the engine. */
    float[] lastPositionLogits(int[] windowTokens) {
        state.reset();
        float[][] captured = new float[1][];
        state.setResidualObserver((boundary, x, start, n, dim) -> {
            if (boundary == spec.blockCount()) {
                computeLogits(x, n);
                captured[0] = Arrays.copyOfRange(logits, (n - 1) * spec.vocabSize(), n * spec.vocabSize());
            }
        });
        try {
            transformer.forward(state, windowTokens, 0, windowTokens.length, null, false);
        } finally {
            state.setResidualObserver(null);
        }
        return captured[0];
    }

    /** The engine's own logits of the last position, for the same check. */
    float[] engineLastPositionLogits(int[] windowTokens) {
        state.reset();
        return transformer.forward(state, windowTokens, 0, windowTokens.length, null, true).clone();
    }

    private void forEachWindow(LayerPlanner planner, ResidualObserver observer) {
        state.setResidualObserver(observer);
        try {
            for (int start = 0; start + 1 < tokens.length; start += window) {
                int n = Math.min(window, tokens.length - start);
                if (n < 2) {
                    break;
                }
                state.reset();
                windowStart = start;
                windowLength = n;
                transformer.forward(state, tokens, start, 0, n, planner, false);
            }
        } finally {
            state.setResidualObserver(null);
        }
    }

    // The window being run, read by the observers.
    private int windowStart;
    private int windowLength;

    /** logits[t] = output · rmsNorm(x[t]) · outputNorm for the n rows, as the engine computes the last one. */
    private void computeLogits(float[] x, int n) {
        int dim = spec.embeddingLength();
        float[] weight = model.weights().outputNorm();
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            double sum = 0;
            for (int i = 0; i < dim; i++) {
                float v = x[o + i];
                sum += v * v;
            }
            float scale = 1.0f / (float) Math.sqrt((float) (sum / dim) + spec.rmsEps());
            for (int i = 0; i < dim; i++) {
                normed[o + i] = (x[o + i] * scale) * weight[i];
            }
        }
        WeightMatrix output = model.weights().output();
        if (n == 1) {
            output.matvec(normed, 0, logits, 0, pool);
        } else {
            output.matmul(normed, n, logits, pool);
        }
    }

    private final class NllAccumulator implements ResidualObserver {
        double sum;
        long count;

        @Override
        public void observe(int boundary, float[] x, int start, int n, int dim) {
            if (boundary != spec.blockCount()) {
                return;
            }
            computeLogits(x, n);
            int vocab = spec.vocabSize();
            // Row t predicts the token at window position start + t + 1; the window's last row has no target.
            for (int t = 0; t < n; t++) {
                int position = start + t;
                if (position + 1 >= windowLength) {
                    continue;
                }
                int target = tokens[windowStart + position + 1];
                int o = t * vocab;
                float max = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    max = Math.max(max, logits[o + v]);
                }
                double z = 0;
                for (int v = 0; v < vocab; v++) {
                    z += Math.exp(logits[o + v] - max);
                }
                sum += Math.log(z) + max - logits[o + target];
                count++;
            }
        }
    }

    private final class InfluenceAccumulator implements ResidualObserver {
        final double[] sum = new double[spec.blockCount()];
        final float[] previous = new float[window * spec.embeddingLength()];
        long count;

        @Override
        public void observe(int boundary, float[] x, int start, int n, int dim) {
            if (boundary > 0) {
                int block = boundary - 1;
                for (int t = 0; t < n; t++) {
                    sum[block] += 1.0 - cosine(previous, x, t * dim, dim);
                }
            }
            if (boundary == spec.blockCount()) {
                count += n;
            } else {
                System.arraycopy(x, 0, previous, 0, n * dim);
            }
        }

        private static double cosine(float[] a, float[] b, int offset, int dim) {
            double dot = 0;
            double na = 0;
            double nb = 0;
            for (int i = 0; i < dim; i++) {
                double x = a[offset + i];
                double y = b[offset + i];
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            double denominator = Math.sqrt(na) * Math.sqrt(nb);
            // A zero residual has no direction; count it as unchanged rather than divide by zero.
            return denominator == 0 ? 1.0 : Math.max(-1.0, Math.min(1.0, dot / denominator));
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}

package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Priors;
import dev.buddy.router.eval.ProgressListener;

/**
 * Estimates a per-block importance indicator on calibration text and normalises it into the prior p̃ with the
 * paper's pipeline ({@link Priors#normalize}: log1p where the indicator is heavy-tailed, robust z-score by median and
 * IQR, rank to (0, 1), standardise). Only the middle blocks get a prior; blocks 0 and L−1 always run.
 */
public final class PriorEstimator {

    /**
     * @param kind      the indicator
     * @param raw       the indicator per middle block after direction unification (index j is block j+1)
     * @param prior     the normalised prior p̃
     * @param tokens    scored calibration tokens
     * @param sequences calibration sequences
     */
    public record Estimate(PriorKind kind, double[] raw, Prior prior, long tokens, int sequences) {
        /** Middle blocks (1..L−2) from most to least important; ties to the lower block. */
        public int[] ranking() {
            Integer[] order = new Integer[raw.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> raw[a] != raw[b] ? Double.compare(raw[b], raw[a]) : Integer.compare(a, b));
            return Arrays.stream(order).mapToInt(j -> j + 1).toArray();
        }
    }

    private PriorEstimator() {}

    /** Estimates {@code kind} on every example of {@code data}. */
    public static Estimate estimate(FrozenModel model, TrainingData data, PriorKind kind, int threads) {
        return estimate(model, data, kind, threads, ProgressListener.NONE);
    }

    /**
     * As {@link #estimate(FrozenModel, TrainingData, PriorKind, int)}, telling {@code progress} of every sequence
     * pass (a forward pass, or forward and backward for Taylor); {@link #passes} of them in all.
     */
    public static Estimate estimate(FrozenModel model, TrainingData data, PriorKind kind, int threads,
                                    ProgressListener progress) {
        try (Parallel pool = new Parallel(threads)) {
            return estimate(model, data, kind, pool, progress);
        }
    }

    /** The sequence passes an estimate makes: one per sequence, or L−1 per sequence for ΔPPL (full + each block). */
    public static long passes(PriorKind kind, int sequences, int layers) {
        return kind == PriorKind.PPL ? (long) sequences * (layers - 1) : sequences;
    }

    static Estimate estimate(FrozenModel model, TrainingData data, PriorKind kind, Parallel pool) {
        return estimate(model, data, kind, pool, ProgressListener.NONE);
    }

    static Estimate estimate(FrozenModel model, TrainingData data, PriorKind kind, Parallel pool,
                             ProgressListener progress) {
        int layers = model.spec().blockCount();
        dev.buddy.router.Budget.requireRoutableDepth(layers);
        int capacity = 1;
        long tokens = 0;
        for (int i = 0; i < data.size(); i++) {
            TrainingExample e = data.example(i);
            capacity = Math.max(capacity, e.length());
            tokens += e.targetCount();
        }
        if (tokens == 0) {
            throw new TrainingDataException(data.describe() + " has no scored tokens to estimate a prior on");
        }
        ModelPass pass = new ModelPass(model, capacity, pool);
        double[] raw = switch (kind) {
            case TAYLOR -> taylor(pass, data, layers, tokens, progress);
            case PPL -> deltaPerplexity(pass, data, layers, tokens, progress);
            case COSINE -> cosine(pass, data, layers, progress);
            case SLEB -> throw new IllegalArgumentException("the SLEB prior comes from a SLEB search (buddy prior"
                    + " --method sleb), not from a one-pass estimate");
        };
        return new Estimate(kind, raw, new Prior(kind.fileName(), Priors.normalize(raw, kind.heavyTail())), tokens,
                data.size());
    }

    /** |Σ ∂L/∂m_l| at full depth, L the mean NLL over all calibration tokens. */
    private static double[] taylor(ModelPass pass, TrainingData data, int layers, long tokens,
                                   ProgressListener progress) {
        float[] ones = ones(layers);
        double[] sums = new double[layers];
        double[] gradients = new double[layers];
        int[] targets = new int[pass.capacity()];
        float scale = (float) (1.0 / tokens);
        for (int i = 0; i < data.size(); i++) {
            TrainingExample e = data.example(i);
            progress.advance(1);
            if (e.targetCount() == 0) {
                continue;
            }
            pass.embed(e.tokens(), e.length());
            pass.forward(e.length(), ones, false);
            e.targets(targets);
            pass.headLoss(targets, scale, true);
            pass.backward(1, false, gradients);
            for (int l = 1; l < layers - 1; l++) {
                sums[l] += gradients[l];
            }
        }
        double[] raw = new double[layers - 2];
        for (int j = 0; j < raw.length; j++) {
            raw[j] = Math.abs(sums[j + 1]);
        }
        return raw;
    }

    /** max(0, PPL without block l − full PPL), perplexities over all calibration tokens. */
    private static double[] deltaPerplexity(ModelPass pass, TrainingData data, int layers, long tokens,
                                            ProgressListener progress) {
        double full = Math.exp(meanNll(pass, data, ones(layers), tokens, progress));
        double[] raw = new double[layers - 2];
        for (int j = 0; j < raw.length; j++) {
            float[] gates = ones(layers);
            gates[j + 1] = 0f;
            raw[j] = Math.max(0.0, Math.exp(meanNll(pass, data, gates, tokens, progress)) - full);
        }
        return raw;
    }

    private static double meanNll(ModelPass pass, TrainingData data, float[] gates, long tokens,
                                  ProgressListener progress) {
        int[] targets = new int[pass.capacity()];
        double nll = 0;
        for (int i = 0; i < data.size(); i++) {
            TrainingExample e = data.example(i);
            progress.advance(1);
            if (e.targetCount() == 0) {
                continue;
            }
            pass.embed(e.tokens(), e.length());
            pass.forward(e.length(), gates, false);
            e.targets(targets);
            nll += pass.headLoss(targets, 1f, false);
        }
        return nll / tokens;
    }

    /** Mean over positions of 1 − cos(h_l, h_{l+1}) at full depth. */
    private static double[] cosine(ModelPass pass, TrainingData data, int layers, ProgressListener progress) {
        float[] ones = ones(layers);
        int dim = pass.spec().embeddingLength();
        double[] sums = new double[layers];
        long positions = 0;
        for (int i = 0; i < data.size(); i++) {
            TrainingExample e = data.example(i);
            progress.advance(1);
            int n = e.length();
            pass.embed(e.tokens(), n);
            pass.forward(n, ones, false);
            for (int l = 1; l < layers - 1; l++) {
                float[] in = pass.blockInput(l);
                float[] out = pass.blockInput(l + 1);
                for (int t = 0; t < n; t++) {
                    double dot = 0;
                    double a = 0;
                    double b = 0;
                    for (int c = t * dim; c < (t + 1) * dim; c++) {
                        dot += (double) in[c] * out[c];
                        a += (double) in[c] * in[c];
                        b += (double) out[c] * out[c];
                    }
                    double cos = a > 0 && b > 0 ? dot / Math.sqrt(a * b) : 1.0;
                    sums[l] += 1.0 - cos;
                }
            }
            positions += n;
        }
        double[] raw = new double[layers - 2];
        for (int j = 0; j < raw.length; j++) {
            raw[j] = Math.max(0.0, sums[j + 1] / positions);
        }
        return raw;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }
}

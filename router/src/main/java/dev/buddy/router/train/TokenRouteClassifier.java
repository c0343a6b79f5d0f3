package dev.buddy.router.train;

import java.util.SplittableRandom;

/**
 * A small MLP in the Decision Module's shape (Linear, SiLU, Linear; hidden width 32 by default) that reads one
 * token's feature row and scores the route oracle's candidate routes, fitted to minimise the expected loss
 * {@code Σ_c softmax(z)_c · L_c} of the token's losses {@code L} under the candidates: a parametric counterpart to
 * choosing by nearest tokens, to ask whether a router of the paper's size could learn a per-token preference.
 *
 * <p>Inputs are standardised by the fitting tokens' mean and standard deviation. Adam with a fixed number of epochs,
 * mini-batches in an order drawn from {@code seed}, one thread: a fixed seed gives the same choices.
 */
public final class TokenRouteClassifier {
    /** How the classifier is fitted. */
    public record Settings(int hidden, int epochs, int batch, double learningRate, double weightDecay, long seed) {
        public static final Settings DEFAULT = new Settings(32, 40, 64, 3e-3, 1e-4, 19);
    }

    private final int width;
    private final int hidden;
    private final int candidates;
    private final float[] mean;
    private final float[] scale;
    /** w1 (hidden × width), b1 (hidden), w2 (candidates × hidden), b2 (candidates), one array. */
    private final double[] params;

    private TokenRouteClassifier(int width, int hidden, int candidates, float[] mean, float[] scale) {
        this.width = width;
        this.hidden = hidden;
        this.candidates = candidates;
        this.mean = mean;
        this.scale = scale;
        this.params = new double[hidden * width + hidden + candidates * hidden + candidates];
    }

    /**
     * Fits a classifier on the tokens {@code fit} (indices into {@code rows}, {@code width} floats each, and into
     * {@code losses}, one value per candidate).
     */
    static TokenRouteClassifier fit(float[] rows, int width, float[][] losses, int[] fit, Settings s) {
        int candidates = losses[fit[0]].length;
        float[] mean = new float[width];
        float[] scale = new float[width];
        for (int i = 0; i < width; i++) {
            double sum = 0;
            double squares = 0;
            for (int g : fit) {
                double v = rows[g * width + i];
                sum += v;
                squares += v * v;
            }
            double m = sum / fit.length;
            double sd = Math.sqrt(Math.max(0, squares / fit.length - m * m));
            mean[i] = (float) m;
            scale[i] = sd > 1e-12 ? (float) (1 / sd) : 0f;
        }
        TokenRouteClassifier c = new TokenRouteClassifier(width, s.hidden(), candidates, mean, scale);
        c.train(rows, losses, fit, s);
        return c;
    }

    /** The candidate with the highest score for row g (the lowest index on ties). */
    int choose(float[] rows, int g) {
        double[] x = new double[width];
        double[] h = new double[hidden];
        double[] z = new double[candidates];
        forward(rows, g, x, new double[hidden], h, z);
        int best = 0;
        for (int c = 1; c < candidates; c++) {
            if (z[c] > z[best]) {
                best = c;
            }
        }
        return best;
    }

    private void train(float[] rows, float[][] losses, int[] fit, Settings s) {
        SplittableRandom random = new SplittableRandom(s.seed());
        int w2 = hidden * width + hidden;
        int b2 = w2 + candidates * hidden;
        for (int i = 0; i < hidden * width; i++) {
            params[i] = random.nextGaussian() / Math.sqrt(width);
        }
        for (int i = w2; i < b2; i++) {
            params[i] = 0.1 * random.nextGaussian() / Math.sqrt(hidden);
        }
        double[] grad = new double[params.length];
        double[] m1 = new double[params.length];
        double[] m2 = new double[params.length];
        Scratch scratch = new Scratch();
        int[] order = fit.clone();
        long step = 0;
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int from = 0; from < order.length; from += s.batch()) {
                int to = Math.min(order.length, from + s.batch());
                java.util.Arrays.fill(grad, 0);
                for (int k = from; k < to; k++) {
                    expectedLoss(rows, losses[order[k]], order[k], grad, scratch);
                }
                step++;
                double n = to - from;
                double lr = s.learningRate() * Math.sqrt(1 - Math.pow(0.999, step)) / (1 - Math.pow(0.9, step));
                for (int i = 0; i < params.length; i++) {
                    double gi = grad[i] / n;
                    m1[i] = 0.9 * m1[i] + 0.1 * gi;
                    m2[i] = 0.999 * m2[i] + 0.001 * gi * gi;
                    params[i] -= lr * (m1[i] / (Math.sqrt(m2[i]) + 1e-8) + s.weightDecay() * params[i]);
                }
            }
        }
    }

    /** Buffers for one token's forward and backward pass. */
    final class Scratch {
        final double[] x = new double[width];
        final double[] pre = new double[hidden];
        final double[] h = new double[hidden];
        final double[] z = new double[candidates];
        final double[] dz = new double[candidates];
        final double[] dh = new double[hidden];
    }

    /** The parameters, flat: w1 (hidden × width), b1, w2 (candidates × hidden), b2. Tests perturb them. */
    double[] parameters() {
        return params;
    }

    /**
     * Token g's expected loss {@code Σ_c softmax(z)_c · tokenLosses[c]} under the current parameters, its gradient
     * added to {@code grad} (when not null).
     */
    double expectedLoss(float[] rows, float[] tokenLosses, int g, double[] grad, Scratch s) {
        forward(rows, g, s.x, s.pre, s.h, s.z);
        double max = s.z[0];
        for (int c = 1; c < candidates; c++) {
            max = Math.max(max, s.z[c]);
        }
        double sum = 0;
        for (int c = 0; c < candidates; c++) {
            s.dz[c] = Math.exp(s.z[c] - max);
            sum += s.dz[c];
        }
        double expected = 0;
        for (int c = 0; c < candidates; c++) {
            s.dz[c] /= sum;
            expected += s.dz[c] * tokenLosses[c];
        }
        if (grad != null) {
            // d/dz_k of Σ p_c L_c = p_k (L_k − Σ p_c L_c)
            for (int c = 0; c < candidates; c++) {
                s.dz[c] *= tokenLosses[c] - expected;
            }
            backward(s.x, s.pre, s.h, s.dz, s.dh, grad);
        }
        return expected;
    }

    /** An untrained classifier with the given standardisation and Gaussian parameters, for gradient checks. */
    static TokenRouteClassifier random(int width, int hidden, int candidates, float[] mean, float[] scale,
                                       long seed) {
        TokenRouteClassifier c = new TokenRouteClassifier(width, hidden, candidates, mean, scale);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < c.params.length; i++) {
            c.params[i] = random.nextGaussian();
        }
        return c;
    }

    private void forward(float[] rows, int g, double[] x, double[] pre, double[] h, double[] z) {
        for (int i = 0; i < width; i++) {
            x[i] = (rows[g * width + i] - mean[i]) * scale[i];
        }
        int b1 = hidden * width;
        for (int j = 0; j < hidden; j++) {
            double a = params[b1 + j];
            int o = j * width;
            for (int i = 0; i < width; i++) {
                a += params[o + i] * x[i];
            }
            pre[j] = a;
            h[j] = a / (1 + Math.exp(-a));
        }
        int w2 = b1 + hidden;
        int b2 = w2 + candidates * hidden;
        for (int c = 0; c < candidates; c++) {
            double a = params[b2 + c];
            for (int j = 0; j < hidden; j++) {
                a += params[w2 + c * hidden + j] * h[j];
            }
            z[c] = a;
        }
    }

    /** Adds the gradient of one token's loss (dz at the scores) to {@code grad}. */
    private void backward(double[] x, double[] pre, double[] h, double[] dz, double[] dh, double[] grad) {
        int b1 = hidden * width;
        int w2 = b1 + hidden;
        int b2 = w2 + candidates * hidden;
        java.util.Arrays.fill(dh, 0);
        for (int c = 0; c < candidates; c++) {
            grad[b2 + c] += dz[c];
            for (int j = 0; j < hidden; j++) {
                grad[w2 + c * hidden + j] += dz[c] * h[j];
                dh[j] += dz[c] * params[w2 + c * hidden + j];
            }
        }
        for (int j = 0; j < hidden; j++) {
            double sig = 1 / (1 + Math.exp(-pre[j]));
            double da = dh[j] * sig * (1 + pre[j] * (1 - sig));
            grad[b1 + j] += da;
            int o = j * width;
            for (int i = 0; i < width; i++) {
                grad[o + i] += da * x[i];
            }
        }
    }
}

package dev.buddy.router.train;

import java.util.SplittableRandom;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;

/**
 * A Decision Module (Linear, SiLU, Linear; hidden width 32 by default) that reads one token's feature row and scores
 * the route oracle's candidate routes, fitted to minimise the expected loss {@code Σ_c softmax(z)_c · L_c} of the
 * token's losses {@code L} under the candidates: a parametric counterpart to choosing by nearest tokens, to ask
 * whether a router of the paper's size could learn a per-token preference.
 *
 * <p>WHY a {@link DecisionModule} with one output per candidate, a zero prior and ω = 0, run over a one-token
 * sequence by {@link DecisionPass}: as for the Budget Predictor ({@link PredictorPolicy}), the scores are then the
 * inference network's own arithmetic and the MLP backward is the gradient-checked one; {@link AdamW} updates it.
 * Inputs are standardised once by the fitting tokens' mean and standard deviation. A fixed number of epochs,
 * mini-batches in an order drawn from {@code seed}, one thread: a fixed seed gives the same choices.
 */
public final class TokenRouteClassifier {
    /** How the classifier is fitted. */
    public record Settings(int hidden, int epochs, int batch, double learningRate, double weightDecay, long seed) {
        public static final Settings DEFAULT = new Settings(32, 40, 64, 3e-3, 1e-4, 19);
    }

    private final RouterParameters shape;
    private final int candidates;
    private final float[] mean;
    private final float[] scale;
    private final float[] params;
    private final float[] zeroPrior;
    private final DecisionPass pass;
    private final float[] x;

    private TokenRouteClassifier(int width, int hidden, int candidates, float[] mean, float[] scale) {
        this.shape = new RouterParameters(width, hidden, candidates);
        this.candidates = candidates;
        this.mean = mean;
        this.scale = scale;
        this.params = new float[shape.size];
        this.zeroPrior = new float[candidates];
        this.pass = new DecisionPass(shape, candidates + 2, 1);
        this.x = new float[width];
    }

    /**
     * Fits a classifier on the tokens {@code fit} (indices into {@code rows}, {@code width} floats each, and into
     * {@code losses}, one value per candidate).
     */
    static TokenRouteClassifier fit(float[] rows, int width, float[][] losses, int[] fit, Settings s) {
        float[][] standard = MiniBatchFit.standardisation(rows, width, fit);
        TokenRouteClassifier c = new TokenRouteClassifier(width, s.hidden(), losses[fit[0]].length, standard[0],
                standard[1]);
        c.train(rows, losses, fit, s);
        return c;
    }

    /** An untrained classifier with the given standardisation and Gaussian parameters, for gradient checks. */
    static TokenRouteClassifier random(int width, int hidden, int candidates, float[] mean, float[] scale,
                                       long seed) {
        TokenRouteClassifier c = new TokenRouteClassifier(width, hidden, candidates, mean, scale);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < c.params.length; i++) {
            c.params[i] = (float) random.nextGaussian();
        }
        return c;
    }

    /** The parameters, flat in {@link RouterParameters}' layout. Tests read them. */
    float[] parameters() {
        return params;
    }

    RouterParameters shape() {
        return shape;
    }

    /** The standardised input row of token g (a view, valid until the next call). */
    float[] input(float[] rows, int g) {
        int width = x.length;
        for (int i = 0; i < width; i++) {
            x[i] = (rows[g * width + i] - mean[i]) * scale[i];
        }
        return x;
    }

    /** The candidate with the highest score for row g (the lowest index on ties). */
    int choose(float[] rows, int g) {
        pass.forward(module(), input(rows, g), 1, 1);
        float[] z = pass.pooled();
        int best = 0;
        for (int c = 1; c < candidates; c++) {
            if (z[c] > z[best]) {
                best = c;
            }
        }
        return best;
    }

    /** The current parameters as an inference network. */
    DecisionModule module() {
        return new DecisionModule(candidates + 2, shape.toMlp(params), zeroPrior, 0f, FeatureSource.VALUE,
                Pooling.LAST);
    }

    /**
     * Token g's expected loss {@code Σ_c softmax(z)_c · tokenLosses[c]} under {@code module} (the current
     * parameters), its gradient added to {@code grad} (when not null).
     */
    double expectedLoss(DecisionModule module, float[] rows, float[] tokenLosses, int g, double[] grad) {
        float[] in = input(rows, g);
        pass.forward(module, in, 1, 1);
        float[] z = pass.pooled();
        double max = z[0];
        for (int c = 1; c < candidates; c++) {
            max = Math.max(max, z[c]);
        }
        double[] p = new double[candidates];
        double sum = 0;
        for (int c = 0; c < candidates; c++) {
            p[c] = Math.exp(z[c] - max);
            sum += p[c];
        }
        double expected = 0;
        for (int c = 0; c < candidates; c++) {
            p[c] /= sum;
            expected += p[c] * tokenLosses[c];
        }
        if (grad != null) {
            // d/dz_k of Σ p_c L_c = p_k (L_k − Σ p_c L_c)
            for (int c = 0; c < candidates; c++) {
                p[c] *= tokenLosses[c] - expected;
            }
            pass.backward(params, in, p, grad);
        }
        return expected;
    }

    private void train(float[] rows, float[][] losses, int[] fit, Settings s) {
        SplittableRandom random = new SplittableRandom(s.seed());
        int width = shape.inputDim;
        for (int i = shape.w1Offset; i < shape.b1Offset; i++) {
            params[i] = (float) (random.nextGaussian() / Math.sqrt(width));
        }
        for (int i = shape.w2Offset; i < shape.b2Offset; i++) {
            params[i] = (float) (0.1 * random.nextGaussian() / Math.sqrt(shape.hiddenDim));
        }
        MiniBatchFit.train(params, fit.clone(), s.epochs(), s.batch(), s.learningRate(), s.weightDecay(), random,
                (order, from, to, grad) -> {
                    DecisionModule module = module();
                    for (int k = from; k < to; k++) {
                        expectedLoss(module, rows, losses[order[k]], order[k], grad);
                    }
                });
    }
}

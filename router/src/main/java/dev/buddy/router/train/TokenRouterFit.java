package dev.buddy.router.train;

import java.util.Arrays;
import java.util.SplittableRandom;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.TwoLayerMlp;

/**
 * Fits a deployable per-token BUDDY router to route-oracle token tables: the paper's Decision Module (Linear, SiLU,
 * Linear; one score per middle block, fused with the prior as {@code s' = s + ω·p̃}, cut to the top k) with
 * {@link Pooling#LAST} pooling, so that every decode step routes on the newest token's own layer-0 value row, the
 * input session 19 found to predict a token's best route (mean pooling erases it).
 *
 * <p>WHY block scores and not one output per candidate route ({@link TokenRouteClassifier}): the router file, the
 * engine and every budget need a score per block. The engine runs the top k of the fused scores {@code s'}, which is
 * the most likely set of the distribution {@code p(S) ∝ exp(Σ_{l∈S} s'_l)} over all sets of k middle blocks. The fit
 * minimises each token's expected cross-entropy under that {@code p}, a set that was never measured (two or more
 * swaps, or any block far from the cut) counting as the token's worst measured route, so it learns to put the top k
 * on the measured route that does best for tokens like this one and never on a route nobody measured. Two
 * objectives that looked simpler failed on SmolLM2: the expected loss over the candidates alone
 * ({@link TokenRouteClassifier}'s objective on {@code z_c = s'(on) − s'(off)}, which never sees the other sets) left
 * the engine's top k on a route it had not ranked first, an unmeasured one, for every token of a 4-example smoke run
 * (b = 0.75 and 0.5); and the cross-entropy from each token's route posterior {@code q_c ∝ exp(−L_c)} to {@code p}
 * matches inclusion probabilities, which the plan's blocks win whenever the candidates are one-swap neighbours of it
 * (120 Alpaca examples at b = 0.75: every token stayed on the plan). Tables from several
 * budgets fit one router together (each token has its own k), as the one router for all budgets.
 *
 * <p>The prior enters at {@link Settings#omega} (10 by default, not the paper's 0.1): on a standardised prior that
 * makes neighbouring ranks 1.2 apart, so the untrained router's {@code p} already sits mostly on the plan and its
 * one-swap neighbours (under a flat start every measured route has a vanishing share of {@code p} and so no
 * gradient), and blocks far from the cut keep the prior's order without the MLP having to learn it. The output
 * layer starts at zero ({@link RouterInit#PRIOR}), so the untrained router is the prior's plan. Inputs are
 * standardised by the fitting tokens' mean and standard deviation during the fit and the standardisation is folded
 * into the first layer of the saved module, which then reads raw layer-0 rows. A fixed seed gives the same
 * parameters.
 */
public final class TokenRouterFit {
    /** How the router is fitted. */
    public record Settings(int hidden, int epochs, int batch, double learningRate, double weightDecay, float omega,
                           long seed) {
        public static final Settings DEFAULT = new Settings(DecisionModule.DEFAULT_HIDDEN, 40, 64, 3e-3, 1e-4, 10f,
                20);
    }

    /**
     * Tokens to fit on: {@code width} floats of layer-0 row per token, and per token and candidate the loss and the
     * swapped blocks ({@code off[g][c]}, {@code on[g][c]}: block indices 1..L−2, or −1 for the plan's route).
     */
    public record Tokens(float[] rows, int width, float[][] losses, int[][] off, int[][] on, int[][] plan) {
        public Tokens {
            int n = losses.length;
            if (rows.length != n * width || off.length != n || on.length != n || plan.length != n) {
                throw new IllegalArgumentException("token tables disagree in length");
            }
        }

        public int count() {
            return losses.length;
        }

        /**
         * @throws TrainingDataException unless every plan runs fewer than {@code middle} blocks and every block named
         *                               is a middle block (1..middle), the plan's candidate first
         */
        void requireBlocksWithin(int middle) {
            for (int g = 0; g < count(); g++) {
                boolean ok = plan[g].length < middle && off[g].length > 0 && off[g][0] < 0 && on[g][0] < 0;
                for (int b : plan[g]) {
                    ok &= b >= 1 && b <= middle;
                }
                for (int c = 1; c < off[g].length; c++) {
                    ok &= off[g][c] >= 1 && off[g][c] <= middle && on[g][c] >= 1 && on[g][c] <= middle;
                }
                if (!ok) {
                    throw new TrainingDataException("token " + g + " names a route that is not one swap from a plan"
                            + " over this model's " + middle + " middle blocks");
                }
            }
        }

        /** These tokens followed by {@code other}'s (the same width). */
        public Tokens concat(Tokens other) {
            if (other.width != width) {
                throw new IllegalArgumentException("row widths differ: " + width + " and " + other.width);
            }
            float[] r = Arrays.copyOf(rows, rows.length + other.rows.length);
            System.arraycopy(other.rows, 0, r, rows.length, other.rows.length);
            return new Tokens(r, width, cat(losses, other.losses), cat(off, other.off), cat(on, other.on),
                    cat(plan, other.plan));
        }

        /** The tokens at {@code which}, in that order. */
        public Tokens subset(int[] which) {
            float[] r = new float[which.length * width];
            float[][] l = new float[which.length][];
            int[][] f = new int[which.length][];
            int[][] o = new int[which.length][];
            int[][] p = new int[which.length][];
            for (int i = 0; i < which.length; i++) {
                p[i] = plan[which[i]];
                System.arraycopy(rows, which[i] * width, r, i * width, width);
                l[i] = losses[which[i]];
                f[i] = off[which[i]];
                o[i] = on[which[i]];
            }
            return new Tokens(r, width, l, f, o, p);
        }

        /** Every scored token of a route-oracle result: its own layer-0 value row and its example's swaps. */
        public static Tokens of(RouteOracle.Result r) {
            TokenRouteOracle t = r.perToken();
            int[] offsets = t.offsets();
            int total = offsets[t.exampleCount()];
            int width = total == 0 ? 0 : t.newest()[0].length / Math.max(1, t.positions()[0].length);
            float[] rows = new float[total * width];
            float[][] losses = new float[total][t.candidateCount()];
            int[][] off = new int[total][t.candidateCount()];
            int[][] on = new int[total][t.candidateCount()];
            int[][] plan = new int[total][];
            for (int e = 0; e < t.exampleCount(); e++) {
                System.arraycopy(t.newest()[e], 0, rows, offsets[e] * width, t.positions()[e].length * width);
                for (int j = 0; j < t.positions()[e].length; j++) {
                    int g = offsets[e] + j;
                    plan[g] = r.routes()[e];
                    for (int c = 0; c < t.candidateCount(); c++) {
                        losses[g][c] = t.losses()[e][c][j];
                        off[g][c] = r.swaps()[e][c][0];
                        on[g][c] = r.swaps()[e][c][1];
                    }
                }
            }
            return new Tokens(rows, width, losses, off, on, plan);
        }

        private static float[][] cat(float[][] a, float[][] b) {
            float[][] out = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }

        private static int[][] cat(int[][] a, int[][] b) {
            int[][] out = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }
    }

    private final int layerCount;
    private final RouterParameters shape;
    private final float[] prior;
    private final float omega;
    private final float[] mean;
    private final float[] scale;
    private final float[] params;
    private final DecisionPass pass;
    private final float[] x;
    private final double[] dScores;
    /** Scratch of {@link #loss}, sized once for k up to every middle block: no allocation per token. */
    private final double[] logX;
    private final double[][] prefix;
    private final double[][] suffix;
    private double[] weights = new double[0];
    /** The standardised-input module of the fitted parameters, built once for the choices made after the fit. */
    private DecisionModule fitted;

    private TokenRouterFit(int layerCount, int width, int hidden, float[] prior, float omega, float[] mean,
                           float[] scale) {
        this.layerCount = layerCount;
        this.shape = new RouterParameters(width, hidden, layerCount - 2);
        this.prior = prior.clone();
        this.omega = omega;
        this.mean = mean;
        this.scale = scale;
        this.params = new float[shape.size];
        this.pass = new DecisionPass(shape, layerCount, 1);
        this.x = new float[width];
        this.dScores = new double[layerCount - 2];
        this.logX = new double[layerCount - 2];
        this.prefix = new double[layerCount - 1][layerCount - 1];
        this.suffix = new double[layerCount][layerCount - 1];
    }

    /**
     * Fits a router for a {@code layerCount}-block model on {@code tokens}, starting from the prior {@code prior}
     * (one value per middle block) at weight {@link Settings#omega}.
     */
    public static TokenRouterFit fit(int layerCount, float[] prior, Tokens tokens, Settings s) {
        if (tokens.count() == 0) {
            throw new InvalidTrainingOptionException("no scored tokens to fit a per-token router on");
        }
        tokens.requireBlocksWithin(layerCount - 2);
        int width = tokens.width();
        float[][] standard = MiniBatchFit.standardisation(tokens.rows(), width,
                java.util.stream.IntStream.range(0, tokens.count()).toArray());
        float[] mean = standard[0];
        float[] scale = standard[1];
        TokenRouterFit fit = new TokenRouterFit(layerCount, width, s.hidden(), prior, s.omega(), mean, scale);
        fit.train(tokens, s);
        fit.fitted = fit.standardisedModule();
        return fit;
    }

    /** An untrained fit with Gaussian parameters and the given standardisation, for gradient checks. */
    static TokenRouterFit random(int layerCount, int width, int hidden, float[] prior, float omega, float[] mean,
                                 float[] scale, long seed) {
        TokenRouterFit fit = new TokenRouterFit(layerCount, width, hidden, prior, omega, mean, scale);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < fit.params.length; i++) {
            fit.params[i] = (float) random.nextGaussian();
        }
        fit.fitted = fit.standardisedModule();
        return fit;
    }

    /**
     * Per global token of {@code r}, the candidate a router fitted on the other fold's tokens (fold = example index
     * mod 2) ranks first, from the token's own layer-0 value row.
     */
    public static int[] twoFoldChoices(RouteOracle.Result r, float[] prior, Settings s) {
        Tokens all = Tokens.of(r);
        int[] offsets = r.perToken().offsets();
        int[] choices = new int[all.count()];
        for (int f = 0; f < 2; f++) {
            int[] fit = foldTokens(offsets, 1 - f);
            int[] test = foldTokens(offsets, f);
            if (fit.length == 0) {
                continue;
            }
            TokenRouterFit router = fit(r.layers(), prior, all.subset(fit), s);
            for (int g : test) {
                choices[g] = router.chooseMeasured(all, g);
            }
        }
        return choices;
    }

    /**
     * A held-out check on tokens {@code from..to} (one budget's, in the order measured, so its two halves are two
     * sets of examples but for the one that straddles them): a router fitted on each half chooses for the other.
     * Returns the mean cross-entropy per token of {@code [0]} its choices, {@code [1]} the plan's route and
     * {@code [2]} the best single route of the other half.
     */
    public static double[] heldOut(Tokens tokens, int from, int to, float[] prior, Settings s) {
        int half = from + (to - from) / 2;
        double[] sums = new double[3];
        for (int f = 0; f < 2; f++) {
            int[] fit = f == 0 ? java.util.stream.IntStream.range(from, half).toArray()
                    : java.util.stream.IntStream.range(half, to).toArray();
            int[] test = f == 0 ? java.util.stream.IntStream.range(half, to).toArray()
                    : java.util.stream.IntStream.range(from, half).toArray();
            if (fit.length == 0 || test.length == 0) {
                continue;
            }
            TokenRouterFit router = fit(prior.length + 2, prior, tokens.subset(fit), s);
            int candidates = tokens.losses()[fit[0]].length;
            double[] total = new double[candidates];
            for (int g : fit) {
                for (int c = 0; c < candidates; c++) {
                    total[c] += tokens.losses()[g][c];
                }
            }
            int single = 0;
            for (int c = 1; c < candidates; c++) {
                single = total[c] < total[single] ? c : single;
            }
            for (int g : test) {
                sums[0] += tokens.losses()[g][router.chooseMeasured(tokens, g)];
                sums[1] += tokens.losses()[g][0];
                sums[2] += tokens.losses()[g][single];
            }
        }
        for (int i = 0; i < 3; i++) {
            sums[i] /= Math.max(1, to - from);
        }
        return sums;
    }

    private static int[] foldTokens(int[] offsets, int fold) {
        return java.util.stream.IntStream.range(0, offsets.length - 1).filter(e -> e % 2 == fold)
                .flatMap(e -> java.util.stream.IntStream.range(offsets[e], offsets[e + 1])).toArray();
    }

    /** The parameters on standardised inputs, flat in {@link RouterParameters}' layout. Tests read them. */
    float[] parameters() {
        return params;
    }

    /**
     * The fitted Decision Module on raw layer-0 rows: the standardisation {@code (x − mean)·scale} folded into the
     * first layer ({@code W1' = W1·diag(scale)}, {@code b1' = b1 − W1'·mean}), last pooling, the prior and ω.
     */
    public DecisionModule module() {
        int d = shape.inputDim;
        int r = shape.hiddenDim;
        float[] folded = params.clone();
        for (int h = 0; h < r; h++) {
            double shift = 0;
            for (int i = 0; i < d; i++) {
                float w = params[shape.w1Offset + h * d + i] * scale[i];
                folded[shape.w1Offset + h * d + i] = w;
                shift += (double) w * mean[i];
            }
            folded[shape.b1Offset + h] = (float) (params[shape.b1Offset + h] - shift);
        }
        return moduleOf(shape.toMlp(folded));
    }

    /** The module on standardised inputs (the one the fit differentiates). */
    DecisionModule standardisedModule() {
        return moduleOf(shape.toMlp(params));
    }

    private DecisionModule moduleOf(TwoLayerMlp mlp) {
        return new DecisionModule(layerCount, mlp, prior, omega, FeatureSource.VALUE, Pooling.LAST);
    }

    /** Token g's standardised row (a view, valid until the next call). */
    float[] input(Tokens tokens, int g) {
        int width = x.length;
        for (int i = 0; i < width; i++) {
            x[i] = (tokens.rows()[g * width + i] - mean[i]) * scale[i];
        }
        return x;
    }

    /**
     * Token g's route as the engine runs it, the top k of the fused scores, as a candidate index (0 = the plan's
     * route), or −1 when it is none of the measured routes (two or more swaps, or a block far from the cut).
     */
    public int choose(Tokens tokens, int g) {
        pass.forward(fitted, input(tokens, g), 1, tokens.plan()[g].length);
        boolean[] mask = pass.mask();
        for (int c = 0; c < tokens.losses()[g].length; c++) {
            if (runsExactly(mask, tokens, g, c)) {
                return c;
            }
        }
        return -1;
    }

    /**
     * Token g's measured candidate with the highest summed fused score over its blocks: {@link #choose} where that
     * is measured, else the best measured route by the router's own scores.
     */
    public int chooseMeasured(Tokens tokens, int g) {
        pass.forward(fitted, input(tokens, g), 1, tokens.plan()[g].length);
        float[] fused = pass.fused();
        int best = 0;
        double bestZ = 0;
        for (int c = 1; c < tokens.losses()[g].length; c++) {
            double z = (double) fused[tokens.on()[g][c] - 1] - fused[tokens.off()[g][c] - 1];
            if (z > bestZ) {
                bestZ = z;
                best = c;
            }
        }
        return best;
    }

    private static boolean runsExactly(boolean[] mask, Tokens tokens, int g, int c) {
        int off = tokens.off()[g][c];
        int on = tokens.on()[g][c];
        int running = 0;
        for (int l = 1; l < mask.length - 1; l++) {
            running += mask[l] ? 1 : 0;
        }
        if (running != tokens.plan()[g].length || (on >= 0 && !mask[on])) {
            return false;
        }
        for (int b : tokens.plan()[g]) {
            if (mask[b] != (b != off)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Token g's expected cross-entropy under the router's distribution {@code p} over every set of k middle blocks,
     * {@code E = Σ_c p(S_c)·L_c + (1 − Σ_c p(S_c))·max_c L_c}: a set that was never measured (two or more swaps, or a
     * block far from the cut) counts as the token's worst measured route. Computed under {@code module}
     * (standardised inputs); its gradient with respect to the parameters added to {@code grad} when not null.
     *
     * <p>{@code log p(S) = Σ_{l∈S} s'_l − log e_k(exp s')}, with {@code e_k} the k-th elementary symmetric
     * polynomial, computed by the usual prefix recurrence in log space; {@code ∂E/∂s'_j = Σ_c w_c (1[j ∈ S_c] −
     * p(j ∈ S))} with {@code w_c = p(S_c)(L_c − max L)}, the inclusion probabilities {@code p(j ∈ S)} from a prefix
     * and a suffix table. Log space because the fit drives margins apart without bound (the unmeasured sets' share
     * of {@code p} only shrinks, and AdamW's steps do not shrink with it): in linear space a fit of 30 epochs over
     * SmolLM2's four budgets overflowed to NaN.
     */
    double loss(DecisionModule module, Tokens tokens, int g, double[] grad) {
        float[] in = input(tokens, g);
        int k = tokens.plan()[g].length;
        pass.forward(module, in, 1, k);
        float[] fused = pass.fused();
        boolean[] top = pass.mask();
        int n = fused.length;
        double shift = 0;
        for (int j = 0; j < n; j++) {
            shift += top[j + 1] ? fused[j] : 0;
        }
        shift /= k;
        for (int j = 0; j < n; j++) {
            logX[j] = fused[j] - shift;
        }
        // log e_m(exp x_1..exp x_i), in log space: a fit that drives margins far apart must not overflow.
        for (int i = 0; i <= n; i++) {
            Arrays.fill(prefix[i], 0, k + 1, Double.NEGATIVE_INFINITY);
            prefix[i][0] = 0;
        }
        for (int i = 1; i <= n; i++) {
            for (int m = 1; m <= k; m++) {
                prefix[i][m] = logAddExp(prefix[i - 1][m], logX[i - 1] + prefix[i - 1][m - 1]);
            }
        }
        double logZ = prefix[n][k];
        float[] losses = tokens.losses()[g];
        double worst = Double.NEGATIVE_INFINITY;
        for (float l : losses) {
            worst = Math.max(worst, l);
        }
        double planScore = 0;
        for (int b : tokens.plan()[g]) {
            planScore += fused[b - 1] - shift;
        }
        if (weights.length < losses.length) {
            weights = new double[losses.length];
        }
        double[] w = weights;
        double expected = worst;
        double wSum = 0;
        for (int c = 0; c < losses.length; c++) {
            int off = tokens.off()[g][c];
            double score = off < 0 ? planScore
                    : planScore - (fused[off - 1] - shift) + (fused[tokens.on()[g][c] - 1] - shift);
            w[c] = Math.exp(score - logZ) * (losses[c] - worst);
            expected += w[c];
            wSum += w[c];
        }
        if (grad != null) {
            for (int i = 1; i <= n + 1; i++) {
                Arrays.fill(suffix[i], 0, k + 1, Double.NEGATIVE_INFINITY);
                suffix[i][0] = 0;
            }
            for (int i = n; i >= 1; i--) {
                for (int m = 1; m <= k; m++) {
                    suffix[i][m] = logAddExp(suffix[i + 1][m], logX[i - 1] + suffix[i + 1][m - 1]);
                }
            }
            for (int j = 1; j <= n; j++) {
                double without = Double.NEGATIVE_INFINITY;
                for (int m = 0; m <= k - 1; m++) {
                    without = logAddExp(without, prefix[j - 1][m] + suffix[j + 1][k - 1 - m]);
                }
                dScores[j - 1] = -wSum * Math.exp(logX[j - 1] + without - logZ);
            }
            for (int c = 0; c < losses.length; c++) {
                int off = tokens.off()[g][c];
                for (int b : tokens.plan()[g]) {
                    if (b != off) {
                        dScores[b - 1] += w[c];
                    }
                }
                if (off >= 0) {
                    dScores[tokens.on()[g][c] - 1] += w[c];
                }
            }
            pass.backward(params, in, dScores, grad);
        }
        return expected;
    }

    /** {@code log(e^a + e^b)}, exact when either is −∞. */
    private static double logAddExp(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
    }

    /** The mean of {@link #loss} over all tokens under the current parameters. */
    public double meanLoss(Tokens tokens) {
        DecisionModule module = standardisedModule();
        double sum = 0;
        for (int g = 0; g < tokens.count(); g++) {
            sum += loss(module, tokens, g, null);
        }
        return sum / tokens.count();
    }

    private void train(Tokens tokens, Settings s) {
        SplittableRandom random = new SplittableRandom(s.seed());
        int width = shape.inputDim;
        for (int i = shape.w1Offset; i < shape.b1Offset; i++) {
            params[i] = (float) (random.nextGaussian() / Math.sqrt(width));
        }
        MiniBatchFit.train(params, java.util.stream.IntStream.range(0, tokens.count()).toArray(), s.epochs(),
                s.batch(), s.learningRate(), s.weightDecay(), random, (order, from, to, grad) -> {
                    DecisionModule module = standardisedModule();
                    for (int k = from; k < to; k++) {
                        loss(module, tokens, order[k], grad);
                    }
                });
    }
}

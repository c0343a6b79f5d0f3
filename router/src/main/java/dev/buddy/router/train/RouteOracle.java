package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.DecisionModule;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Provenance;
import dev.buddy.router.Router;
import dev.buddy.router.StaticPlan;
import dev.buddy.gguf.AtomicFiles;
import dev.buddy.router.eval.ProgressBar;

/**
 * Whether choosing a route per example can pay at one budget, before any router is trained to do it: for each
 * example, the response's mean cross-entropy under a router's (or static plan's) route at budget b and under every
 * route one swap away from it (one of the {@code near} weakest running middle blocks off, one of the {@code near}
 * strongest skipped ones on: the only routes a router that starts from this one reaches first). Then, two-fold (each
 * half of the examples chooses for the other):
 * <ul>
 *   <li>the best single route, chosen on the other half: what a static plan can do;</li>
 *   <li>each example's route chosen from its nearest neighbours in the other half by the router's own input, the
 *       layer-0 cache rows mean-pooled over the prompt (over the whole document for text, which has no prompt):
 *       whether that input tells examples apart in the way their best routes differ; and the same by the plan
 *       route's last hidden state mean-pooled over the prompt, a far richer input no router has before it routes
 *       (whether anything cheap to read could tell them apart);</li>
 *   <li>each example's own best route (the oracle): an upper bound for any router restricted to these routes;</li>
 *   <li>each example's best route on half its response tokens (alternate ones), scored on the other half: the
 *       oracle with its selection noise removed. An example's best of 17 routes is partly luck of its particular
 *       tokens; what survives to the other half is a preference of the example, which a router could learn.</li>
 * </ul>
 * If the split-half oracle is not below the best single route, what the oracle gains is luck and there is no
 * per-example headroom near this route to learn; if it is below but the neighbours' choice is not, the headroom exists
 * and the input does not reveal it.
 *
 * <p>Each swap re-runs the sequence only from its lower block on ({@link ModelPass#probe}), in descending order of
 * that block, so a swap costs a partial pass.
 */
public final class RouteOracle {
    /**
     * A route tried on every example: the router's own ({@link #PLAN}), or that route with its {@code offRank}-th
     * weakest running middle block (0 = weakest) off and its {@code onRank}-th strongest skipped one on.
     */
    public record Candidate(int offRank, int onRank) {
        public static final Candidate PLAN = new Candidate(-1, -1);
    }

    /**
     * Everything measured.
     *
     * @param budget        the budget's fraction b
     * @param k             middle blocks running
     * @param candidates    the routes tried, {@link Candidate#PLAN} first
     * @param examples      the data index of each example
     * @param tokens        each example's scored response tokens
     * @param crossEntropy  per example and candidate, the response's mean cross-entropy (nats per token)
     * @param halves        per example and candidate, the mean cross-entropy of the response's alternate scored
     *                      tokens: {@code [0]} the 1st, 3rd, ... ({@code (tokens+1)/2} of them), {@code [1]} the
     *                      2nd, 4th, ... ({@code tokens/2}; NaN when there are none)
     * @param features      per example, the router's layer-0 input mean-pooled over the prompt
     * @param deepFeatures  per example, the last hidden state (before the output norm) under the plan route,
     *                      mean-pooled over the prompt
     * @param swaps         per example and candidate, {@code {block off, block on}} ({@code {-1, -1}} for the plan)
     * @param routes        per example, the plan's running middle blocks in ascending order
     * @param perToken      the same candidates scored token by token, with each token's inputs
     */
    public record Result(String routerName, String dataName, int layers, double budget, int k,
                         List<Candidate> candidates, int[] examples, int[] tokens, double[][] crossEntropy,
                         double[][][] halves, float[][] features, float[][] deepFeatures, int[][][] swaps,
                         int[][] routes, TokenRouteOracle perToken) {

        public int exampleCount() {
            return examples.length;
        }

        /** Mean over {@code which} of the example's cross-entropy under candidate {@code c}. */
        public double mean(int c, int[] which) {
            double s = 0;
            for (int e : which) {
                s += crossEntropy[e][c];
            }
            return s / which.length;
        }

        /** The candidate with the lowest mean over {@code which} (the lowest index on ties: the plan first). */
        public int bestSingle(int[] which) {
            int best = 0;
            for (int c = 1; c < candidates.size(); c++) {
                if (mean(c, which) < mean(best, which)) {
                    best = c;
                }
            }
            return best;
        }

        /** Example e's own best candidate (the lowest index on ties). */
        public int oracleChoice(int e) {
            double[] ce = crossEntropy[e];
            int best = 0;
            for (int c = 1; c < ce.length; c++) {
                if (ce[c] < ce[best]) {
                    best = c;
                }
            }
            return best;
        }

        /**
         * The candidate the {@code neighbours} examples of {@code pool} nearest to example {@code e} (cosine of
         * {@code by}; the lower index on ties) do best with on average, by each neighbour's change against its own
         * plan route (so an easy or hard neighbour weighs no more than another).
         */
        public int neighbourChoice(float[][] by, int e, int[] pool, int neighbours) {
            int n = Math.min(neighbours, pool.length);
            double[] similarity = new double[pool.length];
            for (int i = 0; i < pool.length; i++) {
                similarity[i] = cosine(by[e], by[pool[i]]);
            }
            Integer[] order = IntStream.range(0, pool.length).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -similarity[i]).thenComparingInt(i -> i));
            int best = 0;
            double bestMean = Double.POSITIVE_INFINITY;
            for (int c = 0; c < candidates.size(); c++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    int m = pool[order[i]];
                    s += crossEntropy[m][c] - crossEntropy[m][0];
                }
                if (s / n < bestMean) {
                    bestMean = s / n;
                    best = c;
                }
            }
            return best;
        }

        /**
         * Example e's best candidate on one half of its tokens scored on the other, both ways, weighted by the
         * halves' token counts (a fixed candidate scores its full cross-entropy this way). An empty half chooses
         * the plan.
         */
        public double splitHalfOracle(int e) {
            int n0 = (tokens[e] + 1) / 2;
            int n1 = tokens[e] / 2;
            int c0 = n0 > 0 ? argmin(e, 0) : 0;
            int c1 = n1 > 0 ? argmin(e, 1) : 0;
            double scored1 = n1 > 0 ? n1 * halves[e][c0][1] : 0;
            return (scored1 + n0 * halves[e][c1][0]) / (n0 + n1);
        }

        private int argmin(int e, int half) {
            int best = 0;
            for (int c = 1; c < candidates.size(); c++) {
                if (halves[e][c][half] < halves[e][best][half]) {
                    best = c;
                }
            }
            return best;
        }

        /**
         * Per swap candidate (index c−1), the correlation over examples between its change against the plan route
         * on the odd scored tokens and on the even ones (examples with both halves). Near 1: examples consistently
         * prefer or avoid the swap, something to route on; near 0: an example's preference is the luck of its
         * tokens. NaN for a candidate whose changes do not vary.
         */
        public double[] halfAgreement() {
            double[] r = new double[candidates.size() - 1];
            for (int c = 1; c < candidates.size(); c++) {
                List<double[]> pairs = new ArrayList<>();
                for (int e = 0; e < examples.length; e++) {
                    if (tokens[e] >= 2) {
                        pairs.add(new double[] {halves[e][c][0] - halves[e][0][0], halves[e][c][1] - halves[e][0][1]});
                    }
                }
                r[c - 1] = correlation(pairs);
            }
            return r;
        }

        /** Examples with even and odd positions: the two folds. */
        public int[] fold(int f) {
            return IntStream.range(0, examples.length).filter(e -> e % 2 == f).toArray();
        }

        /** Per example, the cross-entropy of the candidate a strategy chose for it. */
        public double[] chosen(Strategy strategy, int neighbours) {
            double[] out = new double[examples.length];
            for (int f = 0; f < 2; f++) {
                int[] test = fold(f);
                int[] fit = fold(1 - f);
                int single = bestSingle(fit);
                for (int e : test) {
                    int c = switch (strategy) {
                        case PLAN -> 0;
                        case BEST_SINGLE -> single;
                        case NEIGHBOURS -> neighbourChoice(features, e, fit, neighbours);
                        case DEEP_NEIGHBOURS -> neighbourChoice(deepFeatures, e, fit, neighbours);
                        case ORACLE -> oracleChoice(e);
                        case SPLIT_HALF_ORACLE -> -1;
                    };
                    out[e] = c < 0 ? splitHalfOracle(e) : crossEntropy[e][c];
                }
            }
            return out;
        }

        /** How many examples have each candidate as their own best. */
        public int[] oracleCounts() {
            int[] counts = new int[candidates.size()];
            for (int e = 0; e < examples.length; e++) {
                counts[oracleChoice(e)]++;
            }
            return counts;
        }

        /** Per example, the best single candidate fitted on the other fold. */
        public int[] bestSingleByExample() {
            int[] out = new int[examples.length];
            for (int f = 0; f < 2; f++) {
                int c = bestSingle(fold(1 - f));
                for (int e : fold(f)) {
                    out[e] = c;
                }
            }
            return out;
        }

        /** The blocks candidate c runs on example e: the first and last, the plan's middle ones, the swap applied. */
        public boolean[] mask(int e, int c) {
            boolean[] run = new boolean[layers];
            run[0] = true;
            run[layers - 1] = true;
            for (int b : routes[e]) {
                run[b] = true;
            }
            int[] s = swaps[e][c];
            if (s[0] >= 0) {
                run[s[0]] = false;
                run[s[1]] = true;
            }
            return run;
        }

        /** The label of candidate c on example e: "plan" or "-7+20" (block 7 off, block 20 on). */
        public String label(int e, int c) {
            int[] s = swaps[e][c];
            return s[0] < 0 ? "plan" : "-" + s[0] + "+" + s[1];
        }

        /** Whether the plan's route is the same on every example (then every candidate is one fixed route). */
        public boolean staticRoute() {
            return distinctRoutes() == 1;
        }

        /** The number of distinct plan routes over the examples. */
        public int distinctRoutes() {
            Set<List<Integer>> seen = new HashSet<>();
            for (int[] r : routes) {
                seen.add(Arrays.stream(r).boxed().toList());
            }
            return seen.size();
        }
    }

    /** How a route is chosen for a held-out example. */
    public enum Strategy { PLAN, BEST_SINGLE, NEIGHBOURS, DEEP_NEIGHBOURS, ORACLE, SPLIT_HALF_ORACLE }

    private RouteOracle() {}

    /**
     * Scores the router's route at {@code budget} and its swaps on the first {@code count} examples of {@code data}
     * with a scored response (after skipping {@code skip} examples).
     *
     * @throws InvalidTrainingOptionException if the budget leaves nothing to swap, the plan has no ranking, or the
     *                                        data has too few examples with a response
     */
    public static Result measure(FrozenModel model, Router router, TrainingData data, int skip, int count,
                                 double budget, int near, int maxTokens, int threads, PrintStream progress) {
        router.requireCompatible(model.baseInfo());
        int layers = model.spec().blockCount();
        int middle = layers - 2;
        int k = Budget.fraction(budget).middleBlocks(layers);
        if (k >= middle) {
            throw new InvalidTrainingOptionException(String.format(Locale.ROOT, "at b=%.3f all %d middle blocks run;"
                    + " there is no route to swap (give a lower --budget)", budget, middle));
        }
        int offCount = Math.min(near, k);
        int onCount = Math.min(near, middle - k);
        List<Candidate> candidates = new ArrayList<>();
        candidates.add(Candidate.PLAN);
        for (int i = 0; i < offCount; i++) {
            for (int j = 0; j < onCount; j++) {
                candidates.add(new Candidate(i, j));
            }
        }
        int[] scored = IntStream.range(skip, data.size()).filter(i -> data.example(i).targetCount() > 0).limit(count)
                .toArray();
        if (scored.length < 2) {
            throw new InvalidTrainingOptionException(data.describe() + " has " + scored.length + " example"
                    + (scored.length == 1 ? "" : "s") + " with a scored response after the first " + skip
                    + "; the oracle needs at least 2 (one per fold)");
        }
        float[] rankScore = router instanceof StaticPlan plan ? rankScores(plan) : null;
        DecisionModule decision = router instanceof DynamicRouter dynamic ? dynamic.decision() : null;
        FeatureSource source = decision != null ? decision.featureSource() : FeatureSource.VALUE;
        int kvDim = model.spec().kvDim();

        double[][] crossEntropy = new double[scored.length][candidates.size()];
        double[][][] halves = new double[scored.length][candidates.size()][2];
        float[][] features = new float[scored.length][];
        float[][] deepFeatures = new float[scored.length][];
        int[][][] swaps = new int[scored.length][candidates.size()][];
        int[][] routes = new int[scored.length][];
        int[] tokens = new int[scored.length];
        int[][] positions = new int[scored.length][];
        int[][] inputTokens = new int[scored.length][];
        int[][] targetTokens = new int[scored.length][];
        float[][][] tokenLosses = new float[scored.length][candidates.size()][];
        float[][] newest = new float[scored.length][];
        float[][] pooled = new float[scored.length][];
        float[][] hidden = new float[scored.length][];
        int dim = model.spec().embeddingLength();
        try (Parallel pool = new Parallel(threads);
             ProgressBar bar = progress == null ? null
                     : new ProgressBar("route oracle", (long) scored.length * candidates.size(), progress)) {
            ModelPass pass = new ModelPass(model, maxTokens, pool);
            DecisionPass decisionPass = decision == null ? null
                    : new DecisionPass(new RouterParameters(decision.featureDim(), decision.mlp().hiddenDim(), middle),
                            layers, maxTokens);
            float[] rows = new float[maxTokens * kvDim];
            int[] targets = new int[maxTokens];
            int[][] halfTargets = new int[2][maxTokens];
            float[] gates = new float[layers];
            float[] probe = new float[layers];
            float[] fused = new float[middle];
            boolean[] mask = new boolean[layers];
            for (int p = 0; p < scored.length; p++) {
                TrainingExample example = data.example(scored[p]);
                int n = example.length();
                if (n > maxTokens) {
                    throw new TrainingDataException(example.label() + " has " + n + " tokens, more than the run's"
                            + " maximum of " + maxTokens + "; open the data with the same maximum");
                }
                pass.embed(example.tokens(), n);
                pass.beginForward(n);
                pass.layer0Features(source, n, rows);
                // The prompt's rows; a text document has no prompt (only its first token goes unscored), so all of it.
                int promptEnd = example.firstTarget() > 1 ? Math.min(example.firstTarget(), n) : n;
                features[p] = meanRows(rows, promptEnd, kvDim);
                example.targets(targets);
                int[] at = IntStream.range(0, n).filter(t -> targets[t] >= 0).toArray();
                positions[p] = at;
                inputTokens[p] = Arrays.stream(at).map(t -> example.tokens()[t]).toArray();
                targetTokens[p] = Arrays.stream(at).map(t -> targets[t]).toArray();
                newest[p] = gatherRows(rows, at, kvDim);
                pooled[p] = causalMeans(rows, at, kvDim);
                if (decision != null) {
                    decisionPass.forward(decision, rows, n, middle);
                    decision.route(decisionPass.pooled(), k, fused, mask);
                } else {
                    boolean[] planMask = ((StaticPlan) router).maskFor(k);
                    System.arraycopy(planMask, 0, mask, 0, layers);
                    System.arraycopy(rankScore, 0, fused, 0, middle);
                }
                int[] weakestRunning = nearCut(mask, fused, true, offCount);
                int[] strongestSkipped = nearCut(mask, fused, false, onCount);
                routes[p] = IntStream.range(1, layers - 1).filter(l -> mask[l]).toArray();
                for (int l = 0; l < layers; l++) {
                    gates[l] = mask[l] ? 1f : 0f;
                }
                splitTargets(targets, n, halfTargets);
                int scoredTokens = example.targetCount();
                tokens[p] = scoredTokens;
                pass.finishForward(gates, false);
                deepFeatures[p] = meanRows(pass.finalHidden(), promptEnd, dim);
                hidden[p] = gatherRows(pass.finalHidden(), at, dim);
                crossEntropy[p][0] = headLosses(pass, halfTargets, scoredTokens, halves[p][0]);
                tokenLosses[p][0] = gather(pass.positionLosses(), at);
                swaps[p][0] = new int[] {-1, -1};
                advance(bar);
                // Probes re-run from their lower block; the highest first keeps every lower block's input intact.
                Integer[] order = IntStream.range(1, candidates.size()).boxed().toArray(Integer[]::new);
                int[][] blocks = new int[candidates.size()][];
                for (int c = 1; c < candidates.size(); c++) {
                    Candidate cand = candidates.get(c);
                    blocks[c] = new int[] {weakestRunning[cand.offRank()], strongestSkipped[cand.onRank()]};
                    swaps[p][c] = blocks[c];
                }
                Arrays.sort(order, Comparator.comparingInt((Integer c) -> -Math.min(blocks[c][0], blocks[c][1]))
                        .thenComparingInt(c -> c));
                for (int c : order) {
                    System.arraycopy(gates, 0, probe, 0, layers);
                    probe[blocks[c][0]] = 0f;
                    probe[blocks[c][1]] = 1f;
                    pass.probe(probe, Math.min(blocks[c][0], blocks[c][1]));
                    crossEntropy[p][c] = headLosses(pass, halfTargets, scoredTokens, halves[p][c]);
                    tokenLosses[p][c] = gather(pass.positionLosses(), at);
                    advance(bar);
                }
            }
        }
        return new Result(router.name(), data.describe(), layers, budget, k, List.copyOf(candidates), scored, tokens,
                crossEntropy, halves, features, deepFeatures, swaps, routes,
                new TokenRouteOracle(positions, inputTokens, targetTokens, tokenLosses, newest, pooled, hidden));
    }

    /** The scored targets alternately into two arrays (the 1st, 3rd, ... and the 2nd, 4th, ...), -1 elsewhere. */
    static void splitTargets(int[] targets, int n, int[][] halves) {
        int scored = 0;
        for (int t = 0; t < n; t++) {
            int half = targets[t] >= 0 ? scored++ % 2 : -1;
            halves[0][t] = half == 0 ? targets[t] : -1;
            halves[1][t] = half == 1 ? targets[t] : -1;
        }
    }

    /** Each half's mean cross-entropy into {@code out}, and the whole response's as the result. */
    private static double headLosses(ModelPass pass, int[][] halfTargets, int tokens, double[] out) {
        double first = pass.headLoss(halfTargets[0], 1f, false);
        double second = tokens / 2 > 0 ? pass.headLoss(halfTargets[1], 1f, false) : 0;
        out[0] = first / ((tokens + 1) / 2);
        out[1] = tokens / 2 > 0 ? second / (tokens / 2) : Double.NaN;
        return (first + second) / tokens;
    }

    private static void advance(ProgressBar bar) {
        if (bar != null) {
            bar.advance(1);
        }
    }

    /** A static plan's ranking as scores: the most important middle block highest. */
    private static float[] rankScores(StaticPlan plan) {
        int middle = plan.layerCount() - 2;
        int[] ranking = plan.ranking();
        if (ranking.length != middle) {
            throw new InvalidTrainingOptionException("static plan " + plan.name() + " has no ranking of its "
                    + middle + " middle blocks, so which blocks are near its cut is not defined");
        }
        float[] score = new float[middle];
        for (int r = 0; r < middle; r++) {
            score[ranking[r] - 1] = middle - r;
        }
        return score;
    }

    /**
     * The {@code count} running (weakest first) or skipped (strongest first) middle blocks nearest the cut by
     * {@code score} (middle block j+1 at index j; the lower block first on ties).
     */
    static int[] nearCut(boolean[] mask, float[] score, boolean running, int count) {
        int middle = score.length;
        return IntStream.rangeClosed(1, middle).filter(l -> mask[l] == running).boxed()
                .sorted(Comparator.comparingDouble((Integer l) -> running ? score[l - 1] : -score[l - 1])
                        .thenComparingInt(l -> l))
                .limit(count).mapToInt(Integer::intValue).toArray();
    }

    /** Rows {@code at[j]} of {@code rows} ({@code width} floats each), one after another. */
    private static float[] gatherRows(float[] rows, int[] at, int width) {
        float[] out = new float[at.length * width];
        for (int j = 0; j < at.length; j++) {
            System.arraycopy(rows, at[j] * width, out, j * width, width);
        }
        return out;
    }

    /** Per position {@code at[j]} (ascending), the mean of rows 0..at[j]. */
    private static float[] causalMeans(float[] rows, int[] at, int width) {
        float[] out = new float[at.length * width];
        double[] sum = new double[width];
        int next = 0;
        for (int j = 0; j < at.length; j++) {
            for (; next <= at[j]; next++) {
                for (int i = 0; i < width; i++) {
                    sum[i] += rows[next * width + i];
                }
            }
            for (int i = 0; i < width; i++) {
                out[j * width + i] = (float) (sum[i] / next);
            }
        }
        return out;
    }

    private static float[] gather(double[] values, int[] at) {
        float[] out = new float[at.length];
        for (int j = 0; j < at.length; j++) {
            out[j] = (float) values[at[j]];
        }
        return out;
    }

    private static float[] meanRows(float[] rows, int n, int width) {
        float[] mean = new float[width];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) {
                mean[i] += rows[t * width + i];
            }
        }
        for (int i = 0; i < width; i++) {
            mean[i] /= n;
        }
        return mean;
    }

    /** Pearson's correlation of the pairs' two values (NaN if either does not vary). */
    static double correlation(List<double[]> pairs) {
        double ma = 0;
        double mb = 0;
        for (double[] p : pairs) {
            ma += p[0];
            mb += p[1];
        }
        ma /= pairs.size();
        mb /= pairs.size();
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (double[] p : pairs) {
            ab += (p[0] - ma) * (p[1] - mb);
            aa += (p[0] - ma) * (p[0] - ma);
            bb += (p[1] - mb) * (p[1] - mb);
        }
        return aa == 0 || bb == 0 ? Double.NaN : ab / Math.sqrt(aa * bb);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    /** Mean and standard error of {@code a[e] − b[e]} over examples. */
    static double[] pairedDifference(double[] a, double[] b) {
        int n = a.length;
        double mean = 0;
        for (int e = 0; e < n; e++) {
            mean += a[e] - b[e];
        }
        mean /= n;
        double ss = 0;
        for (int e = 0; e < n; e++) {
            double d = a[e] - b[e] - mean;
            ss += d * d;
        }
        return new double[] {mean, n > 1 ? Math.sqrt(ss / (n - 1) / n) : 0};
    }

    /**
     * The report {@code buddy route-oracle} prints: per example, then per token ({@link #reportTokens}) when
     * {@code tokenNeighbours} is not empty, each per-token choice also run causally when {@code realise} is given.
     */
    public static void report(Result r, int[] neighbours, int[] tokenNeighbours, Realiser realise, String kvPolicy,
                              Prior prior, Parallel pool, PrintStream out) {
        int middle = r.layers() - 2;
        out.printf(Locale.ROOT, "route oracle at b=%.3f (%d of %d middle blocks run): %s on %d examples of %s%n",
                r.budget(), r.k(), middle, r.routerName(), r.exampleCount(), r.dataName());
        out.println("(mean response cross-entropy in nats per token; two-fold: each half's choices are fitted on the"
                + " other half)");
        if (r.staticRoute()) {
            out.println("plan route, the same on every example: runs " + joined(r.routes()[0]));
        } else {
            out.println("plan route: " + r.distinctRoutes() + " distinct routes over the examples (the first runs "
                    + joined(r.routes()[0]) + ")");
        }
        out.println("candidates: the plan and " + (r.candidates().size() - 1) + " swaps"
                + (r.staticRoute() ? " " + labels(r) : " (per example: the weakest running blocks each swapped for"
                        + " the strongest skipped ones)"));
        double[] single = r.chosen(Strategy.BEST_SINGLE, 0);
        out.printf(Locale.ROOT, "  %-48s %9s %9s   %s%n", "route chosen by", "CE", "ppl", "vs best single (± s.e.)");
        line(out, "the plan as given", r.chosen(Strategy.PLAN, 0), single);
        line(out, "best single route (fitted on the other half)", single, single);
        for (int nb : neighbours) {
            line(out, "nearest " + nb + " prompt" + (nb == 1 ? "" : "s") + " by layer-0 features",
                    r.chosen(Strategy.NEIGHBOURS, nb), single);
        }
        for (int nb : neighbours) {
            line(out, "nearest " + nb + " prompt" + (nb == 1 ? "" : "s") + " by last hidden state",
                    r.chosen(Strategy.DEEP_NEIGHBOURS, nb), single);
        }
        line(out, "oracle (each example's own best)", r.chosen(Strategy.ORACLE, 0), single);
        line(out, "its best on half its tokens, on the other half", r.chosen(Strategy.SPLIT_HALF_ORACLE, 0), single);
        double[] agreement = Arrays.stream(r.halfAgreement()).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (agreement.length > 0) {
            out.printf(Locale.ROOT, "split-half agreement of each swap's change against the plan (correlation over"
                    + " examples, odd vs even tokens): median %+.3f, from %+.3f to %+.3f%n",
                    agreement[agreement.length / 2], agreement[0], agreement[agreement.length - 1]);
        }
        for (int f = 0; f < 2; f++) {
            int c = r.bestSingle(r.fold(1 - f));
            out.printf(Locale.ROOT, "best single route fitted on fold %d: %s%n", 1 - f,
                    r.staticRoute() ? r.label(0, c) : "candidate " + c);
        }
        if (r.staticRoute()) {
            int[] counts = r.oracleCounts();
            Integer[] order = IntStream.range(0, counts.length).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingInt((Integer c) -> -counts[c]).thenComparingInt(c -> c));
            StringBuilder sb = new StringBuilder("each example's own best route:");
            for (int c : order) {
                if (counts[c] > 0) {
                    sb.append(' ').append(r.label(0, c)).append(' ').append(counts[c]);
                }
            }
            out.println(sb);
        }
        if (tokenNeighbours.length > 0) {
            reportTokens(r, tokenNeighbours, realise, kvPolicy, prior, pool, out);
        }
    }

    /**
     * The per-token part of the report: each scored token's route chosen by its nearest tokens of the other half of
     * the examples, by each {@link TokenRouteOracle.Feature}, and by itself (the token oracle); per example the mean
     * over its tokens, paired against the best single route as above.
     */
    static void reportTokens(Result r, int[] tokenNeighbours, Realiser realise, String kvPolicy, Prior prior,
                             Parallel pool, PrintStream out) {
        TokenRouteOracle tokens = r.perToken();
        double[] single = r.chosen(Strategy.BEST_SINGLE, 0);
        int[] singleChoice = r.bestSingleByExample();
        out.printf(Locale.ROOT, "per token (%d scored tokens; each token's route chosen by the nearest tokens of the"
                + " other half). \"same route\": every earlier token on the token's route too; \"causal\": each"
                + " token on its own route, a skipped block's keys and values by the %s policy%n",
                tokens.tokenCount(), kvPolicy);
        out.printf(Locale.ROOT, "  %-56s %9s   %-18s %9s   %-18s %s%n", "route chosen by", "same route",
                "vs best single", "causal", "vs best single", "off single, changes");
        int max = Arrays.stream(tokenNeighbours).max().orElse(1);
        int last = tokenNeighbours[tokenNeighbours.length - 1];
        int[] newestNearest = null;
        for (TokenRouteOracle.Feature feature : TokenRouteOracle.Feature.values()) {
            int[][] nearest = tokens.nearest(feature, max, pool);
            for (int nb : tokenNeighbours) {
                int[] choices = tokens.neighbourChoices(nearest, nb);
                tokenLine(out, "nearest " + nb + " by " + feature.description(), tokens, choices, single,
                        singleChoice, realise);
                if (feature == TokenRouteOracle.Feature.NEWEST_VALUE && nb == last) {
                    newestNearest = choices;
                }
            }
        }
        int[] newestMlp = null;
        for (TokenRouteOracle.Feature feature : TokenRouteOracle.Feature.values()) {
            int[] choices = tokens.classifierChoices(feature, TokenRouteClassifier.Settings.DEFAULT);
            tokenLine(out, "MLP (width 32) on " + feature.description(), tokens, choices, single, singleChoice,
                    realise);
            if (feature == TokenRouteOracle.Feature.NEWEST_VALUE) {
                newestMlp = choices;
            }
        }
        // Controls: the same routes in the same amounts per example, each on a random token of it. What survives
        // this is the mixing of routes, not the choice of which token takes which.
        tokenLine(out, "control: nearest " + last + " by layer-0 row, shuffled in each example", tokens,
                tokens.shuffledWithinExamples(newestNearest, CONTROL_SEED), single, singleChoice, realise);
        tokenLine(out, "control: MLP on layer-0 row, shuffled in each example", tokens,
                tokens.shuffledWithinExamples(newestMlp, CONTROL_SEED), single, singleChoice, realise);
        tokenLine(out, "BUDDY block scores (width 32, last pooling) on layer-0 row", tokens,
                TokenRouterFit.twoFoldChoices(r, prior.values(), TokenRouterFit.Settings.DEFAULT), single,
                singleChoice, realise);
        tokenLine(out, "token oracle (each token's own best)", tokens, tokens.oracleChoices(), single, singleChoice,
                realise);
    }

    private static void tokenLine(PrintStream out, String name, TokenRouteOracle tokens, int[] choices,
                                  double[] single, int[] singleChoice, Realiser realise) {
        double[] chosen = tokens.chosen(choices);
        double[] diff = pairedDifference(chosen, single);
        String causal;
        if (realise != null) {
            double[] realised = realise.crossEntropy(choices);
            double[] realisedDiff = pairedDifference(realised, single);
            causal = String.format(Locale.ROOT, "%9.4f   %+.4f ± %.4f  ", Arrays.stream(realised).average().orElse(
                    Double.NaN), realisedDiff[0], realisedDiff[1]);
        } else {
            causal = String.format(Locale.ROOT, "%9s   %-18s", "-", "");
        }
        out.printf(Locale.ROOT, "  %-56s %9.4f   %+.4f ± %.4f   %s %5.1f%% %5.1f%%%n", name,
                Arrays.stream(chosen).average().orElse(Double.NaN), diff[0], diff[1], causal,
                100 * tokens.shareOff(choices, singleChoice), 100 * tokens.changeRate(choices));
    }

    /** The shuffle of the per-token report's controls. */
    private static final long CONTROL_SEED = 19;

    /** Runs per-token route choices causally: per example, the response's mean cross-entropy. */
    @FunctionalInterface
    public interface Realiser {
        double[] crossEntropy(int[] choices);
    }

    /**
     * Per example, the mean response cross-entropy with each scored token on its own route ({@code choices}, by
     * global token index of {@code r.perToken()}) and every other position on the best single route of the other
     * fold, in one causal pass ({@link ModelPass#forwardPerPosition}), a skipped block's key and value rows left as
     * {@code policy} leaves them (zeros or compute-kv).
     */
    public static double[] realise(FrozenModel model, TrainingData data, Result r, int[] choices, int maxTokens,
                                   SkippedKvPolicy policy, Parallel pool, ProgressBar bar) {
        TokenRouteOracle tokens = r.perToken();
        int[] offsets = tokens.offsets();
        int[] single = r.bestSingleByExample();
        int layers = r.layers();
        ModelPass pass = new ModelPass(model, maxTokens, pool);
        boolean[][] takes = new boolean[maxTokens][];
        int[] targets = new int[maxTokens];
        double[] out = new double[r.exampleCount()];
        for (int e = 0; e < out.length; e++) {
            TrainingExample example = data.example(r.examples()[e]);
            int n = example.length();
            boolean[] base = r.mask(e, single[e]);
            for (int t = 0; t < n; t++) {
                takes[t] = base;
            }
            int[] at = tokens.positions()[e];
            for (int j = 0; j < at.length; j++) {
                takes[at[j]] = r.mask(e, choices[offsets[e] + j]);
            }
            pass.embed(example.tokens(), n);
            pass.forwardPerPosition(n, takes, policy);
            example.targets(targets);
            out[e] = pass.headLoss(targets, 1f, false) / at.length;
            advance(bar);
        }
        return out;
    }

    private static void line(PrintStream out, String name, double[] chosen, double[] single) {
        double mean = Arrays.stream(chosen).average().orElse(Double.NaN);
        double[] diff = pairedDifference(chosen, single);
        out.printf(Locale.ROOT, "  %-48s %9.4f %9.3f   %+.4f ± %.4f%n", name, mean, Math.exp(mean), diff[0], diff[1]);
    }

    private static String labels(Result r) {
        StringBuilder sb = new StringBuilder("(");
        for (int c = 1; c < r.candidates().size(); c++) {
            sb.append(c > 1 ? ", " : "").append(r.label(0, c));
        }
        return sb.append(')').toString();
    }

    private static String joined(int[] blocks) {
        return String.join(",", Arrays.stream(blocks).mapToObj(Integer::toString).toList());
    }

    /** Every measurement as a tab-separated table, one row per example and candidate, written atomically. */
    public static void writeTable(Result r, Path file) throws IOException {
        StringBuilder sb = new StringBuilder(
                "example\tcandidate\tblock_off\tblock_on\ttokens\tcross_entropy\tce_odd_tokens\tce_even_tokens\n");
        for (int e = 0; e < r.exampleCount(); e++) {
            for (int c = 0; c < r.candidates().size(); c++) {
                int[] s = r.swaps()[e][c];
                sb.append(r.examples()[e]).append('\t').append(r.label(e, c)).append('\t')
                        .append(s[0] < 0 ? "" : Integer.toString(s[0])).append('\t')
                        .append(s[1] < 0 ? "" : Integer.toString(s[1])).append('\t').append(r.tokens()[e])
                        .append('\t').append(String.format(Locale.ROOT, "%.6f\t%.6f\t%.6f", r.crossEntropy()[e][c],
                                r.halves()[e][c][0], r.halves()[e][c][1]))
                        .append('\n');
            }
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /**
     * Every token's cross-entropy under every candidate as a tab-separated table (one row per example, scored
     * position and candidate), written atomically.
     */
    public static void writeTokenTable(Result r, Path file) throws IOException {
        TokenRouteOracle t = r.perToken();
        StringBuilder sb = new StringBuilder("example\tposition\tinput_token\ttarget_token\tcandidate\tcross_entropy\n");
        for (int e = 0; e < r.exampleCount(); e++) {
            for (int j = 0; j < t.positions()[e].length; j++) {
                for (int c = 0; c < r.candidates().size(); c++) {
                    sb.append(r.examples()[e]).append('\t').append(t.positions()[e][j]).append('\t')
                            .append(t.inputTokens()[e][j]).append('\t').append(t.targetTokens()[e][j]).append('\t')
                            .append(r.label(e, c)).append('\t')
                            .append(String.format(Locale.ROOT, "%.6f", t.losses()[e][c][j])).append('\n');
                }
            }
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /**
     * What {@code buddy route-oracle} measures and reports: one report per budget of {@code budgets}.
     *
     * @param skip            data examples passed over first
     * @param count           examples with a scored response to measure
     * @param near            running and skipped blocks next to the cut that the swaps take
     * @param neighbours      neighbour counts of the per-example report
     * @param tokenNeighbours neighbour counts of the per-token report (empty: no per-token report)
     * @param table           where to write every example's cross-entropies, or null
     * @param tokenTable      where to write every token's cross-entropies, or null
     * @param causal          also run each per-token choice causally (one more pass per example and choice)
     * @param kvPolicy        what a skipped block leaves for later tokens in the causal passes (zeros or compute-kv)
     * @param saveRouter      where to write a per-token router ({@link TokenRouterFit}) fitted on every budget's
     *                        tokens together, or null
     * @param tokenData       where to keep those tokens ({@link TokenFitFile}), or null
     * @param fitFrom         token files to fit {@code saveRouter} from instead of measuring, or null
     */
    public record Options(int skip, int count, double[] budgets, int near, int[] neighbours, int[] tokenNeighbours,
                          int maxTokens, int threads, Path table, Path tokenTable, boolean causal,
                          SkippedKvPolicy kvPolicy, Path saveRouter, Path tokenData, List<Path> fitFrom) {
        public Options {
            budgets = budgets.clone();
            fitFrom = fitFrom == null ? null : List.copyOf(fitFrom);
            if (fitFrom != null && saveRouter == null) {
                throw new InvalidTrainingOptionException("--fit-from fits a router; give --save-router FILE too");
            }
            if (budgets.length == 0 && fitFrom == null) {
                throw new IllegalArgumentException("no budget");
            }
            if (budgets.length > 1 && (table != null || tokenTable != null)) {
                throw new InvalidTrainingOptionException("--table and --token-table keep one budget's figures;"
                        + " give one --budget with them");
            }
        }
    }

    /**
     * {@code buddy route-oracle}: opens the model, router and data, measures and reports each budget, and fits and
     * writes the per-token router when asked. Returns the last budget's result (null when it only fits from
     * {@code fitFrom}).
     */
    public static Result run(Path modelPath, Path routerPath, Path dataPath, Options o, PrintStream out,
                             PrintStream progress) throws IOException {
        try (FrozenModel model = FrozenModel.open(modelPath)) {
            Router router = dev.buddy.router.RouterFile.load(routerPath, model.baseInfo());
            // The per-token router starts from a prior file's plan and prior.
            if (o.saveRouter() != null && !(router instanceof StaticPlan)) {
                throw new InvalidTrainingOptionException("--save-router starts from a prior file's plan; "
                        + routerPath + " is a trained router (give its prior file, or one from buddy prior)");
            }
            Prior prior = priorOf(routerPath, model.baseInfo(), o.saveRouter() != null);
            if (o.fitFrom() != null) {
                TokenFitFile.Data fitting = TokenFitFile.read(o.fitFrom());
                String names = String.join(", ", o.fitFrom().stream().map(f -> f.getFileName().toString()).toList());
                saveRouter(model, router, names, prior, fitting, o.saveRouter(), out);
                return null;
            }
            TrainingData data = TrainingData.open(dataPath, model.tokenizer(), o.maxTokens());
            Result r = null;
            TokenRouterFit.Tokens tokens = null;
            int[] counts = new int[o.budgets().length];
            for (int i = 0; i < counts.length; i++) {
                r = measureAndReport(model, router, data, o.budgets()[i], prior, o, out, progress);
                TokenRouterFit.Tokens measured = TokenRouterFit.Tokens.of(r);
                tokens = tokens == null ? measured : tokens.concat(measured);
                counts[i] = measured.count();
            }
            TokenFitFile.Data fitting = new TokenFitFile.Data(tokens, o.budgets(), counts);
            if (o.tokenData() != null) {
                TokenFitFile.write(fitting, o.tokenData());
                out.println("token data: " + o.tokenData());
            }
            if (o.saveRouter() != null) {
                saveRouter(model, router, r.dataName(), prior, fitting, o.saveRouter(), out);
            }
            return r;
        }
    }

    /** The file's prior; none for a static plan without one, unless the router is to be saved. */
    private static Prior priorOf(Path path, BaseModelInfo base, boolean required) throws IOException {
        try {
            return PriorFile.read(path, base);
        } catch (dev.buddy.router.RouterFormatException e) {
            if (required) {
                throw e;
            }
            return Prior.none(base.layerCount() - 2);
        }
    }

    private static Result measureAndReport(FrozenModel model, Router router, TrainingData data, double budget,
                                           Prior prior, Options o, PrintStream out,
                                           PrintStream progress) throws IOException {
        Result r = measure(model, router, data, o.skip(), o.count(), budget, o.near(), o.maxTokens(), o.threads(),
                progress);
        long causalPasses = o.causal() && o.tokenNeighbours().length > 0 ? (long) r.exampleCount()
                * (TokenRouteOracle.Feature.values().length * (o.tokenNeighbours().length + 1) + 4) : 0;
        try (Parallel pool = new Parallel(o.threads());
             ProgressBar bar = progress == null || causalPasses == 0 ? null
                     : new ProgressBar("causal passes", causalPasses, progress)) {
            Realiser realiser = causalPasses == 0 ? null
                    : choices -> realise(model, data, r, choices, o.maxTokens(), o.kvPolicy(), pool, bar);
            report(r, o.neighbours(), o.tokenNeighbours(), realiser,
                    o.kvPolicy() == SkippedKvPolicy.ZEROS ? "zeros" : "compute-kv", prior, pool, out);
        }
        if (o.table() != null) {
            writeTable(r, o.table());
            out.println("table: " + o.table());
        }
        if (o.tokenTable() != null) {
            writeTokenTable(r, o.tokenTable());
            out.println("token table: " + o.tokenTable());
        }
        return r;
    }

    /**
     * Fits the per-token router on every measured budget's tokens and writes it atomically, saying how far it moved
     * from its start and how often its top-k route is the candidate it ranks first.
     */
    private static void saveRouter(FrozenModel model, Router router, String dataName, Prior prior,
                                   TokenFitFile.Data fitting, Path output, PrintStream out) throws IOException {
        int layers = model.spec().blockCount();
        TokenRouterFit.Tokens tokens = fitting.tokens();
        double[] fitBudgets = fitting.budgets();
        TokenRouterFit.Settings settings = TokenRouterFit.Settings.DEFAULT;
        TokenRouterFit fit = TokenRouterFit.fit(layers, prior.values(), tokens, settings);
        out.printf(Locale.ROOT, "per-token router: fitted on %d scored tokens of %s at b=%s (expected"
                + " cross-entropy under its distribution over block sets, an unmeasured set counted as the token's"
                + " worst route: %.4f)%n", tokens.count(), dataName, budgetList(fitBudgets), fit.meanLoss(tokens));
        int from = 0;
        for (int i = 0; i < fitBudgets.length; i++) {
            int to = from + fitting.counts()[i];
            int off = 0;
            int unmeasured = 0;
            double chosen = 0;
            double plan = 0;
            for (int g = from; g < to; g++) {
                int c = fit.choose(tokens, g);
                off += c != 0 ? 1 : 0;
                unmeasured += c < 0 ? 1 : 0;
                chosen += tokens.losses()[g][fit.chooseMeasured(tokens, g)];
                plan += tokens.losses()[g][0];
            }
            int n = Math.max(1, to - from);
            double[] held = TokenRouterFit.heldOut(tokens, from, to, prior.values(), settings);
            out.printf(Locale.ROOT, "  b=%.3f: the engine's top k leaves the plan's route on %.1f%% of its tokens"
                    + " (%.1f%% for a route that was not measured); cross-entropy of the measured routes it prefers"
                    + " %.4f in sample against the plan's %.4f; held out (a router fitted on each half of this budget's"
                    + " tokens, scored on the other) %.4f against the plan's %.4f and the other half's best single"
                    + " route's %.4f%n", fitBudgets[i],
                    100.0 * off / n, 100.0 * unmeasured / n, chosen / n, plan / n, held[0], held[1], held[2]);
            from = to;
        }
        float[] budgets = new float[fitBudgets.length];
        for (int i = 0; i < budgets.length; i++) {
            budgets[i] = (float) fitBudgets[i];
        }
        BaseModelInfo base = model.baseInfo();
        Provenance provenance = new Provenance(base.fingerprint(), base.architecture(), true, budgets,
                RouterTrainer.METHOD, prior.kind());
        String name = "per-token BUDDY router fitted to the route oracle of " + router.name() + " on " + dataName;
        dev.buddy.router.RouterFile.write(new DynamicRouter(name, fit.module(), Optional.empty(), provenance),
                output);
        out.println("router: " + output + " (last pooling; generate and eval route every token on its own"
                + " layer-0 row; pair it with --kv-policy compute-kv)");
    }

    private static String budgetList(double[] budgets) {
        return String.join(",", Arrays.stream(budgets).mapToObj(b -> String.format(Locale.ROOT, "%.3f", b)).toList());
    }
}

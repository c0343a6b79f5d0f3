package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Router;
import dev.buddy.router.StaticPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RouteOracle#measure} on an 8-block synthetic llama (6 routable blocks): every cross-entropy it reports is a
 * plain full pass under that route, to the last bit, the routes are the plan's (or the router's, from its whole
 * sequence) with exactly the blocks next to the cut swapped, and inputs that leave nothing to compare are refused.
 */
class RouteOracleTest {
    private static final Parallel POOL = new Parallel(2);
    private static final int MAX_TOKENS = 12;
    private static Path dir;
    private static FrozenModel model;

    @BeforeAll
    static void writeModel() throws IOException {
        dir = Files.createTempDirectory("buddy-route-oracle");
        SyntheticModel m = SyntheticModel.llama();
        SyntheticModel deep = new SyntheticModel(m.architecture(), 8, m.dim(), m.heads(), m.kvHeads(), m.headDim(),
                m.ffn(), m.vocab(), m.tied(), m.matrixType());
        model = FrozenModel.open(deep.write(dir, 11));
    }

    @AfterAll
    static void close() throws IOException {
        POOL.close();
        SyntheticModel.closeAndDelete(List.of(model), dir);
    }

    private static Provenance provenance() {
        return new Provenance(model.baseInfo().fingerprint(), model.baseInfo().architecture(), false, new float[0],
                "prior", "none");
    }

    private static TrainingData data(long seed, int count) {
        return ListData.random(seed, count, MAX_TOKENS, model.spec().vocabSize(), 4);
    }

    /**
     * The response cross-entropy of one example under {@code route} (middle blocks) by a fresh full pass: over all
     * scored tokens, over the 1st, 3rd, ... and over the 2nd, 4th, ... (NaN if none); then each scored token's own,
     * from the two halves' passes of the head.
     */
    private static double[] fullPass(TrainingExample e, int[] route) {
        ModelPass pass = fullPassModel(e, route);
        int[] targets = new int[MAX_TOKENS];
        e.targets(targets);
        int[][] halves = {new int[MAX_TOKENS], new int[MAX_TOKENS]};
        int[] counts = new int[2];
        for (int t = 0; t < MAX_TOKENS; t++) {
            halves[0][t] = -1;
            halves[1][t] = -1;
            if (t < e.length() && targets[t] >= 0) {
                int h = (counts[0] + counts[1]) % 2;
                halves[h][t] = targets[t];
                counts[h]++;
            }
        }
        double whole = pass.headLoss(targets, 1f, false) / e.targetCount();
        double[] out = new double[3 + e.targetCount()];
        out[0] = whole;
        out[1] = pass.headLoss(halves[0], 1f, false) / counts[0];
        copyScored(pass.positionLosses(), halves[0], 0, out);
        out[2] = Double.NaN;
        if (counts[1] > 0) {
            out[2] = pass.headLoss(halves[1], 1f, false) / counts[1];
            copyScored(pass.positionLosses(), halves[1], 1, out);
        }
        return out;
    }

    /**
     * The losses at the positions half h scores to {@code out[3 + j]}, j the token's rank among all scored tokens:
     * the halves alternate, so the i-th token of half h is the (2i + h)-th overall.
     */
    private static void copyScored(double[] losses, int[] halfTargets, int h, double[] out) {
        int i = 0;
        for (int t = 0; t < halfTargets.length; t++) {
            if (halfTargets[t] >= 0) {
                out[3 + 2 * i++ + h] = losses[t];
            }
        }
    }

    private static void assertMeasuredAs(double[] expected, RouteOracle.Result r, int e, int c) {
        String what = "example " + e + ", " + r.label(e, c);
        // The whole is the two halves' sums added; the head's product then runs on fewer rows at a time, which
        // can group its float sums otherwise, so it matches one pass over every row to float precision only.
        assertEquals(expected[0], r.crossEntropy()[e][c], 1e-6 * expected[0], what);
        assertEquals(expected[1], r.halves()[e][c][0], 0.0, what + ", odd tokens");
        assertEquals(expected[2], r.halves()[e][c][1], 0.0, what + ", even tokens");
        float[] tokens = r.perToken().losses()[e][c];
        assertEquals(expected.length - 3, tokens.length, what + ", scored tokens");
        for (int j = 0; j < tokens.length; j++) {
            assertEquals((float) expected[3 + j], tokens[j], 0f, what + ", scored token " + j);
        }
    }

    private static ModelPass fullPassModel(TrainingExample e, int[] route) {
        int layers = model.spec().blockCount();
        float[] gates = new float[layers];
        gates[0] = 1f;
        gates[layers - 1] = 1f;
        for (int b : route) {
            gates[b] = 1f;
        }
        ModelPass pass = new ModelPass(model, MAX_TOKENS, POOL);
        pass.embed(e.tokens(), e.length());
        pass.forward(e.length(), gates, false);
        return pass;
    }

    /** The mean of rows {@code [0, n)} of {@code width} values, in float as a plain loop sums them. */
    private static float[] mean(float[] rows, int n, int width) {
        float[] m = new float[width];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) {
                m[i] += rows[t * width + i];
            }
        }
        for (int i = 0; i < width; i++) {
            m[i] /= n;
        }
        return m;
    }

    /**
     * The per-token inputs of example e are the rows of a fresh pass at its scored positions: its layer-0 row, the
     * mean of the layer-0 rows up to it (summed in double, as a plain loop), and the plan's last hidden state.
     */
    private static void assertTokenInputs(TokenRouteOracle tokens, int e, TrainingExample example, float[] rows,
                                          float[] hidden) {
        int kvDim = model.spec().kvDim();
        int dim = model.spec().embeddingLength();
        int[] targets = new int[MAX_TOKENS];
        example.targets(targets);
        int[] scored = IntStream.range(0, example.length()).filter(t -> targets[t] >= 0).toArray();
        assertArrayEquals(scored, tokens.positions()[e], "scored positions, example " + e);
        for (int j = 0; j < scored.length; j++) {
            int t = scored[j];
            assertEquals(example.tokens()[t], tokens.inputTokens()[e][j]);
            assertEquals(targets[t], tokens.targetTokens()[e][j]);
            for (int i = 0; i < kvDim; i++) {
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    sum += rows[s * kvDim + i];
                }
                assertEquals(rows[t * kvDim + i], tokens.newest()[e][j * kvDim + i], 0f, "layer-0 row " + t);
                assertEquals((float) (sum / (t + 1)), tokens.pooled()[e][j * kvDim + i], 0f, "pooled rows " + t);
            }
            for (int i = 0; i < dim; i++) {
                assertEquals(hidden[t * dim + i], tokens.hidden()[e][j * dim + i], 0f, "hidden state " + t);
            }
        }
    }

    /** The route with {@code off} swapped for {@code on}. */
    private static int[] swapped(int[] route, int off, int on) {
        return IntStream.concat(IntStream.of(route).filter(b -> b != off), IntStream.of(on)).sorted().toArray();
    }

    private static void assertEveryCandidateIsAFullPass(RouteOracle.Result r, TrainingData data) {
        for (int e = 0; e < r.exampleCount(); e++) {
            TrainingExample example = data.example(r.examples()[e]);
            assertMeasuredAs(fullPass(example, r.routes()[e]), r, e, 0);
            // Both neighbour inputs are the prompt's rows (ListData scores from position 4 or the last token on).
            ModelPass pass = fullPassModel(example, r.routes()[e]);
            int prompt = example.firstTarget();
            assertTrue(prompt > 1);
            int kvDim = model.spec().kvDim();
            float[] rows = new float[MAX_TOKENS * kvDim];
            pass.layer0Features(FeatureSource.VALUE, example.length(), rows);
            assertArrayEquals(mean(rows, prompt, kvDim), r.features()[e], "layer-0 features, example " + e);
            assertArrayEquals(mean(pass.finalHidden(), prompt, model.spec().embeddingLength()), r.deepFeatures()[e],
                    "last hidden state, example " + e);
            assertTokenInputs(r.perToken(), e, example, rows, pass.finalHidden());
            for (int c = 1; c < r.candidates().size(); c++) {
                int[] s = r.swaps()[e][c];
                assertMeasuredAs(fullPass(example, swapped(r.routes()[e], s[0], s[1])), r, e, c);
            }
        }
    }

    @Test
    void aStaticPlansSwapsAreTheBlocksNextToItsCutAndEachIsAFullPass() {
        int[] ranking = {4, 1, 6, 2, 5, 3}; // most important first
        StaticPlan plan = new StaticPlan("ranked", 8, ranking, Map.of(), provenance());
        TrainingData data = data(5, 5);
        // b = 0.5 of 8 blocks: k = 2 middle blocks run (4 and 1); the rest are skipped, 6 the strongest of them.
        RouteOracle.Result r = RouteOracle.measure(model, plan, data, 0, 5, 0.5, 2, MAX_TOKENS, 2, null);
        assertEquals(Budget.fraction(0.5).middleBlocks(8), r.k());
        assertEquals(2, r.k());
        assertEquals(5, r.candidates().size(), "the plan and 2 x 2 swaps");
        assertTrue(r.staticRoute());
        for (int e = 0; e < r.exampleCount(); e++) {
            assertArrayEquals(new int[] {1, 4}, r.routes()[e]);
            for (int c = 1; c < r.candidates().size(); c++) {
                RouteOracle.Candidate cand = r.candidates().get(c);
                // weakest running first: ranking[k-1], ranking[k-2]; strongest skipped first: ranking[k], ranking[k+1]
                assertArrayEquals(new int[] {ranking[r.k() - 1 - cand.offRank()], ranking[r.k() + cand.onRank()]},
                        r.swaps()[e][c]);
            }
        }
        assertEveryCandidateIsAFullPass(r, data);
    }

    @Test
    void aDynamicRouterRoutesEachExampleFromItsWholeSequence() {
        DynamicRouter router = RandomRouter.create(model.baseInfo(), 9, FeatureSource.VALUE, Pooling.MEAN, false);
        TrainingData data = data(6, 6);
        RouteOracle.Result r = RouteOracle.measure(model, router, data, 1, 4, 0.625, 3, MAX_TOKENS, 2, null);
        int k = r.k();
        assertEquals(3, k);
        assertEquals(4, r.exampleCount());
        assertArrayEquals(new int[] {1, 2, 3, 4}, r.examples(), "--skip 1 starts at the second example");
        for (int e = 0; e < r.exampleCount(); e++) {
            TrainingExample example = data.example(r.examples()[e]);
            ModelPass pass = new ModelPass(model, MAX_TOKENS, POOL);
            pass.embed(example.tokens(), example.length());
            pass.beginForward(example.length());
            int width = model.spec().kvDim();
            float[] rows = new float[MAX_TOKENS * width];
            pass.layer0Features(FeatureSource.VALUE, example.length(), rows);
            float[][] features = new float[example.length()][width];
            for (int t = 0; t < example.length(); t++) {
                System.arraycopy(rows, t * width, features[t], 0, width);
            }
            boolean[] mask = router.decision().routeSequence(features, k);
            assertArrayEquals(IntStream.range(1, 7).filter(l -> mask[l]).toArray(), r.routes()[e], "example " + e);
        }
        assertEveryCandidateIsAFullPass(r, data);
    }

    @Test
    void theCausalPassRunsEachTokenOnItsChosenRouteAndTheRestOnTheBestSingleOne() {
        int[] ranking = {4, 1, 6, 2, 5, 3};
        StaticPlan plan = new StaticPlan("ranked", 8, ranking, Map.of(), provenance());
        TrainingData data = data(7, 6);
        RouteOracle.Result r = RouteOracle.measure(model, plan, data, 0, 6, 0.5, 2, MAX_TOKENS, 2, null);
        TokenRouteOracle tokens = r.perToken();
        int[] single = r.bestSingleByExample();
        // Every token on its fold's best single route: the fixed route's own full pass, to the last bit.
        int[] same = new int[tokens.tokenCount()];
        int[] offsets = tokens.offsets();
        for (int e = 0; e < r.exampleCount(); e++) {
            java.util.Arrays.fill(same, offsets[e], offsets[e + 1], single[e]);
        }
        double[] fixed = RouteOracle.realise(model, data, r, same, MAX_TOKENS, SkippedKvPolicy.ZEROS, POOL, null);
        for (int e = 0; e < r.exampleCount(); e++) {
            int[] s = r.swaps()[e][single[e]];
            int[] route = s[0] < 0 ? r.routes()[e] : swapped(r.routes()[e], s[0], s[1]);
            assertEquals(fullPass(data.example(r.examples()[e]), route)[0], fixed[e], 0.0, "example " + e);
        }
        // Random choices: the prompt on the best single route, each scored token on its own.
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        int[] choices = random.ints(tokens.tokenCount(), 0, r.candidates().size()).toArray();
        for (SkippedKvPolicy policy : new SkippedKvPolicy[] {SkippedKvPolicy.ZEROS, SkippedKvPolicy.COMPUTE_KV}) {
            assertRealisedAs(r, data, choices, policy);
        }
    }

    private static void assertRealisedAs(RouteOracle.Result r, TrainingData data, int[] choices,
                                         SkippedKvPolicy policy) {
        TokenRouteOracle tokens = r.perToken();
        int[] single = r.bestSingleByExample();
        int[] offsets = tokens.offsets();
        double[] mixed = RouteOracle.realise(model, data, r, choices, MAX_TOKENS, policy, POOL, null);
        int layers = model.spec().blockCount();
        for (int e = 0; e < r.exampleCount(); e++) {
            TrainingExample example = data.example(r.examples()[e]);
            boolean[][] takes = new boolean[example.length()][];
            for (int t = 0; t < example.length(); t++) {
                int j = java.util.Arrays.binarySearch(tokens.positions()[e], t);
                int c = j >= 0 ? choices[offsets[e] + j] : single[e];
                int[] s = r.swaps()[e][c];
                int[] route = s[0] < 0 ? r.routes()[e] : swapped(r.routes()[e], s[0], s[1]);
                takes[t] = new boolean[layers];
                takes[t][0] = true;
                takes[t][layers - 1] = true;
                for (int b : route) {
                    takes[t][b] = true;
                }
            }
            ModelPass pass = new ModelPass(model, MAX_TOKENS, POOL);
            pass.embed(example.tokens(), example.length());
            pass.forwardPerPosition(example.length(), takes, policy);
            int[] targets = new int[MAX_TOKENS];
            example.targets(targets);
            assertEquals(pass.headLoss(targets, 1f, false) / example.targetCount(), mixed[e], 0.0,
                    policy + ", example " + e);
        }
    }

    @Test
    void nothingToCompareIsRefusedWithTheReason() {
        StaticPlan plan = new StaticPlan("ranked", 8, new int[] {4, 1, 6, 2, 5, 3}, Map.of(), provenance());
        Router noRanking = new StaticPlan("sets", 8, new int[0], Map.of(2, new int[] {3, 5}), provenance());
        InvalidTrainingOptionException full = assertThrows(InvalidTrainingOptionException.class,
                () -> RouteOracle.measure(model, plan, data(1, 3), 0, 3, 1.0, 2, MAX_TOKENS, 1, null));
        assertTrue(full.getMessage().contains("no route to swap"), full.getMessage());
        InvalidTrainingOptionException ranking = assertThrows(InvalidTrainingOptionException.class,
                () -> RouteOracle.measure(model, noRanking, data(1, 3), 0, 3, 0.5, 2, MAX_TOKENS, 1, null));
        assertTrue(ranking.getMessage().contains("no ranking"), ranking.getMessage());
        InvalidTrainingOptionException few = assertThrows(InvalidTrainingOptionException.class,
                () -> RouteOracle.measure(model, plan, data(1, 3), 2, 3, 0.5, 2, MAX_TOKENS, 1, null));
        assertTrue(few.getMessage().contains("at least 2"), few.getMessage());
    }
}

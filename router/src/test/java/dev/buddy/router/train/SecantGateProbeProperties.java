package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

import dev.buddy.engine.tensor.Parallel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The finite-difference gate probe ({@code --secant}) against plain full passes: a probe's loss is the loss of the
 * whole sequence re-run from the embeddings with that one gate flipped, to the last bit, and the score gradients are
 * the relaxation applied to exactly those measured loss changes, for exactly the blocks next to the top-k cut.
 * Models of 8 blocks (6 routable), so a cut has several blocks on each side.
 */
class SecantGateProbeProperties {
    private static final Parallel POOL = new Parallel(2);
    private static final Map<String, FrozenModel> MODELS = new ConcurrentHashMap<>();
    private static Path dir;

    @BeforeContainer
    static void writeModels() throws IOException {
        dir = Files.createTempDirectory("buddy-secant");
        for (SyntheticModel m : new SyntheticModel[] {SyntheticModel.llama(), SyntheticModel.qwen2(),
                SyntheticModel.qwen3()}) {
            SyntheticModel deep = new SyntheticModel(m.architecture(), 8, m.dim(), m.heads(), m.kvHeads(),
                    m.headDim(), m.ffn(), m.vocab(), m.tied(), m.matrixType());
            MODELS.put(m.architecture(), FrozenModel.open(deep.write(dir, 7)));
        }
    }

    @AfterContainer
    static void close() throws IOException {
        POOL.close();
        SyntheticModel.closeAndDelete(MODELS.values(), dir);
    }

    @Provide
    Arbitrary<String> architectures() {
        return Arbitraries.of("llama", "qwen2", "qwen3");
    }

    @Property(tries = 30)
    void probeLossIsAFullPassWithThatGateFlipped(@ForAll("architectures") String arch, @ForAll long seed,
                                                 @ForAll @IntRange(min = 1, max = 9) int n,
                                                 @ForAll boolean probeSkipped) {
        FrozenModel model = MODELS.get(arch);
        SplittableRandom random = new SplittableRandom(seed);
        int blocks = model.spec().blockCount();
        int[] tokens = ModelGradientProperties.randomTokens(random, model, n);
        int[] targets = ModelGradientProperties.targetsOf(random, model, n);
        float[] gates = new float[blocks];
        for (int l = 0; l < blocks; l++) {
            gates[l] = l == 0 || l == blocks - 1 || random.nextBoolean() ? 1f : 0f;
        }
        // With the skipped blocks probed, a probe that switches one on reuses its F(h); without, it computes it.
        ModelPass pass = mainPass(model, tokens, targets, gates, n, probeSkipped);
        // Highest block first, as the probe orders them; every probe flips one gate of the main pass's mask.
        for (int block = blocks - 2; block >= 1; block--) {
            float[] flipped = gates.clone();
            flipped[block] = 1f - flipped[block];
            double probe = pass.probeLoss(flipped, block, targets);
            assertEquals(fullPassLoss(model, tokens, targets, flipped, n), probe, 0.0,
                    arch + ": probe of block " + block + " under " + Arrays.toString(gates));
        }
    }

    @Property(tries = 40)
    void scoreGradientsAreTheRelaxationOfTheMeasuredSecantsAtTheCut(
            @ForAll("architectures") String arch, @ForAll long seed, @ForAll @IntRange(min = 2, max = 8) int n,
            @ForAll @IntRange(min = 1, max = 3) int perSide, @ForAll @IntRange(min = 0, max = 6) int k,
            @ForAll GateRelaxation relaxation) {
        FrozenModel model = MODELS.get(arch);
        SplittableRandom random = new SplittableRandom(seed);
        int blocks = model.spec().blockCount();
        int middle = blocks - 2;
        int[] tokens = ModelGradientProperties.randomTokens(random, model, n);
        int[] targets = ModelGradientProperties.targetsOf(random, model, n);
        targets[n - 1] = random.nextInt(model.spec().vocabSize()); // at least one scored position
        float[] fused = new float[middle];
        for (int j = 0; j < middle; j++) {
            fused[j] = (float) random.nextGaussian();
        }
        Integer[] byScore = new Integer[middle];
        for (int j = 0; j < middle; j++) {
            byScore[j] = j;
        }
        Arrays.sort(byScore, (a, b) -> Float.compare(fused[b], fused[a])); // highest first
        float[] gates = new float[blocks];
        gates[0] = 1f;
        gates[blocks - 1] = 1f;
        for (int r = 0; r < k; r++) {
            gates[byScore[r] + 1] = 1f;
        }
        float scale = 0.25f;
        ModelPass pass = mainPass(model, tokens, targets, gates, n, true);
        double base = fullPassLoss(model, tokens, targets, gates, n);
        double[] gradients = new double[middle];
        Arrays.fill(gradients, Double.NaN);
        int scored = 0;
        for (int t = 0; t < n; t++) {
            scored += targets[t] >= 0 ? 1 : 0;
        }
        SecantGateProbe probe = new SecantGateProbe(perSide, blocks);
        probe.scoreGradients(pass, gates, fused, base, targets, scored, scale, relaxation, gradients);

        // The cut's neighbours: the lowest-scored running blocks and the highest-scored skipped ones.
        boolean[] window = new boolean[middle];
        for (int r = Math.max(0, k - perSide); r < Math.min(middle, k + perSide); r++) {
            window[byScore[r]] = true;
        }
        int count = 0;
        for (boolean w : window) {
            count += w ? 1 : 0;
        }
        float[] windowFused = new float[count];
        double[] windowSecants = new double[count];
        int c = 0;
        for (int j = 0; j < middle; j++) {
            if (window[j]) {
                float[] on = gates.clone();
                float[] off = gates.clone();
                on[j + 1] = 1f;
                off[j + 1] = 0f;
                windowFused[c] = fused[j];
                windowSecants[c++] = scale * (fullPassLoss(model, tokens, targets, on, n)
                        - fullPassLoss(model, tokens, targets, off, n));
            }
        }
        double[] expected = new double[count];
        if (count >= 2) {
            relaxation.scoreGradient(windowFused, windowSecants, count, expected);
        }
        // The report: an inversion is a skipped block at the cut measured more useful than a running one.
        double worstRunning = Double.NEGATIVE_INFINITY;
        double bestSkipped = Double.POSITIVE_INFINITY;
        c = 0;
        for (int j = 0; j < middle; j++) {
            if (window[j]) {
                double secant = windowSecants[c++];
                if (gates[j + 1] != 0f) {
                    worstRunning = Math.max(worstRunning, secant);
                } else {
                    bestSkipped = Math.min(bestSkipped, secant);
                }
            }
        }
        boolean twoSided = k > 0 && k < middle;
        String report = probe.describe();
        boolean inverted = twoSided && bestSkipped < worstRunning;
        String counted = "on " + (inverted ? 1 : 0) + " of " + (twoSided ? 1 : 0) + " examples";
        assertTrue(report.contains(counted), counted + " in " + report);
        c = 0;
        for (int j = 0; j < middle; j++) {
            double want = window[j] ? expected[c++] : 0.0;
            assertEquals(want, gradients[j], 1e-12 * (1 + Math.abs(want)),
                    arch + " k=" + k + " perSide=" + perSide + " block " + (j + 1) + (window[j] ? " (at the cut)" : ""));
        }
    }

    private static ModelPass mainPass(FrozenModel model, int[] tokens, int[] targets, float[] gates, int n,
                                      boolean probeSkipped) {
        ModelPass pass = new ModelPass(model, 9, POOL);
        pass.embed(tokens, n);
        pass.forward(n, gates, probeSkipped);
        pass.headLoss(targets, 1f, true);
        pass.backward(1, false, new double[gates.length]);
        return pass;
    }

    private static double fullPassLoss(FrozenModel model, int[] tokens, int[] targets, float[] gates, int n) {
        ModelPass reference = new ModelPass(model, 9, POOL);
        reference.embed(tokens, n);
        reference.forward(n, gates, false);
        return reference.headLoss(targets, 1f, false);
    }
}

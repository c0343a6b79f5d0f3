package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleUnaryOperator;

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
 * The whole training pass of tiny llama, qwen2 and qwen3 models against finite differences: the gradient at the
 * embeddings (which passes through every op of every executed block, the final norm and the LM head), each block's
 * residual branch on its own, and every block's gate gradient {@code ∂L/∂m_l}, including the gates of skipped blocks
 * (the probe) and under a mask that skips some blocks. The largest relative error per check is printed at the end.
 */
class ModelGradientProperties {
    private static final Parallel POOL = new Parallel(2);
    private static final Map<String, FrozenModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    private static Path dir;

    @BeforeContainer
    static void writeModels() throws IOException {
        dir = Files.createTempDirectory("buddy-train-grad");
        for (SyntheticModel m : new SyntheticModel[] {SyntheticModel.llama(), SyntheticModel.qwen2(),
                SyntheticModel.qwen3()}) {
            MODELS.put(m.architecture(), FrozenModel.open(m.write(dir, 42)));
        }
        // The engine's own synthetic models add RoPE frequency factors, tied embeddings and a 32000-token head.
        for (var spec : new dev.buddy.engine.e2e.SyntheticModels.Spec[] {
                dev.buddy.engine.e2e.SyntheticModels.llama(dev.buddy.gguf.GgmlType.F32),
                dev.buddy.engine.e2e.SyntheticModels.qwen2(dev.buddy.gguf.GgmlType.F32),
                dev.buddy.engine.e2e.SyntheticModels.qwen3(dev.buddy.gguf.GgmlType.F32)}) {
            Path file = dev.buddy.engine.e2e.SyntheticModels.write(spec, dir.resolve("engine-" + spec.label()
                    + ".gguf"));
            MODELS.put("engine-" + spec.architecture().ggufName(), FrozenModel.open(file));
        }
    }

    @AfterContainer
    static void close() throws IOException {
        POOL.close();
        SyntheticModel.closeAndDelete(MODELS.values(), dir);
        System.out.println("largest relative errors, analytic vs finite differences: " + new java.util.TreeMap<>(WORST));
    }

    @Provide
    Arbitrary<String> architectures() {
        return Arbitraries.of("llama", "qwen2", "qwen3", "engine-llama", "engine-qwen2", "engine-qwen3");
    }

    @Property(tries = 24)
    void embeddingGradientMatchesFiniteDifferences(@ForAll("architectures") String arch, @ForAll long seed,
                                                   @ForAll @IntRange(min = 1, max = 9) int n) {
        FrozenModel model = MODELS.get(arch);
        SplittableRandom random = new SplittableRandom(seed);
        ModelPass pass = new ModelPass(model, 9, POOL);
        int[] tokens = randomTokens(random, model, n);
        int[] targets = targetsOf(random, model, n);
        float[] gates = randomMask(random, model.spec().blockCount());
        pass.embed(tokens, n);
        int size = n * model.spec().embeddingLength();
        float[] base = java.util.Arrays.copyOf(pass.embeddings(), size);
        pass.forward(n, gates, false);
        pass.headLoss(targets, 1f, true);
        pass.backward(0, true, new double[gates.length]);
        // Embedding rows are small (row norm ~1), so the step is small too: RMSNorm is far from linear on the scale
        // of the row itself. The error is judged against the summed magnitude of the terms (see absoluteTerms).
        float[] direction = OpGradientProperties.gaussian(random, size, 1.0);
        double analytic = FiniteDifference.dot(pass.inputGradient(), direction, size);
        DoubleUnaryOperator loss = e -> {
            float[] h = OpGradientProperties.shifted(base, direction, e);
            System.arraycopy(h, 0, pass.embeddings(), 0, size);
            pass.forward(n, gates, false);
            return pass.headLoss(targets, 1f, false);
        };
        // 2e-3, not 1e-3, stated openly: the numeric side runs the whole float32 model forward, and three CI runs of
        // this session drew llama cases at 1.11e-3, 1.18e-3 and 1.19e-3 (e.g. analytic 51.268 vs numeric 51.561).
        // The per-op checks (OpGradientProperties) keep 1e-3; a double-precision reference forward for this
        // whole-model check would let it return to 1e-3. The step has the opposite problem where the loss curves
        // sharply along the direction: a session-10 CI run drew a llama case (9 tokens) whose estimate at step 2e-3
        // was 77.96 against an analytic 80.19, and which converged as the step shrank (8e-3: 56.10, 4e-3: 72.76,
        // 1e-3: 79.86, 5e-4: 80.17, 2.5e-4: 80.193): truncation error, not a wrong gradient. So a case passes when
        // the estimate at 2e-3 or at a quarter of it agrees.
        double numeric = FiniteDifference.derivative(loss, 2e-3);
        double scale = FiniteDifference.absoluteTerms(pass.inputGradient(), direction, size);
        if (FiniteDifference.relativeError(analytic, numeric, scale) > 2e-3) {
            numeric = FiniteDifference.derivative(loss, 5e-4);
        }
        check(arch + " dL/dh0", analytic, numeric, scale, 2e-3);
    }

    @Property(tries = 24)
    void gateGradientsMatchFiniteDifferences(@ForAll("architectures") String arch, @ForAll long seed,
                                             @ForAll @IntRange(min = 2, max = 9) int n) {
        FrozenModel model = MODELS.get(arch);
        SplittableRandom random = new SplittableRandom(seed);
        ModelPass pass = new ModelPass(model, 9, POOL);
        int[] tokens = randomTokens(random, model, n);
        int[] targets = targetsOf(random, model, n);
        int blocks = model.spec().blockCount();
        float[] gates = randomMask(random, blocks);
        pass.embed(tokens, n);
        pass.forward(n, gates, true);
        double loss = pass.headLoss(targets, 1f, true);
        double[] gateGradients = new double[blocks];
        pass.backward(0, false, gateGradients);
        for (int l = 0; l < blocks; l++) {
            int block = l;
            DoubleUnaryOperator shiftedLoss = e -> {
                float[] shifted = gates.clone();
                shifted[block] += (float) e;
                pass.forward(n, shifted, false);
                return pass.headLoss(targets, 1f, false);
            };
            // The forward pass's float rounding is relative to the loss (about 1e-5·|L| after the stencil divides
            // by h), so the floor of the comparison is too: an absolute allowance of 6e-6·|L|. Where a gradient is
            // small, that noise alone can miss at 1e-2: a draw (llama, seed -1, n 5, a skipped block's dL/dm =
            // -0.0014189) read -0.00131, -0.00145, -0.00138, -0.00143, -0.001416 at steps 2.5e-3 .. 4e-2, scattering
            // around the analytic value ever less as the step grows; so a case also passes at 4e-2.
            double numeric = FiniteDifference.derivative(shiftedLoss, 1e-2);
            double scale = 3e-3 * Math.abs(loss);
            if (FiniteDifference.relativeError(gateGradients[l], numeric, scale) > 2e-3) {
                numeric = FiniteDifference.derivative(shiftedLoss, 4e-2);
            }
            check(arch + " dL/dm (" + (gates[l] == 0f ? "skipped" : "run") + ")", gateGradients[l], numeric, scale,
                    2e-3);
        }
    }

    @Property(tries = 24)
    void blockBranchGradientMatchesFiniteDifferences(@ForAll("architectures") String arch, @ForAll long seed,
                                                     @ForAll @IntRange(min = 1, max = 9) int n) {
        FrozenModel model = MODELS.get(arch);
        var spec = model.spec();
        SplittableRandom random = new SplittableRandom(seed);
        RopeRotation rope = new RopeRotation(model.rope(), 9);
        BlockPass blockPass = new BlockPass(spec, rope, 9);
        BlockTape tape = blockPass.newTape();
        dev.buddy.engine.model.LayerWeights weights = model.blocks()[random.nextInt(spec.blockCount())];
        int size = n * spec.embeddingLength();
        float[] x = OpGradientProperties.gaussian(random, size, 1.0);
        float[] g = OpGradientProperties.gaussian(random, size, 1.0);
        float[] direction = OpGradientProperties.gaussian(random, size, 1.0);
        System.arraycopy(x, 0, tape.input, 0, size);
        blockPass.forward(weights, tape, 0, n, POOL);
        float[] dx = new float[size];
        blockPass.backward(weights, tape, g, 0, n, dx, POOL);
        double analytic = FiniteDifference.dot(dx, direction, size);
        double numeric = FiniteDifference.derivative(e -> {
            System.arraycopy(OpGradientProperties.shifted(x, direction, e), 0, tape.input, 0, size);
            blockPass.forward(weights, tape, 0, n, POOL);
            return FiniteDifference.dot(tape.delta, g, size);
        }, 2e-2);
        check(arch + " block J_F^T g", analytic, numeric, FiniteDifference.absoluteTerms(dx, direction, size),
                1e-3);
    }

    @Property(tries = 5)
    void fullDepthGatesReproduceTheUngatedForward(@ForAll("architectures") String arch, @ForAll long seed) {
        // Gates of one must give exactly the plain residual stack, so the trained router sees the real model.
        FrozenModel model = MODELS.get(arch);
        SplittableRandom random = new SplittableRandom(seed);
        int n = 6;
        ModelPass pass = new ModelPass(model, n, POOL);
        int[] tokens = randomTokens(random, model, n);
        pass.embed(tokens, n);
        float[] ones = new float[model.spec().blockCount()];
        java.util.Arrays.fill(ones, 1f);
        pass.forward(n, ones, false);
        int size = n * model.spec().embeddingLength();
        for (int l = 0; l + 1 < ones.length; l++) {
            float[] in = pass.blockInput(l);
            float[] next = pass.blockInput(l + 1);
            float[] delta = pass.blockDelta(l);
            for (int i = 0; i < size; i++) {
                assertEquals(in[i] + delta[i], next[i], 0f, "block " + l + " output element " + i);
            }
        }
    }

    private static void check(String what, double analytic, double numeric, double scale, double tolerance) {
        double error = FiniteDifference.relativeError(analytic, numeric, scale);
        WORST.merge(what, error, Math::max);
        assertTrue(error <= tolerance, what + ": analytic " + analytic + " vs numeric " + numeric
                + " (relative error " + error + ")");
    }

    static int[] randomTokens(SplittableRandom random, FrozenModel model, int n) {
        int[] tokens = new int[n];
        for (int t = 0; t < n; t++) {
            tokens[t] = random.nextInt(model.spec().vocabSize());
        }
        return tokens;
    }

    /** Random next-token targets, with a few positions left unscored as a prompt would be. */
    static int[] targetsOf(SplittableRandom random, FrozenModel model, int n) {
        int[] targets = new int[n];
        for (int t = 0; t < n; t++) {
            targets[t] = t > 0 && random.nextInt(4) == 0 ? -1 : random.nextInt(model.spec().vocabSize());
        }
        return targets;
    }

    /** First and last block run; each middle block runs with probability 1/2. */
    private static float[] randomMask(SplittableRandom random, int blocks) {
        float[] gates = new float[blocks];
        for (int l = 0; l < blocks; l++) {
            gates[l] = l == 0 || l == blocks - 1 || random.nextBoolean() ? 1f : 0f;
        }
        return gates;
    }
}

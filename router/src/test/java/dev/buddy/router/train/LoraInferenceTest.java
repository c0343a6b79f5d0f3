package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.SplittableRandom;

import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.GgmlType;
import dev.buddy.router.ModelFingerprint;
import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;
import dev.buddy.router.lora.LoraFingerprintMismatchException;
import dev.buddy.router.lora.LoraFormatException;
import dev.buddy.router.lora.LoraInference;
import dev.buddy.router.lora.LoraTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An adapter file applied at load ({@link LoraInference}, the engine's decorated matrices) must be the model the
 * adapters were trained in: the engine's logits after a prefill (batched products) and after one decoded token (single-token products) against {@link ModelPass} with the same adapters, on the
 * engine's synthetic llama, qwen2 and qwen3 models in F32 and Q8_0. Fresh adapters (B = 0) change nothing, bit for
 * bit; the file round-trips exactly; an adapter for another model is refused.
 */
class LoraInferenceTest {
    private static final int[] PROMPT = {1, 450, 1200, 77, 9000, 31, 5, 260, 11, 4000};

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3"})
    void adaptersAppliedAtLoadGiveTheTrainingForwardsLogits(String arch, @TempDir Path tmp) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0}) {
            Path file = SyntheticModels.write(spec(arch, type), tmp.resolve(arch + "-" + type + ".gguf"));
            Path adapterFile = tmp.resolve(arch + "-" + type + ".lora.gguf");
            LoraAdapters adapters;
            try (FrozenModel frozen = FrozenModel.open(file)) {
                LoraConfig config = new LoraConfig(4, 8f, EnumSet.allOf(LoraTarget.class), Double.NaN);
                adapters = LoraGradientProperties.randomAdapters(frozen.spec(), config, new SplittableRandom(7));
                LoraFile.write(adapters, frozen.baseInfo().fingerprint(), adapterFile);
            }
            int prefill = PROMPT.length - 1;
            float[][] engine = engineLogits(file, adapterFile, prefill);
            float[] trainedPrefill = trainingLogits(file, adapters, prefill);
            float[] trainedDecode = trainingLogits(file, adapters, PROMPT.length);
            String what = arch + " " + type;
            assertClose(trainedPrefill, engine[0], what + " prefill of " + prefill);
            assertClose(trainedDecode, engine[1], what + " decoded token");
            float[] base = engineLogits(file, null, prefill)[0];
            double moved = 0;
            for (int v = 0; v < base.length; v++) {
                moved = Math.max(moved, Math.abs(base[v] - engine[0][v]));
            }
            assertTrue(moved > 1e-3, what + ": the adapters did not change the logits (max change " + moved + ")");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3"})
    void freshAdaptersLeaveTheEnginesLogitsBitIdentical(String arch, @TempDir Path tmp) throws IOException {
        Path file = SyntheticModels.write(spec(arch, GgmlType.Q8_0), tmp.resolve(arch + ".gguf"));
        Path adapterFile = tmp.resolve(arch + ".lora.gguf");
        try (FrozenModel frozen = FrozenModel.open(file)) {
            LoraFile.write(LoraAdapters.initial(frozen.spec(), LoraConfig.of(8), 3), frozen.baseInfo().fingerprint(),
                    adapterFile);
        }
        float[][] plain = engineLogits(file, null, PROMPT.length - 1);
        float[][] adapted = engineLogits(file, adapterFile, PROMPT.length - 1);
        assertArrayEquals(plain[0], adapted[0], 0f, "prefill logits with B = 0");
        assertArrayEquals(plain[1], adapted[1], 0f, "decode logits with B = 0");
    }

    @Test
    void adapterFileRoundTripsExactly(@TempDir Path tmp) throws IOException {
        Path file = SyntheticModels.write(spec("qwen3", GgmlType.F32), tmp.resolve("m.gguf"));
        try (FrozenModel frozen = FrozenModel.open(file)) {
            LoraConfig config = new LoraConfig(3, 5f, EnumSet.of(LoraTarget.Q, LoraTarget.V, LoraTarget.DOWN),
                    Double.NaN);
            LoraAdapters written = LoraGradientProperties.randomAdapters(frozen.spec(), config,
                    new SplittableRandom(11));
            Path adapterFile = tmp.resolve("a.lora.gguf");
            LoraFile.write(written, frozen.baseInfo().fingerprint(), adapterFile);
            LoraAdapters read = LoraFile.read(adapterFile, frozen.spec(), frozen.baseInfo().fingerprint());
            assertEquals(config.rank(), read.config().rank());
            assertEquals(config.alpha(), read.config().alpha());
            assertEquals(config.targets(), read.config().targets());
            assertArrayEquals(written.params(), read.params(), 0f);
            try (var files = Files.list(tmp)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp")),
                        "a temporary file was left behind");
            }
        }
    }

    @Test
    void anAdapterForAnotherModelIsRefused(@TempDir Path tmp) throws IOException {
        Path fileA = SyntheticModels.write(spec("llama", GgmlType.F32), tmp.resolve("a.gguf"));
        Path fileB = SyntheticModels.write(spec("llama", GgmlType.F32).withSeed(99), tmp.resolve("b.gguf"));
        Path adapterFile = tmp.resolve("a.lora.gguf");
        try (FrozenModel frozen = FrozenModel.open(fileA)) {
            LoraFile.write(LoraAdapters.initial(frozen.spec(), LoraConfig.of(2), 1), frozen.baseInfo().fingerprint(),
                    adapterFile);
        }
        try (Model a = Model.load(fileA); Model b = Model.load(fileB)) {
            // Same shapes, different weights: the fingerprint tells them apart when the layout does not.
            if (!ModelFingerprint.of(a.gguf()).equals(ModelFingerprint.of(b.gguf()))) {
                var e = assertThrows(LoraFingerprintMismatchException.class,
                        () -> LoraInference.apply(b, adapterFile));
                assertTrue(e.getMessage().contains("different base model"), e.getMessage());
            }
            assertSame(LoraInference.apply(a, adapterFile).spec(), a.spec());
            var notAdapter = assertThrows(LoraFormatException.class, () -> LoraInference.apply(a, fileB));
            assertTrue(notAdapter.getMessage().contains("not a Buddy LoRA adapter"), notAdapter.getMessage());
        }
        Path qwen = SyntheticModels.write(spec("qwen2", GgmlType.F32), tmp.resolve("q.gguf"));
        try (Model q = Model.load(qwen)) {
            assertThrows(LoraFingerprintMismatchException.class, () -> LoraInference.apply(q, adapterFile));
        }
    }

    private static SyntheticModels.Spec spec(String arch, GgmlType type) {
        return switch (arch) {
            case "llama" -> SyntheticModels.llama(type);
            case "qwen2" -> SyntheticModels.qwen2(type);
            default -> SyntheticModels.qwen3(type);
        };
    }

    /** [0]: last-position logits after prefilling {@code prefill} tokens; [1]: after decoding the next one. */
    private static float[][] engineLogits(Path file, Path adapterFile, int prefill) throws IOException {
        try (Model loaded = Model.load(file); Parallel pool = new Parallel(2)) {
            Model model = adapterFile == null ? loaded : LoraInference.apply(loaded, adapterFile);
            Transformer transformer = new Transformer(model, pool);
            InferenceState state = transformer.newState(64, KvCacheType.F32, 64, SkippedKvPolicy.ZEROS);
            LayerPlanner all = (ctx, run) -> java.util.Arrays.fill(run, true);
            float[] first = transformer.forward(state, PROMPT, 0, prefill, all, true).clone();
            float[] second = transformer.forward(state, PROMPT, prefill, prefill, 1, all, true).clone();
            return new float[][] {first, second};
        }
    }

    private static float[] trainingLogits(Path file, LoraAdapters adapters, int n) throws IOException {
        try (FrozenModel model = FrozenModel.open(file); Parallel pool = new Parallel(2)) {
            ModelPass pass = new ModelPass(model, n, pool);
            pass.attachAdapters(adapters, new double[adapters.params().length]);
            float[] gates = new float[model.spec().blockCount()];
            java.util.Arrays.fill(gates, 1f);
            pass.embed(PROMPT, n);
            pass.forward(n, gates, false);
            float[] logits = new float[model.spec().vocabSize()];
            pass.logits(n - 1, logits);
            return logits;
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double maxAbs = 0;
        double maxDiff = 0;
        for (int v = 0; v < expected.length; v++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[v]));
            maxDiff = Math.max(maxDiff, Math.abs(expected[v] - actual[v]));
        }
        System.out.printf("LoRA %s: max |logit difference| engine vs training pass %.3g (largest logit %.3g)%n",
                what, maxDiff, maxAbs);
        // As EngineAgreementTest: the same rounding of every product's input, only the summation order differs.
        assertTrue(maxDiff <= 1e-4 * Math.max(1, maxAbs), what + ": logits differ by up to " + maxDiff
                + " (largest logit " + maxAbs + ")");
    }
}

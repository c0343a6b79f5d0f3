package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.synth.ModelShape;
import dev.buddy.engine.synth.SynthesisOptions;
import dev.buddy.engine.synth.SynthesisProgress;
import dev.buddy.engine.synth.SyntheticFileType;
import dev.buddy.engine.synth.SyntheticModel;
import dev.buddy.engine.synth.SyntheticVocabulary;
import dev.buddy.gguf.TestData;

/** The llama.cpp worker on a tiny synthetic model: in process, and as the child the side-by-side starts. */
class LlamaCppWorkerTest {
    @TempDir
    Path tmp;

    private Path tinyModel() throws Exception {
        SyntheticVocabulary vocabulary = SyntheticVocabulary.fromGpt2Gguf(
                TestData.require("models/tokenizer-tests/ggml-vocab-gpt-2.gguf"), ModelShape.TINY.vocabSize());
        Path file = tmp.resolve("tiny.gguf");
        SyntheticModel.plan(new SynthesisOptions(ModelShape.TINY, SyntheticFileType.Q8_0, 1, false), vocabulary)
                .write(file, SynthesisProgress.NONE);
        return file;
    }

    @Test
    void measuresPromptAndGenerationWithLlamaCppsCounters() throws Exception {
        LlamaCppWorker.Request request = new LlamaCppWorker.Request(tinyModel(), 16, 8, 2, 1,
                LlamaCppReference.KvCacheType.F16);
        List<double[]> tests = LlamaCppWorker.measure(request);
        assertEquals(2, tests.size());
        assertEquals(16, tests.get(0)[0]);
        assertEquals(8, tests.get(1)[0]);
        for (double[] t : tests) {
            assertEquals(4, t.length, "tokens, kind and two repetitions");
            assertTrue(t[2] > 0 && Double.isFinite(t[2]) && t[3] > 0 && Double.isFinite(t[3]));
        }
        EngineRun run = EngineRun.fromBenchJson(LlamaCppWorker.json(tests, 123));
        assertEquals((tests.get(0)[2] + tests.get(0)[3]) / 2, run.promptTokensPerSecond(), 1e-9);
        assertEquals((tests.get(1)[2] + tests.get(1)[3]) / 2, run.generationTokensPerSecond(), 1e-9);
        assertEquals(123, run.peakRssBytes());
    }

    @Test
    void childJvmsReportTheirFiguresAndPeakRss() throws Exception {
        SideBySide.Config config = new SideBySide.Config(tinyModel(), 8, 4, 1, 1, "f16", Path.of("unused.jar"));
        ChildLauncher launcher = new ChildLauncher(config);
        EngineRun baseline = launcher.run(SideBySide.Engine.JVM_BASELINE);
        EngineRun llama = launcher.run(SideBySide.Engine.LLAMA_CPP);
        assertTrue(baseline.peakRssBytes() > 1 << 20, "an idle JVM holds megabytes: " + baseline);
        assertTrue(llama.peakRssBytes() > baseline.peakRssBytes(), llama + " vs " + baseline);
        assertTrue(llama.promptTokensPerSecond() > 0 && llama.generationTokensPerSecond() > 0, llama.toString());
    }
}

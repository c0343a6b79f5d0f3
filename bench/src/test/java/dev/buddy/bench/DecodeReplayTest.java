package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.engine.model.LayerWeights;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.synth.ModelShape;
import dev.buddy.engine.synth.SynthesisOptions;
import dev.buddy.engine.synth.SynthesisProgress;
import dev.buddy.engine.synth.SyntheticFileType;
import dev.buddy.engine.synth.SyntheticModel;
import dev.buddy.engine.synth.SyntheticVocabulary;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.gguf.TestData;

/** The decode replay on a tiny synthetic Q4_K_M model, whose blocks mix Q4_K and Q6_K as llama.cpp's mix does. */
class DecodeReplayTest {
    @TempDir
    Path tmp;

    @Test
    void accountsForEveryMatrixOncePerStepAndGroupsThemAsTheModelRunsThem() throws Exception {
        SyntheticVocabulary vocabulary = SyntheticVocabulary.fromGpt2Gguf(
                TestData.require("models/tokenizer-tests/ggml-vocab-gpt-2.gguf"), ModelShape.TINY.vocabSize());
        Path file = tmp.resolve("tiny-q4_k_m.gguf");
        SyntheticModel.plan(new SynthesisOptions(ModelShape.TINY, SyntheticFileType.Q4_K_M, 1, false), vocabulary)
                .write(file, SynthesisProgress.NONE);
        try (Model model = Model.load(file); Parallel pool = new Parallel(2)) {
            DecodeReplay.Report report = DecodeReplay.run(model.weights(), pool, 3);

            long expectedBytes = model.weights().output().byteSize();
            int expectedCalls = 1;
            for (LayerWeights l : model.weights().layers()) {
                for (WeightMatrix m : List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.ffnGate(), l.ffnUp(), l.ffnDown())) {
                    expectedBytes += m.byteSize();
                }
                // Q/K/V and gate/up run as one region each when their input formats agree, as in the model
                expectedCalls += 2 + (sameFormat(l.wq(), l.wk(), l.wv()) ? 1 : 3)
                        + (sameFormat(l.ffnGate(), l.ffnUp()) ? 1 : 2);
            }
            assertEquals(expectedBytes, report.bytesPerStep());
            assertEquals(expectedCalls, report.lines().stream().mapToInt(DecodeReplay.Line::callsPerStep).sum());
            Map<String, Long> bytesByProjection = report.lines().stream().collect(Collectors.groupingBy(
                    DecodeReplay.Line::projection, Collectors.summingLong(DecodeReplay.Line::bytesPerStep)));
            long down = 0;
            for (LayerWeights l : model.weights().layers()) {
                down += l.ffnDown().byteSize();
            }
            assertEquals(down, bytesByProjection.get("ffn_down"));
            assertEquals(model.weights().output().byteSize(), bytesByProjection.get("output"));
            for (DecodeReplay.Line line : report.lines()) {
                assertTrue(line.medianMillis() > 0 && line.medianMillis() <= report.stepMillis() * 3, line.toString());
                assertTrue(line.types().matches("(Q4_K|Q6_K|Q8_0|F32|F16)(, (Q4_K|Q6_K))?"), line.types());
            }
            assertTrue(report.lines().stream().anyMatch(l -> l.types().contains("Q6_K")), "the mix has Q6_K");
            List<String> forwardOrder = List.of("attn_q, attn_k, attn_v", "attn_output", "ffn_gate, ffn_up",
                    "ffn_down", "output");
            int last = 0;
            for (DecodeReplay.Line line : report.lines()) {
                int at = forwardOrder.indexOf(line.projection());
                assertTrue(at >= last, "lines in forward-pass order: " + report.lines());
                last = at;
            }
            assertEquals(4, last);

            String md = report.markdown("cmd", "tiny-q4_k_m.gguf");
            assertEquals(report.lines().size() + 3, md.lines().filter(s -> s.startsWith("|")).count(), md);
            assertTrue(md.contains("Command: `cmd`"), md);
        }
    }

    @Test
    void refusesAReplayWithoutSteps() throws Exception {
        try (Parallel pool = new Parallel(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> DecodeReplay.run(null, pool, 0));
            assertEquals("-n needs at least 1 step, got 0", e.getMessage());
        }
    }

    private static boolean sameFormat(WeightMatrix... ms) {
        return List.of(ms).stream().allMatch(m -> m.activationFormat() == ms[0].activationFormat());
    }
}

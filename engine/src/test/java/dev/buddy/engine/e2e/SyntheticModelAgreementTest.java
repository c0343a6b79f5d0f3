package dev.buddy.engine.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.Architecture;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.RopeStyle;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.GgmlType;

/**
 * Every architecture and weight format against a reference, on synthetic models (random weights, the real Llama 2
 * vocabulary): llama.cpp for llama and qwen2; for qwen3, which the bundled llama.cpp build (b4916) predates, the
 * independent double-precision {@link ReferenceTransformer}, itself checked against llama.cpp on qwen2 and llama.
 *
 * <p>Positions are teacher-forced: both engines read the same token sequence (text prompts tokenized by llama.cpp,
 * followed by llama.cpp's greedy continuation) and their next-token distributions are compared at every position.
 * Required: arg-max agreement at >= 99% of positions, and the reference's top-10 probabilities matched within
 * {@link #tolerance(GgmlType)}.
 *
 * <p>Why the tolerance depends on the format: with F32 weights nothing is rounded on the way, so two correct engines
 * differ only by float summation order (about 1e-6 in probability). F16/BF16 weights make both engines round the
 * activations to 16 bits, and quantised weights make them quantise activations to 8 bits; a last-ulp difference in
 * an input can then move one element to the next rounding step, which shifts later logits by hundredths. The
 * measured figures are printed for every case; exact agreement for the non-F32 formats is the kernels' goal
 * (matching llama.cpp's summation order), not something this test can assume.
 */
class SyntheticModelAgreementTest {
    static final double MIN_TOP1_AGREEMENT = 0.99;

    /** Largest allowed |p_buddy - p_reference| over the reference's 10 most likely tokens at any position. */
    static double tolerance(GgmlType weights) {
        return switch (weights) {
            case F32 -> 1e-4;
            case F16, BF16 -> 2e-2;
            default -> 1e-1;
        };
    }

    private static final String[] PROMPTS = {
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time, in a land far away, there lived a",
    };
    private static final int CONTINUATION = 32;

    static Stream<SyntheticModels.Spec> llamaCppCases() {
        List<SyntheticModels.Spec> cases = new ArrayList<>();
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
                GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K)) {
            cases.add(SyntheticModels.llama(type));
        }
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_K)) {
            cases.add(SyntheticModels.qwen2(type));
        }
        return cases.stream();
    }

    /** The shared token sequence: each prompt (with BOS) followed by llama.cpp's greedy continuation. */
    private static List<int[]> sequences(LlamaCppReference llama) {
        List<int[]> out = new ArrayList<>();
        for (String prompt : PROMPTS) {
            int[] ids = llama.tokenize(prompt, true);
            int[] continuation = llama.greedy(ids, CONTINUATION);
            int[] seq = new int[ids.length + continuation.length];
            System.arraycopy(ids, 0, seq, 0, ids.length);
            System.arraycopy(continuation, 0, seq, ids.length, continuation.length);
            out.add(seq);
        }
        return out;
    }

    /** Buddy's logits at every position of {@code seq}, one decode step per token. */
    private static float[][] buddyLogits(Transformer tf, InferenceState state, int[] seq) {
        state.reset();
        float[][] rows = new float[seq.length][];
        for (int i = 0; i < seq.length; i++) {
            rows[i] = tf.forward(state, seq, i, i, 1, null, true).clone();
        }
        return rows;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaCppCases")
    void agreesWithLlamaCpp(SyntheticModels.Spec spec, @TempDir Path dir) throws IOException {
        LogitsAgreement agreement = compareWithLlamaCpp(spec, KvCacheType.F32, dir);
        assertTrue(agreement.top1Agreement() >= MIN_TOP1_AGREEMENT,
                spec.label() + ": " + agreement.describe());
        assertTrue(agreement.maxTop10ProbabilityDiff() <= tolerance(spec.weightType()), spec.label() + ": "
                + agreement.describe());
    }

    /**
     * The F16 KV cache against llama.cpp's F16 cache, on F32 weights so that nothing else is rounded: Buddy rounds
     * the query and the softmax weights to F16 where llama.cpp's CPU attention does, so the two agree to float
     * summation order, as tight as with an F32 cache.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("f16KvCases")
    void f16KvCacheMatchesLlamaCpps(SyntheticModels.Spec spec, @TempDir Path dir) throws IOException {
        LogitsAgreement agreement = compareWithLlamaCpp(spec, KvCacheType.F16, dir);
        assertTrue(agreement.top1Agreement() >= MIN_TOP1_AGREEMENT, spec.label() + ": " + agreement.describe());
        assertTrue(agreement.maxTop10ProbabilityDiff() <= tolerance(GgmlType.F32), spec.label() + " F16 KV: "
                + agreement.describe());
    }

    static Stream<SyntheticModels.Spec> f16KvCases() {
        return Stream.of(SyntheticModels.llama(GgmlType.F32), SyntheticModels.qwen2(GgmlType.F32));
    }

    private static LogitsAgreement compareWithLlamaCpp(SyntheticModels.Spec spec, KvCacheType kvType, Path dir)
            throws IOException {
        Path file = SyntheticModels.write(spec, dir.resolve(spec.label() + ".gguf"));
        LogitsAgreement agreement = new LogitsAgreement();
        LlamaCppReference.Options options = LlamaCppReference.Options.defaults()
                .withKvCacheType(LlamaCppReference.KvCacheType.valueOf(kvType.name()));
        try (LlamaCppReference llama = LlamaCppReference.open(file, options);
                Model model = Model.load(file);
                Parallel pool = new Parallel(1)) {
            checkSpec(spec, model.spec());
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(256, kvType, 16, SkippedKvPolicy.ZEROS);
            for (int[] seq : sequences(llama)) {
                float[][] expected = llama.logitsAtEveryPosition(seq);
                float[][] actual = buddyLogits(tf, state, seq);
                for (int i = 0; i < seq.length; i++) {
                    agreement.add(expected[i], actual[i]);
                }
            }
        }
        System.out.println(spec.label() + " (" + kvType + " KV) vs llama.cpp: " + agreement.describe() + ", file "
                + Files.size(file) / 1024 + " KiB");
        return agreement;
    }

    static Stream<SyntheticModels.Spec> referenceCases() {
        return Stream.of(SyntheticModels.qwen3(GgmlType.F32), SyntheticModels.qwen3(GgmlType.Q8_0),
                SyntheticModels.qwen3(GgmlType.Q4_K), SyntheticModels.qwen2(GgmlType.F32),
                SyntheticModels.llama(GgmlType.F32));
    }

    /** qwen3 (and, to validate the reference itself, qwen2 and llama) against the double-precision reference. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("referenceCases")
    void agreesWithTheIndependentReference(SyntheticModels.Spec spec, @TempDir Path dir) throws IOException {
        Path file = SyntheticModels.write(spec, dir.resolve(spec.label() + ".gguf"));
        LogitsAgreement agreement = new LogitsAgreement();
        try (Model model = Model.load(file); Parallel pool = new Parallel(1)) {
            checkSpec(spec, model.spec());
            Transformer tf = new Transformer(model, pool);
            InferenceState state = tf.newState(256, KvCacheType.F32, 16, SkippedKvPolicy.ZEROS);
            ReferenceTransformer reference = new ReferenceTransformer(file, 256);
            for (String prompt : PROMPTS) {
                int[] seq = model.tokenizer().encode(prompt, true, false);
                // Extend the prompt with Buddy's own greedy choices: any fixed sequence serves teacher forcing.
                int[] continuation = GreedyComparison.buddyGreedy(tf, state, seq, CONTINUATION);
                int[] all = new int[seq.length + continuation.length];
                System.arraycopy(seq, 0, all, 0, seq.length);
                System.arraycopy(continuation, 0, all, seq.length, continuation.length);
                float[][] actual = buddyLogits(tf, state, all);
                reference.reset();
                for (int i = 0; i < all.length; i++) {
                    agreement.add(reference.next(all[i]), actual[i]);
                }
            }
        }
        System.out.println(spec.label() + " vs double-precision reference: " + agreement.describe());
        assertTrue(agreement.top1Agreement() >= MIN_TOP1_AGREEMENT, spec.label() + ": " + agreement.describe());
        // The reference keeps activations in double, so quantised formats differ by their activation rounding.
        assertTrue(agreement.maxTop10ProbabilityDiff() <= tolerance(spec.weightType()), spec.label() + ": "
                + agreement.describe());
    }

    /** The spec Buddy reads from the synthetic file has every family trait the file was written with. */
    private static void checkSpec(SyntheticModels.Spec written, ModelSpec read) {
        assertTrue(read.architecture() == written.architecture());
        assertTrue(read.headDim() == written.headDim());
        assertTrue(read.headCountKv() == written.headCountKv() && read.headCount() == written.headCount());
        assertTrue(read.tiedEmbeddings() == written.tiedEmbeddings());
        assertTrue(read.qkvBias() == written.qkvBias());
        assertTrue(read.qkNorm() == written.qkNorm());
        assertTrue((read.rope().freqFactors() != null) == written.ropeFreqFactors());
        assertTrue(read.rope().style() == (written.architecture() == Architecture.LLAMA ? RopeStyle.NORMAL
                : RopeStyle.NEOX));
    }

    @Test
    void qwen3HeadSizeDiffersFromWidthOverHeads() {
        SyntheticModels.Spec s = SyntheticModels.qwen3(GgmlType.F32);
        assertTrue(s.headDim() * s.headCount() != s.embeddingLength());
    }
}

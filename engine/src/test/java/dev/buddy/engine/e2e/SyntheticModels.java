package dev.buddy.engine.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import dev.buddy.engine.model.Architecture;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TestData;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * Writes small GGUF models with random but well-conditioned weights and a real tokenizer (the Llama 2 SentencePiece
 * vocabulary of {@code models/tokenizer-tests/ggml-vocab-llama-spm.gguf}, 32000 tokens), so that Buddy and llama.cpp
 * can be compared on every supported architecture and weight format without downloading a model.
 *
 * <p>Weights are Gaussian, scaled so activations stay of order one: matrices N(0, 1/cols), norms 1 ± 0.2, and
 * embedding/output rows N(0, 9/dim), which gives logits a spread of about 3: the arg-max is rarely a near-tie, yet
 * the distribution is not one-hot, so comparing top-10 probabilities means something.
 *
 * <p>In K-quant models the two vocabulary-sized matrices ({@code token_embd}, {@code output}) are stored as Q8_0:
 * the reference K-quant quantiser searches scales block by block and takes seconds on 32000 × 256 values, while the
 * block matrices, which carry the K-quant format, are small. (llama.cpp's own K-quant mixes also give these two
 * matrices their own type.) Every 2-D tensor is
 * stored in the chosen format (quantised with {@code dev.buddy.gguf.codec}, as llama.cpp's quantizer would), 1-D
 * tensors (norms, biases) and {@code rope_freqs.weight} stay F32 as llama.cpp keeps them.
 */
public final class SyntheticModels {
    private SyntheticModels() {}

    /** The vocabulary every synthetic model carries. */
    public static final String VOCABULARY = "models/tokenizer-tests/ggml-vocab-llama-spm.gguf";

    /**
     * The shape and flavour of a synthetic model.
     *
     * @param ropeFreqFactors write a {@code rope_freqs.weight} tensor (Llama 3.1 style RoPE scaling)
     * @param tiedEmbeddings  omit {@code output.weight}
     * @param qkvBias         write {@code attn_q/k/v.bias} (required by qwen2)
     * @param qkNorm          write {@code attn_q_norm/attn_k_norm.weight} (required by qwen3)
     * @param headDim         written as {@code attention.key_length}/{@code value_length} when it differs from
     *                        embeddingLength / headCount
     */
    public record Spec(Architecture architecture, GgmlType weightType, int embeddingLength, int feedForwardLength,
            int blockCount, int headCount, int headCountKv, int headDim, boolean tiedEmbeddings,
            boolean ropeFreqFactors, boolean qkvBias, boolean qkNorm, float ropeFreqBase, int contextLength,
            long seed) {

        public Spec withWeightType(GgmlType type) {
            return new Spec(architecture, type, embeddingLength, feedForwardLength, blockCount, headCount,
                    headCountKv, headDim, tiedEmbeddings, ropeFreqFactors, qkvBias, qkNorm, ropeFreqBase,
                    contextLength, seed);
        }

        public Spec withSeed(long s) {
            return new Spec(architecture, weightType, embeddingLength, feedForwardLength, blockCount, headCount,
                    headCountKv, headDim, tiedEmbeddings, ropeFreqFactors, qkvBias, qkNorm, ropeFreqBase,
                    contextLength, s);
        }

        /** A short name for file names and messages, e.g. {@code qwen2-Q4_K}. */
        public String label() {
            return architecture.ggufName() + "-" + weightType;
        }
    }

    /** K-quants need rows that are whole 256-element super-blocks; the other formats 32-element blocks. */
    private static int width(GgmlType type) {
        return type.blockSize() == 256 ? 256 : 64;
    }

    /** llama: GQA (4 query heads share 2 KV heads), tied embeddings, RoPE factors, 3 blocks. */
    public static Spec llama(GgmlType type) {
        int dim = width(type);
        return new Spec(Architecture.LLAMA, type, dim, 2 * dim, 3, 4, 2, dim / 4, true, true, false, false,
                500000f, 2048, 11);
    }

    /** qwen2: Q/K/V biases, NeoX RoPE, separate output matrix, GQA, 2 blocks. */
    public static Spec qwen2(GgmlType type) {
        int dim = width(type);
        return new Spec(Architecture.QWEN2, type, dim, 2 * dim, 2, 4, 2, dim / 4, false, false, true, false,
                1000000f, 2048, 22);
    }

    /** qwen3: per-head Q/K norm, head size twice embeddingLength / headCount, tied embeddings, 2 blocks. */
    public static Spec qwen3(GgmlType type) {
        int dim = width(type);
        return new Spec(Architecture.QWEN3, type, dim, 2 * dim, 2, 4, 2, dim / 2, true, false, false, true,
                1000000f, 2048, 33);
    }

    /** Writes the model to {@code target} and returns it. */
    public static Path write(Spec spec, Path target) throws IOException {
        Random random = new Random(spec.seed());
        GgufWriter w = new GgufWriter();
        String arch = spec.architecture().ggufName();
        String p = arch + ".";
        int dim = spec.embeddingLength();
        int hd = spec.headDim();
        int qDim = spec.headCount() * hd;
        int kvDim = spec.headCountKv() * hd;
        int ffn = spec.feedForwardLength();

        w.putString("general.architecture", arch);
        w.putString("general.name", "buddy-synthetic-" + spec.label());
        w.putUInt32(p + "context_length", spec.contextLength());
        w.putUInt32(p + "embedding_length", dim);
        w.putUInt32(p + "block_count", spec.blockCount());
        w.putUInt32(p + "feed_forward_length", ffn);
        w.putUInt32(p + "attention.head_count", spec.headCount());
        w.putUInt32(p + "attention.head_count_kv", spec.headCountKv());
        if (hd != dim / spec.headCount()) {
            w.putUInt32(p + "attention.key_length", hd);
            w.putUInt32(p + "attention.value_length", hd);
        }
        w.putUInt32(p + "rope.dimension_count", hd);
        w.putFloat32(p + "rope.freq_base", spec.ropeFreqBase());
        w.putFloat32(p + "attention.layer_norm_rms_epsilon", 1e-6f);

        int vocab;
        try (GgufFile vocabFile = GgufFile.open(TestData.require(VOCABULARY))) {
            vocabFile.metadata().forEach((k, v) -> {
                if (k.startsWith("tokenizer.")) {
                    w.put(k, v);
                }
            });
            vocab = vocabFile.getStringArray("tokenizer.ggml.tokens").length;
        }

        GgmlType vocabType = vocabularyMatrixType(spec.weightType());
        matrix(w, "token_embd.weight", vocabType, dim, vocab, 3 / Math.sqrt(dim), random);
        if (spec.ropeFreqFactors()) {
            float[] factors = new float[hd / 2];
            for (int i = 0; i < factors.length; i++) {
                factors[i] = 1f + 7f * random.nextFloat(); // Llama 3.1's factors lie between 1 and 8
            }
            w.addTensor("rope_freqs.weight", new long[] {factors.length}, factors);
        }
        for (int l = 0; l < spec.blockCount(); l++) {
            String b = "blk." + l + ".";
            vector(w, b + "attn_norm.weight", dim, 1.0, 0.2, random);
            matrix(w, b + "attn_q.weight", spec.weightType(), dim, qDim, 1 / Math.sqrt(dim), random);
            matrix(w, b + "attn_k.weight", spec.weightType(), dim, kvDim, 1 / Math.sqrt(dim), random);
            matrix(w, b + "attn_v.weight", spec.weightType(), dim, kvDim, 1 / Math.sqrt(dim), random);
            if (spec.qkvBias()) {
                vector(w, b + "attn_q.bias", qDim, 0.0, 0.5, random);
                vector(w, b + "attn_k.bias", kvDim, 0.0, 0.5, random);
                vector(w, b + "attn_v.bias", kvDim, 0.0, 0.5, random);
            }
            if (spec.qkNorm()) {
                vector(w, b + "attn_q_norm.weight", hd, 1.0, 0.2, random);
                vector(w, b + "attn_k_norm.weight", hd, 1.0, 0.2, random);
            }
            matrix(w, b + "attn_output.weight", spec.weightType(), qDim, dim, 1 / Math.sqrt(qDim), random);
            vector(w, b + "ffn_norm.weight", dim, 1.0, 0.2, random);
            matrix(w, b + "ffn_gate.weight", spec.weightType(), dim, ffn, 1 / Math.sqrt(dim), random);
            matrix(w, b + "ffn_up.weight", spec.weightType(), dim, ffn, 1 / Math.sqrt(dim), random);
            matrix(w, b + "ffn_down.weight", spec.weightType(), ffn, dim, 1 / Math.sqrt(ffn), random);
        }
        vector(w, "output_norm.weight", dim, 1.0, 0.2, random);
        if (!spec.tiedEmbeddings()) {
            matrix(w, "output.weight", vocabType, dim, vocab, 3 / Math.sqrt(dim), random);
        }
        w.write(target);
        return target;
    }

    /** The type of token_embd and output: the model's type, except Q8_0 for the slow-to-quantise K-quants. */
    public static GgmlType vocabularyMatrixType(GgmlType weights) {
        return weights.blockSize() == 256 ? GgmlType.Q8_0 : weights;
    }

    private static void matrix(GgufWriter w, String name, GgmlType type, int cols, int rows, double scale,
            Random random) {
        float[] values = new float[cols * rows];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        long[] dims = {cols, rows};
        if (type == GgmlType.F32) {
            w.addTensor(name, dims, values);
        } else {
            w.addTensor(name, type, dims, BlockCodecs.quantize(type, values));
        }
    }

    private static void vector(GgufWriter w, String name, int length, double mean, double spread, Random random) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (mean + random.nextGaussian() * spread);
        }
        w.addTensor(name, new long[] {length}, values);
    }
}

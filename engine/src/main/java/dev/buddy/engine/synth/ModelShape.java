package dev.buddy.engine.synth;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The hyper-parameters of a real model, enough to write a random-weight GGUF that llama.cpp and Buddy load exactly as
 * they would load the real thing: same tensor names, shapes and metadata, so that speed measurements transfer.
 *
 * @param name the name {@code buddy synth --shape} takes
 * @param architecture {@code general.architecture}: {@code llama} (interleaved RoPE) or {@code qwen2} (NeoX RoPE,
 *     Q/K/V biases required by llama.cpp)
 * @param embeddingLength model width
 * @param blockCount Transformer blocks
 * @param headCount query heads
 * @param headCountKv key/value heads (GQA)
 * @param feedForwardLength FFN hidden width
 * @param vocabSize tokenizer and embedding rows
 * @param contextLength {@code context_length} metadata (the trained context)
 * @param ropeFreqBase RoPE theta
 * @param rmsNormEps RMSNorm epsilon
 * @param qkvBias whether attn_q/k/v carry biases (Qwen2)
 * @param tiedEmbeddings no {@code output.weight}; the output projection reuses token_embd
 * @param llama3RopeScaling Llama 3 RoPE frequency scaling written as {@code rope_freqs.weight}, or null for none
 * @param explicitHeadDim write {@code attention.key_length}/{@code value_length}, as the converter does when the
 *     Hugging Face config names head_dim (Llama 3.2 does, SmolLM2 and Qwen2.5 do not)
 * @param addBos {@code tokenizer.ggml.add_bos_token}
 */
public record ModelShape(String name, String architecture, int embeddingLength, int blockCount, int headCount,
                         int headCountKv, int feedForwardLength, int vocabSize, int contextLength, float ropeFreqBase,
                         float rmsNormEps, boolean qkvBias, boolean tiedEmbeddings,
                         Llama3RopeScaling llama3RopeScaling, boolean explicitHeadDim, boolean addBos) {

    /** Every quantised type Buddy writes needs rows that are whole 32-element blocks. */
    private static final int ROW_GRANULE = 32;

    public ModelShape {
        Objects.requireNonNull(name, "name");
        if (!architecture.equals("llama") && !architecture.equals("qwen2")) {
            throw new IllegalArgumentException("architecture must be llama or qwen2, got " + architecture);
        }
        if (embeddingLength <= 0 || blockCount <= 0 || headCount <= 0 || headCountKv <= 0 || feedForwardLength <= 0
                || contextLength <= 0) {
            throw new IllegalArgumentException("shape " + name + " has a non-positive dimension");
        }
        if (embeddingLength % headCount != 0 || headCount % headCountKv != 0) {
            throw new IllegalArgumentException("shape " + name + ": width " + embeddingLength + " / heads "
                    + headCount + " / kv heads " + headCountKv + " do not divide");
        }
        if (embeddingLength % ROW_GRANULE != 0 || feedForwardLength % ROW_GRANULE != 0
                || (embeddingLength / headCount) % 2 != 0) {
            throw new IllegalArgumentException("shape " + name + ": widths must be multiples of " + ROW_GRANULE
                    + " and the head dim even");
        }
        if (vocabSize < 2) {
            throw new IllegalArgumentException("shape " + name + ": vocabulary of " + vocabSize);
        }
        if (!(ropeFreqBase > 0) || !(rmsNormEps > 0)) {
            throw new IllegalArgumentException("shape " + name + ": RoPE base and epsilon must be positive");
        }
    }

    /** Llama-3.2-1B: tied embeddings, GQA 32/8, llama3 RoPE scaling in rope_freqs.weight. */
    public static final ModelShape LLAMA_3_2_1B = new ModelShape("llama-3.2-1b", "llama", 2048, 16, 32, 8, 8192,
            128256, 131072, 500000f, 1e-5f, false, true, Llama3RopeScaling.llama32(), true, true);

    /** Qwen2.5-0.5B: Q/K/V biases, NeoX RoPE (implied by the qwen2 architecture), tied embeddings. */
    public static final ModelShape QWEN2_5_0_5B = new ModelShape("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864,
            151936, 32768, 1_000_000f, 1e-6f, true, true, null, false, false);

    /** SmolLM2-135M: 30 narrow blocks, GQA 9/3, tied embeddings. */
    public static final ModelShape SMOLLM2_135M = new ModelShape("smollm2-135m", "llama", 576, 30, 9, 3, 1536, 49152,
            8192, 100000f, 1e-5f, false, true, null, false, false);

    /**
     * A small llama-architecture model for tests and quick checks (1 to 9 MB; 2.2M weights): widths that are whole
     * 256-element K-quant super-blocks, so every type keeps its own kernel, and a separate output.weight, so the
     * untied path is covered too.
     */
    public static final ModelShape TINY = new ModelShape("tiny", "llama", 256, 2, 4, 2, 512, 2048, 2048, 10000f, 1e-5f,
            false, false, null, false, true);

    /** The named shapes, in the order the command line lists them. */
    public static List<ModelShape> standardShapes() {
        return List.of(LLAMA_3_2_1B, QWEN2_5_0_5B, SMOLLM2_135M, TINY);
    }

    /** The standard shape with this name (case-insensitive). */
    public static ModelShape named(String shapeName) {
        String wanted = shapeName.toLowerCase(Locale.ROOT);
        for (ModelShape s : standardShapes()) {
            if (s.name.equals(wanted)) {
                return s;
            }
        }
        throw new SyntheticModelException("unknown model shape '" + shapeName + "'; known: " + String.join(", ",
                standardShapes().stream().map(ModelShape::name).toList()));
    }

    public int headDim() {
        return embeddingLength / headCount;
    }

    /** Width of the K and V projections. */
    public int kvWidth() {
        return headCountKv * headDim();
    }

    /** The same shape with another vocabulary size (tests use small ones to stay fast). */
    public ModelShape withVocabSize(int newVocabSize) {
        return new ModelShape(name, architecture, embeddingLength, blockCount, headCount, headCountKv,
                feedForwardLength, newVocabSize, contextLength, ropeFreqBase, rmsNormEps, qkvBias, tiedEmbeddings,
                llama3RopeScaling, explicitHeadDim, addBos);
    }

    /** The same shape under another name and block count. */
    public ModelShape withBlocks(String newName, int newBlockCount) {
        return new ModelShape(newName, architecture, embeddingLength, newBlockCount, headCount, headCountKv,
                feedForwardLength, vocabSize, contextLength, ropeFreqBase, rmsNormEps, qkvBias, tiedEmbeddings,
                llama3RopeScaling, explicitHeadDim, addBos);
    }
}

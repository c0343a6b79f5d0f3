package dev.buddy.engine.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufFormatException;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.TensorInfo;

/**
 * The shape of a model and every way the supported families differ, read from GGUF metadata (never from the model's
 * name). One forward pass reads these flags instead of having a class per family.
 *
 * @param architecture       {@code general.architecture}
 * @param blockCount         {@code <arch>.block_count}
 * @param embeddingLength    {@code <arch>.embedding_length}: the residual width
 * @param feedForwardLength  {@code <arch>.feed_forward_length}
 * @param headCount          {@code <arch>.attention.head_count}
 * @param headCountKv        {@code <arch>.attention.head_count_kv} (GQA when below headCount)
 * @param headDim            {@code <arch>.attention.key_length}, else embeddingLength / headCount
 * @param vocabSize          rows of {@code token_embd.weight}
 * @param contextLength      {@code <arch>.context_length}: what the model was trained for (the KV cache's size is
 *                           the user's choice)
 * @param rmsEps             {@code <arch>.attention.layer_norm_rms_epsilon}
 * @param rope               rotary embedding parameters
 * @param qkvBias            Q/K/V projections have biases ({@code blk.N.attn_q.bias} ...): always for qwen2, when
 *                           present for llama
 * @param qkNorm             per-head RMSNorm of Q and K before RoPE ({@code blk.N.attn_q_norm.weight}): qwen3
 * @param tiedEmbeddings     no {@code output.weight}: the output projection reuses {@code token_embd.weight}
 */
public record ModelSpec(Architecture architecture, int blockCount, int embeddingLength, int feedForwardLength,
        int headCount, int headCountKv, int headDim, int vocabSize, int contextLength, float rmsEps, RopeConfig rope,
        boolean qkvBias, boolean qkNorm, boolean tiedEmbeddings) {

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public ModelSpec {
        positive("block_count", blockCount);
        positive("embedding_length", embeddingLength);
        positive("feed_forward_length", feedForwardLength);
        positive("attention.head_count", headCount);
        positive("attention.head_count_kv", headCountKv);
        positive("attention.key_length", headDim);
        positive("vocabulary size", vocabSize);
        positive("context_length", contextLength);
        if (headCount % headCountKv != 0) {
            throw new ModelLoadException("attention.head_count " + headCount
                    + " is not a multiple of attention.head_count_kv " + headCountKv);
        }
        if (rope.dimensions() > headDim) {
            throw new ModelLoadException("rope.dimension_count " + rope.dimensions() + " exceeds the head size "
                    + headDim);
        }
        if (!(rmsEps > 0f)) {
            throw new ModelLoadException("attention.layer_norm_rms_epsilon must be positive, got " + rmsEps);
        }
    }

    /** Width of all query heads together: headCount × headDim (need not equal embeddingLength, e.g. Qwen3). */
    public int queryDim() {
        return headCount * headDim;
    }

    /** Width of one position's key or value row: headCountKv × headDim. */
    public int kvDim() {
        return headCountKv * headDim;
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return headCount / headCountKv;
    }

    /** Reads the spec from an open GGUF file; tensors are consulted only for shapes and the RoPE factors. */
    public static ModelSpec fromGguf(GgufFile gguf) {
        try {
            return read(gguf);
        } catch (GgufFormatException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    private static ModelSpec read(GgufFile gguf) {
        String archName = gguf.getString("general.architecture", null);
        if (archName == null) {
            throw new UnsupportedArchitectureException(gguf.path() + ": no general.architecture key; supported: "
                    + Architecture.supportedNames());
        }
        Architecture arch = Architecture.fromGguf(archName);
        String p = arch.ggufName() + ".";

        int blocks = gguf.getInt(p + "block_count");
        int dim = gguf.getInt(p + "embedding_length");
        int ffn = gguf.getInt(p + "feed_forward_length");
        int heads = headCount(gguf, p + "attention.head_count", -1);
        int kvHeads = headCount(gguf, p + "attention.head_count_kv", heads);
        if (heads <= 0) {
            throw new ModelLoadException(p + "attention.head_count must be positive, got " + heads);
        }
        int headDim = gguf.getInt(p + "attention.key_length", dim / heads);
        int valueDim = gguf.getInt(p + "attention.value_length", headDim);
        if (valueDim != headDim) {
            throw new ModelLoadException(p + "attention.value_length " + valueDim + " differs from "
                    + p + "attention.key_length " + headDim + "; " + archName + " needs them equal");
        }
        float eps = gguf.getFloat(p + "attention.layer_norm_rms_epsilon");

        TensorInfo embedding = gguf.findTensor("token_embd.weight")
                .orElseThrow(() -> new ModelLoadException("missing tensor 'token_embd.weight' (token embeddings, ["
                        + dim + ", vocab])"));
        int vocab = (int) embedding.dim(1);
        int context = gguf.getInt(p + "context_length", 2048);

        boolean qkvBias = switch (arch) {
            case QWEN2 -> true;
            case LLAMA -> gguf.findTensor("blk.0.attn_q.bias").isPresent();
            case QWEN3 -> false;
        };
        boolean qkNorm = arch == Architecture.QWEN3;
        boolean tied = gguf.findTensor("output.weight").isEmpty();
        RopeStyle style = arch == Architecture.LLAMA ? RopeStyle.NORMAL : RopeStyle.NEOX;
        RopeConfig rope = ropeConfig(gguf, p, style, headDim, context);
        return new ModelSpec(arch, blocks, dim, ffn, heads, kvHeads, headDim, vocab, context, eps, rope, qkvBias,
                qkNorm, tied);
    }

    private static int headCount(GgufFile gguf, String key, int defaultValue) {
        if (!gguf.has(key)) {
            if (defaultValue < 0) {
                throw new ModelLoadException(gguf.path() + ": missing metadata key '" + key + "'");
            }
            return defaultValue;
        }
        if (gguf.metadata().get(key).value() instanceof GgufValue.GgufArray) {
            throw new ModelLoadException(key + " is a per-layer array; only one head count for all layers is"
                    + " supported");
        }
        return gguf.getInt(key);
    }

    /**
     * RoPE as llama.cpp derives it: frequency scale 1/{@code rope.scaling.factor} (or the older
     * {@code rope.scale_linear}) whatever the scaling type, YaRN blending only for type "yarn", and per-pair factors
     * from the {@code rope_freqs.weight} tensor (written by the converter for Llama 3.1 style scaling).
     */
    private static RopeConfig ropeConfig(GgufFile gguf, String p, RopeStyle style, int headDim, int context) {
        int dims = gguf.getInt(p + "rope.dimension_count", headDim);
        float base = gguf.getFloat(p + "rope.freq_base", 10000f);
        float factor = gguf.getFloat(p + "rope.scaling.factor", gguf.getFloat(p + "rope.scale_linear", 0f));
        float freqScale = factor == 0f ? 1f : 1f / factor;
        String type = gguf.getString(p + "rope.scaling.type", "linear").toLowerCase(Locale.ROOT);
        RopeConfig.Yarn yarn = switch (type) {
            case "none", "linear" -> null;
            case "yarn" -> new RopeConfig.Yarn(gguf.getInt(p + "rope.scaling.original_context_length", context),
                    1.0f, 1.0f, 32.0f, 1.0f);
            default -> throw new ModelLoadException("unsupported " + p + "rope.scaling.type '" + type
                    + "'; supported: none, linear, yarn");
        };
        float[] factors = gguf.findTensor("rope_freqs.weight").map(t -> ropeFactors(gguf, t, dims)).orElse(null);
        return new RopeConfig(style, dims, base, freqScale, factors, yarn);
    }

    private static float[] ropeFactors(GgufFile gguf, TensorInfo t, int dims) {
        if (t.type() != GgmlType.F32) {
            throw new ModelLoadException("tensor 'rope_freqs.weight' has type " + t.type() + ", expected F32");
        }
        if (t.elementCount() != dims / 2) {
            throw new ModelLoadException("tensor 'rope_freqs.weight' has " + t.elementCount() + " elements, expected "
                    + dims / 2 + " (rope.dimension_count / 2)");
        }
        MemorySegment data = gguf.tensorData(t);
        float[] factors = new float[dims / 2];
        for (int i = 0; i < factors.length; i++) {
            factors[i] = data.getAtIndex(LE_FLOAT, i);
        }
        return factors;
    }

    private static void positive(String what, int value) {
        if (value <= 0) {
            throw new ModelLoadException(what + " must be positive, got " + value);
        }
    }

    /** A short human description, for logs. */
    public String describe() {
        return String.format(Locale.ROOT, "%s: %d blocks, dim %d, ffn %d, %d heads (%d kv) x %d, vocab %d, rope %s%s%s%s",
                architecture.ggufName(), blockCount, embeddingLength, feedForwardLength, headCount, headCountKv,
                headDim, vocabSize, rope.style(), qkvBias ? ", qkv bias" : "", qkNorm ? ", qk norm" : "",
                tiedEmbeddings ? ", tied embeddings" : "");
    }
}

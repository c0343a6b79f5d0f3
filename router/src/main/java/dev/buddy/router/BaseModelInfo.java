package dev.buddy.router;

import dev.buddy.engine.model.ModelSpec;
import dev.buddy.gguf.GgufFile;

/**
 * What the router needs to know about a base model, read from its GGUF header without loading weights.
 *
 * @param architecture {@code general.architecture}
 * @param layerCount   {@code <arch>.block_count}
 * @param keyDim       width of one position's layer-0 key row, n_kv_heads·key_length
 * @param valueDim     width of one position's layer-0 value row, n_kv_heads·value_length
 * @param fingerprint  {@link ModelFingerprint} of the tensor layout
 */
public record BaseModelInfo(String architecture, int layerCount, int keyDim, int valueDim, String fingerprint) {

    /**
     * Reads {@code general.architecture}, {@code <arch>.block_count}, {@code <arch>.attention.head_count},
     * {@code <arch>.attention.head_count_kv} (default: head_count, i.e. no GQA), {@code <arch>.embedding_length},
     * {@code <arch>.attention.key_length} (default: embedding_length / head_count, llama.cpp's rule) and
     * {@code <arch>.attention.value_length} (default: key_length), as {@link ModelSpec#fromGguf} does. Works for any
     * architecture, so a router can be made or checked for a model the engine does not run yet.
     */
    public static BaseModelInfo of(GgufFile model) {
        String arch = model.getString("general.architecture");
        int layers = model.getInt(arch + ".block_count");
        int heads = model.getInt(arch + ".attention.head_count");
        int kvHeads = model.getInt(arch + ".attention.head_count_kv", heads);
        int embedding = model.getInt(arch + ".embedding_length");
        int headDim = embedding / heads;
        int keyLength = model.getInt(arch + ".attention.key_length", headDim);
        int valueLength = model.getInt(arch + ".attention.value_length", keyLength);
        return new BaseModelInfo(arch, layers, kvHeads * keyLength, kvHeads * valueLength, ModelFingerprint.of(model));
    }

    /** From the engine's spec of an open model: keys and values are both {@link ModelSpec#kvDim()} wide. */
    public static BaseModelInfo of(ModelSpec spec, GgufFile model) {
        return new BaseModelInfo(spec.architecture().ggufName(), spec.blockCount(), spec.kvDim(), spec.kvDim(),
                ModelFingerprint.of(model));
    }

    /** The router input width for a feature source; K+V needs keys and values of the same width. */
    public int featureDim(FeatureSource source) {
        return switch (source) {
            case KEY -> keyDim;
            case VALUE -> valueDim;
            case KEY_PLUS_VALUE -> {
                if (keyDim != valueDim) {
                    throw new IncompatibleRouterException("feature source k+v needs equal key and value widths, but"
                            + " this model has " + keyDim + " and " + valueDim);
                }
                yield keyDim;
            }
        };
    }
}

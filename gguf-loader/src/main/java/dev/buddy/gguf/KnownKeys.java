package dev.buddy.gguf;

import java.util.function.Function;

/**
 * Types that well-known metadata keys must have (as llama.cpp's converter writes them). A file that stores, say,
 * {@code llama.block_count} as a string is rejected when it is opened, naming the key, rather than failing somewhere
 * deep in model construction.
 */
final class KnownKeys {
    private KnownKeys() {}

    private enum Kind { INTEGER, INTEGER_OR_ARRAY, NUMBER, STRING, BOOL, STRING_ARRAY, NUMBER_ARRAY, INTEGER_ARRAY }

    static void check(String key, GgufValue value, Function<String, GgufFormatException> error) {
        Kind kind = kindOf(key);
        if (kind == null || matches(kind, value)) {
            return;
        }
        throw error.apply("metadata key '" + key + "' must be " + kind.name().toLowerCase().replace('_', ' ')
                + " but is " + describe(value));
    }

    private static Kind kindOf(String key) {
        switch (key) {
            case "general.alignment", "general.file_type", "general.quantization_version",
                 "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                 "tokenizer.ggml.padding_token_id", "tokenizer.ggml.eot_token_id",
                 "tokenizer.ggml.separator_token_id" -> {
                return Kind.INTEGER;
            }
            case "general.architecture", "general.name", "tokenizer.ggml.model", "tokenizer.ggml.pre",
                 "tokenizer.chat_template" -> {
                return Kind.STRING;
            }
            case "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                 "tokenizer.ggml.add_space_prefix" -> {
                return Kind.BOOL;
            }
            case "tokenizer.ggml.tokens", "tokenizer.ggml.merges" -> {
                return Kind.STRING_ARRAY;
            }
            case "tokenizer.ggml.scores" -> {
                return Kind.NUMBER_ARRAY;
            }
            case "tokenizer.ggml.token_type" -> {
                return Kind.INTEGER_ARRAY;
            }
            default -> { }
        }
        // Per-architecture hyper-parameters: "<arch>.block_count", "<arch>.attention.head_count", ...
        int dot = key.indexOf('.');
        if (dot < 0 || key.startsWith("general.") || key.startsWith("tokenizer.")) {
            return null;
        }
        String suffix = key.substring(dot + 1);
        return switch (suffix) {
            case "context_length", "embedding_length", "block_count", "feed_forward_length", "vocab_size",
                 "rope.dimension_count", "attention.key_length", "attention.value_length",
                 "rope.scaling.original_context_length" -> Kind.INTEGER;
            // Some architectures (OpenELM) store per-layer head counts as arrays.
            case "attention.head_count", "attention.head_count_kv" -> Kind.INTEGER_OR_ARRAY;
            case "rope.freq_base", "attention.layer_norm_rms_epsilon", "attention.layer_norm_epsilon",
                 "rope.scaling.factor" -> Kind.NUMBER;
            case "rope.scaling.type" -> Kind.STRING;
            default -> null;
        };
    }

    private static boolean matches(Kind kind, GgufValue v) {
        return switch (kind) {
            case INTEGER -> v.type().isInteger();
            case INTEGER_OR_ARRAY -> v.type().isInteger()
                    || v.value() instanceof GgufValue.GgufArray a && a.elementType().isInteger();
            case NUMBER -> v.type().isFloat() || v.type().isInteger();
            case STRING -> v.type() == GgufValueType.STRING;
            case BOOL -> v.type() == GgufValueType.BOOL;
            case STRING_ARRAY -> v.value() instanceof GgufValue.GgufArray a && a.elementType() == GgufValueType.STRING;
            case NUMBER_ARRAY -> v.value() instanceof GgufValue.GgufArray a
                    && (a.elementType().isFloat() || a.elementType().isInteger());
            case INTEGER_ARRAY -> v.value() instanceof GgufValue.GgufArray a && a.elementType().isInteger();
        };
    }

    private static String describe(GgufValue v) {
        return v.value() instanceof GgufValue.GgufArray a ? "an array of " + a.elementType().name().toLowerCase()
                : "a " + v.type().name().toLowerCase();
    }
}

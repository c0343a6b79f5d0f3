package dev.buddy.cli.info;

import java.util.List;
import java.util.Objects;

/**
 * One fact about a model file.
 *
 * @param label what people read, e.g. "Embedding width"
 * @param key the JSON member name, e.g. {@code embedding_length}
 * @param value a String, Long, Integer, Float, Double, Boolean or List of those: what {@code --json} prints
 * @param display the text rendering when it says more than the value (units, "(default)"), else null
 */
public record InfoField(String label, String key, Object value, String display) {
    public InfoField {
        Objects.requireNonNull(label);
        Objects.requireNonNull(key);
        Objects.requireNonNull(value, key);
        if (!(value instanceof String || value instanceof Number || value instanceof Boolean
                || value instanceof List<?>)) {
            throw new IllegalArgumentException(key + ": unsupported value type " + value.getClass().getName());
        }
    }

    public InfoField(String label, String key, Object value) {
        this(label, key, value, null);
    }
}

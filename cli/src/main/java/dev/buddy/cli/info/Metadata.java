package dev.buddy.cli.info;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;

/** Reads optional metadata for display: absent keys give null, present ones convert to {@link InfoField} values. */
final class Metadata {
    /** Arrays longer than this (token lists, merges) are summarised, never copied into a report. */
    static final int MAX_ARRAY_ITEMS = 64;

    private final GgufFile file;

    Metadata(GgufFile file) {
        this.file = file;
    }

    boolean has(String key) {
        return file.has(key);
    }

    String string(String key) {
        return file.has(key) ? file.getString(key) : null;
    }

    Long integer(String key) {
        return file.has(key) ? file.getLong(key) : null;
    }

    /** f32, f64 or an integer, as a Float; null when absent. */
    Float number(String key) {
        if (!file.has(key)) {
            return null;
        }
        return file.metadata().get(key).type().isInteger() ? (float) file.getLong(key) : file.getFloat(key);
    }

    /** The element count of an array value, or null when absent. */
    Integer arrayLength(String key) {
        return file.has(key) ? file.array(key).length() : null;
    }

    /**
     * Any value as an {@link InfoField} value: integers as Long (u64 above 2^63 as its decimal string), floats as
     * Float/Double, bools, strings, and short arrays as lists; long arrays as a "N × type" string. Null when absent.
     */
    Object value(String key) {
        GgufValue v = file.metadata().get(key);
        return v == null ? null : toJava(v.type(), v.value());
    }

    private static Object toJava(GgufValueType type, Object value) {
        if (value instanceof GgufValue.GgufArray a) {
            int n = a.length();
            if (n > MAX_ARRAY_ITEMS) {
                return n + " × " + a.elementType().name().toLowerCase();
            }
            List<Object> items = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                items.add(toJava(a.elementType(), a.get(i)));
            }
            return Collections.unmodifiableList(items);
        }
        return switch (type) {
            case UINT8 -> (long) ((Byte) value & 0xFF);
            case INT8 -> (long) (Byte) value;
            case UINT16 -> (long) ((Short) value & 0xFFFF);
            case INT16 -> (long) (Short) value;
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT32 -> (long) (Integer) value;
            case UINT64 -> (Long) value >= 0 ? value : Long.toUnsignedString((Long) value);
            case INT64, FLOAT32, FLOAT64, BOOL, STRING -> value;
            case ARRAY -> throw new IllegalStateException("array value without GgufArray"); // GgufValue guarantees it
        };
    }
}

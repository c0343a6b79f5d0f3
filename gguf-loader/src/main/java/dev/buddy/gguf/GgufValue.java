package dev.buddy.gguf;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Objects;

/**
 * One metadata value as stored. Scalars hold their Java box ({@code Byte} for u8/i8, {@code Short}, {@code Integer},
 * {@code Long}, {@code Float}, {@code Double}, {@code Boolean}, {@code String}); unsigned values keep their bit pattern
 * and are widened by the accessors. Arrays hold a {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {
    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
    }

    /** The value as a long if it is an integer type (unsigned widened), else null. u64 above 2^63 stays negative. */
    Long asLong() {
        return switch (type) {
            case UINT8 -> (long) ((Byte) value & 0xFF);
            case INT8 -> (long) (Byte) value;
            case UINT16 -> (long) ((Short) value & 0xFFFF);
            case INT16 -> (long) (Short) value;
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT32 -> (long) (Integer) value;
            case UINT64, INT64 -> (Long) value;
            default -> null;
        };
    }

    /** A human-readable rendering, arrays abbreviated. */
    public String display(int maxArrayItems) {
        if (value instanceof GgufArray a) {
            return a.display(maxArrayItems);
        }
        Long l = asLong();
        if (type == GgufValueType.UINT64 && l != null) {
            return Long.toUnsignedString(l);
        }
        return l != null ? Long.toString(l) : value.toString();
    }

    /**
     * A typed array. {@code values} is a primitive array by element type: byte[] (u8/i8), short[] (u16/i16), int[]
     * (u32/i32), long[] (u64/i64), float[], double[], boolean[], {@link GgufStrings}, or GgufArray[] for nested
     * arrays. A String[] given for a string array is stored as {@link GgufStrings}.
     */
    public record GgufArray(GgufValueType elementType, Object values) {
        public GgufArray {
            Objects.requireNonNull(elementType);
            if (values instanceof String[] strings) {
                values = GgufStrings.of(strings);
            }
            if (!(values instanceof GgufStrings) && !values.getClass().isArray()) {
                throw new IllegalArgumentException("not an array: " + values.getClass());
            }
        }

        public int length() {
            return values instanceof GgufStrings s ? s.size() : Array.getLength(values);
        }

        /** Element {@code i}, boxed as {@link GgufValue} scalars are ({@code String} for strings). */
        public Object get(int i) {
            return values instanceof GgufStrings s ? s.get(i) : Array.get(values, i);
        }

        String display(int maxItems) {
            int n = length();
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < Math.min(n, maxItems); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                Object v = get(i);
                sb.append(v instanceof String s ? '"' + s + '"' : v instanceof GgufArray g ? g.display(maxItems) : v);
            }
            if (n > maxItems) {
                sb.append(", ... (").append(n).append(" ").append(elementType.name().toLowerCase()).append(")");
            }
            return sb.append(']').toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GgufArray a && a.elementType == elementType
                    && Arrays.deepEquals(new Object[] {values}, new Object[] {a.values});
        }

        @Override
        public int hashCode() {
            return elementType.hashCode() * 31 + Arrays.deepHashCode(new Object[] {values});
        }
    }
}

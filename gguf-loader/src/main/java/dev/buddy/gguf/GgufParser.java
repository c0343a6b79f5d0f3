package dev.buddy.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates a GGUF header from the mapped file. Layout (gguf.h, little-endian):
 * <pre>
 *   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
 *   metadata_kv_count × (string key, u32 value_type, value)
 *   tensor_count × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
 *   padding to general.alignment | tensor data
 * </pre>
 * Every count and length is checked against the bytes left in the file before anything is allocated, so a hostile
 * header cannot make the parser allocate more than the file's size or loop for long.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Nested arrays deeper than this are not used by any real file; the limit bounds recursion. */
    private static final int MAX_ARRAY_DEPTH = 8;
    /** Smallest possible tensor info: empty name (8) + n_dims (4) + type (4) + offset (8). */
    private static final int MIN_TENSOR_INFO_BYTES = 24;
    /** Smallest possible key/value: empty key (8) + type (4) + one byte of value. */
    private static final int MIN_KV_BYTES = 13;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    record Header(int version, int alignment, long dataOffset, Map<String, GgufValue> metadata,
                  List<TensorInfo> tensors) {}

    private final Path path;
    private final MemorySegment file;
    private final long size;
    private long pos;

    GgufParser(Path path, MemorySegment file) {
        this.path = path;
        this.file = file;
        this.size = file.byteSize();
    }

    Header parse() {
        if (size < 4) {
            throw error("file is " + size + " bytes, too short for the GGUF magic", 0);
        }
        int magic = u32("magic");
        if (magic != MAGIC) {
            throw error(String.format("bad magic 0x%08x, not a GGUF file", magic), 0);
        }
        int version = u32("version");
        if (version == 1) {
            throw error("GGUF v1 is not supported (it predates 64-bit counts); re-convert the model with a current"
                    + " llama.cpp", 4);
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) >= 1 && Integer.reverseBytes(version) <= 3
                    ? " (a big-endian GGUF; only little-endian files are supported)" : "";
            throw error("unsupported GGUF version " + Integer.toUnsignedString(version) + hint
                    + "; supported are 2 and 3", 4);
        }
        long tensorCount = count("tensor_count", MIN_TENSOR_INFO_BYTES);
        long kvCount = count("metadata_kv_count", MIN_KV_BYTES);

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = string("key of metadata entry " + i);
            long typeAt = pos;
            GgufValueType type = valueType("value type of '" + key + "'", typeAt);
            GgufValue value = value(key, type, 0);
            if (metadata.putIfAbsent(key, value) != null) {
                throw error("duplicate metadata key '" + key + "'", keyAt);
            }
            KnownKeys.check(key, value, msg -> error(msg, typeAt));
        }

        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = metadata.get(GgufFile.KEY_ALIGNMENT);
        if (al != null) {
            long a = al.asLong();
            if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
                throw error("general.alignment must be a power of two, got " + a, 0);
            }
            alignment = (int) a;
        }

        List<TensorInfo> tensors = new ArrayList<>((int) tensorCount);
        Map<String, Long> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = pos;
            String name = string("name of tensor " + i);
            if (seen.putIfAbsent(name, at) != null) {
                throw error("duplicate tensor name '" + name + "'", at);
            }
            tensors.add(tensorInfo(name, alignment));
        }

        long dataOffset = alignUp(pos, alignment);
        // A file with no tensors may end right after its header, unpadded.
        if (dataOffset > size && !tensors.isEmpty()) {
            throw error("file ends inside the padding before tensor data", pos);
        }
        checkTensorExtents(tensors, dataOffset);
        return new Header(version, alignment, dataOffset, metadata, tensors);
    }

    private TensorInfo tensorInfo(String name, int alignment) {
        long nDimsAt = pos;
        int nDims = u32("n_dims of tensor '" + name + "'");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw error("tensor '" + name + "' has " + Integer.toUnsignedString(nDims) + " dimensions; 1 to "
                    + MAX_DIMS + " are allowed", nDimsAt);
        }
        long[] dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long at = pos;
            dims[d] = u64("ne[" + d + "] of tensor '" + name + "'");
            if (dims[d] < 0) {
                throw error("tensor '" + name + "' has a negative or overflowing dimension ne[" + d + "] = "
                        + Long.toUnsignedString(dims[d]), at);
            }
            try {
                elements = Math.multiplyExact(elements, dims[d]);
            } catch (ArithmeticException e) {
                throw error("tensor '" + name + "' dimensions " + Arrays.toString(Arrays.copyOf(dims, d + 1))
                        + " overflow a 64-bit element count", at);
            }
        }
        long typeAt = pos;
        int typeId = u32("type of tensor '" + name + "'");
        GgmlType type = GgmlType.fromId(typeId);
        if (type == null) {
            throw error("tensor '" + name + "' has unknown ggml type id " + Integer.toUnsignedString(typeId), typeAt);
        }
        if (dims[0] % type.blockSize() != 0) {
            throw error("tensor '" + name + "' of type " + type + " has row length " + dims[0]
                    + ", not a multiple of the block size " + type.blockSize(), typeAt);
        }
        long byteSize;
        try {
            byteSize = type.byteSize(elements);
        } catch (ArithmeticException e) {
            throw error("tensor '" + name + "' byte size overflows", typeAt);
        }
        long offAt = pos;
        long offset = u64("data offset of tensor '" + name + "'");
        if (offset < 0 || offset % alignment != 0) {
            throw error("tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                    + " is not a multiple of the alignment " + alignment, offAt);
        }
        return new TensorInfo(name, type, dims, offset, byteSize);
    }

    private void checkTensorExtents(List<TensorInfo> tensors, long dataOffset) {
        long region = size - dataOffset;
        List<TensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(TensorInfo::offset));
        long end = 0;
        String previous = null;
        for (TensorInfo t : byOffset) {
            if (t.offset() < end) {
                throw error("tensor '" + t.name() + "' overlaps tensor '" + previous + "'", dataOffset + t.offset());
            }
            if (t.offset() > region || t.byteSize() > region - t.offset()) {
                throw error("tensor '" + t.name() + "' data [" + t.offset() + ", +" + t.byteSize()
                        + ") extends past the end of the file (" + region + " data bytes)", dataOffset + t.offset());
            }
            end = t.offset() + t.byteSize();
            previous = t.name();
        }
    }

    private GgufValue value(String key, GgufValueType type, int depth) {
        return switch (type) {
            case UINT8, INT8 -> new GgufValue(type, u8(key));
            case UINT16, INT16 -> new GgufValue(type, u16(key));
            case UINT32, INT32 -> new GgufValue(type, u32(key));
            case UINT64, INT64 -> new GgufValue(type, u64(key));
            case FLOAT32 -> new GgufValue(type, f32(key));
            case FLOAT64 -> new GgufValue(type, f64(key));
            case BOOL -> new GgufValue(type, bool(key));
            case STRING -> new GgufValue(type, string("value of '" + key + "'"));
            case ARRAY -> new GgufValue(type, array(key, depth));
        };
    }

    private GgufValue.GgufArray array(String key, int depth) {
        long at = pos;
        if (depth >= MAX_ARRAY_DEPTH) {
            throw error("arrays nested deeper than " + MAX_ARRAY_DEPTH + " in '" + key + "'", at);
        }
        GgufValueType et = valueType("array element type of '" + key + "'", at);
        long n = count("array length of '" + key + "'", et.minBytes());
        int len = (int) n; // count() bounds n by the remaining bytes; a further guard against 2^31 elements:
        if (n > Integer.MAX_VALUE - 8) {
            throw error("array '" + key + "' has " + n + " elements, more than a Java array holds", at);
        }
        Object values = switch (et) {
            case UINT8, INT8 -> {
                byte[] a = new byte[len];
                need(len, key);
                MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, a, 0, len);
                pos += len;
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[len];
                need(2L * len, key);
                MemorySegment.copy(file, U16, pos, a, 0, len);
                pos += 2L * len;
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[len];
                need(4L * len, key);
                MemorySegment.copy(file, U32, pos, a, 0, len);
                pos += 4L * len;
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[len];
                need(8L * len, key);
                MemorySegment.copy(file, U64, pos, a, 0, len);
                pos += 8L * len;
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[len];
                need(4L * len, key);
                MemorySegment.copy(file, F32, pos, a, 0, len);
                pos += 4L * len;
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[len];
                need(8L * len, key);
                MemorySegment.copy(file, F64, pos, a, 0, len);
                pos += 8L * len;
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) {
                    a[i] = bool(key);
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[len];
                for (int i = 0; i < len; i++) {
                    a[i] = string("element " + i + " of '" + key + "'");
                }
                yield a;
            }
            case ARRAY -> {
                GgufValue.GgufArray[] a = new GgufValue.GgufArray[len];
                for (int i = 0; i < len; i++) {
                    a[i] = array(key + "[" + i + "]", depth + 1);
                }
                yield a;
            }
        };
        return new GgufValue.GgufArray(et, values);
    }

    // ---- primitives, each bounds-checked ---------------------------------------------------------------------

    private void need(long bytes, String field) {
        if (bytes < 0 || bytes > size - pos) {
            throw error("truncated: " + field + " needs " + bytes + " bytes but " + (size - pos) + " remain", pos);
        }
    }

    private byte u8(String field) {
        need(1, field);
        return file.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private boolean bool(String field) {
        long at = pos;
        byte b = u8(field);
        if (b != 0 && b != 1) {
            throw error("bool '" + field + "' has value " + (b & 0xFF) + ", not 0 or 1", at);
        }
        return b == 1;
    }

    private short u16(String field) {
        need(2, field);
        short v = file.get(U16, pos);
        pos += 2;
        return v;
    }

    private int u32(String field) {
        need(4, field);
        int v = file.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(String field) {
        need(8, field);
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private float f32(String field) {
        need(4, field);
        float v = file.get(F32, pos);
        pos += 4;
        return v;
    }

    private double f64(String field) {
        need(8, field);
        double v = file.get(F64, pos);
        pos += 8;
        return v;
    }

    /** A u64 count whose items each take at least {@code minItemBytes}; rejected if the file cannot hold them. */
    private long count(String field, int minItemBytes) {
        long at = pos;
        long n = u64(field);
        long remaining = size - pos;
        if (n < 0 || n > remaining / Math.max(1, minItemBytes)) {
            throw error(field + " is " + Long.toUnsignedString(n) + " but the " + remaining
                    + " bytes left in the file can hold at most " + remaining / Math.max(1, minItemBytes), at);
        }
        return n;
    }

    private GgufValueType valueType(String field, long at) {
        int id = u32(field);
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) {
            throw error(field + " has unknown GGUF value type id " + Integer.toUnsignedString(id), at);
        }
        return t;
    }

    private String string(String field) {
        long at = pos;
        long len = u64("length of " + field);
        if (len < 0 || len > size - pos) {
            throw error(field + " has length " + Long.toUnsignedString(len) + " but only " + (size - pos)
                    + " bytes remain", at);
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw error(field + " is longer than a Java string can be", at);
        }
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, bytes, 0, (int) len);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private GgufFormatException error(String message, long offset) {
        return new GgufFormatException(path + ": " + message + " (at byte offset " + offset + ")");
    }
}

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
    /** Larger alignments serve no purpose and would let alignUp overflow an int-sized padding. */
    static final int MAX_ALIGNMENT = 1 << 30;
    /** Smallest possible tensor info: empty name (8) + n_dims (4) + type (4) + offset (8). */
    private static final int MIN_TENSOR_INFO_BYTES = 24;
    /** Smallest possible key/value: empty key (8) + type (4) + one byte of value. */
    private static final int MIN_KV_BYTES = 13;
    /** The largest array the JVM reliably allocates. */
    private static final int MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;
    /** First capacity of lists sized by a claimed count; they grow with the elements actually read. */
    private static final int INITIAL_CAPACITY = 1024;

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
            throw error(String.format("bad magic 0x%08x, not a GGUF file (expected \"GGUF\")", magic), 0);
        }
        int version = u32("version");
        if (version == 1) {
            throw error("version is 1: GGUF v1 is not supported (it predates 64-bit counts); re-convert the model"
                    + " with a current llama.cpp", 4);
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) >= 1 && Integer.reverseBytes(version) <= 3
                    ? " (a big-endian GGUF; only little-endian files are supported)" : "";
            throw error("version is " + Integer.toUnsignedString(version) + ", an unsupported GGUF version" + hint
                    + "; supported are 2 and 3", 4);
        }
        long tensorCount = count("tensor_count", MIN_TENSOR_INFO_BYTES);
        long kvCount = count("metadata_kv_count", MIN_KV_BYTES);

        // Sized by what is actually read, never by a claimed count: a hostile count only costs bytes that exist.
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        long alignmentAt = -1;
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            final long index = i;
            String key = string(() -> "key of metadata entry " + index);
            long typeAt = pos;
            GgufValueType type = valueType(() -> "value type of '" + key + "'");
            long valueAt = pos;
            GgufValue value = value(key, type);
            if (metadata.putIfAbsent(key, value) != null) {
                throw error("duplicate metadata key '" + key + "'", keyAt);
            }
            KnownKeys.check(key, value, msg -> error(msg, typeAt));
            if (key.equals(GgufFile.KEY_ALIGNMENT)) {
                alignmentAt = valueAt;
            }
        }

        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = metadata.get(GgufFile.KEY_ALIGNMENT);
        if (al != null) {
            long a = al.asLong(); // KnownKeys has checked that general.alignment is an integer
            if (a <= 0 || a > MAX_ALIGNMENT || Long.bitCount(a) != 1) {
                throw error(GgufFile.KEY_ALIGNMENT + " must be a power of two up to " + MAX_ALIGNMENT + ", got "
                        + (al.type() == GgufValueType.UINT64 ? Long.toUnsignedString(a) : Long.toString(a)),
                        alignmentAt);
            }
            alignment = (int) a;
        }

        List<TensorInfo> tensors = new ArrayList<>((int) Math.min(tensorCount, INITIAL_CAPACITY));
        List<Long> offsetFieldAt = new ArrayList<>((int) Math.min(tensorCount, INITIAL_CAPACITY));
        Map<String, Long> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = pos;
            final long index = i;
            String name = string(() -> "name of tensor " + index);
            if (seen.putIfAbsent(name, at) != null) {
                throw error("duplicate tensor name '" + name + "'", at);
            }
            tensors.add(tensorInfo(name, alignment));
            offsetFieldAt.add(pos - 8); // the u64 data offset is the info's last field
        }

        long dataOffset = alignUp(pos, alignment);
        // A file with no tensors may end right after its header, unpadded.
        if (dataOffset > size && !tensors.isEmpty()) {
            throw error("truncated: the padding before tensor data ends at " + dataOffset + " but the file has "
                    + size + " bytes", pos);
        }
        checkTensorExtents(tensors, offsetFieldAt, dataOffset);
        return new Header(version, alignment, dataOffset, metadata, tensors);
    }

    private TensorInfo tensorInfo(String name, int alignment) {
        long nDimsAt = pos;
        int nDims = u32("n_dims of tensor '" + name + "'");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw error("n_dims of tensor '" + name + "' is " + Integer.toUnsignedString(nDims) + "; 1 to "
                    + MAX_DIMS + " are allowed", nDimsAt);
        }
        long[] dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long at = pos;
            dims[d] = u64("ne[" + d + "] of tensor '" + name + "'");
            if (dims[d] < 0) {
                throw error("ne[" + d + "] of tensor '" + name + "' is " + Long.toUnsignedString(dims[d])
                        + ", negative as a signed 64-bit count", at);
            }
            try {
                elements = Math.multiplyExact(elements, dims[d]);
            } catch (ArithmeticException e) {
                throw error("ne[" + d + "] of tensor '" + name + "': dimensions "
                        + Arrays.toString(Arrays.copyOf(dims, d + 1)) + " overflow a 64-bit element count", at);
            }
        }
        long typeAt = pos;
        int typeId = u32("type of tensor '" + name + "'");
        GgmlType type = GgmlType.fromId(typeId);
        if (type == null) {
            throw error("type of tensor '" + name + "' is unknown ggml type id " + Integer.toUnsignedString(typeId),
                    typeAt);
        }
        if (dims[0] % type.blockSize() != 0) {
            throw error("type of tensor '" + name + "' is " + type + ", whose block size " + type.blockSize()
                    + " does not divide its row length ne[0] = " + dims[0], typeAt);
        }
        long byteSize;
        try {
            byteSize = type.byteSize(elements);
        } catch (ArithmeticException e) {
            throw error("type of tensor '" + name + "' is " + type + ": " + elements
                    + " elements overflow a 64-bit byte count", typeAt);
        }
        long offAt = pos;
        long offset = u64("data offset of tensor '" + name + "'");
        if (offset < 0) {
            throw error("data offset of tensor '" + name + "' is " + Long.toUnsignedString(offset)
                    + ", past the end of any file", offAt);
        }
        if (offset % alignment != 0) {
            throw error("data offset of tensor '" + name + "' is " + offset + ", not a multiple of the alignment "
                    + alignment, offAt);
        }
        return new TensorInfo(name, type, dims, offset, byteSize);
    }

    /**
     * Every tensor must lie inside the data region and no two may share bytes. Errors point at the tensor's data-offset
     * field in the header, the bytes a reader would have to fix.
     */
    private void checkTensorExtents(List<TensorInfo> tensors, List<Long> offsetFieldAt, long dataOffset) {
        long region = size - dataOffset;
        Integer[] byOffset = new Integer[tensors.size()];
        for (int i = 0; i < byOffset.length; i++) {
            byOffset[i] = i;
        }
        Arrays.sort(byOffset, Comparator.comparingLong((Integer i) -> tensors.get(i).offset()));
        long end = 0;
        String previous = null;
        for (int i : byOffset) {
            TensorInfo t = tensors.get(i);
            long fieldAt = offsetFieldAt.get(i);
            if (t.offset() > region || t.byteSize() > region - t.offset()) {
                throw error("data offset of tensor '" + t.name() + "': data [" + t.offset() + ", +" + t.byteSize()
                        + ") extends past the end of the file, which has " + Math.max(0, region)
                        + " data bytes from file offset " + dataOffset, fieldAt);
            }
            // An empty tensor shares no bytes with anything, wherever it points.
            if (t.byteSize() == 0) {
                continue;
            }
            if (t.offset() < end) {
                throw error("data offset of tensor '" + t.name() + "': data [" + t.offset() + ", +" + t.byteSize()
                        + ") overlaps tensor '" + previous + "', which ends at " + end, fieldAt);
            }
            end = t.offset() + t.byteSize();
            previous = t.name();
        }
    }

    private GgufValue value(String key, GgufValueType type) {
        return switch (type) {
            case UINT8, INT8 -> new GgufValue(type, u8(key));
            case UINT16, INT16 -> new GgufValue(type, u16(key));
            case UINT32, INT32 -> new GgufValue(type, u32(key));
            case UINT64, INT64 -> new GgufValue(type, u64(key));
            case FLOAT32 -> new GgufValue(type, f32(key));
            case FLOAT64 -> new GgufValue(type, f64(key));
            case BOOL -> new GgufValue(type, bool(() -> key));
            case STRING -> new GgufValue(type, string(() -> "value of '" + key + "'"));
            case ARRAY -> new GgufValue(type, array(() -> key, 0));
        };
    }

    /**
     * An array value. Primitive element arrays are allocated only after the file is known to hold all their bytes;
     * string and nested arrays grow as elements are actually read, so a claimed length costs nothing up front (nesting
     * would otherwise multiply up-front allocations by the depth).
     */
    private GgufValue.GgufArray array(Label key, int depth) {
        long at = pos;
        if (depth >= MAX_ARRAY_DEPTH) {
            throw error("arrays nested deeper than " + MAX_ARRAY_DEPTH + " in '" + key.get() + "'", at);
        }
        GgufValueType et = valueType(() -> "array element type of '" + key.get() + "'");
        long n = count(() -> "array length of '" + key.get() + "'", et.minBytes());
        if (n > MAX_JAVA_ARRAY) {
            throw error("array length of '" + key.get() + "' is " + n + ", more than a Java array holds", at + 4);
        }
        int len = (int) n;
        Object values = switch (et) {
            case UINT8, INT8 -> {
                need(len, key);
                byte[] a = new byte[len];
                MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, a, 0, len);
                pos += len;
                yield a;
            }
            case UINT16, INT16 -> {
                need(2L * len, key);
                short[] a = new short[len];
                MemorySegment.copy(file, U16, pos, a, 0, len);
                pos += 2L * len;
                yield a;
            }
            case UINT32, INT32 -> {
                need(4L * len, key);
                int[] a = new int[len];
                MemorySegment.copy(file, U32, pos, a, 0, len);
                pos += 4L * len;
                yield a;
            }
            case UINT64, INT64 -> {
                need(8L * len, key);
                long[] a = new long[len];
                MemorySegment.copy(file, U64, pos, a, 0, len);
                pos += 8L * len;
                yield a;
            }
            case FLOAT32 -> {
                need(4L * len, key);
                float[] a = new float[len];
                MemorySegment.copy(file, F32, pos, a, 0, len);
                pos += 4L * len;
                yield a;
            }
            case FLOAT64 -> {
                need(8L * len, key);
                double[] a = new double[len];
                MemorySegment.copy(file, F64, pos, a, 0, len);
                pos += 8L * len;
                yield a;
            }
            case BOOL -> {
                need(len, key);
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) {
                    a[i] = bool(key);
                }
                yield a;
            }
            case STRING -> strings(key, len);
            case ARRAY -> {
                GgufValue.GgufArray[] a = new GgufValue.GgufArray[Math.min(len, INITIAL_CAPACITY)];
                for (int i = 0; i < len; i++) {
                    if (i == a.length) {
                        a = Arrays.copyOf(a, (int) Math.min(len, 2L * a.length));
                    }
                    final int index = i;
                    a[i] = array(() -> key.get() + "[" + index + "]", depth + 1);
                }
                yield a;
            }
        };
        return new GgufValue.GgufArray(et, values);
    }

    /**
     * A string array as one {@link GgufStrings}: a first pass checks every length against the bytes that remain (so a
     * hostile length fails before anything is allocated for it), a second copies the bytes.
     */
    private GgufStrings strings(Label key, int len) {
        long first = pos;
        long total = 0;
        for (int i = 0; i < len; i++) {
            long at = pos;
            final int index = i;
            long bytes = stringLength(() -> "element " + index + " of '" + key.get() + "'");
            total += bytes;
            if (total > MAX_JAVA_ARRAY) {
                throw error("'" + key.get() + "' holds more than " + MAX_JAVA_ARRAY + " bytes of text", at);
            }
            pos += bytes;
        }
        byte[] utf8 = new byte[(int) total];
        int[] starts = new int[len + 1];
        pos = first;
        int filled = 0;
        for (int i = 0; i < len; i++) {
            int bytes = (int) file.get(U64, pos);
            pos += 8;
            starts[i] = filled;
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, pos, utf8, filled, bytes);
            pos += bytes;
            filled += bytes;
        }
        starts[len] = filled;
        return new GgufStrings(utf8, starts);
    }

    // ---- primitives, each bounds-checked ---------------------------------------------------------------------

    /** A field's name for error messages, built only when an error is reported. */
    @FunctionalInterface
    private interface Label {
        String get();
    }

    private void need(long bytes, Label field) {
        if (bytes < 0 || bytes > size - pos) {
            throw error("truncated: " + field.get() + " needs " + bytes + " bytes but " + (size - pos) + " remain",
                    pos);
        }
    }

    private void need(long bytes, String field) {
        need(bytes, () -> field);
    }

    private byte u8(String field) {
        need(1, field);
        return file.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private boolean bool(Label field) {
        need(1, field);
        long at = pos;
        byte b = file.get(ValueLayout.JAVA_BYTE, pos++);
        if (b != 0 && b != 1) {
            throw error("bool '" + field.get() + "' has value " + (b & 0xFF) + ", not 0 or 1", at);
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

    private long u64(Label field) {
        need(8, field);
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private long u64(String field) {
        return u64(() -> field);
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
    private long count(Label field, int minItemBytes) {
        long at = pos;
        long n = u64(field);
        long remaining = size - pos;
        long fits = remaining / Math.max(1, minItemBytes);
        if (n < 0 || n > fits) {
            throw error(field.get() + " is " + Long.toUnsignedString(n) + " but the " + remaining
                    + " bytes left in the file can hold at most " + fits, at);
        }
        return n;
    }

    private long count(String field, int minItemBytes) {
        return count(() -> field, minItemBytes);
    }

    private GgufValueType valueType(Label field) {
        long at = pos;
        need(4, field);
        int id = file.get(U32, pos);
        pos += 4;
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) {
            throw error(field.get() + " has unknown GGUF value type id " + Integer.toUnsignedString(id), at);
        }
        return t;
    }

    /** Reads a string's u64 length, checked against the bytes that remain, and leaves {@code pos} at its text. */
    private long stringLength(Label field) {
        long at = pos;
        need(8, () -> "length of " + field.get());
        long len = file.get(U64, pos);
        pos += 8;
        if (len < 0 || len > size - pos) {
            throw error("length of " + field.get() + " is " + Long.toUnsignedString(len) + " but only "
                    + (size - pos) + " bytes remain", at);
        }
        return len;
    }

    private String string(Label field) {
        long at = pos;
        long len = stringLength(field);
        if (len > MAX_JAVA_ARRAY) {
            throw error("length of " + field.get() + " is " + len + ", longer than a Java string can be", at);
        }
        if (len == 0) {
            return "";
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

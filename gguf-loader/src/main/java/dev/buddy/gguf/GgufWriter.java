package dev.buddy.gguf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes GGUF v3 files: metadata, tensor infos, and tensor data, each tensor aligned to {@code general.alignment}
 * (32 unless put explicitly). {@link #write(Path)} writes a temporary file beside the target and renames it into place,
 * so a crash or error never leaves a half-written model behind.
 *
 * <p>Keys are written in insertion order; putting a key again replaces its value in place.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Map<String, PendingTensor> tensorsByName = new LinkedHashMap<>();

    /** Tensor bytes supplied lazily, so large synthetic models need not sit in memory all at once. */
    @FunctionalInterface
    public interface TensorSource {
        /** Writes exactly the tensor's byte size into {@code out}. */
        void writeTo(FileChannel out) throws IOException;
    }

    private record PendingTensor(String name, GgmlType type, long[] dims, long byteSize, TensorSource source) {}

    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key);
        metadata.put(key, Objects.requireNonNull(value));
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, new GgufValue(GgufValueType.STRING, v));
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, new GgufValue(GgufValueType.BOOL, v));
    }

    public GgufWriter putUInt8(String key, int v) {
        return put(key, new GgufValue(GgufValueType.UINT8, (byte) v));
    }

    public GgufWriter putInt8(String key, int v) {
        return put(key, new GgufValue(GgufValueType.INT8, (byte) v));
    }

    public GgufWriter putUInt16(String key, int v) {
        return put(key, new GgufValue(GgufValueType.UINT16, (short) v));
    }

    public GgufWriter putInt16(String key, int v) {
        return put(key, new GgufValue(GgufValueType.INT16, (short) v));
    }

    /** A u32, the type llama.cpp expects for counts, lengths and token ids. */
    public GgufWriter putUInt32(String key, int v) {
        return put(key, new GgufValue(GgufValueType.UINT32, v));
    }

    public GgufWriter putInt32(String key, int v) {
        return put(key, new GgufValue(GgufValueType.INT32, v));
    }

    public GgufWriter putUInt64(String key, long v) {
        return put(key, new GgufValue(GgufValueType.UINT64, v));
    }

    public GgufWriter putInt64(String key, long v) {
        return put(key, new GgufValue(GgufValueType.INT64, v));
    }

    public GgufWriter putFloat32(String key, float v) {
        return put(key, new GgufValue(GgufValueType.FLOAT32, v));
    }

    public GgufWriter putFloat64(String key, double v) {
        return put(key, new GgufValue(GgufValueType.FLOAT64, v));
    }

    /** An array; {@code javaArray} must match {@code elementType} as described in {@link GgufValue.GgufArray}. */
    public GgufWriter putArray(String key, GgufValueType elementType, Object javaArray) {
        return put(key, new GgufValue(GgufValueType.ARRAY, new GgufValue.GgufArray(elementType, javaArray)));
    }

    public GgufWriter putStringArray(String key, String[] values) {
        return putArray(key, GgufValueType.STRING, values);
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] dims, byte[] data) {
        byte[] copy = data.clone();
        return addTensor(name, type, dims, copy.length, out -> writeFully(out, ByteBuffer.wrap(copy)));
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] dims, MemorySegment data) {
        return addTensor(name, type, dims, data.byteSize(), out -> writeFully(out, data.asByteBuffer()));
    }

    /** Float data as F32. */
    public GgufWriter addTensor(String name, long[] dims, float[] data) {
        return addTensor(name, GgmlType.F32, dims, f32Bytes(data));
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] dims, long byteSize, TensorSource source) {
        if (tensorsByName.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        }
        if (dims.length < 1 || dims.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' needs 1 to 4 dimensions");
        }
        long elements = 1;
        long expected;
        try {
            for (long d : dims) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension");
                }
                elements = Math.multiplyExact(elements, d);
            }
            expected = type.byteSize(elements);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "' dimensions " + Arrays.toString(dims)
                    + " overflow a 64-bit size", e);
        }
        if (expected != byteSize) {
            throw new IllegalArgumentException("tensor '" + name + "' of type " + type + " and dims "
                    + Arrays.toString(dims) + " needs " + expected + " bytes, got " + byteSize);
        }
        PendingTensor t = new PendingTensor(name, type, dims.clone(), byteSize, source);
        tensors.add(t);
        tensorsByName.put(name, t);
        return this;
    }

    /** Writes the file atomically: to a temporary file in the same directory, then renamed over {@code target}. */
    public void write(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = TempFiles.newSibling(abs);
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                writeTo(out);
                out.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            // The first failure is the one worth reporting; a failed cleanup only rides along with it.
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void writeTo(FileChannel out) throws IOException {
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = metadata.get(GgufFile.KEY_ALIGNMENT);
        if (al != null) {
            Long a = al.asLong();
            if (a == null || a <= 0 || a > GgufParser.MAX_ALIGNMENT || Long.bitCount(a) != 1) {
                throw new IllegalArgumentException("general.alignment must be a power-of-two integer up to "
                        + GgufParser.MAX_ALIGNMENT + ", got " + al.display(0));
            }
            alignment = (int) (long) a;
        }
        HeaderBuffer h = new HeaderBuffer();
        h.u32(GgufParser.MAGIC);
        h.u32(3);
        h.u64(tensors.size());
        h.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.u32(e.getValue().type().id());
            h.value(e.getValue());
        }
        long offset = 0;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            h.string(t.name);
            h.u32(t.dims.length);
            for (long d : t.dims) {
                h.u64(d);
            }
            h.u32(t.type.id());
            offsets[i] = offset;
            h.u64(offset);
            offset = GgufParser.alignUp(offset + t.byteSize, alignment);
        }
        long headerEnd = h.size();
        long dataStart = GgufParser.alignUp(headerEnd, alignment);
        h.zeros((int) (dataStart - headerEnd));
        writeFully(out, h.toBuffer());
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            long start = dataStart + offsets[i];
            long before = out.position();
            if (before != start) {
                throw new IllegalStateException("internal layout error at tensor " + t.name);
            }
            t.source.writeTo(out);
            long written = out.position() - before;
            if (written != t.byteSize) {
                throw new IOException("tensor '" + t.name + "' source wrote " + written + " bytes, expected "
                        + t.byteSize);
            }
            long pad = GgufParser.alignUp(out.position() - dataStart, alignment) - (out.position() - dataStart);
            if (i < tensors.size() - 1 && pad > 0) {
                writeFully(out, ByteBuffer.allocate((int) pad));
            }
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    /** Growable little-endian buffer for the header. */
    private static final class HeaderBuffer {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(long extra) {
            if (buf.remaining() < extra) {
                long need = Math.max((long) buf.capacity() * 2, buf.position() + extra + 1024);
                if (need > Integer.MAX_VALUE - 16) {
                    throw new IllegalArgumentException("GGUF header larger than 2 GiB");
                }
                ByteBuffer bigger = ByteBuffer.allocate((int) need).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        long size() {
            return buf.position();
        }

        void u32(int v) {
            ensure(4);
            buf.putInt(v);
        }

        void u64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void zeros(int n) {
            ensure(n);
            buf.put(new byte[n]);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        void value(GgufValue v) {
            Object o = v.value();
            switch (v.type()) {
                case UINT8, INT8 -> { ensure(1); buf.put((Byte) o); }
                case UINT16, INT16 -> { ensure(2); buf.putShort((Short) o); }
                case UINT32, INT32 -> u32((Integer) o);
                case UINT64, INT64 -> u64((Long) o);
                case FLOAT32 -> { ensure(4); buf.putFloat((Float) o); }
                case FLOAT64 -> { ensure(8); buf.putDouble((Double) o); }
                case BOOL -> { ensure(1); buf.put((byte) ((Boolean) o ? 1 : 0)); }
                case STRING -> string((String) o);
                case ARRAY -> array((GgufValue.GgufArray) o);
            }
        }

        void array(GgufValue.GgufArray a) {
            u32(a.elementType().id());
            u64(a.length());
            Object vs = a.values();
            switch (vs) {
                case byte[] x -> { ensure(x.length); buf.put(x); }
                case short[] x -> { ensure(2L * x.length); for (short s : x) buf.putShort(s); }
                case int[] x -> { ensure(4L * x.length); for (int i : x) buf.putInt(i); }
                case long[] x -> { ensure(8L * x.length); for (long l : x) buf.putLong(l); }
                case float[] x -> { ensure(4L * x.length); for (float f : x) buf.putFloat(f); }
                case double[] x -> { ensure(8L * x.length); for (double d : x) buf.putDouble(d); }
                case boolean[] x -> { ensure(x.length); for (boolean b : x) buf.put((byte) (b ? 1 : 0)); }
                case GgufStrings x -> {
                    for (int i = 0; i < x.size(); i++) {
                        int n = x.utf8Length(i);
                        u64(n);
                        ensure(n);
                        byte[] b = new byte[n];
                        x.copyUtf8(i, b, 0);
                        buf.put(b);
                    }
                }
                case GgufValue.GgufArray[] x -> { for (GgufValue.GgufArray n : x) array(n); }
                default -> throw new IllegalArgumentException("unsupported array class " + vs.getClass());
            }
        }

        ByteBuffer toBuffer() {
            ByteBuffer b = buf.duplicate();
            b.flip();
            return b;
        }
    }

    /** Floats as little-endian F32 bytes. */
    public static byte[] f32Bytes(float[] data) {
        byte[] out = new byte[data.length * 4];
        MemorySegment.copy(data, 0, MemorySegment.ofArray(out),
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, data.length);
        return out;
    }
}

package dev.buddy.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Byte-level GGUF builder for tests that need files {@link GgufWriter} refuses to write: bad magic, absurd counts,
 * overlapping tensors. Every method appends little-endian bytes; {@link #mark()} gives the offset the next field will
 * have, so tests can assert the offset an error message reports.
 */
final class RawGguf {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version and the two counts. */
    static RawGguf header(int version, long tensorCount, long kvCount) {
        return new RawGguf().u32(GgufParser.MAGIC).u32(version).u64(tensorCount).u64(kvCount);
    }

    int mark() {
        return out.size();
    }

    RawGguf u8(int v) {
        out.write(v);
        return this;
    }

    RawGguf u32(int v) {
        return put(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v));
    }

    RawGguf u64(long v) {
        return put(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v));
    }

    RawGguf f32(float v) {
        return put(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v));
    }

    RawGguf bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    /** A GGUF string: u64 byte length, UTF-8 bytes. */
    RawGguf str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).bytes(b);
    }

    /** Key, value type id; the caller appends the value. */
    RawGguf key(String key, GgufValueType type) {
        return str(key).u32(type.id());
    }

    RawGguf kvString(String key, String value) {
        return key(key, GgufValueType.STRING).str(value);
    }

    RawGguf kvU32(String key, int value) {
        return key(key, GgufValueType.UINT32).u32(value);
    }

    /** A tensor info: name, n_dims, ne[], ggml type id, data offset. */
    RawGguf tensor(String name, GgmlType type, long offset, long... dims) {
        str(name).u32(dims.length);
        for (long d : dims) {
            u64(d);
        }
        return u32(type.id()).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    RawGguf pad(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    RawGguf zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    byte[] build() {
        return out.toByteArray();
    }

    byte[] buildTruncated(int length) {
        return Arrays.copyOf(out.toByteArray(), length);
    }

    private RawGguf put(ByteBuffer b) {
        out.writeBytes(b.array());
        return this;
    }
}

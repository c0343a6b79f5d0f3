package dev.buddy.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open GGUF v2/v3 file: its metadata, its tensor infos, and zero-copy access to tensor data.
 *
 * <p>The whole file is mapped once, read-only, into a shared {@link Arena}; each tensor is a slice of that mapping, so
 * files over 2 GiB work and nothing is copied to the heap. {@link #close()} closes the arena, after which any access
 * fails with {@link IllegalStateException}.
 *
 * <p>The file is untrusted input: {@link GgufParser} bounds every count, length and offset by the file size before
 * allocating, so a hostile file fails fast with a {@link GgufFormatException} naming the field and offset.
 */
public final class GgufFile implements AutoCloseable {
    /** {@code general.alignment}: the data-region alignment, 32 when absent. */
    public static final String KEY_ALIGNMENT = "general.alignment";
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    /** Owns the mapping; null when the contents came from the caller's memory. */
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final int alignment;
    private final long dataOffset;
    private final Map<String, GgufValue> metadata;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> tensorsByName;
    private volatile boolean closed;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, GgufParser.Header header) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = header.version();
        this.alignment = header.alignment();
        this.dataOffset = header.dataOffset();
        this.metadata = Collections.unmodifiableMap(header.metadata());
        this.tensors = List.copyOf(header.tensors());
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensorsByName = Collections.unmodifiableMap(byName);
    }

    /**
     * Opens and validates a GGUF file.
     *
     * @throws NoSuchFileException if the file does not exist
     * @throws IOException if it cannot be read
     * @throws GgufFormatException if it is not a valid GGUF v2/v3 file
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            // An empty file cannot be mapped; an empty heap segment fails the same size checks.
            MemorySegment mapping = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            GgufParser.Header header = new GgufParser(path, mapping).parse();
            return new GgufFile(path, arena, mapping, header);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Parses GGUF bytes already in memory, e.g. a heap segment in tests, which can then check thousands of variants
     * without touching the disk. {@code label} only names the source in messages. {@link #close()} makes the file
     * refuse further {@link #tensorData} calls; the caller owns {@code contents}.
     */
    static GgufFile open(Path label, MemorySegment contents) {
        MemorySegment readOnly = contents.asReadOnly();
        return new GgufFile(label, null, readOnly, new GgufParser(label, readOnly).parse());
    }

    public Path path() {
        return path;
    }

    /** The GGUF version, 2 or 3. */
    public int version() {
        return version;
    }

    /** {@code general.alignment}, or 32. */
    public int alignment() {
        return alignment;
    }

    /** File offset of the aligned data region that tensor offsets are relative to. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    /** All metadata in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public List<TensorInfo> tensors() {
        return tensors;
    }

    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    /** The named tensor; a {@link GgufFormatException} naming the tensor and file if it is absent. */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensorsByName.get(name);
        if (t == null) {
            throw new GgufFormatException(path + ": missing tensor '" + name + "'");
        }
        return t;
    }

    /** The tensor's bytes: a read-only slice of the file mapping, valid until {@link #close()}. */
    public MemorySegment tensorData(TensorInfo t) {
        checkOpen();
        return mapping.asSlice(dataOffset + t.offset(), t.byteSize()).asReadOnly();
    }

    public MemorySegment tensorData(String name) {
        return tensorData(tensor(name));
    }

    /**
     * Takes the file's pages out of this process's resident memory ({@code madvise(MADV_DONTNEED)} through
     * {@link MemorySegment#unload}); a later read faults its page back in from the page cache, so every byte reads the
     * same. Worth calling once the metadata is parsed (its values are copied to the heap) and the weights that kernels
     * read from copies of their own are copied: touched pages of a mapping otherwise stay resident, and the kernel maps
     * file pages in folios of up to a few hundred KiB, so reading a 3.5 KiB bias vector beside an already copied
     * matrix brings most of that matrix back. A no-op for contents that are not a file mapping.
     */
    public void releaseResidentPages() {
        checkOpen();
        if (mapping.isMapped()) {
            mapping.unload();
        }
    }

    // ---- typed metadata accessors ----------------------------------------------------------------------------

    public String getString(String key) {
        return (String) require(key, GgufValueType.STRING).value();
    }

    public String getString(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    /** Any integer type whose value fits an int. */
    public int getInt(String key) {
        long v = getLong(key);
        // A u64 of 2^63 or more reads as a negative long; as an unsigned count it fits no int.
        boolean hugeUnsigned = v < 0 && metadata.get(key).type() == GgufValueType.UINT64;
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE || hugeUnsigned) {
            throw mistyped(key, "an int", metadata.get(key));
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    public long getLong(String key) {
        GgufValue v = present(key);
        Long l = v.asLong();
        if (l == null) {
            throw mistyped(key, "an integer", v);
        }
        return l;
    }

    public long getLong(String key, long defaultValue) {
        return has(key) ? getLong(key) : defaultValue;
    }

    /** f32 or f64 (narrowed). */
    public float getFloat(String key) {
        GgufValue v = present(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (float) (double) (Double) v.value();
            default -> throw mistyped(key, "a float", v);
        };
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBool(String key) {
        return (Boolean) require(key, GgufValueType.BOOL).value();
    }

    public boolean getBool(String key, boolean defaultValue) {
        return has(key) ? getBool(key) : defaultValue;
    }

    /** A string array, decoded (new strings on every call; {@link #getStrings} is the compact form). */
    public String[] getStringArray(String key) {
        return getStrings(key).toArray();
    }

    /** A string array as stored: UTF-8 bytes and offsets, shared and immutable. */
    public GgufStrings getStrings(String key) {
        return (GgufStrings) requireArray(key, GgufValueType.STRING).values();
    }

    /** f32 array. */
    public float[] getFloatArray(String key) {
        return ((float[]) requireArray(key, GgufValueType.FLOAT32).values()).clone();
    }

    /** i32 or u32 array (u32 keeps its bit pattern). */
    public int[] getIntArray(String key) {
        GgufValue.GgufArray a = array(key);
        if (a.elementType() != GgufValueType.INT32 && a.elementType() != GgufValueType.UINT32) {
            throw mistyped(key, "an array of int32", metadata.get(key));
        }
        return ((int[]) a.values()).clone();
    }

    /** The raw array value, any element type. */
    public GgufValue.GgufArray array(String key) {
        GgufValue v = present(key);
        if (!(v.value() instanceof GgufValue.GgufArray a)) {
            throw mistyped(key, "an array", v);
        }
        return a;
    }

    private GgufValue.GgufArray requireArray(String key, GgufValueType elementType) {
        GgufValue.GgufArray a = array(key);
        if (a.elementType() != elementType) {
            throw mistyped(key, "an array of " + elementType.name().toLowerCase(), metadata.get(key));
        }
        return a;
    }

    private GgufValue require(String key, GgufValueType type) {
        GgufValue v = present(key);
        if (v.type() != type) {
            throw mistyped(key, "a " + type.name().toLowerCase(), v);
        }
        return v;
    }

    private GgufValue present(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw new GgufFormatException(path + ": missing metadata key '" + key + "'");
        }
        return v;
    }

    private GgufFormatException mistyped(String key, String expected, GgufValue actual) {
        String got = actual.value() instanceof GgufValue.GgufArray a
                ? "array of " + a.elementType().name().toLowerCase() : actual.type().name().toLowerCase();
        return new GgufFormatException(path + ": metadata key '" + key + "' should be " + expected + " but is " + got);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("GGUF file is closed: " + path);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Unmaps the file. Tensor slices handed out earlier become inaccessible. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (arena != null) {
                arena.close();
            }
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]";
    }
}

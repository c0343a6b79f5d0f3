package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever {@link GgufWriter} writes, {@link GgufFile} reads back unchanged: metadata of every value type (nested
 * arrays, empty arrays, any Unicode) in insertion order, tensors of every {@link GgmlType} and rank with their exact
 * bytes, at every alignment. And writing what was read reproduces the file byte for byte.
 */
class RoundTripProperties {
    private static final int[] ALIGNMENTS = {8, 16, 32, 64, 128};
    private static final int MAX_NESTING = 3;
    private static Path dir;

    record Entry(String key, GgufValue value) {}

    /** Data is drawn from a seed: jqwik generating kilobytes byte by byte would dominate the run time. */
    record RandomTensor(String name, GgmlType type, long[] dims, long seed) {
        byte[] data() {
            long elements = Arrays.stream(dims).reduce(1, Math::multiplyExact);
            byte[] b = new byte[(int) type.byteSize(elements)];
            new Random(seed).nextBytes(b);
            return b;
        }

        @Override
        public String toString() {
            return "'" + name + "' " + type + Arrays.toString(dims);
        }
    }

    /** On tmpfs where there is one: the writer fsyncs every file, which on a disk would dominate the run time. */
    @BeforeContainer
    static void createDirectory() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "gguf-roundtrip")
                : Files.createTempDirectory("gguf-roundtrip");
    }

    @AfterContainer
    static void deleteDirectory() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void everythingWrittenIsReadBack(@ForAll("metadata") List<Entry> metadata,
                                     @ForAll("tensors") List<RandomTensor> tensors,
                                     @ForAll("alignment") Optional<Integer> alignment) throws IOException {
        GgufWriter w = new GgufWriter();
        List<Entry> expected = new ArrayList<>();
        alignment.ifPresent(a -> expected.add(new Entry("general.alignment", new GgufValue(GgufValueType.UINT32, a))));
        expected.addAll(metadata);
        expected.forEach(e -> w.put(e.key(), e.value()));
        tensors.forEach(t -> w.addTensor(t.name(), t.type(), t.dims(), t.data()));
        Path file = dir.resolve("roundtrip.gguf");
        w.write(file);

        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals(alignment.orElse(GgufFile.DEFAULT_ALIGNMENT), f.alignment());
            assertEquals(expected.stream().map(Entry::key).toList(), List.copyOf(f.metadata().keySet()),
                    "metadata keys in insertion order");
            for (Entry e : expected) {
                assertEquals(e.value(), f.metadata().get(e.key()), e.key());
            }
            assertTensorsEqual(tensors, f);

            // Writing back what was read must reproduce the file exactly.
            GgufWriter again = new GgufWriter();
            f.metadata().forEach(again::put);
            f.tensors().forEach(t -> again.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t)));
            Path copy = dir.resolve("rewritten.gguf");
            again.write(copy);
            assertEquals(-1L, Files.mismatch(file, copy), "rewritten file differs");
        }
    }

    @Property(tries = 40, shrinking = ShrinkingMode.BOUNDED)
    void everyAlignmentPutsEachTensorOnItsBoundary(@ForAll("tensors") List<RandomTensor> tensors) throws IOException {
        for (int alignment : ALIGNMENTS) {
            GgufWriter w = new GgufWriter().putUInt32("general.alignment", alignment).putString("rt.name", "aligned");
            tensors.forEach(t -> w.addTensor(t.name(), t.type(), t.dims(), t.data()));
            Path file = dir.resolve("aligned-" + alignment + ".gguf");
            w.write(file);
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(alignment, f.alignment());
                assertEquals(0, f.dataOffset() % alignment, "data region start");
                for (TensorInfo t : f.tensors()) {
                    assertEquals(0, t.offset() % alignment, t.name());
                }
                // Padding is never wider than the alignment: the data region starts within one alignment unit of the
                // header's end, and tensors are packed in order.
                long previousEnd = 0;
                for (TensorInfo t : f.tensors()) {
                    assertEquals(GgufParser.alignUp(previousEnd, alignment), t.offset(), t.name());
                    previousEnd = t.offset() + t.byteSize();
                }
                assertTensorsEqual(tensors, f);
            }
        }
    }

    private static void assertTensorsEqual(List<RandomTensor> expected, GgufFile f) {
        assertEquals(expected.stream().map(RandomTensor::name).toList(),
                f.tensors().stream().map(TensorInfo::name).toList());
        for (RandomTensor t : expected) {
            TensorInfo info = f.tensor(t.name());
            assertEquals(t.type(), info.type(), t.name());
            assertArrayEquals(t.dims(), info.dims(), t.name());
            byte[] data = t.data();
            assertEquals(data.length, info.byteSize(), t.name());
            assertEquals(-1L, MemorySegment.ofArray(data).mismatch(f.tensorData(info)), t.name());
        }
    }

    // ---- generators ---------------------------------------------------------------------------------------------

    @Provide
    Arbitrary<Optional<Integer>> alignment() {
        return Arbitraries.of(Arrays.stream(ALIGNMENTS).boxed().toList()).optional(0.8);
    }

    /**
     * Up to 12 entries with distinct keys. Keys start with "rt." so that none is a well-known key whose type the
     * reader enforces; what follows the dot is arbitrary Unicode.
     */
    @Provide
    Arbitrary<List<Entry>> metadata() {
        return Combinators.combine(unicode(10), value(0))
                .as((suffix, value) -> new Entry("rt." + suffix, value))
                .list().ofMaxSize(12).uniqueElements(Entry::key);
    }

    @Provide
    Arbitrary<List<RandomTensor>> tensors() {
        Arbitrary<RandomTensor> tensor = Arbitraries.of(GgmlType.values()).flatMap(type -> Combinators.combine(
                        unicode(12), dims(type), Arbitraries.longs())
                .as((name, dims, seed) -> new RandomTensor(name, type, dims, seed)));
        return tensor.list().ofMaxSize(6).uniqueElements(RandomTensor::name);
    }

    /** Rank 1 to 4; ne0 a whole number of blocks; now and then a zero extent, which makes an empty tensor. */
    private static Arbitrary<long[]> dims(GgmlType type) {
        Arbitrary<Long> extent = Arbitraries.frequencyOf(
                Tuple.of(9, Arbitraries.longs().between(1, 3)), Tuple.of(1, Arbitraries.just(0L)));
        return extent.list().ofMinSize(1).ofMaxSize(4).map(list -> {
            long[] dims = list.stream().mapToLong(Long::longValue).toArray();
            dims[0] *= type.blockSize();
            return dims;
        });
    }

    private static Arbitrary<GgufValue> value(int depth) {
        Arbitrary<GgufValue> scalar = Arbitraries.of(GgufValueType.values())
                .filter(t -> t != GgufValueType.ARRAY)
                .flatMap(t -> element(t, depth).map(v -> new GgufValue(t, v)));
        Arbitrary<GgufValue> array = array(depth).map(a -> new GgufValue(GgufValueType.ARRAY, a));
        return Arbitraries.frequencyOf(Tuple.of(3, scalar), Tuple.of(1, array));
    }

    /** An array of any element type, nested arrays included up to {@link #MAX_NESTING} levels; empty ones too. */
    private static Arbitrary<GgufValue.GgufArray> array(int depth) {
        return Arbitraries.of(GgufValueType.values())
                .filter(t -> t != GgufValueType.ARRAY || depth < MAX_NESTING)
                .flatMap(t -> element(t, depth).list().ofMaxSize(5)
                        .map(list -> new GgufValue.GgufArray(t, javaArray(t, list))));
    }

    /** One stored value of type {@code t}: the boxed Java value, a String, or a nested GgufArray. */
    private static Arbitrary<Object> element(GgufValueType t, int depth) {
        return switch (t) {
            case UINT8, INT8 -> Arbitraries.bytes().map(Object.class::cast);
            case UINT16, INT16 -> Arbitraries.shorts().map(Object.class::cast);
            case UINT32, INT32 -> Arbitraries.integers().map(Object.class::cast);
            case UINT64, INT64 -> Arbitraries.longs().map(Object.class::cast);
            case FLOAT32 -> Arbitraries.floats().withStandardSpecialValues().map(Object.class::cast);
            case FLOAT64 -> Arbitraries.doubles().withStandardSpecialValues().map(Object.class::cast);
            case BOOL -> Arbitraries.of(true, false).map(Object.class::cast);
            case STRING -> unicode(16).map(Object.class::cast);
            case ARRAY -> Arbitraries.lazy(() -> array(depth + 1)).map(Object.class::cast);
        };
    }

    private static Object javaArray(GgufValueType t, List<Object> list) {
        int n = list.size();
        return switch (t) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Byte) list.get(i);
                }
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Short) list.get(i);
                }
                yield a;
            }
            case UINT32, INT32 -> list.stream().mapToInt(Integer.class::cast).toArray();
            case UINT64, INT64 -> list.stream().mapToLong(Long.class::cast).toArray();
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Float) list.get(i);
                }
                yield a;
            }
            case FLOAT64 -> list.stream().mapToDouble(Double.class::cast).toArray();
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Boolean) list.get(i);
                }
                yield a;
            }
            case STRING -> list.toArray(String[]::new);
            case ARRAY -> list.toArray(GgufValue.GgufArray[]::new);
        };
    }

    /**
     * Well-formed Unicode of up to {@code maxCodePoints}: ASCII, NUL, accented and CJK letters, and astral-plane code
     * points that need surrogate pairs in Java and four bytes in UTF-8. Lone surrogates are excluded because UTF-8
     * cannot encode them, so no writer could store them.
     */
    private static Arbitrary<String> unicode(int maxCodePoints) {
        Arbitrary<Integer> codePoint = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.integers().between(0x20, 0x7E)),
                Tuple.of(1, Arbitraries.just(0)),
                Tuple.of(2, Arbitraries.integers().between(0x80, 0xD7FF)),
                Tuple.of(1, Arbitraries.integers().between(0xE000, 0xFFFF)),
                Tuple.of(2, Arbitraries.integers().between(0x10000, 0x10FFFF)));
        return codePoint.list().ofMaxSize(maxCodePoints).map(cps -> {
            StringBuilder sb = new StringBuilder();
            cps.forEach(sb::appendCodePoint);
            return sb.toString();
        });
    }
}

package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;

/**
 * Mutates the real model and vocab files (and a synthetic file using every value type) in the ways a corrupt or
 * hostile file would differ, and checks the one contract the reader has with untrusted input: a variant either opens
 * — and then every tensor slice and metadata accessor behaves — or is rejected with a {@link GgufFormatException}
 * naming an offset. Any other exception, or a case using more than a second of CPU (the hang guard), fails.
 *
 * <p>Variants are parsed from memory: each mutation patches the fixture's bytes in place and is undone after the
 * case, so ten thousand cases cost no disk I/O and no copies of megabyte files.
 */
class GgufFuzzTest {
    private static final Duration HANG_GUARD = Duration.ofSeconds(1);
    private static final long[] HUGE = {Long.MAX_VALUE, Long.MIN_VALUE, -1L, 1L << 62, 1L << 40, 1L << 32,
            0xFFFF_FFFFL, 1_000_000_000_000L, 0x8000_0000L};

    /**
     * A fixture file, the byte ranges worth mutating (the whole header, its start, its tensor infos) and its pristine
     * metadata. Identified by name: jqwik hashes generated values, and hashing megabytes of vocab per case would cost
     * more than parsing it.
     */
    record Fixture(String name, byte[] bytes, int headerEnd, int tensorInfoStart, Map<String, GgufValue> pristine) {
        @Override
        public String toString() {
            return name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Fixture f && f.name.equals(name);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }
    }

    /** Byte patches and a length to cut to; applied to the fixture for one case and then undone. */
    record Variant(Fixture fixture, List<Patch> patches, int length) {
        @Override
        public String toString() {
            return fixture + " " + patches + " cut to " + length + " of " + fixture.bytes().length;
        }
    }

    record Patch(int at, byte[] bytes) {
        @Override
        public String toString() {
            return "@" + at + "=" + HexFormat.of().formatHex(bytes);
        }
    }

    // ---- properties: 3000 + 3000 + 2000 + 1500 + 1000 = 10,500 cases -------------------------------------------
    // jqwik's edge cases are off: the interesting offsets (file start, header end, tensor infos) are drawn on purpose
    // by the generators, and jqwik's combined edge cases of these generators cost more time than they find bugs.

    @Property(tries = 3000, generation = GenerationMode.RANDOMIZED, edgeCases = EdgeCasesMode.NONE,
            shrinking = ShrinkingMode.BOUNDED)
    void byteFlipsInTheHeader(@ForAll("byteFlips") Variant v) {
        openOrReject(v);
    }

    @Property(tries = 3000, generation = GenerationMode.RANDOMIZED, edgeCases = EdgeCasesMode.NONE,
            shrinking = ShrinkingMode.BOUNDED)
    void hugeU64sOverwrittenInTheHeader(@ForAll("hugeU64s") Variant v) {
        openOrReject(v);
    }

    @Property(tries = 2000, generation = GenerationMode.RANDOMIZED, edgeCases = EdgeCasesMode.NONE,
            shrinking = ShrinkingMode.BOUNDED)
    void truncatedAnywhere(@ForAll("truncations") Variant v) {
        openOrReject(v);
    }

    @Property(tries = 1500, generation = GenerationMode.RANDOMIZED, edgeCases = EdgeCasesMode.NONE,
            shrinking = ShrinkingMode.BOUNDED)
    void flippedAndTruncated(@ForAll("flippedAndTruncated") Variant v) {
        openOrReject(v);
    }

    @Property(tries = 1000, generation = GenerationMode.RANDOMIZED, edgeCases = EdgeCasesMode.NONE,
            shrinking = ShrinkingMode.BOUNDED)
    void smallRandomFiles(@ForAll("smallFiles") byte[] file) {
        check("random.gguf", MemorySegment.ofArray(file), Map.of());
    }

    // ---- generators ---------------------------------------------------------------------------------------------

    // Generators draw raw numbers and reduce them into the chosen fixture's ranges when mapping, rather than
    // flat-mapping a new generator per fixture: jqwik memoizes generators by equality, and thousands of fresh ones
    // made that lookup cost more than parsing.

    @Provide
    Arbitrary<Variant> byteFlips() {
        return Combinators.combine(fixtures(), flips())
                .as((f, flips) -> new Variant(f, patches(f, flips, 1), f.bytes().length));
    }

    @Provide
    Arbitrary<Variant> hugeU64s() {
        Arbitrary<Long> values = Arbitraries.oneOf(Arbitraries.of(toBoxed(HUGE)), Arbitraries.longs());
        Arbitrary<List<Spot>> overwrites = Combinators.combine(spots(), values)
                .as((spot, value) -> new Spot(spot.region(), spot.raw(), le64(value)))
                .list().ofMinSize(1).ofMaxSize(3);
        return Combinators.combine(fixtures(), overwrites)
                .as((f, spots) -> new Variant(f, patches(f, spots, 8), f.bytes().length));
    }

    /** Three cuts in four inside the header, where every field is; the rest anywhere, mostly in tensor data. */
    @Provide
    Arbitrary<Variant> truncations() {
        Arbitrary<Boolean> inHeader = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(true)),
                Tuple.of(1, Arbitraries.just(false)));
        return Combinators.combine(fixtures(), inHeader, Arbitraries.integers().greaterOrEqual(0))
                .as((f, header, raw) -> new Variant(f, List.of(),
                        header ? raw % (f.headerEnd() + 1) : raw % f.bytes().length));
    }

    @Provide
    Arbitrary<Variant> flippedAndTruncated() {
        return Combinators.combine(fixtures(), flips(), Arbitraries.integers().greaterOrEqual(0))
                .as((f, flips, raw) -> new Variant(f, patches(f, flips, 1), raw % (f.headerEnd() + 1)));
    }

    /** One to eight single-byte overwrites. */
    private static Arbitrary<List<Spot>> flips() {
        return Combinators.combine(spots(), Arbitraries.bytes())
                .as((spot, b) -> new Spot(spot.region(), spot.raw(), new byte[] {b}))
                .list().ofMinSize(1).ofMaxSize(8);
    }

    /** Where in the header a patch goes: anywhere, its first 256 bytes, or its tensor infos; then a raw number. */
    private static Arbitrary<Spot> spots() {
        Arbitrary<Region> region = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(Region.HEADER)),
                Tuple.of(1, Arbitraries.just(Region.START)), Tuple.of(1, Arbitraries.just(Region.TENSOR_INFOS)));
        return Combinators.combine(region, Arbitraries.integers().greaterOrEqual(0))
                .as((r, raw) -> new Spot(r, raw, new byte[0]));
    }

    private enum Region { HEADER, START, TENSOR_INFOS }

    /** A patch as drawn, before it is placed in a particular fixture. */
    record Spot(Region region, int raw, byte[] bytes) {}

    /** Places each spot's bytes at an offset in its region of {@code f} where {@code width} bytes fit. */
    private static List<Patch> patches(Fixture f, List<Spot> spots, int width) {
        int last = f.headerEnd() - width;
        return spots.stream().map(s -> {
            int lo = s.region() == Region.TENSOR_INFOS ? Math.min(f.tensorInfoStart(), last) : 0;
            int hi = s.region() == Region.START ? Math.min(last, 256) : last;
            return new Patch(lo + s.raw() % (hi - lo + 1), s.bytes());
        }).toList();
    }

    /** Raw noise, and noise after a valid magic, version and small counts built from plausible header pieces. */
    @Provide
    Arbitrary<byte[]> smallFiles() {
        Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<byte[]> piece = Arbitraries.oneOf(
                Arbitraries.longs().between(0, 40).map(GgufFuzzTest::le64),
                Arbitraries.integers().between(0, 13).map(t -> Arrays.copyOf(le64(t), 4)),
                Arbitraries.strings().ofMaxLength(6).map(s -> new RawGguf().str(s).build()),
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(8));
        Arbitrary<byte[]> structured = Combinators.combine(
                        Arbitraries.of(2, 3), Arbitraries.longs().between(0, 3), Arbitraries.longs().between(0, 6),
                        piece.list().ofMaxSize(40))
                .as((version, tensors, kvs, pieces) -> {
                    RawGguf b = RawGguf.header(version, tensors, kvs);
                    pieces.forEach(b::bytes);
                    return b.build();
                });
        return Arbitraries.oneOf(noise, structured);
    }

    /**
     * Mostly the small model files, whose headers parse in microseconds; the megabyte vocab headers, whose value is
     * their long string arrays, in about one case in thirteen.
     */
    private static Arbitrary<Fixture> fixtures() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(Fixtures.SYNTHETIC.get())),
                Tuple.of(8, Arbitraries.just(Fixtures.STORIES.get())),
                Tuple.of(8, Arbitraries.just(Fixtures.TINY_Q8.get())),
                Tuple.of(1, Arbitraries.just(Fixtures.VOCAB_SPM.get())),
                Tuple.of(1, Arbitraries.just(Fixtures.VOCAB_GPT2.get())));
    }

    // ---- the contract -------------------------------------------------------------------------------------------

    private static void openOrReject(Variant v) {
        byte[] bytes = v.fixture().bytes();
        List<Patch> undo = new ArrayList<>();
        for (Patch p : v.patches()) {
            undo.add(new Patch(p.at(), Arrays.copyOfRange(bytes, p.at(), p.at() + p.bytes().length)));
            System.arraycopy(p.bytes(), 0, bytes, p.at(), p.bytes().length);
        }
        try {
            check(v.fixture().name(), MemorySegment.ofArray(bytes).asSlice(0, v.length()), v.fixture().pristine());
        } finally {
            for (int i = undo.size() - 1; i >= 0; i--) {
                Patch p = undo.get(i);
                System.arraycopy(p.bytes(), 0, bytes, p.at(), p.bytes().length);
            }
        }
    }

    /**
     * Opens the variant on the guard thread. Values equal to the pristine file's were swept through every accessor
     * when the fixture was loaded, so only changed ones are swept again; that keeps a case in the microseconds.
     */
    private static void check(String name, MemorySegment contents, Map<String, GgufValue> pristine) {
        HangGuard.run(() -> {
            GgufFile f;
            try {
                f = GgufFile.open(Path.of(name), contents);
            } catch (GgufFormatException e) {
                assertTrue(e.getMessage().startsWith(name + ": ") && e.getMessage().contains("offset"),
                        e.getMessage());
                return;
            }
            try (f) {
                exercise(f, pristine);
            }
        });
    }

    /** Everything a caller may do with an opened file must work or fail with a typed, named error. */
    private static void exercise(GgufFile f, Map<String, GgufValue> alreadyChecked) {
        assertTrue(f.version() == 2 || f.version() == 3);
        assertTrue(Long.bitCount(f.alignment()) == 1);
        for (TensorInfo t : f.tensors()) {
            MemorySegment data = f.tensorData(t);
            assertEquals(t.byteSize(), data.byteSize());
            assertEquals(t.type().byteSize(t.elementCount()), t.byteSize());
            assertTrue(f.dataOffset() + t.offset() + t.byteSize() <= f.fileSize(), t.toString());
            assertTrue(data.isReadOnly());
            if (data.byteSize() > 0) {
                data.get(ValueLayout.JAVA_BYTE, 0);
                data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
            }
            assertSame(t, f.tensor(t.name()));
        }
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            String key = e.getKey();
            GgufValue v = e.getValue();
            assertTrue(f.has(key));
            if (v.equals(alreadyChecked.get(key))) {
                continue;
            }
            v.display(3);
            Long asLong = v.asLong();
            if (asLong != null) {
                assertEquals(asLong.longValue(), f.getLong(key));
            }
            switch (v.type()) {
                case STRING -> assertEquals(v.value(), f.getString(key));
                case BOOL -> assertEquals(v.value(), f.getBool(key));
                case FLOAT32 -> assertEquals(v.value(), f.getFloat(key));
                case ARRAY -> assertEquals(((GgufValue.GgufArray) v.value()).length(), f.array(key).length());
                default -> { }
            }
            if (v.value() instanceof GgufValue.GgufArray a && a.elementType() == GgufValueType.STRING) {
                assertArrayEquals(((GgufStrings) a.values()).toArray(), f.getStringArray(key));
            }
            for (Supplier<Object> accessor : List.<Supplier<Object>>of(
                    () -> f.getString(key), () -> f.getInt(key), () -> f.getLong(key), () -> f.getFloat(key),
                    () -> f.getBool(key), () -> f.getStringArray(key), () -> f.getFloatArray(key),
                    () -> f.getIntArray(key), () -> f.array(key), () -> f.getInt(key, 7),
                    () -> f.getString(key, "default"))) {
                try {
                    accessor.get();
                } catch (GgufFormatException mistyped) {
                    assertTrue(mistyped.getMessage().contains("'" + key + "'"), mistyped.getMessage());
                }
            }
        }
        assertEquals("fallback", f.getString("no such key \u0000", "fallback"));
    }

    /**
     * Runs each case on one reusable daemon thread and fails it once it has used {@link #HANG_GUARD} of CPU time: a
     * looping parser fails its case instead of hanging the build, without the cost of a new thread per case. CPU time
     * rather than the clock, because on shared cores a case can wait longer for a core than it takes to run; a case
     * blocked without using CPU is caught by the much longer wall-clock limit.
     */
    private static final class HangGuard {
        private static final Duration WALL_LIMIT = Duration.ofSeconds(30);
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private static final boolean CPU_TIMED = THREADS.isThreadCpuTimeSupported()
                && THREADS.isThreadCpuTimeEnabled();
        private static ExecutorService worker = newWorker();
        /** The worker thread running the current case, and its CPU time when the case began. */
        private static volatile Thread caseThread;
        private static volatile long caseStartCpu;

        static synchronized void run(Runnable body) {
            caseThread = null;
            Future<?> result = worker.submit(() -> {
                caseStartCpu = CPU_TIMED ? THREADS.getCurrentThreadCpuTime() : 0;
                caseThread = Thread.currentThread();
                body.run();
            });
            long startWall = System.nanoTime();
            try {
                while (true) {
                    try {
                        result.get(50, TimeUnit.MILLISECONDS);
                        return;
                    } catch (TimeoutException stillRunning) {
                        long wall = System.nanoTime() - startWall;
                        Thread t = caseThread;
                        long used = !CPU_TIMED ? wall
                                : t == null ? 0 : THREADS.getThreadCpuTime(t.threadId()) - caseStartCpu;
                        if (used > HANG_GUARD.toNanos() || wall > WALL_LIMIT.toNanos()) {
                            result.cancel(true);
                            worker.shutdownNow();
                            worker = newWorker(); // the stuck thread is abandoned; later cases get a fresh one
                            fail("case still running after " + used / 1_000_000 + " ms of " + (CPU_TIMED ? "CPU"
                                    : "wall-clock") + " time (" + wall / 1_000_000 + " ms on the clock)");
                        }
                    }
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Error error) {
                    throw error; // assertion failures keep their message
                }
                throw new AssertionError("unexpected exception: " + e.getCause(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        private static ExecutorService newWorker() {
            return Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "gguf-fuzz-case");
                t.setDaemon(true);
                return t;
            });
        }
    }

    // ---- fixtures -----------------------------------------------------------------------------------------------

    /** Loaded on first use, so that a missing shared file skips (or, in CI, fails) only the properties using it. */
    private enum Fixtures {
        SYNTHETIC(() -> fixture("synthetic-every-type", SyntheticGguf.bytes(SyntheticGguf.everyType()))),
        STORIES(() -> fixture("models/stories260K.gguf")),
        TINY_Q8(() -> fixture("models/TinyStories-656K-Q8_0.gguf")),
        VOCAB_SPM(() -> fixture("models/tokenizer-tests/ggml-vocab-llama-spm.gguf")),
        VOCAB_GPT2(() -> fixture("models/tokenizer-tests/ggml-vocab-gpt-2.gguf"));

        private final Supplier<Fixture> loader;
        private Fixture loaded;

        Fixtures(Supplier<Fixture> loader) {
            this.loader = loader;
        }

        synchronized Fixture get() {
            if (loaded == null) {
                loaded = loader.get();
            }
            return loaded;
        }
    }

    private static Fixture fixture(String sharedPath) {
        try {
            return fixture(sharedPath, Files.readAllBytes(TestData.require(sharedPath)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the pristine bytes once to find the header's extent and where its tensor infos start. */
    private static Fixture fixture(String name, byte[] bytes) {
        try (GgufFile f = GgufFile.open(Path.of(name), MemorySegment.ofArray(bytes))) {
            exercise(f, Map.of());
            int headerEnd = (int) Math.min(f.dataOffset(), bytes.length);
            int tensorInfoStart = headerEnd;
            if (!f.tensors().isEmpty()) {
                // The first info starts with its name's u64 length, then the name.
                byte[] first = new RawGguf().str(f.tensors().getFirst().name()).build();
                tensorInfoStart = indexOf(bytes, first, headerEnd);
            }
            return new Fixture(name, bytes, headerEnd, tensorInfoStart, f.metadata());
        }
    }

    /** The last occurrence before {@code end}: tensor infos follow all metadata, which may repeat the name. */
    private static int indexOf(byte[] haystack, byte[] needle, int end) {
        for (int i = end - needle.length; i >= 0; i--) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new IllegalStateException("tensor info not found");
    }

    private static byte[] le64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    private static Long[] toBoxed(long[] values) {
        return Arrays.stream(values).boxed().toArray(Long[]::new);
    }
}

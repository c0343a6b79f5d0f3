package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One hand-built hostile file per way a GGUF header can lie. Each must be rejected with a {@link GgufFormatException}
 * whose message names the file, the field and the byte offset of the field, without allocating more than the file's
 * size. The class-wide timeout is a hang guard only: a correct parser rejects each of these in microseconds.
 */
@Timeout(value = 1, unit = TimeUnit.SECONDS)
class HostileInputTest {
    private static final Path LABEL = Path.of("hostile.gguf");
    private static final long TERA = 1_000_000_000_000L;
    /** Exception, stack trace and message: the fixed cost of a rejection, independent of any claimed size. */
    private static final long ALLOCATION_SLACK = 64 * 1024;
    private static final Pattern OFFSET = Pattern.compile("\\(at byte offset (\\d+)\\)$");

    // ---- the valid file every hostile variant departs from -----------------------------------------------------

    /** Two kv pairs, two F32 tensors of 32 bytes each at data offsets 0 and 32. */
    private static RawGguf validHeader() {
        return RawGguf.header(3, 2, 2)
                .kvString("general.architecture", "llama")
                .kvU32("llama.block_count", 1)
                .tensor("a", GgmlType.F32, 0, 4, 2)
                .tensor("b", GgmlType.F32, 32, 8);
    }

    /**
     * Class loading, string-concatenation and lambda linkage happen once per JVM and can take longer than a case may;
     * doing them here, outside the per-case guard, keeps the guard about the parser.
     */
    @BeforeAll
    static void warmUp() {
        open(richFile()).close();
        rejectQuietly(RawGguf.header(1, 0, 0).build());
        rejectQuietly(Arrays.copyOf(richFile(), 100));
        ManagementFactory.getThreadMXBean();
    }

    @Test
    void theBaselineFileOpens() {
        byte[] file = validHeader().pad(32).zeros(64).build();
        try (GgufFile f = open(file)) {
            assertEquals(2, f.tensors().size());
            assertEquals(1, f.getInt("llama.block_count"));
            assertEquals(32, f.tensorData("b").byteSize());
            assertArrayEquals(new long[] {4, 2}, f.tensor("a").dims());
        }
    }

    // ---- magic and version -------------------------------------------------------------------------------------

    @Test
    void badMagic() {
        byte[] file = validHeader().pad(32).zeros(64).build();
        file[3] = 'L'; // "GGUL"
        rejected(file, 0, "magic");
    }

    @Test
    void fileShorterThanTheMagic() {
        rejected("GG".getBytes(StandardCharsets.US_ASCII), 0, "magic");
        rejected(new byte[0], 0, "magic");
    }

    @Test
    void versionOneIsRejectedClearly() {
        rejected(RawGguf.header(1, 0, 0).build(), 4, "version is 1", "GGUF v1 is not supported");
    }

    @Test
    void unknownAndBigEndianVersions() {
        rejected(RawGguf.header(4, 0, 0).build(), 4, "version is 4");
        rejected(RawGguf.header(0x03000000, 0, 0).build(), 4, "version", "big-endian");
    }

    // ---- absurd counts and lengths ------------------------------------------------------------------------------

    @Test
    void twoToTheSixtyThreeTensors() {
        rejected(RawGguf.header(3, Long.MIN_VALUE, 0).zeros(64).build(), 8, "tensor_count",
                "9223372036854775808");
        rejected(RawGguf.header(3, -1L, 0).zeros(64).build(), 8, "tensor_count", "18446744073709551615");
    }

    @Test
    void moreTensorsThanTheFileCouldDescribe() {
        // 100 tensor infos need at least 2400 bytes; the file has 64 after the counts.
        rejected(RawGguf.header(3, 100, 0).zeros(64).build(), 8, "tensor_count", "100");
    }

    @Test
    void absurdMetadataCount() {
        rejected(RawGguf.header(3, 0, 1L << 40).zeros(64).build(), 16, "metadata_kv_count");
    }

    @Test
    void teraByteKey() {
        byte[] file = RawGguf.header(3, 0, 1).u64(TERA).bytes("general.name".getBytes(StandardCharsets.UTF_8))
                .build();
        rejected(file, 24, "key of metadata entry 0", "1000000000000");
    }

    @Test
    void teraByteStringValue() {
        RawGguf b = RawGguf.header(3, 0, 1).key("general.name", GgufValueType.STRING);
        int at = b.mark();
        rejected(b.u64(TERA).bytes(new byte[16]).build(), at, "value of 'general.name'", "1000000000000");
    }

    @Test
    void teraByteTensorName() {
        rejected(RawGguf.header(3, 1, 0).u64(TERA).zeros(32).build(), 24, "name of tensor 0", "1000000000000");
    }

    @Test
    void absurdArrayLengths() {
        for (GgufValueType element : GgufValueType.values()) {
            RawGguf b = RawGguf.header(3, 0, 1).key("test.array", GgufValueType.ARRAY).u32(element.id());
            int at = b.mark();
            rejected(b.u64(1L << 62).zeros(64).build(), at, "array length of 'test.array'");
        }
    }

    @Test
    void absurdLengthInsideANestedArray() {
        RawGguf b = RawGguf.header(3, 0, 1).key("test.nested", GgufValueType.ARRAY)
                .u32(GgufValueType.ARRAY.id()).u64(2)
                .u32(GgufValueType.UINT8.id()).u64(1).u8(7) // element 0: a proper [7]
                .u32(GgufValueType.INT32.id());
        int at = b.mark();
        rejected(b.u64(Long.MAX_VALUE).zeros(32).build(), at, "array length of 'test.nested[1]'");
    }

    @Test
    void teraByteStringInsideAStringArray() {
        RawGguf b = RawGguf.header(3, 0, 1).key("tokenizer.ggml.tokens", GgufValueType.ARRAY)
                .u32(GgufValueType.STRING.id()).u64(3).str("a");
        int at = b.mark();
        rejected(b.u64(TERA).zeros(32).build(), at, "element 1 of 'tokenizer.ggml.tokens'");
    }

    @Test
    void arraysNestedTooDeep() {
        RawGguf b = RawGguf.header(3, 0, 1).key("test.deep", GgufValueType.ARRAY);
        int at = 0;
        for (int depth = 0; depth <= 8; depth++) {
            at = b.mark();
            b.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        // The ninth level, an array inside eight others, is where the depth limit is hit.
        rejected(b.zeros(32).build(), at, "nested deeper", "test.deep[0][0][0][0][0][0][0][0]'");
    }

    @Test
    void nestedArraysEachClaimingTheWholeFileCostOnlyWhatIsRead() {
        // Eight nested arrays, each claiming as many elements as the bytes after it could hold, over 1 MiB of filler.
        // Allocating each claim up front would take several times the file's size before the bad string is reached.
        int filler = 1 << 20;
        RawGguf b = RawGguf.header(3, 0, 1).key("test.n", GgufValueType.ARRAY);
        long total = b.mark() + 8 * 12 + 8 + filler;
        for (int depth = 0; depth < 8; depth++) {
            GgufValueType element = depth < 7 ? GgufValueType.ARRAY : GgufValueType.STRING;
            long remaining = total - (b.mark() + 12);
            b.u32(element.id()).u64(remaining / element.minBytes());
        }
        int at = b.mark();
        byte[] file = b.u64(TERA).zeros(filler).build();
        assertEquals(total, file.length);
        rejected(file, at, "length of element 0 of 'test.n[0][0][0][0][0][0][0]'");
    }

    // ---- dimensions ---------------------------------------------------------------------------------------------

    @Test
    void negativeDimension() {
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(2).u64(4);
        int at = b.mark();
        byte[] file = b.u64(-1L).u32(GgmlType.F32.id()).u64(0).pad(32).zeros(64).build();
        rejected(file, at, "ne[1] of tensor 'w'", "18446744073709551615");
    }

    @Test
    void dimensionsWhoseProductOverflowsALong() {
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(3).u64(1L << 32).u64(1L << 20);
        int at = b.mark();
        byte[] file = b.u64(1L << 20).u32(GgmlType.F32.id()).u64(0).pad(32).zeros(64).build();
        rejected(file, at, "ne[2] of tensor 'w'", "overflow");
    }

    @Test
    void elementCountWhoseByteSizeOverflowsALong() {
        // 2^62 elements fit a long; at 4 bytes each they do not.
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(1).u64(1L << 62);
        int at = b.mark();
        byte[] file = b.u32(GgmlType.F32.id()).u64(0).pad(32).zeros(64).build();
        rejected(file, at, "type of tensor 'w'", "overflow");
    }

    @Test
    void dimensionCountOutOfRange() {
        rejected(RawGguf.header(3, 1, 0).str("w").u32(5).zeros(64).build(), 33, "n_dims of tensor 'w'", "5");
        rejected(RawGguf.header(3, 1, 0).str("w").u32(0).zeros(64).build(), 33, "n_dims of tensor 'w'", "0");
        rejected(RawGguf.header(3, 1, 0).str("w").u32(-1).zeros(64).build(), 33, "n_dims of tensor 'w'");
    }

    @Test
    void unknownTensorType() {
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(1).u64(32);
        int at = b.mark();
        rejected(b.u32(4).u64(0).pad(32).zeros(64).build(), at, "type of tensor 'w'", "unknown ggml type id 4");
    }

    @Test
    void rowLengthNotAWholeNumberOfBlocks() {
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(2).u64(33).u64(1);
        int at = b.mark();
        rejected(b.u32(GgmlType.Q8_0.id()).u64(0).pad(32).zeros(64).build(), at, "type of tensor 'w'", "ne[0] = 33");
    }

    // ---- tensor extents -----------------------------------------------------------------------------------------

    @Test
    void tensorDataPastTheEndOfTheFile() {
        RawGguf b = RawGguf.header(3, 2, 0).tensor("a", GgmlType.F32, 0, 8).str("b").u32(1).u64(8)
                .u32(GgmlType.F32.id());
        int at = b.mark();
        // "b" claims [32, 64) but the data region holds 40 bytes.
        rejected(b.u64(32).pad(32).zeros(40).build(), at, "data offset of tensor 'b'", "past the end");
    }

    @Test
    void tensorOffsetFarBeyondAnyFile() {
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(1).u64(8).u32(GgmlType.F32.id());
        int at = b.mark();
        rejected(b.u64(1L << 62).pad(32).zeros(32).build(), at, "data offset of tensor 'w'", "past the end");
        RawGguf c = RawGguf.header(3, 1, 0).str("w").u32(1).u64(8).u32(GgmlType.F32.id());
        rejected(c.u64(Long.MIN_VALUE).pad(32).zeros(32).build(), at, "data offset of tensor 'w'",
                "9223372036854775808");
    }

    @Test
    void misalignedTensorOffset() {
        RawGguf b = RawGguf.header(3, 1, 0).str("w").u32(1).u64(8).u32(GgmlType.F32.id());
        int at = b.mark();
        rejected(b.u64(4).pad(32).zeros(64).build(), at, "data offset of tensor 'w'", "alignment 32");
    }

    @Test
    void overlappingTensors() {
        RawGguf b = RawGguf.header(3, 2, 0).tensor("a", GgmlType.F32, 0, 16).str("b").u32(1).u64(8)
                .u32(GgmlType.F32.id());
        int at = b.mark();
        // "a" is [0, 64), "b" starts at 32.
        rejected(b.u64(32).pad(32).zeros(96).build(), at, "data offset of tensor 'b'", "overlaps tensor 'a'");
    }

    @Test
    void tensorsSharingOneOffset() {
        RawGguf b = RawGguf.header(3, 2, 0).tensor("a", GgmlType.F32, 0, 8).str("b").u32(1).u64(8)
                .u32(GgmlType.F32.id());
        int at = b.mark();
        rejected(b.u64(0).pad(32).zeros(64).build(), at, "data offset of tensor 'b'", "overlaps tensor 'a'");
    }

    @Test
    void emptyTensorsOverlapNothing() {
        // ggml allows zero-sized dimensions; such a tensor owns no bytes, so its offset may coincide with another's.
        byte[] file = RawGguf.header(3, 2, 0).tensor("a", GgmlType.F32, 0, 8).tensor("empty", GgmlType.F32, 0, 0, 5)
                .pad(32).zeros(32).build();
        try (GgufFile f = open(file)) {
            assertEquals(0, f.tensorData("empty").byteSize());
            assertEquals(32, f.tensorData("a").byteSize());
        }
    }

    // ---- metadata types -----------------------------------------------------------------------------------------

    @Test
    void knownKeysWithTheWrongType() {
        RawGguf b = RawGguf.header(3, 0, 2).kvString("general.architecture", "llama").str("llama.block_count");
        int at = b.mark();
        rejected(b.u32(GgufValueType.STRING.id()).str("five").build(), at, "'llama.block_count'", "string");

        RawGguf c = RawGguf.header(3, 0, 1).str("general.alignment");
        rejected(c.u32(GgufValueType.FLOAT32.id()).f32(32f).build(), 24 + 8 + 17, "'general.alignment'", "float32");

        RawGguf d = RawGguf.header(3, 0, 1).str("tokenizer.ggml.tokens");
        int dAt = d.mark();
        byte[] file = d.u32(GgufValueType.ARRAY.id()).u32(GgufValueType.UINT32.id()).u64(1).u32(5).build();
        rejected(file, dAt, "'tokenizer.ggml.tokens'", "array of uint32");

        RawGguf e = RawGguf.header(3, 0, 1).str("tokenizer.ggml.add_bos_token");
        int eAt = e.mark();
        rejected(e.u32(GgufValueType.UINT8.id()).u8(1).build(), eAt, "'tokenizer.ggml.add_bos_token'", "bool");
    }

    @Test
    void alignmentThatIsNotAPowerOfTwo() {
        for (int alignment : new int[] {0, 48, -1}) {
            RawGguf b = RawGguf.header(3, 0, 1).key("general.alignment", GgufValueType.UINT32);
            int at = b.mark();
            rejected(b.u32(alignment).build(), at, "general.alignment", Integer.toUnsignedString(alignment));
        }
    }

    @Test
    void unknownValueType() {
        RawGguf b = RawGguf.header(3, 0, 1).str("test.key");
        int at = b.mark();
        rejected(b.u32(13).u64(0).build(), at, "value type of 'test.key'", "13");
    }

    @Test
    void boolThatIsNeitherZeroNorOne() {
        RawGguf b = RawGguf.header(3, 0, 1).key("test.flag", GgufValueType.BOOL);
        int at = b.mark();
        rejected(b.u8(2).build(), at, "bool 'test.flag'", "2");
    }

    @Test
    void duplicateKeysAndTensorNames() {
        RawGguf b = RawGguf.header(3, 0, 2).kvU32("test.k", 1);
        int at = b.mark();
        rejected(b.kvU32("test.k", 2).build(), at, "duplicate metadata key 'test.k'");

        RawGguf c = RawGguf.header(3, 2, 0).tensor("w", GgmlType.F32, 0, 8);
        int cAt = c.mark();
        rejected(c.tensor("w", GgmlType.F32, 32, 8).pad(32).zeros(64).build(), cAt, "duplicate tensor name 'w'");
    }

    // ---- truncation ---------------------------------------------------------------------------------------------

    /** A file touching every parser path: scalars of each type, arrays incl. strings and nesting, padded tensors. */
    private static byte[] richFile() {
        return RawGguf.header(3, 2, 6)
                .kvString("general.architecture", "llama")
                .key("test.f64", GgufValueType.FLOAT64).u64(Double.doubleToRawLongBits(0.5))
                .key("test.bool", GgufValueType.BOOL).u8(1)
                .key("test.u16", GgufValueType.UINT16).u8(1).u8(2)
                .key("tokenizer.ggml.tokens", GgufValueType.ARRAY).u32(GgufValueType.STRING.id()).u64(2)
                .str("<s>").str("é")
                .key("test.nested", GgufValueType.ARRAY).u32(GgufValueType.ARRAY.id()).u64(1)
                .u32(GgufValueType.FLOAT32.id()).u64(2).f32(1f).f32(2f)
                .tensor("a", GgmlType.Q8_0, 0, 32, 2)
                .tensor("b", GgmlType.F32, 96, 3)
                .pad(32).zeros(96 + 12).build();
    }

    @Test
    void theRichFileOpens() {
        try (GgufFile f = open(richFile())) {
            assertArrayEquals(new String[] {"<s>", "é"}, f.getStringArray("tokenizer.ggml.tokens"));
            assertEquals(68, f.tensorData("a").byteSize());
            assertEquals(12, f.tensorData("b").byteSize());
        }
    }

    static IntStream everyCutOfTheRichFile() {
        return IntStream.range(0, richFile().length);
    }

    /** One case per cut, each under the class's hang guard. */
    @ParameterizedTest(name = "cut at {0}")
    @MethodSource("everyCutOfTheRichFile")
    void truncationAnywhereIsRejected(int cut) {
        byte[] file = Arrays.copyOf(richFile(), cut);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> open(file).close());
        assertTrue(e.getMessage().startsWith(LABEL + ": "), e.getMessage());
        long offset = reportedOffset(e);
        assertTrue(offset <= cut, "reported offset " + offset + " lies past the cut: " + e.getMessage());
        assertAllocatesAtMostTheFileSize(file);
    }

    @Test
    void truncationNamesTheFieldItCut() {
        // Early cuts trip the counts, which must fit the bytes left; these files claim one entry, so the cut is met
        // at the field itself.
        RawGguf f64 = RawGguf.header(3, 0, 1).key("test.f64", GgufValueType.FLOAT64);
        int f64At = f64.mark();
        rejected(f64.u8(0).u8(0).u8(0).build(), f64At, "truncated: test.f64 needs 8 bytes but 3 remain");
        RawGguf tokens = RawGguf.header(3, 0, 1).key("tokenizer.ggml.tokens", GgufValueType.ARRAY)
                .u32(GgufValueType.STRING.id()).u64(2).str("<s>");
        int tokensAt = tokens.mark();
        rejected(tokens.u64(1).build(), tokensAt, "length of element 1 of 'tokenizer.ggml.tokens'");
        byte[] whole = richFile();
        // Cut inside the tensor data: the message names the tensor whose data is missing.
        rejected(Arrays.copyOf(whole, whole.length - 1), -1, "data offset of tensor 'b'", "past the end");
    }

    @Test
    void truncatedFileOnDiskNamesThePath(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("cut.gguf");
        byte[] whole = richFile();
        Files.write(p, Arrays.copyOf(whole, whole.length / 2));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("offset"), e.getMessage());

        Path empty = dir.resolve("empty.gguf");
        Files.write(empty, new byte[0]);
        GgufFormatException e2 = assertThrows(GgufFormatException.class, () -> GgufFile.open(empty));
        assertTrue(e2.getMessage().contains("magic") && e2.getMessage().contains("offset 0"), e2.getMessage());
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static GgufFile open(byte[] file) {
        return GgufFile.open(LABEL, MemorySegment.ofArray(file));
    }

    /**
     * Asserts the file is rejected with a message that names the file, contains every fragment, and reports
     * {@code offset} (any offset when negative); and that rejecting it allocates no more than the file's size.
     */
    private static void rejected(byte[] file, long offset, String... fragments) {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> open(file).close());
        String msg = e.getMessage();
        assertTrue(msg.startsWith(LABEL + ": "), msg);
        for (String f : fragments) {
            assertTrue(msg.contains(f), () -> "expected '" + f + "' in: " + msg);
        }
        long reported = reportedOffset(e);
        if (offset >= 0) {
            assertEquals(offset, reported, msg);
        }
        assertAllocatesAtMostTheFileSize(file);
    }

    private static long reportedOffset(GgufFormatException e) {
        Matcher m = OFFSET.matcher(e.getMessage());
        assertTrue(m.find(), "no offset in: " + e.getMessage());
        return Long.parseLong(m.group(1));
    }

    /** Measures the second rejection, so that one-time class loading and lambda linkage are not counted. */
    private static void assertAllocatesAtMostTheFileSize(byte[] file) {
        boolean measurable = ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx
                && mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled();
        assumeTrue(measurable, "this JVM cannot measure per-thread allocation");
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        rejectQuietly(file);
        long before = mx.getCurrentThreadAllocatedBytes();
        rejectQuietly(file);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated <= file.length + ALLOCATION_SLACK,
                "rejecting a " + file.length + "-byte file allocated " + allocated + " bytes");
    }

    private static void rejectQuietly(byte[] file) {
        try {
            open(file).close();
        } catch (GgufFormatException expected) {
            return;
        }
        throw new AssertionError("file was accepted");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}

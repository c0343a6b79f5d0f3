package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GgufFile#releaseResidentPages()}: the file's pages leave this process's resident set (read back from
 * {@code /proc/self/pagemap}, whose "present" bit any process may read for itself), and every byte reads the same
 * afterwards.
 */
class ResidentPagesTest {
    private static final int PAGE = 4096;
    private static final Path PAGEMAP = Path.of("/proc/self/pagemap");

    @TempDir
    Path dir;

    /** Pages of {@code s} mapped in this process, by its page-table entries. */
    private static int residentPages(MemorySegment s) throws IOException {
        long first = s.address() / PAGE;
        int pages = (int) ((s.address() + s.byteSize() - 1) / PAGE - first + 1);
        byte[] entries = new byte[8 * pages];
        try (RandomAccessFile pagemap = new RandomAccessFile(PAGEMAP.toFile(), "r")) {
            pagemap.seek(8 * first);
            pagemap.readFully(entries);
        }
        ByteBuffer b = ByteBuffer.wrap(entries).order(ByteOrder.nativeOrder());
        int present = 0;
        for (int i = 0; i < pages; i++) {
            present += (int) (b.getLong(8 * i) >>> 63);
        }
        return present;
    }

    private static long sum(MemorySegment s) {
        long sum = 0;
        for (long i = 0; i < s.byteSize(); i += 8) {
            sum = 31 * sum + s.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return sum;
    }

    @Test
    void releasedPagesLeaveTheResidentSetAndReadTheSameAfterwards() throws IOException {
        assumeTrue(Files.isReadable(PAGEMAP), "needs Linux's /proc/self/pagemap");
        float[] values = new float[1 << 20]; // 4 MiB of tensor data, so the mapping spans many pages
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 7;
        }
        Path path = dir.resolve("big.gguf");
        new GgufWriter().putString("general.architecture", "llama").addTensor("t", new long[] {1024, 1024}, values)
                .write(path);
        try (GgufFile f = GgufFile.open(path)) {
            MemorySegment t = f.tensorData("t");
            long before = sum(t); // touches every page
            assertTrue(residentPages(t) > t.byteSize() / PAGE / 2, "read pages are resident");

            f.releaseResidentPages();
            assertEquals(0, residentPages(t), "no page of the tensor is resident after the release");
            assertEquals(before, sum(t));
            float[] read = new float[values.length];
            MemorySegment.copy(t, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, read, 0,
                    read.length);
            assertArrayEquals(values, read);
        }
    }

    @Test
    void aClosedFileRefusesAndContentsInMemoryAreLeftAlone() throws IOException {
        Path path = dir.resolve("small.gguf");
        new GgufWriter().putString("general.architecture", "llama").addTensor("t", new long[] {4}, new float[] {1, 2,
                3, 4}).write(path);
        GgufFile f = GgufFile.open(path);
        f.close();
        assertThrows(IllegalStateException.class, f::releaseResidentPages);

        byte[] bytes = Files.readAllBytes(path);
        try (GgufFile inMemory = GgufFile.open(path, MemorySegment.ofArray(bytes))) {
            inMemory.releaseResidentPages(); // a heap segment has no pages to give back
            assertEquals(3f, inMemory.tensorData("t").get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(
                    ByteOrder.LITTLE_ENDIAN), 8));
        }
    }
}

package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's all-or-nothing promise, and the mistakes it refuses before writing anything. */
class GgufWriterTest {
    private static final byte[] PREVIOUS = "the previous model".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    /** Two tensors; the second's source writes half its bytes and then fails with {@code failure}. */
    private static GgufWriter failingMidway(Exception failure) {
        return new GgufWriter()
                .putString("general.architecture", "llama")
                .addTensor("ok", GgmlType.F32, new long[] {8}, SyntheticGguf.pattern(32, 1))
                .addTensor("broken", GgmlType.F32, new long[] {16}, 64, out -> {
                    out.write(ByteBuffer.wrap(new byte[32]));
                    if (failure instanceof IOException io) {
                        throw io;
                    }
                    throw (RuntimeException) failure;
                });
    }

    /** A written model gets the permissions of any new file (the umask's), not a temporary file's owner-only ones. */
    @Test
    void aWrittenFileHasTheDefaultPermissionsOfANewFile() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"),
                "POSIX permissions only");
        Path plain = Files.createFile(dir.resolve("plain"));
        Path target = dir.resolve("model.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(target);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
        assertEquals(List.of(target, plain), filesIn(dir));
    }

    @Test
    void anIoFailureMidwayLeavesNoTargetAndNoTemporaryFile() throws IOException {
        IOException failure = new IOException("disk on fire");
        Path target = dir.resolve("model.gguf");
        IOException thrown = assertThrows(IOException.class, () -> failingMidway(failure).write(target));
        assertSame(failure, thrown);
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void aRuntimeFailureMidwayLeavesNoTargetAndNoTemporaryFile() throws IOException {
        IllegalStateException failure = new IllegalStateException("generator bug");
        Path target = dir.resolve("model.gguf");
        assertSame(failure, assertThrows(IllegalStateException.class, () -> failingMidway(failure).write(target)));
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void anExistingTargetIsUntouchedWhenWritingFails() throws IOException {
        Path target = dir.resolve("model.gguf");
        Files.write(target, PREVIOUS);
        assertThrows(IOException.class, () -> failingMidway(new IOException("disk on fire")).write(target));
        assertArrayEquals(PREVIOUS, Files.readAllBytes(target));
        assertEquals(List.of(target), filesIn(dir));
    }

    @Test
    void aSourceWritingTheWrongByteCountFailsAndLeavesNothing() throws IOException {
        Path target = dir.resolve("model.gguf");
        GgufWriter w = new GgufWriter().addTensor("short", GgmlType.F32, new long[] {4}, 16,
                out -> out.write(ByteBuffer.wrap(new byte[12])));
        IOException e = assertThrows(IOException.class, () -> w.write(target));
        assertTrue(e.getMessage().contains("'short'") && e.getMessage().contains("12"), e.getMessage());
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void aSuccessfulWriteReplacesTheTargetAndLeavesNoTemporaryFile() throws IOException {
        Path target = dir.resolve("model.gguf");
        Files.write(target, PREVIOUS);
        SyntheticGguf.everyType().write(target);
        assertEquals(List.of(target), filesIn(dir));
        try (GgufFile f = GgufFile.open(target)) {
            assertEquals(64, f.alignment());
            assertEquals(5, f.tensors().size());
        }
    }

    @Test
    void writesIntoDirectoriesThatDoNotExistYet() throws IOException {
        Path target = dir.resolve("a/b/model.gguf");
        new GgufWriter().putString("general.name", "nested").write(target);
        try (GgufFile f = GgufFile.open(target)) {
            assertEquals("nested", f.getString("general.name"));
        }
    }

    @Test
    void refusesAnAlignmentTheReaderWouldReject() throws IOException {
        Path target = dir.resolve("model.gguf");
        for (GgufWriter w : List.of(
                new GgufWriter().putUInt32("general.alignment", 48),
                new GgufWriter().putUInt32("general.alignment", 0),
                new GgufWriter().putUInt64("general.alignment", 1L << 40),
                new GgufWriter().putString("general.alignment", "32"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(target));
            assertTrue(e.getMessage().contains("general.alignment"), e.getMessage());
        }
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void refusesTensorsWhoseShapeAndBytesDisagree() {
        GgufWriter w = new GgufWriter();
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("w", GgmlType.Q8_0, new long[] {32, 2}, new byte[34]));
        assertTrue(size.getMessage().contains("68") && size.getMessage().contains("34"), size.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("w", GgmlType.Q8_0, new long[] {33}, new byte[34]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("w", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("w", GgmlType.F32, new long[0], new byte[4]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("w", GgmlType.F32, new long[] {-1}, new byte[0]));
        IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("w", GgmlType.F32, new long[] {1L << 32, 1L << 32}, new byte[4]));
        assertTrue(overflow.getMessage().contains("overflow"), overflow.getMessage());
        w.addTensor("w", GgmlType.F32, new long[] {1}, new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("w", GgmlType.F32, new long[] {1},
                new byte[4]), "duplicate name");
    }

    @Test
    void puttingAKeyAgainReplacesItsValueInPlace() throws IOException {
        Path target = dir.resolve("model.gguf");
        new GgufWriter().putUInt32("first", 1).putUInt32("second", 2).putUInt32("first", 3).write(target);
        try (GgufFile f = GgufFile.open(target)) {
            assertEquals(List.of("first", "second"), List.copyOf(f.metadata().keySet()));
            assertEquals(3, f.getInt("first"));
        }
    }

    private static List<Path> filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}

package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @Test
    void writesReplaceWholeFilesAndLeaveNoTemporaries(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("sub").resolve("out.txt");
        AtomicFiles.writeString(target, "first");
        AtomicFiles.writeString(target, "second");
        assertEquals("second", Files.readString(target));
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertEquals(1, files.count());
        }
        IOException failure = new IOException("disk full");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw failure;
        }));
        assertSame(failure, thrown);
        assertEquals("second", Files.readString(target), "a failed write leaves the old file");
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertEquals(1, files.count(), "the temporary file is removed");
        }
    }
}

package dev.buddy.gguf;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Temporary siblings for atomic writes (write the temporary file, then rename it over the target). The file is
 * created like any new file, with the process's default permissions (0666 less the umask on POSIX systems), so the
 * renamed result is readable by whoever a file from {@code cp} or llama.cpp would be; {@code Files.createTempFile}
 * would make it owner-only (0600).
 */
public final class TempFiles {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ATTEMPTS = 100;

    private TempFiles() {}

    /** Creates and returns a new, empty file {@code .NAME.RANDOM.tmp} beside {@code target} (an absolute path). */
    public static Path newSibling(Path target) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path temp = target.resolveSibling(
                    "." + target.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}

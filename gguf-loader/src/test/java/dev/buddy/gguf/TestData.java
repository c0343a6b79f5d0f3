package dev.buddy.gguf;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * Finds the shared, read-only test material (models, tokenizer vectors, datasets).
 *
 * <p>The root is {@code $BUDDY_TEST_DATA}, defaulting to {@code ../shared} next to the project checkout. A missing file
 * skips the calling test with a message on a developer's machine, and fails it when {@code CI=true}, so CI can never
 * go green by silently skipping.
 */
public final class TestData {
    private TestData() {}

    /** The shared-data root, whether or not it exists. */
    public static Path root() {
        String env = System.getenv("BUDDY_TEST_DATA");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath().normalize();
        }
        // Surefire runs tests with the module directory as working directory; the checkout root is its parent.
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(".ci/run")) || Files.exists(p.resolve("mvnw"))) {
                return p.resolveSibling("shared").normalize();
            }
        }
        return dir.resolveSibling("shared").normalize();
    }

    /** True when running under CI, where missing test data is an error rather than a skip. */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * Resolves a file under the shared root, e.g. {@code require("models/stories260K.gguf")}. Skips the test when the
     * file is missing outside CI and fails it in CI.
     */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) {
            String msg = "test data missing: " + p + " (set BUDDY_TEST_DATA to the shared folder)";
            if (inCi()) {
                throw new AssertionError(msg);
            }
            Assumptions.abort(msg);
        }
        return p;
    }
}

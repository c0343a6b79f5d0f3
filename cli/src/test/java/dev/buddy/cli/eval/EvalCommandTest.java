package dev.buddy.cli.eval;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code buddy eval}'s option checks: a bad value is a one-line user error, never silently replaced. */
class EvalCommandTest {
    @Test
    void anUnknownKvTypeIsRejectedNotRunAsF16(@TempDir Path dir) {
        String model = TestData.require("models/stories260K.gguf").toString();
        TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        Path out = dir.resolve("x");
        CliRun.run("eval", "-m", model, "--kv-type", "q8", "--tasks", "none", "--ppl", "tinystories", "--ppl-tokens",
                "64", "-t", "1", "--datasets", TestData.root().resolve("datasets").toString(), "-o", out.toString())
                .assertUserError("invalid --kv-type 'q8'", "expected f16 or f32");
        assertFalse(Files.exists(out), "no reports after a failure");
    }
}

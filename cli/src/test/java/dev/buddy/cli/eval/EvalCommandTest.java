package dev.buddy.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Test
    void parallelScoringNeedsAtLeastOneState(@TempDir Path dir) {
        String model = TestData.require("models/stories260K.gguf").toString();
        Path out = dir.resolve("x");
        for (String bad : new String[] {"0", "-2", "two"}) {
            CliRun.run("eval", "-m", model, "-np", bad, "--tasks", "none", "--ppl", "tinystories", "-o",
                    out.toString()).assertUserError("--parallel");
        }
        assertFalse(Files.exists(out), "no reports after a failure");
    }

    @Test
    void parallelScoringWritesTheReportOneStateWrites(@TempDir Path dir) throws Exception {
        String model = TestData.require("models/stories260K.gguf").toString();
        TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        String[] reports = new String[2];
        for (int parallel = 1; parallel <= 2; parallel++) {
            Path out = dir.resolve("p" + parallel);
            CliRun run = CliRun.run("eval", "-m", model, "--tasks", "arc_easy", "--limit", "4", "--ppl",
                    "tinystories", "--ppl-tokens", "300", "-t", Integer.toString(parallel), "--parallel",
                    Integer.toString(parallel), "--datasets", TestData.root().resolve("datasets").toString(), "-o",
                    out.toString());
            assertEquals(0, run.exit(), run.err());
            reports[parallel - 1] = Files.readString(out.resolve("results.md"));
        }
        // the settings say how each ran; every figure is the same
        assertEquals(reports[0].replace("- threads: 1\n- parallel: 1\n", "- threads: 2\n- parallel: 2\n"),
                reports[1]);
    }
}

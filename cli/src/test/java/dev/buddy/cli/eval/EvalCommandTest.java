package dev.buddy.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void aStoppedRunGoesOnWithResumeAndWritesWhatAWholeRunWrites(@TempDir Path dir) throws Exception {
        String model = TestData.require("models/stories260K.gguf").toString();
        TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        String datasets = TestData.root().resolve("datasets").toString();
        String[] whole = {"eval", "-m", model, "--router", "random", "--budgets", "0.6", "--tasks", "arc_easy,piqa",
                "--limit", "3", "--ppl", "tinystories", "--ppl-tokens", "200", "-t", "1", "--datasets", datasets};
        Path uninterrupted = dir.resolve("whole");
        CliRun run = CliRun.run(concat(whole, "-o", uninterrupted.toString()));
        assertEquals(0, run.exit(), run.err());

        // a run that got as far as ARC-Easy, then the whole command again with --resume
        Path stopped = dir.resolve("stopped");
        run = CliRun.run("eval", "-m", model, "--router", "random", "--budgets", "0.6", "--tasks", "arc_easy",
                "--limit", "3", "--ppl", "none", "-t", "1", "--datasets", datasets, "-o", stopped.toString());
        assertEquals(0, run.exit(), run.err());
        run = CliRun.run(concat(whole, "-o", stopped.toString(), "--resume", "-np", "2"));
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("checkpoint.json: 2 pieces already scored"), run.err());
        assertTrue(run.err().contains("dense@1.0 arc_easy: taken from") && run.err().contains(
                "random@0.6 arc_easy: taken from"), run.err());
        assertEquals(Files.readString(uninterrupted.resolve("results.md")),
                Files.readString(stopped.resolve("results.md")).replace("- parallel: 2\n", "- parallel: 1\n"));

        // settings that change scores cannot be resumed from
        CliRun.run(concat(whole, "-o", stopped.toString(), "--resume", "--kv-policy", "compute-kv"))
                .assertUserError("checkpoint.json was written by an evaluation with kv_policy = ZEROS, not COMPUTE_KV");
    }

    private static String[] concat(String[] head, String... tail) {
        String[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }
}

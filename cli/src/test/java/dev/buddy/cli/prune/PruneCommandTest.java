package dev.buddy.cli.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruneCommandTest {
    @TempDir
    Path dir;

    private static Path model() {
        return TestData.require("models/stories260K.gguf");
    }

    private static Path calibration() {
        return TestData.require("datasets/wikitext/wikitext-2-raw/wiki.test.raw");
    }

    @Test
    void writesAPlanThatLoadsForTheModelAndRunsWithGenerate() throws IOException {
        Path out = dir.resolve("plan.gguf");
        CliRun run = CliRun.run("prune", "-m", model().toString(), "--method", "ppl", "--calib",
                calibration().toString(), "--calib-tokens", "120", "--window", "60", "-t", "1", "-o", out.toString());
        assertOk(run);
        assertTrue(run.out().contains("ranking (most important first): "), run.out());
        assertTrue(run.err().contains("4/4 passes 100%"), "progress bar reaches the end: " + run.err());
        StaticPlan plan;
        try (GgufFile f = GgufFile.open(model())) {
            plan = (StaticPlan) RouterFile.load(out, BaseModelInfo.of(f));
        }
        assertEquals("dppl", plan.provenance().method());
        assertEquals(3, plan.ranking().length);
        CliRun generated = CliRun.run("generate", "-m", model().toString(), "-p", "Once", "-n", "4", "--temp", "0",
                "-t", "1", "--router", out.toString(), "-b", "0.6");
        assertOk(generated);
    }

    /** Exit 0; prune reports progress on stderr, so unlike CliRun.assertOk stderr may hold text. */
    private static void assertOk(CliRun run) {
        assertEquals(0, run.exit(), () -> "exit code; stderr: " + run.err());
    }

    @Test
    void slebWithAllDropsWritesEverySet() throws IOException {
        Path out = dir.resolve("sleb.gguf");
        CliRun run = CliRun.run("prune", "-m", model().toString(), "--method", "sleb", "--max-drop", "all",
                "--calib", calibration().toString(), "--calib-tokens", "80", "-t", "1", "-o", out.toString());
        assertOk(run);
        assertTrue(run.out().contains("removal order: "), run.out());
        StaticPlan plan = (StaticPlan) RouterFile.read(out);
        assertEquals(java.util.Set.of(1, 2), plan.setsByK().keySet());
        assertEquals(3, plan.ranking().length);
    }

    @Test
    void badInputIsAOneLineUserError() throws IOException {
        String m = model().toString();
        String calib = calibration().toString();
        String out = dir.resolve("x.gguf").toString();
        CliRun.run("prune", "--method", "ppl", "-o", out).assertUserError("missing -m");
        CliRun.run("prune", "-m", m, "-o", out).assertUserError("missing --method");
        CliRun.run("prune", "-m", m, "--method", "ppl").assertUserError("missing -o");
        CliRun.run("prune", "-m", m, "--method", "magic", "-o", out).assertUserError("invalid --method 'magic'");
        CliRun.run("prune", "-m", m, "--method", "ppl", "--calib", dir.resolve("none.txt").toString(), "-o", out)
                .assertUserError("calibration text", "does not exist");
        CliRun.run("prune", "-m", m, "--method", "sleb", "--max-drop", "3", "--calib", calib, "-o", out)
                .assertUserError("invalid --max-drop 3", "1..2");
        CliRun.run("prune", "-m", m, "--method", "prior", "--prior-indicator", "taylor", "--calib", calib, "-o", out)
                .assertUserError("--prior-indicator 'taylor'");
        CliRun.run("prune", "-m", m, "--method", "ppl", "--calib-tokens", "1", "--calib", calib, "-o", out)
                .assertUserError("--calib-tokens");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        CliRun.run("prune", "-m", m, "--method", "ppl", "--calib", empty.toString(), "-o", out)
                .assertUserError("yields 0 tokens");
        CliRun.run("prune", "-m", dir.resolve("missing.gguf").toString(), "--method", "ppl", "--calib", calib, "-o",
                out).assertUserError("missing.gguf");
        CliRun.run("prune", "-m", m, "--method", "ppl", "--calib", calib, "-o", dir.toString())
                .assertUserError("is a directory");
        CliRun.run("prune", "-m", m, "--method", "ppl", "--calib", calib, "-o", m).assertUserError("the model itself");
        assertFalse(Files.exists(dir.resolve("x.gguf")), "no output after a failure");
    }

    @Test
    void progressBarShowsCountPercentAndEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "ppl", () -> now[0]);
        bar.start();
        now[0] = 2_000_000_000L;
        bar.passDone(1, 4);
        now[0] = 4_000_000_000L;
        bar.passDone(2, 4);
        now[0] = 8_000_000_000L;
        bar.passDone(4, 4);
        String[] frames = bytes.toString(StandardCharsets.UTF_8).split("\r");
        assertEquals("ppl [#######.......................] 1/4 passes  25% ETA 6s", frames[1]);
        assertEquals("ppl [###############...............] 2/4 passes  50% ETA 4s", frames[2]);
        assertEquals("ppl [##############################] 4/4 passes 100% done in 8s\n", frames[3]);
        assertArrayEquals(new String[] {"1m05s", "59s"}, new String[] {ProgressBar.duration(65_000_000_000L),
                ProgressBar.duration(59_000_000_000L)});
    }
}

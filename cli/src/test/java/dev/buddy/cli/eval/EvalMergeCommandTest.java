package dev.buddy.cli.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import dev.buddy.router.eval.Json;
import dev.buddy.router.eval.JsonText;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buddy eval-merge} on the summary.json files of real, tiny {@code buddy eval} runs of stories260K: the dense
 * model, and a ΔPPL plan (from {@code buddy prune}) at budget 0.6 under per-token and prefill routing.
 */
class EvalMergeCommandTest {
    @TempDir
    static Path runs;
    private static Path dense;
    private static Path denseByNone;
    private static Path perToken;
    private static Path prefill;

    private static CliRun ok(CliRun run) {
        assertEquals(0, run.exit(), () -> "exit code; stderr: " + run.err());
        return run;
    }

    @BeforeAll
    static void evaluate() {
        String model = TestData.require("models/stories260K.gguf").toString();
        TestData.require("datasets/arc/arc_easy.mc.jsonl");
        TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        String calibration = TestData.require("datasets/wikitext/wikitext-2-raw/wiki.test.raw").toString();
        String datasets = TestData.root().resolve("datasets").toString();
        Path plan = runs.resolve("ppl.plan.gguf");
        ok(CliRun.run("prune", "-m", model, "--method", "ppl", "--calib", calibration, "--calib-tokens", "120",
                "--window", "60", "-t", "1", "-o", plan.toString()));
        List<String> common = List.of("eval", "-m", model, "--tasks", "arc_easy", "--limit", "4", "--ppl",
                "tinystories", "--ppl-tokens", "256", "-t", "1", "--datasets", datasets);
        dense = summary(common, "dense");
        denseByNone = summary(common, "dense-none", "--router", "none");
        perToken = summary(common, "per-token", "--router", plan.toString(), "--budgets", "0.6", "--no-dense");
        prefill = summary(common, "prefill", "--router", plan.toString(), "--budgets", "0.6", "--no-dense",
                "--routing", "prefill");
    }

    private static Path summary(List<String> common, String name, String... extra) {
        List<String> args = new ArrayList<>(common);
        args.addAll(List.of(extra));
        Path out = runs.resolve(name);
        args.addAll(List.of("-o", out.toString()));
        ok(CliRun.run(args.toArray(String[]::new)));
        return out.resolve("summary.json");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Path file) throws IOException {
        return (Map<String, Object>) Json.parse(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> methods(Path file) throws IOException {
        return (Map<String, Object>) read(file).get("methods");
    }

    @Test
    void routerNoneEvaluatesTheDenseModelAlone() throws IOException {
        assertEquals(List.of("dense"), List.copyOf(methods(denseByNone).keySet()));
        assertEquals(JsonText.write(methods(dense).get("dense")), JsonText.write(methods(denseByNone).get("dense")));
    }

    @Test
    void mergesRealRunsWithARenameIntoOneReport() throws IOException {
        Path out = runs.resolve("merged");
        CliRun run = CliRun.run("eval-merge", "-o", out.toString(), dense.toString(), perToken.toString(),
                prefill + ":ppl=ppl-prefill").assertOk();
        assertTrue(run.out().contains("wrote " + out.resolve("summary.json")), run.out());

        Map<String, Object> merged = read(out.resolve("summary.json"));
        assertEquals(read(dense).get("model"), merged.get("model"));
        Map<String, Object> methods = methods(out.resolve("summary.json"));
        assertEquals(List.of("dense", "ppl", "ppl-prefill"), List.copyOf(methods.keySet()));
        // Each method's budgets are exactly what its run wrote.
        assertEquals(JsonText.write(methods(dense).get("dense")), JsonText.write(methods.get("dense")));
        assertEquals(JsonText.write(methods(perToken).get("ppl")), JsonText.write(methods.get("ppl")));
        assertEquals(JsonText.write(methods(prefill).get("ppl")), JsonText.write(methods.get("ppl-prefill")));

        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| Method | 1.0 | 0.6 |"), md);
        assertTrue(md.contains("mean accuracy % / TinyStories PPL (fraction of blocks executed)"), md);
        assertTrue(md.contains("| ppl-prefill | 0.6 |"), "per-task row of the renamed method: " + md);
        assertTrue(md.contains(prefill + " (ppl → ppl-prefill)"), md);

        String svg = Files.readString(out.resolve("accuracy_compute.svg"));
        List<String> series = new ArrayList<>();
        Matcher m = Pattern.compile("class=\"series\" data-method=\"([^\"]+)\"").matcher(svg);
        while (m.find()) {
            series.add(m.group(1));
        }
        assertEquals(List.of("dense", "ppl", "ppl-prefill"), series);
    }

    @Test
    void theLaterFileWinsAndIsNoted() throws IOException {
        Path out = runs.resolve("later-wins");
        CliRun run = ok(CliRun.run("eval-merge", "-o", out.toString(), perToken.toString(), prefill.toString()));
        assertEquals("note: ppl @ 0.6 from " + perToken + " is replaced by " + prefill + "\n", run.err());
        assertEquals(JsonText.write(methods(prefill)), JsonText.write(methods(out.resolve("summary.json"))));
    }

    @Test
    void helpExplainsItselfWithAnExample() {
        CliRun run = CliRun.run("eval-merge", "--help").assertOk();
        assertTrue(run.out().startsWith("Usage: buddy eval-merge [options] SUMMARY.json[:OLD=NEW]..."), run.out());
        assertTrue(run.out().contains("one it did not measure keeps the earlier value"), run.out());
        assertTrue(run.out().contains("buddy eval-merge -o merged"), run.out());
        assertTrue(CliRun.run("--help").assertOk().out().contains("eval-merge"));
    }

    @Test
    void badInputsAreOneLineUserErrors() throws IOException {
        String out = runs.resolve("bad").toString();
        CliRun.run("eval-merge", dense.toString()).assertUserError("missing -o DIR");
        CliRun.run("eval-merge", "-o", out).assertUserError("no summary.json files");
        Path missing = runs.resolve("nowhere/summary.json");
        CliRun.run("eval-merge", "-o", out, missing.toString()).assertUserError("no such file", missing.toString());
        Path broken = runs.resolve("broken.json");
        Files.writeString(broken, "{\"model\": \"stories260K.gguf\", \"methods\": {\"dense\": ");
        CliRun.run("eval-merge", "-o", out, dense.toString(), broken.toString())
                .assertUserError(broken.toString(), "not valid JSON");
        Path otherModel = runs.resolve("other.json");
        Files.writeString(otherModel, "{\"model\": \"other.gguf\", \"methods\": {}}");
        CliRun.run("eval-merge", "-o", out, dense.toString(), otherModel.toString())
                .assertUserError(otherModel.toString(), "model 'other.gguf' differs", dense.toString());
        CliRun.run("eval-merge", "-o", out, dense + ":buddy=buddy-reuse")
                .assertUserError(dense.toString(), "no method 'buddy' to rename (it has dense)");
        CliRun.run("eval-merge", "-o", out, runs.resolve("dense").toString())
                .assertUserError("is a folder; give the summary.json inside it");
        assertTrue(!Files.exists(Path.of(out)), "nothing is written when an input is bad");
    }
}

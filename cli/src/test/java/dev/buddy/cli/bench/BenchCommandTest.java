package dev.buddy.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.cli.CliRun;
import dev.buddy.cli.TinyJson;
import dev.buddy.engine.synth.ModelShape;
import dev.buddy.engine.synth.SynthesisOptions;
import dev.buddy.engine.synth.SynthesisProgress;
import dev.buddy.engine.synth.SyntheticFileType;
import dev.buddy.engine.synth.SyntheticModel;
import dev.buddy.engine.synth.SyntheticVocabulary;
import dev.buddy.gguf.TestData;

/** {@code buddy bench} on a tiny synthetic model, in all three output formats, and its usage errors. */
class BenchCommandTest {
    @TempDir
    static Path tmp;
    private static Path model;
    private static Path deeper;

    @BeforeAll
    static void writeModel() throws Exception {
        SyntheticVocabulary vocabulary = SyntheticVocabulary.fromGpt2Gguf(
                TestData.require(SynthCommand.GPT2_VOCAB), ModelShape.TINY.vocabSize());
        model = tmp.resolve("tiny.gguf");
        SyntheticModel.plan(new SynthesisOptions(ModelShape.TINY, SyntheticFileType.Q8_0, 1, false), vocabulary)
                .write(model, SynthesisProgress.NONE);
        // Routing needs a middle block to choose from; TINY has 2 blocks, this one 6.
        ModelShape six = new ModelShape("tiny6", "llama", 256, 6, 4, 2, 512, 2048, 2048, 10000f, 1e-5f, false, false,
                null, false, true);
        deeper = tmp.resolve("tiny6.gguf");
        SyntheticModel.plan(new SynthesisOptions(six, SyntheticFileType.Q8_0, 1, false), vocabulary)
                .write(deeper, SynthesisProgress.NONE);
    }

    @Test
    void routedBenchRunsTheBudgetsBlocksAndReportsTheRouterShare() {
        for (String policy : List.of("zeros", "mask", "compute-kv")) {
            CliRun r = CliRun.run("bench", "-m", deeper.toString(), "-p", "8", "-n", "4", "-r", "1", "-t", "1",
                    "--router", "random", "--budget", "0.5", "--kv-policy", policy, "--cpu-time");
            assertEquals(0, r.exit(), r.err());
            // b = 0.5 of 6 blocks: k = round(3) - 2 = 1 middle block, so 3 blocks per token.
            int expected = dev.buddy.router.Budget.fraction(0.5).middleBlocks(6) + 2;
            List<String> routing = r.err().lines().filter(l -> l.startsWith("routing ")).toList();
            assertEquals(2, routing.size(), r.err());
            for (String line : routing) {
                assertTrue(line.contains(expected + ".00 of 6 blocks per token"), line);
                assertTrue(line.matches(".*router \\d+\\.\\d+% of the forward time"), line);
            }
            assertTrue(r.err().contains("UNTRAINED"), r.err());
            assertEquals(2, r.err().lines().filter(l -> l.startsWith("cpu ") && l.contains("t/s of thread CPU time"))
                    .count(), r.err());
            assertEquals(4, r.out().lines().count(), r.out());
        }
    }

    @Test
    void jsonHasLlamaBenchFieldsForEachTest() {
        CliRun r = CliRun.run("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-r", "2", "-t", "1",
                "-o", "json").assertOk();
        List<?> tests = (List<?>) TinyJson.parse(r.out());
        assertEquals(2, tests.size());
        Map<?, ?> pp = (Map<?, ?>) tests.get(0);
        Map<?, ?> tg = (Map<?, ?>) tests.get(1);
        assertEquals(8L, pp.get("n_prompt"));
        assertEquals(0L, pp.get("n_gen"));
        assertEquals(0L, tg.get("n_prompt"));
        assertEquals(4L, tg.get("n_gen"));
        for (Map<?, ?> t : List.of(pp, tg)) {
            assertEquals("tiny.gguf", t.get("model_filename"));
            assertEquals(1L, t.get("n_threads"));
            assertEquals("f16", t.get("type_k"));
            List<?> samples = (List<?>) t.get("samples_ts");
            assertEquals(2, samples.size());
            double mean = (((Number) samples.get(0)).doubleValue() + ((Number) samples.get(1)).doubleValue()) / 2;
            assertEquals(mean, ((Number) t.get("avg_ts")).doubleValue(), 1e-6 * mean);
            assertTrue(((Number) t.get("peak_rss_bytes")).longValue() > 0);
            assertTrue(((String) t.get("model_type")).startsWith("llama "), (String) t.get("model_type"));
        }
    }

    @Test
    void markdownAndCsvHaveOneRowPerTestAndThreadCount() {
        CliRun md = CliRun.run("bench", "-m", model.toString(), "-p", "4", "-n", "0", "-r", "1", "-t", "1,2")
                .assertOk();
        List<String> lines = md.out().lines().toList();
        assertEquals(4, lines.size(), md.out());
        assertTrue(lines.get(2).contains("| 1 |") && lines.get(2).contains("| pp4 |"), lines.get(2));
        assertTrue(lines.get(3).contains("| 2 |") && lines.get(3).contains("| pp4 |"), lines.get(3));
        CliRun csv = CliRun.run("bench", "-m", model.toString(), "-p", "0", "-n", "2", "-r", "1", "-t", "1",
                "-o", "csv").assertOk();
        List<String> rows = csv.out().lines().toList();
        assertEquals(2, rows.size());
        assertEquals(rows.get(0).split(",").length, rows.get(1).split(",").length, csv.out());
    }

    @Test
    void theBatchColumnShowsTheChunkUsedAutoOrGiven() throws Exception {
        int auto;
        try (dev.buddy.engine.model.Model m = dev.buddy.engine.model.Model.load(model)) {
            auto = dev.buddy.engine.generate.GenerationOptions.promptBatchFor(m.spec());
        }
        String header = "model_filename,model_type,model_size,model_n_params,n_batch,";
        for (String[] batch : new String[][] {{}, {"-b", "auto"}, {"-b", "12"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(List.of("bench", "-m", model.toString(), "-p", "4",
                    "-n", "0", "-r", "1", "-t", "1", "-o", "csv"));
            args.addAll(List.of(batch));
            CliRun csv = CliRun.run(args.toArray(String[]::new)).assertOk();
            List<String> rows = csv.out().lines().toList();
            assertTrue(rows.get(0).startsWith(header), rows.get(0));
            int expected = batch.length > 0 && batch[1].equals("12") ? 12 : auto;
            assertEquals(Integer.toString(expected), rows.get(1).split(",")[4], csv.out());
        }
        CliRun.run("bench", "-m", model.toString(), "-b", "0").assertUserError("invalid value '0'");
    }

    @Test
    void badRequestsAreOneLineUserErrors() {
        String m = model.toString();
        CliRun.run("bench").assertUserError("missing -m");
        CliRun.run("bench", "-m", m, "-p", "0", "-n", "0").assertUserError("nothing to measure");
        CliRun.run("bench", "-m", m, "-p", "8,x").assertUserError("invalid value '8,x'");
        CliRun.run("bench", "-m", m, "-t", "0").assertUserError("invalid value '0'");
        CliRun.run("bench", "-m", m, "-o", "xml").assertUserError("expected md, csv or json");
        CliRun.run("bench", "-m", m, "--kv-type", "q8").assertUserError("expected f16 or f32");
        CliRun.run("bench", "-m", tmp.resolve("missing.gguf").toString()).assertUserError("missing.gguf");
        CliRun.run("bench", "-m", m, "--budget", "0.5").assertUserError("--router and --budget go together");
        CliRun.run("bench", "-m", deeper.toString(), "--router", "random", "--budget", "0.5", "--kv-policy", "x")
                .assertUserError("invalid --kv-policy 'x'");
    }

    @Test
    void messagesNameTheAcceptedValuesAsPeopleWriteThem() {
        String m = model.toString();
        CliRun.run("bench", "-m", m, "-b", "foo").assertUserError("invalid value 'foo' for -b/--batch-size",
                "expected auto or an integer from 1 to");
        CliRun.run("bench", "-m", m, "--router", "random", "--budget", "2")
                .assertUserError("invalid value '2' for --budget: expected a number in (0, 1] (see");
    }
}

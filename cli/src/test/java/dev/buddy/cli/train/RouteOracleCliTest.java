package dev.buddy.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code buddy route-oracle} end to end on stories260K (5 blocks, 3 routable), and its one-line usage errors. */
class RouteOracleCliTest {
    @TempDir
    Path dir;

    private static Path model() {
        return TestData.require("models/stories260K.gguf");
    }

    private Path router() throws IOException {
        return PredictorCliTest.randomRouter(dir);
    }

    private Path data() throws IOException {
        Path data = dir.resolve("data.jsonl");
        Files.writeString(data, """
                {"instruction": "Tell a story about a cat.", "output": "Once upon a time there was a cat."}
                {"instruction": "Tell a story about a dog.", "output": "The big dog ran in the park with Tim."}
                {"instruction": "Tell a story about a bird.", "output": "A little bird sang in the tree."}
                {"instruction": "Tell a story about a fish.", "output": "The fish swam in the blue sea all day."}
                """);
        return data;
    }

    @Test
    void itReportsEveryStrategyAndKeepsEveryCrossEntropyInTheTable() throws IOException {
        Path table = dir.resolve("oracle.tsv");
        Path tokenTable = dir.resolve("tokens.tsv");
        // b = 0.6 of 5 blocks: one middle block runs, so the plan and 1 x 2 swaps
        CliRun run = CliRun.run("route-oracle", "-m", model().toString(), "-r", router().toString(), "--data",
                data().toString(), "--budget", "0.6", "--examples", "4", "--near", "2", "--neighbours", "1,2",
                "--table", table.toString(), "--token-neighbours", "1,3", "--kv-policy", "compute-kv", "--token-table", tokenTable.toString(),
                "-t", "1");
        assertEquals(0, run.exit(), run.err());
        for (String line : new String[] {"route oracle at b=0.600 (1 of 3 middle blocks run)", "the plan as given",
                "best single route (fitted on the other half)", "nearest 1 prompt by layer-0 features",
                "nearest 2 prompts by layer-0 features", "nearest 1 prompt by last hidden state",
                "oracle (each example's own best)", "its best on half its tokens, on the other half", "per token (",
                "nearest 1 by the token's layer-0 value row", "nearest 3 by layer-0 values pooled up to the token",
                "nearest 3 by last hidden state", "MLP (width 32) on the token's layer-0 value row",
                "control: nearest 3 by layer-0 row, shuffled in each example",
                "BUDDY block scores (width 32, last pooling) on layer-0 row",
                "token oracle (each token's own best)", "same route", "causal"}) {
            assertTrue(run.out().contains(line), line + " missing from\n" + run.out());
        }
        assertTrue(run.err().contains("route oracle") && run.err().contains("12/12"), run.err());
        // 3 features x (2 neighbour counts + the MLP) + 2 controls + BUDDY block scores + the token oracle, causally
        // on the 4 examples
        assertTrue(run.err().contains("causal passes") && run.err().contains("52/52"), run.err());
        assertTrue(run.out().contains("by the compute-kv policy"), run.out());
        String oracleLine = run.out().lines().filter(l -> l.contains("token oracle")).findFirst().orElseThrow();
        assertEquals(3, oracleLine.split("±", -1).length, "a same-route and a causal difference: " + oracleLine);
        List<String> rows = Files.readAllLines(table);
        assertEquals("example\tcandidate\tblock_off\tblock_on\ttokens\tcross_entropy\tce_odd_tokens\tce_even_tokens",
                rows.get(0));
        assertEquals(1 + 4 * 3, rows.size(), "a row per example and candidate");
        assertTrue(rows.get(1).startsWith("0\tplan\t\t\t"), rows.get(1));
        assertTrue(rows.get(2).matches("0\t-[1-3]\\+[1-3]\t[1-3]\t[1-3]\t\\d+(\t\\d+\\.\\d{6}){3}"), rows.get(2));
        List<String> tokenRows = Files.readAllLines(tokenTable);
        assertEquals("example\tposition\tinput_token\ttarget_token\tcandidate\tcross_entropy", tokenRows.get(0));
        int scored = rows.stream().skip(1).filter(r -> r.contains("\tplan\t"))
                .mapToInt(r -> Integer.parseInt(r.split("\t")[4])).sum();
        assertEquals(1 + 3 * scored, tokenRows.size(), "a row per scored token and candidate");
        assertTrue(tokenRows.get(1).matches("0\t\\d+\t\\d+\t\\d+\tplan\t\\d+\\.\\d{6}"), tokenRows.get(1));
    }

    /**
     * {@code --save-router} over two budgets from a prior file: one router fitted on both budgets' tokens, a
     * last-pooled Decision Module with the prior file's prior, which {@code generate} then routes with.
     */
    @Test
    void saveRouterFitsOneLastPooledRouterOnEveryBudgetsTokens() throws IOException {
        Path text = dir.resolve("calib.txt");
        Files.writeString(text, "Once upon a time there was a little girl named Lily. She liked to play outside in"
                + " the sun with her dog. One day they found a big red ball in the park and played all day.\n");
        Path prior = dir.resolve("prior.gguf");
        CliRun made = CliRun.run("prior", "-m", model().toString(), "--calib", text.toString(), "--method", "cosine",
                "--calib-tokens", "48", "--window", "24", "-t", "1", "-o", prior.toString());
        assertEquals(0, made.exit(), made.err());
        Path saved = dir.resolve("token.router.gguf");
        CliRun run = CliRun.run("route-oracle", "-m", model().toString(), "-r", prior.toString(), "--data",
                data().toString(), "--budget", "0.6,0.8", "--examples", "4", "--near", "2", "--token-neighbours", "2",
                "--no-causal", "--save-router", saved.toString(), "--token-data", dir.resolve("tokens.bin").toString(),
                "-t", "1");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("route oracle at b=0.600") && run.out().contains("route oracle at b=0.800"),
                run.out());
        for (String line : new String[] {"per-token router: fitted on", "  b=0.600: the engine's top k leaves the"
                + " plan's route on", "  b=0.800: the engine's top k leaves the plan's route on", "router: " + saved}) {
            assertTrue(run.out().contains(line), line + " missing from\n" + run.out());
        }
        dev.buddy.router.BaseModelInfo info;
        try (dev.buddy.gguf.GgufFile f = dev.buddy.gguf.GgufFile.open(model())) {
            info = dev.buddy.router.BaseModelInfo.of(f);
        }
        dev.buddy.router.Router router = dev.buddy.router.RouterFile.load(saved, info);
        assertTrue(router instanceof dev.buddy.router.DynamicRouter, router.toString());
        dev.buddy.router.DecisionModule module = ((dev.buddy.router.DynamicRouter) router).decision();
        assertEquals(dev.buddy.router.Pooling.LAST, module.pooling());
        assertTrue(router.provenance().trained());
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0.6f, 0.8f},
                router.provenance().trainingBudgets());
        org.junit.jupiter.api.Assertions.assertArrayEquals(
                dev.buddy.router.train.PriorFile.read(prior, info).values(), module.prior());
        // Refitted from the kept token data, measuring nothing: the same router.
        Path refitted = dir.resolve("refitted.router.gguf");
        CliRun refit = CliRun.run("route-oracle", "-m", model().toString(), "-r", prior.toString(), "--fit-from",
                dir.resolve("tokens.bin").toString(), "--save-router", refitted.toString());
        assertEquals(0, refit.exit(), refit.err());
        assertFalse(refit.out().contains("route oracle at"), "nothing measured: " + refit.out());
        dev.buddy.router.DecisionModule again =
                ((dev.buddy.router.DynamicRouter) dev.buddy.router.RouterFile.load(refitted, info)).decision();
        org.junit.jupiter.api.Assertions.assertArrayEquals(module.mlp().w1(), again.mlp().w1());
        org.junit.jupiter.api.Assertions.assertArrayEquals(module.mlp().b2(), again.mlp().b2());
        CliRun generated = CliRun.run("generate", "-m", model().toString(), "--router", saved.toString(), "-b", "0.6",
                "--kv-policy", "compute-kv", "-p", "Once upon a time", "-n", "4", "--seed", "1", "-t", "1");
        assertEquals(0, generated.exit(), generated.err());
    }

    @Test
    void noCausalLeavesTheCausalPassesOut() throws IOException {
        CliRun run = CliRun.run("route-oracle", "-m", model().toString(), "-r", router().toString(), "--data",
                data().toString(), "--budget", "0.6", "--examples", "4", "--near", "2", "--token-neighbours", "2",
                "--no-causal", "-t", "1");
        assertEquals(0, run.exit(), run.err());
        assertFalse(run.err().contains("causal passes"), run.err());
        String oracleLine = run.out().lines().filter(l -> l.contains("token oracle")).findFirst().orElseThrow();
        assertEquals(2, oracleLine.split("±", -1).length, "only the same-route difference: " + oracleLine);
    }

    @Test
    void badInputIsOneLineWithExitTwo() throws IOException {
        String m = model().toString();
        String r = router().toString();
        String d = data().toString();
        List<List<String>> cases = List.of(
                List.of("-m", m, "-r", r, "--data", d),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "1"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6", "--neighbours", "0"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6", "--token-neighbours", "5,x"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6", "--kv-policy", "mask"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6", "--examples", "1"),
                List.of("-m", m, "-r", dir.resolve("missing.gguf").toString(), "--data", d, "--budget", "0.6"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6", "--skip", "3"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6,x"),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6,0.8", "--table", dir.resolve("t.tsv").toString()),
                List.of("-m", m, "-r", r, "--data", d, "--budget", "0.6", "--save-router",
                        dir.resolve("s.gguf").toString()),
                List.of("-m", m, "-r", r, "--fit-from", d),
                List.of("-m", m, "-r", r, "--fit-from", dir.resolve("none.bin").toString(), "--save-router",
                        dir.resolve("s.gguf").toString()));
        List<String> expected = List.of("missing --budget", "no route to swap", "invalid --neighbours",
                "invalid --token-neighbours", "invalid --kv-policy 'mask'",
                "--examples", "missing.gguf", "at least 2", "invalid --budget '0.6,x'", "give one --budget",
                "--save-router starts from a prior file's plan", "give --save-router FILE too", "none.bin");
        for (int i = 0; i < cases.size(); i++) {
            List<String> args = new java.util.ArrayList<>(List.of("route-oracle"));
            args.addAll(cases.get(i));
            args.addAll(List.of("-t", "1"));
            CliRun run = CliRun.run(args.toArray(String[]::new));
            assertEquals(2, run.exit(), run.err());
            String err = run.err().strip();
            assertTrue(err.contains(expected.get(i)), err);
            assertFalse(err.contains("\n") || err.contains("\tat "), "one line, no stack trace: " + err);
        }
    }
}

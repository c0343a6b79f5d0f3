package dev.buddy.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buddy prior} and {@code buddy train-predictor} end to end on stories260K: the files they write are what the
 * other commands read (a prior file feeds train-router and is a static plan; the predictor router runs with
 * {@code generate --budget auto}), and bad input is one line on stderr with exit 2.
 */
class PredictorCliTest {
    @TempDir
    Path dir;

    private static Path model() {
        return TestData.require("models/stories260K.gguf");
    }

    private static Path text() {
        return TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
    }

    private Path randomRouter() throws IOException {
        return randomRouter(dir);
    }

    /** An untrained router (seed 3) for stories260K, written as {@code random.gguf} in {@code dir}. */
    static Path randomRouter(Path dir) throws IOException {
        BaseModelInfo info;
        try (GgufFile f = GgufFile.open(model())) {
            info = BaseModelInfo.of(f);
        }
        Path out = dir.resolve("random.gguf");
        RouterFile.write(RandomRouter.create(info, 3, FeatureSource.VALUE, Pooling.MEAN, false), out);
        return out;
    }

    private Path alpaca(String... lines) throws IOException {
        Path data = dir.resolve("data.jsonl");
        Files.writeString(data, String.join("\n", lines) + "\n");
        return data;
    }

    @Test
    void trainPredictorWritesARouterThatGenerateRunsWithAnAutoBudget() throws IOException {
        Path data = alpaca("{\"instruction\": \"Tell a story about a cat.\", \"output\": \"Once upon a time there was"
                        + " a cat. The cat liked to play.\"}",
                "{\"instruction\": \"Tell a story about a dog.\", \"input\": \"The dog is big.\", \"output\": \"The"
                        + " big dog ran in the park with Tim.\"}");
        Path out = dir.resolve("with-predictor.gguf");
        CliRun run = CliRun.run("train-predictor", "-m", model().toString(), "-r", randomRouter().toString(),
                "--data", data.toString(), "--steps", "3", "--lr", "1e-2", "-t", "1", "-o", out.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("budgets chosen by --budget auto"), run.out());
        assertTrue(run.err().contains("3/3") && run.err().contains("reward") && run.err().contains("ETA"),
                run.err());
        DynamicRouter router = (DynamicRouter) RouterFile.read(out);
        assertTrue(router.predictor().isPresent());
        CliRun generate = CliRun.run("generate", "-m", model().toString(), "--router", out.toString(), "--budget",
                "auto", "-p", "Once upon a time", "-n", "4", "-t", "1");
        assertEquals(0, generate.exit(), generate.err());
        assertTrue((generate.out() + generate.err()).contains("auto budget b="), generate.out() + generate.err());
    }

    @Test
    void theOracleScoresEveryBudgetWithoutTrainingOrWriting() throws IOException {
        Path data = alpaca("{\"instruction\": \"Tell a story about a cat.\", \"output\": \"Once upon a time there was"
                        + " a cat. The cat liked to play.\"}",
                "{\"instruction\": \"Tell a story about a dog.\", \"output\": \"The big dog ran in the park.\"}");
        CliRun run = CliRun.run("train-predictor", "-m", model().toString(), "-r", randomRouter().toString(),
                "--data", data.toString(), "--oracle", "2", "-t", "1");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("budget oracle on the first 2 prompts"), run.out());
        assertTrue(run.out().contains("a perfect predictor gains"), run.out());
        assertTrue(run.err().contains("budget oracle"), run.err());
        CliRun.run("train-predictor", "-m", model().toString(), "-r", randomRouter().toString(), "--data",
                data.toString(), "--oracle", "0").assertUserError("--oracle");
    }

    @Test
    void theOracleKeepsItsTableAndThePredictorTrainsOnIt() throws IOException {
        Path data = alpaca("{\"instruction\": \"Tell a story about a cat.\", \"output\": \"Once upon a time there was"
                        + " a cat. The cat liked to play.\"}",
                "{\"instruction\": \"Tell a story about a dog.\", \"output\": \"The big dog ran in the park.\"}",
                "{\"instruction\": \"Tell a story about a bird.\", \"output\": \"A bird sang in a tree.\"}");
        Path router = randomRouter();
        Path table = dir.resolve("table.tsv");
        CliRun oracle = CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data",
                data.toString(), "--oracle", "3", "--table", table.toString(), "-t", "1");
        assertEquals(0, oracle.exit(), oracle.err());
        assertEquals(3 + 5, Files.readAllLines(table).size(), "five header lines and one row per prompt");

        Path out = dir.resolve("with-predictor.gguf");
        CliRun train = CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data",
                data.toString(), "--from-table", table.toString(), "--hold-out", "1", "--steps", "20", "--lr", "1e-2",
                "-t", "1", "-o", out.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("training prompts (2): mean reward predictor"), train.out());
        assertTrue(train.out().contains("held-out prompts (1): mean reward predictor"), train.out());
        assertTrue(train.err().contains("20/20"), train.err());
        assertTrue(((DynamicRouter) RouterFile.read(out)).predictor().isPresent());

        Files.writeString(table, Files.readString(table).replaceFirst("\n0\t", "\n0\tx\t"));
        CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data", data.toString(),
                "--from-table", table.toString(), "-o", out.toString()).assertUserError("line 6");
        CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data", data.toString(),
                "--from-table", table.toString(), "--oracle", "2").assertUserError("give one of them");
        CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data", data.toString(),
                "--from-table", table.toString(), "--temperature", "0", "-o", out.toString())
                .assertUserError("--temperature");
        CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data", data.toString(),
                "--from-table", dir.resolve("absent.tsv").toString(), "-o", out.toString())
                .assertUserError("absent.tsv");
    }

    @Test
    void malformedDataIsOneLineNamingTheLine() throws IOException {
        Path data = alpaca("{\"instruction\": \"a\", \"output\": \"b\"}", "{\"instruction\": \"a\", \"output\": ");
        CliRun.run("train-predictor", "-m", model().toString(), "-r", randomRouter().toString(), "--data",
                data.toString(), "--steps", "1", "-o", dir.resolve("o.gguf").toString()).assertUserError("line 2");
    }

    @Test
    void badOptionsAreOneLineUserErrors() throws IOException {
        Path router = randomRouter();
        CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data",
                text().toString(), "--lr", "0", "-o", dir.resolve("o.gguf").toString()).assertUserError("--lr");
        CliRun.run("train-predictor", "-m", model().toString(), "--data", text().toString(), "-o",
                dir.resolve("o.gguf").toString()).assertUserError("-r");
        CliRun.run("train-predictor", "-m", model().toString(), "-r", router.toString(), "--data",
                text().toString(), "--resume", "-o", dir.resolve("o.gguf").toString()).assertUserError("checkpoint");
        CliRun.run("prior", "-m", model().toString(), "--method", "fisher").assertUserError("--method");
        CliRun.run("prior", "-m", model().toString(), "--calib", dir.resolve("none.txt").toString())
                .assertUserError("does not exist");
    }

    @Test
    void rangeMessagesShowTheBoundsAsWritten() throws IOException {
        String[] common = {"train-predictor", "-m", model().toString(), "-r", randomRouter().toString(), "--data",
                text().toString(), "-o", dir.resolve("o.gguf").toString()};
        run(common, "--lr", "0").assertUserError("invalid --lr '0': expected a number in (0, 1]");
        run(common, "--beta", "-1").assertUserError("invalid --beta '-1': expected a number from 0 to 1000000");
        CliRun.run("prior", "-m", model().toString(), "--calib", dir.toString())
                .assertUserError("calibration text " + dir + " is a directory, not a text file");
        CliRun.run("prune", "-m", model().toString(), "--method", "ppl", "--calib", dir.toString(), "-o",
                dir.resolve("p.gguf").toString())
                .assertUserError("calibration text " + dir + " is a directory, not a text file");
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--val", dir.toString(),
                "-o", dir.resolve("r.gguf").toString()).assertUserError("--val " + dir + " is a directory");
    }

    @Test
    void optionsOfAnotherModeAreRejectedNotIgnored() throws IOException {
        String[] common = {"train-predictor", "-m", model().toString(), "-r", randomRouter().toString(), "--data",
                text().toString()};
        String out = dir.resolve("o.gguf").toString();
        String table = dir.resolve("x.tsv").toString();
        run(common, "--steps", "1", "--table", table, "-o", out).assertUserError("--table applies only with --oracle");
        run(common, "--steps", "1", "--hold-out", "2", "-o", out).assertUserError("--hold-out applies only with"
                + " --from-table");
        run(common, "--oracle", "2", "--temperature", "0.5").assertUserError("--temperature applies only with"
                + " --from-table");
        run(common, "--oracle", "2", "-o", out).assertUserError("-o " + out + " does not apply");
        run(common, "--oracle", "2", "--resume").assertUserError("--resume", "--oracle");
    }

    private static CliRun run(String[] common, String... more) {
        String[] all = java.util.Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, all, common.length, more.length);
        return CliRun.run(all);
    }

    @Test
    void priorFileIsAStaticPlanAndFeedsTrainRouterAndTrainPredictorRefusesIt() throws IOException {
        Path prior = dir.resolve("prior.gguf");
        CliRun run = CliRun.run("prior", "-m", model().toString(), "--calib", text().toString(), "--method",
                "cosine", "--calib-tokens", "300", "--window", "100", "-t", "1", "-o", prior.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("ranking (most important first)"), run.out());
        assertTrue(run.err().contains("3/3"), "progress bar reaches the end: " + run.err());
        assertEquals("prior", RouterFile.read(prior).provenance().method());

        Path router = dir.resolve("router.gguf");
        CliRun train = CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--steps",
                "1", "--batch", "1", "--max-tokens", "32", "--prior", prior.toString(), "-t", "1", "-o",
                router.toString());
        assertEquals(0, train.exit(), train.err());
        assertEquals("cosine", RouterFile.read(router).provenance().priorKind());

        CliRun.run("train-predictor", "-m", model().toString(), "-r", prior.toString(), "--data", text().toString(),
                "-o", dir.resolve("o.gguf").toString()).assertUserError("static plan");
    }
}

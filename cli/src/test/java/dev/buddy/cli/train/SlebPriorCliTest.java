package dev.buddy.cli.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buddy prior --method sleb} and {@code train-router --val} end to end on stories260K: the SLEB prior file
 * feeds {@code train-router --init prior}, held-out selection writes {@code OUTPUT.best.gguf}, and misplaced options
 * are one-line user errors. Also {@code prior --from FILE --removal-order LIST} (three middle blocks here): the
 * re-ranked file's prior-only plan removes the listed block first and keeps the measured prior's order for the rest,
 * and misuse is a one-line user error that writes nothing.
 */
class SlebPriorCliTest {
    @TempDir
    Path dir;

    private static Path model() {
        return TestData.require("models/stories260K.gguf");
    }

    private static Path text() {
        return TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
    }

    @Test
    void slebPriorFeedsTrainRouterWhichKeepsItsBestHeldOutCheckpoint() throws IOException {
        Path prior = dir.resolve("prior-sleb.gguf");
        CliRun run = CliRun.run("prior", "-m", model().toString(), "--calib", text().toString(), "--method", "sleb",
                "--max-drop", "1", "--calib-tokens", "128", "--window", "64", "-t", "1", "-o", prior.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("SLEB removal order (first removed first): "), run.out());
        assertEquals("sleb", RouterFile.read(prior).provenance().priorKind());

        Path router = dir.resolve("router.gguf");
        CliRun train = CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--steps",
                "2", "--batch", "1", "--max-tokens", "32", "--prior", prior.toString(), "--init", "prior", "--val",
                text().toString(), "--val-every", "1", "--val-tokens", "64", "-t", "1", "-o", router.toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.err().contains("validation at step 0:"), train.err());
        assertTrue(train.out().contains("best held-out router: step "), train.out());
        Path best = dir.resolve("router.best.gguf");
        assertTrue(Files.isRegularFile(best));
        assertEquals("sleb", RouterFile.read(best).provenance().priorKind());
    }

    @Test
    void misplacedOptionsAreUserErrors() {
        CliRun.run("prior", "-m", model().toString(), "--calib", text().toString(), "--method", "taylor",
                "--max-drop", "2").assertUserError("--max-drop");
        CliRun.run("prior", "-m", model().toString(), "--calib", text().toString(), "--method", "sleb",
                "--max-drop", "none").assertUserError("--max-drop");
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--prior", "sleb",
                "-o", dir.resolve("r.gguf").toString()).assertUserError("--prior sleb");
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--val",
                dir.resolve("missing.txt").toString(), "-o", dir.resolve("r.gguf").toString())
                .assertUserError("--val");
    }

    @Test
    void reRankedPriorRemovesTheListedBlockFirst() throws IOException {
        Path measured = cosinePrior();
        int[] ranking = ((StaticPlan) RouterFile.read(measured)).ranking(); // most important first
        int mostImportant = ranking[0];

        Path reranked = dir.resolve("prior-reranked.gguf");
        CliRun reorder = CliRun.run("prior", "-m", model().toString(), "--from", measured.toString(),
                "--removal-order", Integer.toString(mostImportant), "-o", reranked.toString());
        assertEquals(0, reorder.exit(), reorder.err());
        assertTrue(reorder.out().contains("re-ranked with removal order " + mostImportant), reorder.out());
        StaticPlan plan = (StaticPlan) RouterFile.read(reranked);
        assertArrayEquals(new int[] {ranking[1], ranking[2], mostImportant}, plan.ranking());
        assertEquals("cosine", plan.provenance().priorKind());
    }

    @Test
    void misuseIsAOneLineUserErrorThatWritesNothing() throws IOException {
        Path measured = cosinePrior();
        Path out = dir.resolve("out.gguf");
        CliRun.run("prior", "-m", model().toString(), "--removal-order", "1", "-o", out.toString())
                .assertUserError("--from and --removal-order go together");
        CliRun.run("prior", "-m", model().toString(), "--from", measured.toString(), "--removal-order", "1,x",
                "-o", out.toString()).assertUserError("invalid --removal-order '1,x'");
        CliRun.run("prior", "-m", model().toString(), "--from", measured.toString(), "--removal-order", "4",
                "-o", out.toString()).assertUserError("block 4 in the removal order is not a middle block (1..3)");
        CliRun.run("prior", "-m", model().toString(), "--from", measured.toString(), "--removal-order", "1,2,3",
                "-o", out.toString()).assertUserError("lists 1..2 of the 3 middle blocks");
        CliRun.run("prior", "-m", model().toString(), "--from", dir.resolve("missing.gguf").toString(),
                "--removal-order", "1", "-o", out.toString()).assertUserError("--from");
        assertFalse(Files.exists(out));
    }

    /** A cosine prior measured on 64 tokens: cheap, and a real prior file to re-rank. */
    private Path cosinePrior() {
        Path measured = dir.resolve("prior-cosine.gguf");
        CliRun run = CliRun.run("prior", "-m", model().toString(), "--calib", text().toString(), "--method",
                "cosine", "--calib-tokens", "64", "--window", "64", "-t", "1", "-o", measured.toString());
        assertEquals(0, run.exit(), run.err());
        return measured;
    }
}

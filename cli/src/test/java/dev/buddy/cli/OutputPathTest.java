package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output that cannot be written (under a regular file, or a file where a folder is wanted) is a one-line user
 * error before the command does any work: no progress on stderr, nothing on stdout, and the message names the path.
 */
class OutputPathTest {
    @TempDir
    Path dir;

    /** A regular file, used as if it were a folder (like /etc/passwd/x.gguf). */
    private Path file;

    @BeforeEach
    void createFile() throws IOException {
        file = Files.writeString(dir.resolve("plain.txt"), "not a folder");
    }

    private static String model() {
        return TestData.require("models/stories260K.gguf").toString();
    }

    private static String text() {
        return TestData.require("datasets/tinystories/tinystories-valid-sample.txt").toString();
    }

    private String under() {
        return file.resolve("x.gguf").toString();
    }

    @Test
    void evalChecksItsOutputFolderBeforeEvaluating() {
        String datasets = TestData.root().resolve("datasets").toString();
        TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        CliRun.run("eval", "-m", model(), "--tasks", "none", "--ppl", "tinystories", "--ppl-tokens", "64", "-t", "1",
                "--datasets", datasets, "-o", file.toString())
                .assertUserError("-o " + file, "is a file, not a folder");
        CliRun.run("eval", "-m", model(), "--tasks", "none", "--ppl", "tinystories", "--ppl-tokens", "64", "-t", "1",
                "--datasets", datasets, "-o", file.resolve("reports").toString())
                .assertUserError("-o " + file.resolve("reports"), file + " is not a directory");
    }

    @Test
    void pruneChecksItsOutputBeforeCalibrating() {
        CliRun.run("prune", "-m", model(), "--method", "ppl", "--calib", text(), "--calib-tokens", "120", "--window",
                "60", "-t", "1", "-o", under()).assertUserError("-o " + under(), file + " is not a directory");
    }

    @Test
    void priorChecksItsOutputBeforeMeasuring() {
        CliRun.run("prior", "-m", model(), "--calib", text(), "--method", "cosine", "--calib-tokens", "64",
                "--window", "32", "-t", "1", "-o", under()).assertUserError("-o " + under(), file + " is not a directory");
    }

    @Test
    void trainRouterChecksItsOutputBeforeTraining() {
        CliRun.run("train-router", "-m", model(), "--data", text(), "--steps", "1", "--batch", "1", "--max-tokens",
                "16", "--prior", "none", "-t", "1", "-o", under())
                .assertUserError("-o " + under(), file + " is not a directory");
    }

    @Test
    void theOtherWritersCheckTheirOutputsToo() {
        CliRun.run("synth", "--shape", "tiny", "--type", "f16", "-o", under())
                .assertUserError("-o " + under(), file + " is not a directory");
        CliRun.run("train-predictor", "-m", model(), "-r", dir.resolve("router.gguf").toString(), "--data", text(),
                "-o", under()).assertUserError("-o " + under(), file + " is not a directory");
        CliRun.run("train-predictor", "-m", model(), "-r", dir.resolve("router.gguf").toString(), "--data", text(),
                "--oracle", "2", "--table", file.resolve("t.tsv").toString())
                .assertUserError("--table " + file.resolve("t.tsv"), file + " is not a directory");
        CliRun.run("eval-merge", "-o", file.toString(), dir.resolve("summary.json").toString())
                .assertUserError("-o " + file, "is a file, not a folder");
    }

    @Test
    void noCommandWritesOverItsOwnModel() throws IOException {
        Path copy = Files.copy(Path.of(model()), dir.resolve("model.gguf"));
        String m = copy.toString();
        CliRun.run("prior", "-m", m, "--calib", text(), "--method", "cosine", "--calib-tokens", "64", "--window", "32",
                "-t", "1", "-o", m).assertUserError("-o " + m, "the model itself");
        CliRun.run("train-router", "-m", m, "--data", text(), "--steps", "1", "--batch", "1", "--max-tokens", "16",
                "--prior", "none", "-t", "1", "-o", m).assertUserError("-o " + m, "the model itself");
        CliRun.run("train-predictor", "-m", m, "-r", dir.resolve("router.gguf").toString(), "--data", text(), "-o", m)
                .assertUserError("-o " + m, "the model itself");
        assertEquals(Files.size(Path.of(model())), Files.size(copy));
    }

    @Test
    void missingFoldersAreFineSinceTheWritersCreateThem() {
        Path nested = dir.resolve("a").resolve("b");
        assertEquals(nested.resolve("x.gguf"), OutputPath.file("-o", nested.resolve("x.gguf")));
        assertEquals(nested, OutputPath.directory("-o", nested));
        assertEquals(dir, OutputPath.directory("-o", dir));
        UsageException e = assertThrows(UsageException.class, () -> OutputPath.file("-o", dir));
        assertTrue(e.getMessage().contains(dir + " is a directory"), e.getMessage());
    }
}

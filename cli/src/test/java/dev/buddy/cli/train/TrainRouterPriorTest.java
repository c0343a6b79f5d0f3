package dev.buddy.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import dev.buddy.router.train.InvalidTrainingOptionException;
import dev.buddy.router.train.TrainRouterCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-router --prior}: a value that is neither a prior file nor a prior kind is a user error up front; and
 * {@code --secant}, the measured gate gradients, on the real stories260K model.
 */
class TrainRouterPriorTest {
    @TempDir
    Path dir;

    private static String model() {
        return TestData.require("models/stories260K.gguf").toString();
    }

    private static String text() {
        return TestData.require("datasets/tinystories/tinystories-valid-sample.txt").toString();
    }

    @Test
    void aMissingPriorFileOrUnknownKindIsOneLineNamingIt() {
        String out = dir.resolve("r.gguf").toString();
        for (String prior : new String[] {dir.resolve("missing.prior.gguf").toString(), "bogus"}) {
            CliRun.run("train-router", "-m", model(), "--data", text(), "--steps", "1", "--batch", "1",
                    "--max-tokens", "16", "-t", "1", "--prior", prior, "-o", out)
                    .assertUserError("--prior " + prior + ": no such file, and not one of taylor, dppl, cosine, none");
        }
        CliRun.run("train-router", "-m", model(), "--data", text(), "--prior", dir.toString(), "-o", out)
                .assertUserError("--prior " + dir + ": a directory, not a prior file");
        assertFalse(Files.exists(dir.resolve("r.gguf")), "no output after a failure");
    }

    @Test
    void secantTrainsARouterAndANegativeCountIsOneLine() {
        String out = dir.resolve("secant.gguf").toString();
        CliRun run = CliRun.run("train-router", "-m", model(), "--data", text(), "--steps", "2", "--batch", "2",
                "--max-tokens", "24", "-t", "1", "--prior", "none", "--secant", "1", "-o", out);
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("secant=1"), "the progress header names the setting: " + run.err());
        assertTrue(Files.isRegularFile(Path.of(out)));
        CliRun.run("train-router", "-m", model(), "--data", text(), "--secant", "-1", "-o", out)
                .assertUserError("--secant");
    }

    @Test
    void theTrainerReportsAnUnknownPriorAsATypedError() {
        TrainRouterCommand.Options d = TrainRouterCommand.Options.defaults(Path.of(model()), Path.of(text()),
                dir.resolve("r.gguf"));
        TrainRouterCommand.Options bogus = new TrainRouterCommand.Options(d.model(), d.data(), d.output(),
                d.budgets(), 1, d.learningRate(), 0, 1, d.seed(), false, 16, 1, d.relaxation(), "bogus", null, 1, 0,
                d.init(), null, d.validationEvery(), d.validationTokens(), d.secantBlocks());
        PrintStream none = new PrintStream(OutputStream.nullOutputStream());
        InvalidTrainingOptionException e = assertThrows(InvalidTrainingOptionException.class,
                () -> TrainRouterCommand.run(bogus, none, none));
        assertEquals("--prior bogus: no such file, and not one of taylor, dppl, cosine, none", e.getMessage());
    }
}

package dev.buddy.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to {@code generate} and {@code chat} is one line on stderr, exit 2, and names the offending value. */
class GenerateInputTest {
    private static String model() {
        return TestData.require("models/stories260K.gguf").toString();
    }

    @Test
    void aDirectoryGivenAsTheModelIsNamedByEveryCommandThatTakesOne(@TempDir Path dir) {
        String d = dir.toString();
        String text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt").toString();
        String out = dir.resolve("o.gguf").toString();
        String[][] commands = {
                {"generate", "-m", d, "-n", "2"},
                {"chat", "-m", d},
                {"eval", "-m", d, "--tasks", "none", "-o", dir.resolve("reports").toString()},
                {"prune", "-m", d, "--method", "ppl", "--calib", text, "-o", out},
                {"prior", "-m", d, "--calib", text},
                {"train-router", "-m", d, "--data", text, "--prior", "none", "-o", out},
                {"train-predictor", "-m", d, "-r", out, "--data", text, "-o", out},
                {"bench", "-m", d},
                {"info", "-m", d}};
        for (String[] command : commands) {
            CliRun.run(command).assertUserError("buddy " + command[0] + ":", "-m " + d
                    + " is a directory, not a GGUF file");
        }
        CliRun.run("info", d).assertUserError(d + " is a directory, not a GGUF file");
        CliRun.run("generate", "-m", dir.resolve("missing.gguf").toString())
                .assertUserError("no such file: " + dir.resolve("missing.gguf"));
    }

    @Test
    void aPromptLongerThanTheContextPrintsNothingAndNamesCtxSize() {
        CliRun.run("generate", "-m", model(), "-c", "4", "-p", "Once upon a time there was a dog")
                .assertUserError("does not fit the context of 4 tokens", "-c/--ctx-size");
        CliRun fits = CliRun.run("generate", "-m", model(), "-c", "4", "-n", "1", "--temp", "0", "-p", "Once");
        assertEquals(0, fits.exit(), fits.err());
        assertTrue(fits.out().startsWith("Once"), fits.out());
    }

    @Test
    void anOutOfRangeBudgetNamesTheInterval() {
        for (String budget : new String[] {"2", "0", "lots"}) {
            CliRun.run("generate", "-m", model(), "-n", "2", "-b", budget, "--router", "random").assertUserError(
                    "invalid value '" + budget + "' for -b/--budget: expected a number in (0, 1] or auto");
        }
    }

    @Test
    void routingValuesAreCheckedEvenWithoutARouter() {
        CliRun.run("generate", "-m", model(), "-n", "2", "--kv-policy", "foo")
                .assertUserError("invalid --kv-policy 'foo'");
        CliRun.run("generate", "-m", model(), "-n", "2", "--reroute", "bogus").assertUserError("'bogus'");
        CliRun.run("chat", "-m", model(), "-n", "2", "--kv-policy", "foo").assertUserError("invalid --kv-policy 'foo'");
    }
}

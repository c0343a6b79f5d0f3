package dev.buddy.cli.run;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;

/** Bad input to {@code generate} and {@code chat} is one line on stderr, exit 2, and names the offending value. */
class GenerateInputTest {
    private static String model() {
        return TestData.require("models/stories260K.gguf").toString();
    }

    @Test
    void routingValuesAreCheckedEvenWithoutARouter() {
        CliRun.run("generate", "-m", model(), "-n", "2", "--kv-policy", "foo")
                .assertUserError("invalid --kv-policy 'foo'");
        CliRun.run("generate", "-m", model(), "-n", "2", "--reroute", "bogus").assertUserError("'bogus'");
        CliRun.run("chat", "-m", model(), "-n", "2", "--kv-policy", "foo").assertUserError("invalid --kv-policy 'foo'");
    }
}

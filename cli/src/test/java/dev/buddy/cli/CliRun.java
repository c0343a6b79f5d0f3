package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** One in-process run of the command line, with what it printed. */
public record CliRun(int exit, String out, String err) {
    /** Through the public static entry point, exactly as {@code Main} reaches it (it reads BUDDY_DEBUG). */
    public static CliRun runStatic(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Cli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Buddy's standard commands with debug output off, whatever BUDDY_DEBUG says in the test's environment. */
    public static CliRun run(String... args) {
        return run(new Cli(Cli.standardCommands(), false), args);
    }

    /** Through a given {@link Cli}, with empty standard input. */
    public static CliRun run(Cli cli, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = cli.execute(args, new Io(new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
        return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * A user error: exit 2, nothing on stdout, exactly one line on stderr that contains every fragment (and so no
     * stack trace).
     */
    public CliRun assertUserError(String... fragments) {
        return assertOneLineError(Cli.EXIT_USAGE, fragments);
    }

    public CliRun assertOneLineError(int expectedExit, String... fragments) {
        assertEquals(expectedExit, exit, () -> "exit code; stderr: " + err);
        assertEquals("", out, "stdout of a failed run");
        assertTrue(err.endsWith("\n"), () -> "stderr ends with a newline: " + err);
        String line = err.substring(0, err.length() - 1);
        assertFalse(line.contains("\n"), () -> "one line on stderr, got:\n" + err);
        assertFalse(line.contains("\tat "), () -> "no stack trace: " + err);
        assertTrue(line.startsWith("buddy"), () -> "message names the program: " + line);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "stderr should mention '" + f + "': " + line);
        }
        return this;
    }

    public CliRun assertOk() {
        assertEquals(Cli.EXIT_OK, exit, () -> "exit code; stderr: " + err);
        assertEquals("", err, "stderr of a successful run");
        return this;
    }
}

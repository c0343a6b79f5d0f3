package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.gguf.GgufFormatException;

/** The command dispatcher: help, unknown commands, and how failures become one line and an exit code. */
class CliTest {
    @Test
    void helpNamesEverySubcommandWithItsSummary() {
        for (String flag : new String[] {"--help", "-h", "help"}) {
            CliRun r = CliRun.run(flag).assertOk();
            List<Command> commands = Cli.standardCommands();
            assertFalse(commands.isEmpty());
            for (Command c : commands) {
                assertTrue(r.out().contains("  " + c.spec().name() + " "), () -> c.spec().name() + " in " + r.out());
                assertTrue(r.out().contains(c.spec().summary()), c.spec().summary());
            }
        }
    }

    @Test
    void helpAboutHelpIsTheOverview() {
        String overview = CliRun.run("--help").out();
        assertEquals(overview, CliRun.run("help", "--help").assertOk().out());
        assertEquals(overview, CliRun.run("help", "-h").assertOk().out());
        assertEquals(CliRun.run("generate", "--help").out(), CliRun.run("help", "generate", "-h").assertOk().out());
    }

    @Test
    void staticEntryPointRunsTheStandardCommands() {
        CliRun viaStatic = CliRun.runStatic("--help");
        assertEquals(Cli.EXIT_OK, viaStatic.exit());
        assertEquals(CliRun.run("--help").out(), viaStatic.out());
        assertEquals(Cli.EXIT_USAGE, CliRun.runStatic("no-such-command").exit());
    }

    @Test
    void noArgumentsPrintsTheOverview() {
        assertEquals(CliRun.run("--help").out(), CliRun.run().assertOk().out());
    }

    @Test
    void everySubcommandHasHelpWithOptionsDefaultsAndAnExample() {
        for (Command c : Cli.standardCommands()) {
            String name = c.spec().name();
            CliRun r = CliRun.run(name, "--help").assertOk();
            assertEquals(c.spec().help(), r.out());
            assertEquals(r.out(), CliRun.run("help", name).assertOk().out(), "'buddy help X' = 'buddy X --help'");
            assertTrue(r.out().startsWith("Usage: buddy " + name), r.out());
            assertTrue(r.out().contains("Example"), r.out());
            for (OptionSpec o : c.spec().options()) {
                assertTrue(r.out().contains(o.longName()), o.longName());
                assertTrue(r.out().contains(o.description()), o.description());
                if (o.defaultValue() != null) {
                    assertTrue(r.out().contains("(default: " + o.defaultValue() + ")"), o.longName() + " default");
                }
            }
        }
    }

    @Test
    void unknownCommandIsOneLineWithASuggestion() {
        CliRun.run("ifno", "model.gguf").assertUserError("unknown command 'ifno'", "did you mean 'info'?", "buddy --help");
        CliRun.run("frobnicate").assertUserError("unknown command 'frobnicate'", "buddy --help");
        CliRun.run("--frobnicate").assertUserError("unknown option '--frobnicate'", "buddy --help");
        CliRun.run("help", "frobnicate").assertUserError("unknown command 'frobnicate'");
    }

    @Test
    void unknownOptionNamesItAndTheCommandsHelp() {
        CliRun.run("info", "--jsn", "x.gguf")
                .assertUserError("buddy info:", "unknown option '--jsn'", "did you mean '--json'?", "buddy info --help");
        CliRun.run("info", "-z", "x.gguf").assertUserError("unknown option '-z'", "buddy info --help");
    }

    @Test
    void versionPrintsOneLine() {
        CliRun r = CliRun.run("--version").assertOk();
        assertTrue(r.out().startsWith("buddy ") && r.out().indexOf('\n') == r.out().length() - 1, r.out());
    }

    /** A command whose failure is chosen by the test, to see how each kind of exception is reported. */
    private static Cli failingWith(Throwable t, boolean debug) {
        Command failing = new Command() {
            @Override
            public CommandSpec spec() {
                return new CommandSpec("fail", "always fails", "Fails.", List.of(), List.of(), List.of("buddy fail"));
            }

            @Override
            public int run(ParsedArgs args, Io io) throws Exception {
                io.out().print("partial output");
                if (t instanceof Exception e) {
                    throw e;
                }
                throw (Error) t;
            }
        };
        return new Cli(List.of(failing), debug);
    }

    @Test
    void userErrorsExitTwoWithOneLine() {
        record Case(Throwable thrown, String expected) {}
        for (Case c : List.of(
                new Case(new NoSuchFileException("m.gguf"), "no such file: m.gguf"),
                new Case(new GgufFormatException("m.gguf: bad magic\nsecond line"), "m.gguf: bad magic second line"),
                new Case(new IOException("disk on fire"), "I/O error: disk on fire"),
                new Case(new UsageException("no prompt"), "no prompt"))) {
            CliRun r = CliRun.run(failingWith(c.thrown(), false), "fail");
            assertEquals(Cli.EXIT_USAGE, r.exit());
            assertEquals("buddy fail: " + c.expected() + "\n", r.err());
        }
    }

    @Test
    void fileSystemErrorsNameTheFileAndWhatIsWrong(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        record Case(Throwable thrown, String expected) {}
        for (Case c : List.of(
                // what Files.createDirectories throws for /etc/passwd/x.gguf's folder
                new Case(new FileAlreadyExistsException(file.toString()),
                        file + ": already exists, as a file (not a directory)"),
                new Case(new FileSystemException(file.resolve("x.gguf").toString()),
                        file.resolve("x.gguf") + ": " + file + " is not a directory"),
                new Case(new FileSystemException(dir.toString()), dir + ": is a directory"),
                new Case(new NotDirectoryException(file.toString()), file + ": is not a directory"),
                new Case(new FileSystemException(file.toString(), null, "Read-only file system"),
                        file + ": Read-only file system"))) {
            CliRun r = CliRun.run(failingWith(c.thrown(), false), "fail");
            assertEquals(Cli.EXIT_USAGE, r.exit());
            assertEquals("buddy fail: " + c.expected() + "\n", r.err());
        }
    }

    @Test
    void internalErrorsExitOneAndPointToBuddyDebug() {
        CliRun r = CliRun.run(failingWith(new IllegalStateException("kv cache index 7 out of range"), false), "fail");
        assertEquals(Cli.EXIT_INTERNAL, r.exit());
        assertEquals("buddy fail: internal error: java.lang.IllegalStateException: kv cache index 7 out of range; "
                + Failure.DEBUG_HINT + "\n", r.err());
    }

    @Test
    void debugModeAddsTheStackTrace() {
        CliRun r = CliRun.run(failingWith(new IllegalStateException("boom"), true), "fail");
        assertEquals(Cli.EXIT_INTERNAL, r.exit());
        String[] lines = r.err().split("\n");
        assertTrue(lines[0].contains("internal error") && lines[0].contains("boom"), lines[0]);
        assertTrue(r.err().contains("\tat "), "stack trace follows: " + r.err());
    }
}

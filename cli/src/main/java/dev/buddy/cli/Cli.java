package dev.buddy.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.buddy.cli.bench.BenchCommand;
import dev.buddy.cli.bench.SynthCommand;
import dev.buddy.cli.devices.DevicesCommand;
import dev.buddy.cli.eval.EvalCommand;
import dev.buddy.cli.eval.EvalMergeCommand;
import dev.buddy.cli.info.InfoCommand;
import dev.buddy.cli.prune.PruneCommand;
import dev.buddy.cli.run.ChatCommand;
import dev.buddy.cli.run.GenerateCommand;
import dev.buddy.cli.train.PriorCliCommand;
import dev.buddy.cli.train.TrainPredictorCliCommand;
import dev.buddy.cli.train.RouteOracleCliCommand;
import dev.buddy.cli.train.TrainRouterCliCommand;

/**
 * The {@code buddy} command line: picks the subcommand, parses its options, runs it, and reports every failure as
 * one line on stderr with an exit code (0 ok, 1 internal error, 2 user error). Reached from {@link Main} only after
 * the JVM checks pass.
 */
public final class Cli {
    public static final int EXIT_OK = 0;
    public static final int EXIT_INTERNAL = 1;
    public static final int EXIT_USAGE = 2;

    private final Map<String, Command> commands = new LinkedHashMap<>();
    private final boolean debug;

    /**
     * @param commands the subcommands, in the order {@code --help} lists them
     * @param debug print stack traces after error messages
     */
    public Cli(List<Command> commands, boolean debug) {
        for (Command c : commands) {
            if (this.commands.put(c.spec().name(), c) != null) {
                throw new IllegalArgumentException("two commands named " + c.spec().name());
            }
        }
        this.debug = debug;
    }

    /** Buddy's subcommands. */
    public static List<Command> standardCommands() {
        return List.of(new InfoCommand(), new GenerateCommand(), new ChatCommand(),
                new EvalCommand(), new EvalMergeCommand(), new PruneCommand(), new PriorCliCommand(), new TrainRouterCliCommand(),
                new TrainPredictorCliCommand(), new RouteOracleCliCommand(), new SynthCommand(), new BenchCommand(),
                new DevicesCommand());
    }

    public static void main(String[] args) {
        int code = run(args, System.in, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /** Runs a command line in-process, reading standard input from {@code System.in}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.in, out, err);
    }

    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        boolean debug = "1".equals(System.getenv("BUDDY_DEBUG")) || "true".equalsIgnoreCase(System.getenv("BUDDY_DEBUG"));
        return new Cli(standardCommands(), debug).execute(args, new Io(in, out, err));
    }

    public List<Command> commands() {
        return List.copyOf(commands.values());
    }

    /** Parses and runs one command line; never throws. */
    public int execute(String[] args, Io io) {
        String prefix = "buddy";
        try {
            if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
                io.out().print(overview());
                return EXIT_OK;
            }
            if (args[0].equals("--version")) {
                io.out().println("buddy " + version());
                return EXIT_OK;
            }
            if (args[0].equals("help")) {
                return help(Arrays.copyOfRange(args, 1, args.length), io);
            }
            Command command = command(args[0]);
            prefix = "buddy " + command.spec().name();
            ParsedArgs parsed = ParsedArgs.parse(command.spec(), List.of(args).subList(1, args.length));
            if (parsed.helpRequested()) {
                io.out().print(command.spec().help());
                return EXIT_OK;
            }
            return command.run(parsed, io);
        } catch (Throwable t) { // the one place every failure becomes a message and an exit code
            Failure failure = Failure.of(t);
            io.err().println(prefix + ": " + failure.message());
            if (debug) {
                t.printStackTrace(io.err());
            }
            return failure.exitCode();
        } finally {
            io.out().flush();
        }
    }

    private int help(String[] words, Io io) {
        // 'buddy help --help' asks for help too: the overview (and 'buddy help generate -h' for generate's help).
        String[] rest = Arrays.stream(words).filter(w -> !w.equals("-h") && !w.equals("--help"))
                .toArray(String[]::new);
        if (rest.length == 0) {
            io.out().print(overview());
        } else if (rest.length == 1) {
            io.out().print(command(rest[0]).spec().help());
        } else {
            throw new UsageException("'buddy help' takes one command name, got " + rest.length + " arguments");
        }
        return EXIT_OK;
    }

    private Command command(String name) {
        Command c = commands.get(name);
        if (c != null) {
            return c;
        }
        List<String> names = new ArrayList<>(commands.keySet());
        names.add("help");
        String suggestion = Suggestions.closest(name, names);
        String what = name.startsWith("-") ? "unknown option '" + name + "'" : "unknown command '" + name + "'";
        throw new UsageException(what + (suggestion != null ? "; did you mean '" + suggestion + "'?" : "")
                + " (run 'buddy --help' for the list)");
    }

    /** The text of {@code buddy --help}. */
    public String overview() {
        StringBuilder sb = new StringBuilder();
        sb.append("Buddy ").append(version())
                .append(": pure-Java LLM inference for GGUF models, with budget-driven layer skipping.\n\n")
                .append("Usage: buddy COMMAND [options] [arguments]\n\nCommands:\n");
        int width = Math.max(4, commands.keySet().stream().mapToInt(String::length).max().orElse(0));
        for (Command c : commands.values()) {
            sb.append("  ").append(CommandSpec.pad(c.spec().name(), width)).append("  ").append(c.spec().summary())
                    .append('\n');
        }
        sb.append("  ").append(CommandSpec.pad("help", width)).append("  show the help of a command: buddy help COMMAND\n")
                .append("\nGlobal options:\n")
                .append("  -h, --help   show this help\n")
                .append("  --version    print the version\n")
                .append("\nRun 'buddy COMMAND --help' for a command's options, defaults and an example.\n")
                .append("Environment: BUDDY_DEBUG=1 prints stack traces with errors;"
                        + " BUDDY_JAVA_OPTS adds JVM options (./buddy only).\n");
        return sb.toString();
    }

    static String version() {
        String v = Cli.class.getPackage().getImplementationVersion();
        return v != null ? v : "(development build)";
    }
}

package dev.buddy.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * What a subcommand accepts and how it explains itself. {@link #help()} is generated from this, so the help text and
 * the parser can never disagree about an option's name or default.
 *
 * @param name the subcommand, e.g. {@code info}
 * @param summary one line for {@code buddy --help}
 * @param description a paragraph for {@code buddy NAME --help}
 * @param positionals positional arguments, in order
 * @param options options, without {@code --help} (every command gets it)
 * @param examples full command lines, starting with {@code buddy}
 */
public record CommandSpec(String name, String summary, String description, List<PositionalSpec> positionals,
                          List<OptionSpec> options, List<String> examples) {
    static final OptionSpec HELP = OptionSpec.flag("-h", "--help", "show this help and exit");

    public CommandSpec {
        positionals = List.copyOf(positionals);
        List<OptionSpec> all = new ArrayList<>(options);
        all.add(HELP);
        options = List.copyOf(all);
        examples = List.copyOf(examples);
    }

    /** The option with this short or long name, or null. */
    OptionSpec option(String name) {
        for (OptionSpec o : options) {
            if (name.equals(o.longName()) || name.equals(o.shortName())) {
                return o;
            }
        }
        return null;
    }

    String usageLine() {
        StringBuilder sb = new StringBuilder("Usage: buddy ").append(name).append(" [options]");
        for (PositionalSpec p : positionals) {
            sb.append(' ').append(p.name());
        }
        return sb.toString();
    }

    /** The full text of {@code buddy NAME --help}. */
    public String help() {
        StringBuilder sb = new StringBuilder();
        sb.append(usageLine()).append("\n\n").append(description).append('\n');
        if (!positionals.isEmpty()) {
            sb.append("\nArguments:\n");
            int width = positionals.stream().mapToInt(p -> p.name().length()).max().orElse(0);
            for (PositionalSpec p : positionals) {
                sb.append("  ").append(pad(p.name(), width)).append("  ").append(p.description()).append('\n');
            }
        }
        sb.append("\nOptions:\n");
        int width = options.stream().mapToInt(o -> o.synopsis().length()).max().orElse(0);
        for (OptionSpec o : options) {
            sb.append("  ").append(pad(o.synopsis(), width)).append("  ").append(o.description());
            if (o.defaultValue() != null) {
                sb.append(" (default: ").append(o.defaultValue()).append(')');
            }
            sb.append('\n');
        }
        if (!examples.isEmpty()) {
            sb.append(examples.size() == 1 ? "\nExample:\n" : "\nExamples:\n");
            for (String e : examples) {
                sb.append("  ").append(e).append('\n');
            }
        }
        return sb.toString();
    }

    static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}

package dev.buddy.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A command line parsed against a {@link CommandSpec}, with typed getters that apply the spec's defaults.
 *
 * <p>Rules (close to llama.cpp and getopt): {@code -n 128}, {@code --n-predict 128} and {@code --n-predict=128} all
 * work; the word after an option that takes a value is always its value, even if it starts with '-' (so
 * {@code --seed -1} works); a repeated option keeps its last value; {@code --} ends the options; {@code -h}/{@code
 * --help} anywhere before that asks for help. Every malformed input is a {@link UsageException} naming it.
 */
public final class ParsedArgs {
    private final CommandSpec spec;
    private final Map<String, String> values = new HashMap<>(); // keyed by long name; flags map to ""
    private final List<String> positionals = new ArrayList<>();
    private boolean helpRequested;

    private ParsedArgs(CommandSpec spec) {
        this.spec = spec;
    }

    public static ParsedArgs parse(CommandSpec spec, List<String> args) {
        ParsedArgs parsed = new ParsedArgs(spec);
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--")) {
                parsed.positionals.addAll(args.subList(i + 1, args.size()));
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                parsed.positionals.add(arg);
                continue;
            }
            String name = arg;
            String inlineValue = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inlineValue = arg.substring(eq + 1);
            }
            OptionSpec option = spec.option(name);
            if (option == null) {
                throw parsed.unknownOption(name);
            }
            if (option == CommandSpec.HELP) {
                parsed.helpRequested = true;
                return parsed;
            }
            if (!option.takesValue()) {
                if (inlineValue != null) {
                    throw parsed.usage("option " + name + " takes no value, but got '" + inlineValue + "'");
                }
                parsed.values.put(option.longName(), "");
            } else if (inlineValue != null) {
                parsed.values.put(option.longName(), inlineValue);
            } else if (i + 1 < args.size()) {
                parsed.values.put(option.longName(), args.get(++i));
            } else {
                throw parsed.usage("option " + name + " needs a value (" + option.valueName() + ")");
            }
        }
        int max = spec.positionals().size();
        boolean unbounded = max > 0 && spec.positionals().getLast().repeatable();
        if (!parsed.helpRequested && !unbounded && parsed.positionals.size() > max) {
            String extra = parsed.positionals.get(max);
            throw parsed.usage("unexpected argument '" + extra + "'");
        }
        return parsed;
    }

    public boolean helpRequested() {
        return helpRequested;
    }

    public List<String> positionals() {
        return List.copyOf(positionals);
    }

    /** Whether the user gave this option (by either name). */
    public boolean has(String longName) {
        return values.containsKey(option(longName).longName());
    }

    /** A flag's state. */
    public boolean flag(String longName) {
        return has(longName);
    }

    /** The option's value, its default when absent, or null when it has neither. */
    public String string(String longName) {
        OptionSpec o = option(longName);
        return values.getOrDefault(o.longName(), o.defaultValue());
    }

    public int intValue(String longName, int min, int max) {
        String s = string(longName);
        long v;
        try {
            v = Long.parseLong(require(longName, s).strip());
        } catch (NumberFormatException e) {
            throw invalid(longName, s, "an integer");
        }
        if (v < min || v > max) {
            throw invalid(longName, s, "an integer from " + min + " to " + max);
        }
        return (int) v;
    }

    public long longValue(String longName) {
        String s = string(longName);
        try {
            return Long.parseLong(require(longName, s).strip());
        } catch (NumberFormatException e) {
            throw invalid(longName, s, "an integer");
        }
    }

    public float floatValue(String longName, float min, float max) {
        String s = string(longName);
        float v;
        try {
            v = Float.parseFloat(require(longName, s).strip());
        } catch (NumberFormatException e) {
            throw invalid(longName, s, "a number");
        }
        if (!(v >= min && v <= max)) { // also rejects NaN
            throw invalid(longName, s, "a number from " + stripZero(min) + " to " + stripZero(max));
        }
        return v;
    }

    /**
     * A fraction in (0, 1], such as a compute budget.
     *
     * @param alternatives other values the option takes, handled by the caller, for the message (e.g. auto)
     */
    public float fraction(String longName, String... alternatives) {
        String s = string(longName);
        String expected = "a number in (0, 1]" + (alternatives.length == 0 ? "" : " or " + String.join(" or ",
                alternatives));
        float v;
        try {
            v = Float.parseFloat(require(longName, s).strip());
        } catch (NumberFormatException e) {
            throw invalid(longName, s, expected);
        }
        if (!(v > 0f && v <= 1f)) { // also rejects NaN
            throw invalid(longName, s, expected);
        }
        return v;
    }

    /**
     * A path option that has no default and must be given: absent, it is a usage error reading
     * {@code missing EXAMPLE (see 'buddy COMMAND --help')}, where {@code example} shows how to give it.
     */
    public Path requiredPath(String longName, String example) {
        String v = string(longName);
        if (v == null) {
            throw usage("missing " + example);
        }
        return path(option(longName).longName().substring(2), v);
    }

    /** A file path option or positional; malformed paths are a usage error, not an internal one. */
    public Path path(String what, String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw usage("invalid " + what + " path '" + text + "': " + e.getReason());
        }
    }

    UsageException usage(String message) {
        return new UsageException(message + " (see 'buddy " + spec.name() + " --help')");
    }

    private UsageException unknownOption(String name) {
        List<String> names = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            names.add(o.longName());
            if (o.shortName() != null) {
                names.add(o.shortName());
            }
        }
        String suggestion = Suggestions.closest(name, names);
        return usage("unknown option '" + name + "'" + (suggestion != null ? "; did you mean '" + suggestion + "'?" : ""));
    }

    private OptionSpec option(String longName) {
        OptionSpec o = spec.option(longName);
        if (o == null) {
            throw new IllegalArgumentException("'" + spec.name() + "' declares no option " + longName);
        }
        return o;
    }

    private String require(String longName, String value) {
        if (value == null) {
            throw usage("option " + option(longName).displayName() + " is required");
        }
        return value;
    }

    private UsageException invalid(String longName, String value, String expected) {
        return usage("invalid value '" + value + "' for " + option(longName).displayName() + ": expected " + expected);
    }

    private static String stripZero(float f) {
        return f == (long) f ? Long.toString((long) f) : Float.toString(f);
    }
}

package dev.buddy.bench;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** "-x value" / "--flag" arguments for the bench tools' mains; every option may appear once. */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    /** Options that take no value. */
    private static final List<String> FLAGS = List.of("--baseline", "-h", "--help");

    Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            if (FLAGS.contains(a)) {
                flags.add(a);
            } else if (i + 1 < args.length) {
                values.put(a, args[++i]);
            } else {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
        }
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String value(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return v;
    }

    int integer(String name, int fallback) {
        String v = values.get(name);
        try {
            return v == null ? fallback : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " needs an integer, got '" + v + "'");
        }
    }

    /**
     * Ends a bench tool's run on a user's mistake (a missing file, a bad option value): one line naming the problem
     * on stderr and exit code 2, never a stack trace.
     */
    static void exitWithError(String tool, String message) {
        System.err.println(tool + ": " + message);
        System.exit(2);
    }

    /** Options given that are not in {@code known}. */
    List<String> unknown(List<String> known) {
        return values.keySet().stream().filter(k -> !known.contains(k)).sorted().toList();
    }
}

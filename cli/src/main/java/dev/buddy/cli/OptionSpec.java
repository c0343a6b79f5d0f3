package dev.buddy.cli;

import java.util.Objects;

/**
 * One command-line option. {@code valueName} is null for a flag (no value); {@code defaultValue} is the value used
 * when the option is absent, written as the user would type it, so {@code --help} shows exactly what applies.
 *
 * @param shortName e.g. {@code -m}, or null
 * @param longName e.g. {@code --model}; every option has one, and it is the name code looks options up by
 * @param valueName e.g. {@code FILE}, or null for a flag
 * @param description one line for {@code --help}
 * @param defaultValue the default as text, or null when there is none
 */
public record OptionSpec(String shortName, String longName, String valueName, String description,
                         String defaultValue) {
    public OptionSpec {
        Objects.requireNonNull(longName, "longName");
        Objects.requireNonNull(description, "description");
        if (!longName.startsWith("--") || shortName != null && !(shortName.startsWith("-") && !shortName.startsWith("--"))) {
            throw new IllegalArgumentException("option names are -x and --name: " + shortName + ", " + longName);
        }
        if (valueName == null && defaultValue != null) {
            throw new IllegalArgumentException(longName + ": a flag has no default value");
        }
    }

    public static OptionSpec flag(String shortName, String longName, String description) {
        return new OptionSpec(shortName, longName, null, description, null);
    }

    public static OptionSpec value(String shortName, String longName, String valueName, String description,
                                   String defaultValue) {
        return new OptionSpec(shortName, longName, Objects.requireNonNull(valueName), description, defaultValue);
    }

    public boolean takesValue() {
        return valueName != null;
    }

    /** "-m, --model FILE" or "--json". */
    String synopsis() {
        String names = shortName == null ? "    " + longName : shortName + ", " + longName;
        return takesValue() ? names + " " + valueName : names;
    }

    /** How the user wrote it, for messages: the short name if there is one, since that is what llama.cpp users type. */
    String displayName() {
        return shortName != null ? shortName + "/" + longName : longName;
    }
}

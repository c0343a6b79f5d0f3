package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Option parsing with llama.cpp's conventions. */
class ParsedArgsTest {
    private static final CommandSpec SPEC = new CommandSpec("gen", "generates", "Generates text.",
            List.of(new PositionalSpec("PROMPT", "the prompt")),
            List.of(OptionSpec.value("-m", "--model", "FILE", "the model", null),
                    OptionSpec.value("-n", "--n-predict", "N", "tokens to generate", "128"),
                    OptionSpec.value(null, "--temp", "T", "temperature", "0.8"),
                    OptionSpec.value(null, "--seed", "S", "random seed", "-1"),
                    OptionSpec.flag(null, "--json", "JSON output")),
            List.of("buddy gen -m m.gguf hello"));

    private static ParsedArgs parse(String... args) {
        return ParsedArgs.parse(SPEC, List.of(args));
    }

    @Test
    void shortLongAndEqualsFormsAreTheSame() {
        for (String[] args : new String[][] {{"-n", "7"}, {"--n-predict", "7"}, {"--n-predict=7"}}) {
            assertEquals(7, parse(args).intValue("--n-predict", 0, 100));
            assertEquals(7, parse(args).intValue("-n", 0, 100), "looked up by short name too");
        }
    }

    @Test
    void defaultsComeFromTheSpec() {
        ParsedArgs a = parse();
        assertEquals(128, a.intValue("--n-predict", 0, 1000));
        assertEquals(0.8f, a.floatValue("--temp", 0, 10));
        assertEquals(-1L, a.longValue("--seed"));
        assertNull(a.string("--model"));
        assertFalse(a.flag("--json"));
        assertFalse(a.has("--n-predict"));
    }

    @Test
    void aRequiredPathIsTheValueOrAUsageErrorShowingHowToGiveIt() {
        assertEquals(java.nio.file.Path.of("m.gguf"), parse("-m", "m.gguf").requiredPath("--model", "-m MODEL.gguf"));
        UsageException missing = assertThrows(UsageException.class,
                () -> parse().requiredPath("--model", "-m MODEL.gguf"));
        assertEquals("missing -m MODEL.gguf (see 'buddy gen --help')", missing.getMessage());
    }

    @Test
    void aValueMayStartWithADash() {
        assertEquals(-5L, parse("--seed", "-5").longValue("--seed"));
        assertEquals("-p", parse("-m", "-p").string("--model"));
    }

    @Test
    void lastRepeatWinsAndFlagsAndPositionalsMix() {
        ParsedArgs a = parse("-n", "1", "hello", "--json", "-n", "2");
        assertEquals(2, a.intValue("--n-predict", 0, 10));
        assertTrue(a.flag("--json"));
        assertEquals(List.of("hello"), a.positionals());
    }

    @Test
    void doubleDashEndsOptionsAndSingleDashIsPositional() {
        assertEquals(List.of("--json"), parse("--", "--json").positionals());
        assertFalse(parse("--", "--json").flag("--json"));
        assertEquals(List.of("-"), parse("-").positionals());
    }

    @Test
    void helpWinsWhereverItAppears() {
        assertTrue(parse("-n", "3", "--help").helpRequested());
        assertTrue(parse("-h", "--bogus").helpRequested(), "help before a bad option still helps");
        assertFalse(parse("-m", "--help").helpRequested(), "the value of -m is not an option");
    }

    @Test
    void malformedInputNamesTheProblem() {
        assertMessage("option --temp needs a value (T)", "--temp");
        assertMessage("invalid value 'lots' for -n/--n-predict: expected an integer", "-n", "lots");
        assertMessage("invalid value '500' for -n/--n-predict: expected an integer from 0 to 100", "-n", "500");
        assertMessage("option --json takes no value, but got 'yes'", "--json=yes");
        assertMessage("unexpected argument 'world'", "hello", "world");
        assertMessage("unknown option '--tmp'; did you mean '--temp'?", "--tmp", "1");
    }

    @Test
    void floatRangeRejectsNaN() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--temp", "NaN").floatValue("--temp", 0, 2));
        assertTrue(e.getMessage().contains("expected a number from 0 to 2"), e.getMessage());
    }

    private static void assertMessage(String expected, String... args) {
        UsageException e = assertThrows(UsageException.class, () -> {
            ParsedArgs a = parse(args);
            a.intValue("--n-predict", 0, 100);
        });
        assertEquals(expected + " (see 'buddy gen --help')", e.getMessage());
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        String help = SPEC.help();
        assertTrue(help.startsWith("Usage: buddy gen [options] PROMPT\n"), help);
        assertTrue(help.contains("-n, --n-predict N  tokens to generate (default: 128)"), help);
        assertTrue(help.contains("      --temp T       temperature (default: 0.8)"), help);
        assertTrue(help.contains("-h, --help"), help);
        assertTrue(help.contains("Example:\n  buddy gen -m m.gguf hello\n"), help);
    }

    @Test
    void suggestionsAllowSmallTyposOnly() {
        assertEquals("info", Suggestions.closest("ifno", List.of("info", "help")));
        assertEquals("--temp", Suggestions.closest("--tmep", List.of("--temp", "--top-k")));
        assertNull(Suggestions.closest("zzzz", List.of("info", "help")));
    }
}

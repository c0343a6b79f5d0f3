package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;

/**
 * The examples in {@code --help} and in the {@code ./buddy} script work when pasted into a shell at the checkout's
 * root: they are valid shell words, their options exist, and the shared files they name are where they say.
 */
class HelpExamplesTest {
    private static final String SHARED = "../shared/";

    @Test
    void everyExampleIsAShellLineWithKnownOptionsAndRealSharedPaths() {
        for (Command c : Cli.standardCommands()) {
            for (String example : c.spec().examples()) {
                List<String> words = buddyCommand(shellWords(example));
                assertEquals(List.of("buddy", c.spec().name()), words.subList(0, 2), example);
                assertDoesNotThrow(() -> ParsedArgs.parse(c.spec(), words.subList(2, words.size())), example);
                for (String w : words) {
                    if (w.contains("stories260K.gguf") || w.contains("tinystories-valid-sample.txt")) {
                        assertTrue(w.startsWith(SHARED), () -> example + ": " + w + " is under " + SHARED);
                        TestData.require(w.substring(SHARED.length()));
                    }
                }
            }
        }
    }

    @Test
    void theScriptsHeaderNamesTheSharedModel() throws IOException {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.isRegularFile(root.resolve("mvnw"))) {
            root = root.getParent();
        }
        List<String> header = Files.readAllLines(root.resolve("buddy")).stream().filter(l -> l.startsWith("#"))
                .toList();
        String usage = header.stream().filter(l -> l.contains("./buddy info ")).findFirst().orElseThrow();
        String model = usage.substring(usage.indexOf("./buddy info ") + "./buddy info ".length()).strip();
        assertTrue(model.startsWith(SHARED), usage);
        TestData.require(model.substring(SHARED.length()));
    }

    /** The pipeline's command that runs buddy. */
    private static List<String> buddyCommand(List<String> words) {
        int start = words.indexOf("buddy");
        int end = words.subList(start, words.size()).indexOf("|");
        return words.subList(start, end < 0 ? words.size() : start + end);
    }

    /** The words a POSIX shell makes of a pipeline ('|' a word of its own); fails on what would be other syntax. */
    static List<String> shellWords(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quote != 0) {
                if (ch == quote) {
                    quote = 0;
                } else {
                    word.append(ch);
                }
            } else if (ch == '"' || ch == '\'') {
                quote = ch;
                word = word == null ? new StringBuilder() : word;
            } else if (Character.isWhitespace(ch)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else if (ch == '|') {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
                words.add("|");
            } else {
                assertFalse("()<>;&`".indexOf(ch) >= 0, () -> "unquoted '" + ch + "' is shell syntax: "
                        + line);
                word = word == null ? new StringBuilder() : word;
                word.append(ch);
            }
        }
        assertEquals(0, quote, () -> "unbalanced quote: " + line);
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }
}

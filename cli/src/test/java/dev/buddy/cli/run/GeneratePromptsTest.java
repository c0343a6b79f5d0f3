package dev.buddy.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buddy generate --prompts FILE}: the prompts continued together print, each, the text {@code -p} prints for
 * it alone, with and without a router (greedy; fewer than 8 sequences, so every matrix product runs the kernels a
 * lone token runs).
 */
class GeneratePromptsTest {
    private static final List<String> PROMPTS = List.of("Once upon a time", "The little dog", "Lily and Ben went");

    @Test
    void eachPromptPrintsWhatItPrintsAlone(@TempDir Path dir) throws IOException {
        Path model = TestData.require("models/stories260K.gguf");
        Path file = dir.resolve("prompts.txt");
        Files.writeString(file, PROMPTS.get(0) + "\n\n" + PROMPTS.get(1) + "\n" + PROMPTS.get(2) + "\n");
        for (List<String> routing : List.of(List.<String>of(), List.of("--router", "random", "--budget", "0.6"))) {
            List<String> batched = new ArrayList<>(List.of("generate", "-m", model.toString(), "--prompts",
                    file.toString(), "-n", "24", "--temp", "0"));
            batched.addAll(routing);
            CliRun together = CliRun.run(batched.toArray(String[]::new));
            assertEquals(0, together.exit(), together.err());
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < PROMPTS.size(); i++) {
                List<String> single = new ArrayList<>(List.of("generate", "-m", model.toString(), "-p",
                        PROMPTS.get(i), "-n", "24", "--temp", "0"));
                single.addAll(routing);
                CliRun alone = CliRun.run(single.toArray(String[]::new));
                assertEquals(0, alone.exit(), alone.err());
                expected.append('[').append(i).append("] ").append(alone.out());
            }
            assertEquals(expected.toString(), together.out(), "routing " + routing);
            assertTrue(together.err().contains("batch: 3 sequences"), together.err());
            if (!routing.isEmpty()) {
                assertEquals(3, together.err().lines().filter(l -> l.matches("\\[\\d] routing: .*")).count(),
                        together.err());
            }
        }
    }

    @Test
    void promptAndPromptsTogetherAreAUsageError(@TempDir Path dir) throws IOException {
        Path model = TestData.require("models/stories260K.gguf");
        Path file = Files.writeString(dir.resolve("p.txt"), "Once\n");
        CliRun.run("generate", "-m", model.toString(), "-p", "x", "--prompts", file.toString())
                .assertOneLineError(2, "--prompt or --prompts");
        CliRun.run("generate", "-m", model.toString(), "--prompts", dir.resolve("missing.txt").toString())
                .assertOneLineError(2, "not found");
        CliRun.run("generate", "-m", model.toString(), "--prompts", Files.writeString(dir.resolve("empty.txt"),
                "\n \n").toString()).assertOneLineError(2, "no prompt");
    }
}

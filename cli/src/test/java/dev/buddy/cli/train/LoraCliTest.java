package dev.buddy.cli.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.cli.CliRun;
import dev.buddy.engine.model.Model;
import dev.buddy.gguf.TestData;
import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-router --lora} and {@code generate --lora} end to end on stories260K: the adapters are written beside
 * the router and generate runs with them; an adapter for another base model, and LoRA settings without
 * {@code --lora}, are one line on stderr with exit 2.
 */
class LoraCliTest {
    @TempDir
    Path dir;

    private static Path model() {
        return TestData.require("models/stories260K.gguf");
    }

    private static Path text() {
        return TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
    }

    @Test
    void trainRouterWritesAdaptersThatGenerateApplies() {
        Path out = dir.resolve("stories.router.gguf");
        CliRun train = CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--steps",
                "2", "--batch", "2", "--max-tokens", "64", "--prior", "none", "--lr", "1e-2", "--lora", "2",
                "--lora-targets", "attn,down", "-t", "1", "-o", out.toString());
        assertEquals(0, train.exit(), train.err());
        Path adapters = dir.resolve("stories.router.lora.gguf");
        assertTrue(Files.exists(adapters), "no adapter file beside the router");
        assertTrue(train.out().contains("LoRA rank 2") && train.out().contains("q,k,v,o,down"), train.out());
        CliRun generate = CliRun.run("generate", "-m", model().toString(), "--lora", adapters.toString(), "-p",
                "Once upon a time", "-n", "4", "--temp", "0", "-t", "1");
        assertEquals(0, generate.exit(), generate.err());
        assertTrue(generate.out().startsWith("Once upon a time"), generate.out());
    }

    @Test
    void heldOutSelectionKeepsTheBestRouterWithItsAdapters() throws IOException {
        Path out = dir.resolve("sel.router.gguf");
        Path held = dir.resolve("held.txt");
        Files.writeString(held, Files.readString(text()).substring(0, 4000));
        CliRun train = CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--steps",
                "2", "--batch", "2", "--max-tokens", "64", "--prior", "none", "--lr", "0", "--lora", "2", "--lora-lr",
                "1e-2", "--val", held.toString(), "--val-every", "1", "--val-tokens", "128", "-t", "1", "-o",
                out.toString());
        assertEquals(0, train.exit(), train.err());
        Path best = dir.resolve("sel.router.best.gguf");
        Path bestAdapters = dir.resolve("sel.router.best.lora.gguf");
        assertTrue(Files.exists(best) && Files.exists(bestAdapters), "best router or its adapters missing");
        assertTrue(train.out().contains("(scored with its adapters); wrote " + best + " and " + bestAdapters),
                train.out());
    }

    @Test
    void anAdapterForAnotherModelIsOneLineAndExitTwo() throws IOException {
        Path foreign = dir.resolve("foreign.lora.gguf");
        try (Model m = Model.load(model())) {
            LoraFile.write(LoraAdapters.initial(m.spec(), LoraConfig.of(2), 1), "0".repeat(64), foreign);
        }
        CliRun.run("generate", "-m", model().toString(), "--lora", foreign.toString(), "-p", "Once", "-n", "2")
                .assertUserError("different base model");
    }

    @Test
    void loraSettingsWithoutLoraAreAUsageError() {
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--lora-alpha", "4", "-o",
                dir.resolve("r.gguf").toString()).assertUserError("--lora-alpha and --lora-lr need --lora R");
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--lora", "2",
                "--lora-targets", "q,x", "-o", dir.resolve("r.gguf").toString()).assertUserError("unknown LoRA target");
    }

    @Test
    void aFrozenRouterNeedsAdaptersWithTheirOwnRate() {
        String expected = "--lr 0 freezes the router, so it needs --lora R and a positive --lora-lr";
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--lr", "0", "-o",
                dir.resolve("r.gguf").toString()).assertUserError(expected);
        CliRun.run("train-router", "-m", model().toString(), "--data", text().toString(), "--lr", "0", "--lora",
                "2", "-o", dir.resolve("r.gguf").toString()).assertUserError(expected);
        assertFalse(Files.exists(dir.resolve("r.gguf")), "a refused run wrote a router");
    }
}

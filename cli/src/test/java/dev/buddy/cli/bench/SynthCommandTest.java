package dev.buddy.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;

/** {@code buddy synth}: writes what it is asked for, and turns every bad request into one line. */
class SynthCommandTest {
    @TempDir
    Path tmp;

    private static String vocab() {
        return TestData.require(SynthCommand.GPT2_VOCAB).toString();
    }

    @Test
    void writesTheRequestedShapeAndTypeAndSaysSo() throws Exception {
        Path out = tmp.resolve("tiny.gguf");
        CliRun r = CliRun.run("synth", "--shape", "tiny", "--type", "q4_k_m", "-o", out.toString(), "--seed", "3",
                "--vocab", vocab()).assertOk();
        assertTrue(r.out().startsWith("wrote " + out + ": tiny q4_k_m, 21 tensors"), r.out());
        try (GgufFile gguf = GgufFile.open(out)) {
            assertEquals(15, gguf.getInt("general.file_type")); // LLAMA_FTYPE_MOSTLY_Q4_K_M
            assertEquals(GgmlType.Q4_K, gguf.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q6_K, gguf.tensor("output.weight").type());
            assertTrue(gguf.getString("general.description").contains("seed 3"));
        }
    }

    @Test
    void pureAndSeedChangeTheFile() throws Exception {
        Path mixed = tmp.resolve("mixed.gguf");
        Path pure = tmp.resolve("pure.gguf");
        CliRun.run("synth", "--shape", "tiny", "--type", "q4_0", "-o", mixed.toString(), "--vocab", vocab())
                .assertOk();
        CliRun r = CliRun.run("synth", "--shape", "tiny", "--type", "q4_0", "--pure", "-o", pure.toString(),
                "--vocab", vocab()).assertOk();
        assertTrue(r.out().contains("q4_0 (pure)"), r.out());
        try (GgufFile m = GgufFile.open(mixed); GgufFile p = GgufFile.open(pure)) {
            assertEquals(GgmlType.Q6_K, m.tensor("output.weight").type());
            assertEquals(GgmlType.Q4_0, p.tensor("output.weight").type());
        }
    }

    @Test
    void badRequestsAreOneLineUserErrors() {
        String out = tmp.resolve("x.gguf").toString();
        CliRun.run("synth", "--shape", "gpt-5", "--type", "q8_0", "-o", out, "--vocab", vocab())
                .assertUserError("unknown model shape 'gpt-5'", "llama-3.2-1b");
        CliRun.run("synth", "--shape", "tiny", "--type", "q3_k", "-o", out, "--vocab", vocab())
                .assertUserError("unknown weight type 'q3_k'", "q4_k_m");
        CliRun.run("synth", "--type", "q8_0", "-o", out).assertUserError("missing --shape");
        CliRun.run("synth", "--shape", "tiny", "-o", out).assertUserError("missing --type");
        CliRun.run("synth", "--shape", "tiny", "--type", "f16").assertUserError("missing --output", "-o FILE");
        CliRun.run("synth", "--shape", "tiny", "--type", "f16", "-o", tmp.toString())
                .assertUserError("is a directory");
        CliRun.run("synth", "--shape", "tiny", "--type", "f16", "-o", out, "--seed", "x")
                .assertUserError("invalid value 'x'");
        CliRun.run("synth", "--shape", "tiny", "--type", "f16", "-o", out, "--vocab", tmp.resolve("none.gguf")
                .toString()).assertUserError("vocabulary file not found");
        assertFalse(Files.exists(Path.of(out)), "nothing written on failure");
    }

    @Test
    void helpListsShapesAndTypes() {
        CliRun r = CliRun.run("synth", "--help").assertOk();
        for (String word : new String[] {"llama-3.2-1b", "qwen2.5-0.5b", "smollm2-135m", "tiny", "q5_k_m", "bf16",
                "--pure", "--vocab"}) {
            assertTrue(r.out().contains(word), word);
        }
    }
}

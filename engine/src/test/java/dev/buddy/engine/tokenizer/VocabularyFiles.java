package dev.buddy.engine.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TestData;

/** Loads the shared vocabulary GGUFs and their test vectors; each vocabulary is read once per test JVM. */
final class VocabularyFiles {
    static final String DIR = "models/tokenizer-tests/";

    private VocabularyFiles() {}

    static Vocabulary read(String ggufName) {
        try (GgufFile gguf = GgufFile.open(TestData.require(DIR + ggufName))) {
            return Vocabulary.fromGguf(gguf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TokenizerVectors vectors(String ggufName) throws IOException {
        Path inp = TestData.require(DIR + ggufName + ".inp");
        Path out = TestData.require(DIR + ggufName + ".out");
        return TokenizerVectors.read(inp, out);
    }

    /** The Llama 2 SentencePiece vocabulary. */
    static Tokenizer llamaSpm() {
        return LlamaSpm.TOKENIZER;
    }

    /** The GPT-2 byte-level BPE vocabulary. */
    static Tokenizer gpt2() {
        return Gpt2.TOKENIZER;
    }

    // Holder classes: built on first use, after TestData has had the chance to skip.
    private static final class LlamaSpm {
        static final Tokenizer TOKENIZER = Tokenizer.of(read("ggml-vocab-llama-spm.gguf"));
    }

    private static final class Gpt2 {
        static final Tokenizer TOKENIZER = Tokenizer.of(read("ggml-vocab-gpt-2.gguf"));
    }
}

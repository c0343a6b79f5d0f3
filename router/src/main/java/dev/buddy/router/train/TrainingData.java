package dev.buddy.router.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import dev.buddy.engine.tokenizer.Tokenizer;

/**
 * An indexed set of training sequences. Implementations tokenize on first access and keep the result, so opening a
 * large file is quick and a run pays only for the examples it uses.
 */
public interface TrainingData {
    int size();

    /** Example i, tokenized and cut to the configured maximum length. */
    TrainingExample example(int index);

    /** A line for logs: file, format, example count. */
    String describe();

    /** Examples {@code [from, to)} of this set, as a view. */
    default TrainingData slice(int from, int to) {
        if (from < 0 || to > size() || from >= to) {
            throw new TrainingDataException("cannot take examples [" + from + ", " + to + ") of " + describe());
        }
        TrainingData whole = this;
        return new TrainingData() {
            @Override
            public int size() {
                return to - from;
            }

            @Override
            public TrainingExample example(int index) {
                return whole.example(from + index);
            }

            @Override
            public String describe() {
                return whole.describe() + ", examples " + from + ".." + (to - 1);
            }
        };
    }

    /**
     * Opens a data file by its extension: {@code .json} is an Alpaca array of {@code {instruction, input, output}}
     * objects, {@code .jsonl} the same objects one per line, anything else plain text (documents separated by
     * {@code <|endoftext|>} lines, or by blank lines when there are none).
     *
     * @param maxTokens longest sequence kept; longer examples are cut to their first {@code maxTokens} tokens
     * @throws TrainingDataException when the file is malformed, naming the line
     */
    static TrainingData open(Path path, Tokenizer tokenizer, int maxTokens) throws IOException {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) {
            return AlpacaData.readArray(path, tokenizer, maxTokens);
        }
        if (name.endsWith(".jsonl")) {
            return AlpacaData.readLines(path, tokenizer, maxTokens);
        }
        return TextData.read(path, tokenizer, maxTokens);
    }
}

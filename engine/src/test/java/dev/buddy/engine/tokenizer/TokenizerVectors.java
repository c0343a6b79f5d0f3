package dev.buddy.engine.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors ({@code models/ggml-vocab-*.gguf.inp/.out}): the input strings separated by
 * {@code "\n__ggml_vocab_test__\n"}, and one line of space-separated expected ids per string, without BOS.
 */
record TokenizerVectors(List<String> inputs, List<int[]> expected) {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static TokenizerVectors read(Path inp, Path out) throws IOException {
        String text = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        int position = 0;
        for (int next; (next = text.indexOf(SEPARATOR, position)) >= 0; position = next + SEPARATOR.length()) {
            inputs.add(text.substring(position, next));
        }
        List<int[]> expected = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
                .map(line -> line.isBlank()
                        ? new int[0]
                        : Arrays.stream(line.trim().split(" +")).mapToInt(Integer::parseInt).toArray())
                .toList();
        if (inputs.size() != expected.size()) {
            throw new IllegalStateException(inp + " has " + inputs.size() + " cases but " + out + " has "
                    + expected.size() + " lines");
        }
        return new TokenizerVectors(inputs, expected);
    }

    /** Encodes every input without BOS and special parsing; returns a description of each mismatch. */
    List<String> mismatches(Tokenizer tokenizer) {
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            int[] actual = tokenizer.encode(inputs.get(i), false, false);
            if (!Arrays.equals(actual, expected.get(i))) {
                failures.add("case " + i + " '" + inputs.get(i).replace("\n", "\\n") + "': expected "
                        + Arrays.toString(expected.get(i)) + " got " + Arrays.toString(actual));
            }
        }
        return failures;
    }
}

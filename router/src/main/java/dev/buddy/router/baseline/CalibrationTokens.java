package dev.buddy.router.baseline;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.buddy.engine.tokenizer.Tokenizer;

/** The first N tokens of a calibration text (WikiText-2 by default, following Shortened LLaMA and the paper's App. B). */
public final class CalibrationTokens {
    /** A window needs a token to predict from and one to predict. */
    public static final int MIN_TOKENS = 2;

    private CalibrationTokens() {}

    /**
     * Tokenizes the beginning of {@code file} (no BOS) and keeps its first {@code maxTokens} tokens. Only a prefix of
     * the file is read, growing until it yields enough tokens, so a multi-MB corpus costs what N tokens cost.
     *
     * @throws CalibrationException if the file yields fewer than {@link #MIN_TOKENS} tokens
     */
    public static int[] load(Path file, Tokenizer tokenizer, int maxTokens) throws IOException {
        if (maxTokens < MIN_TOKENS) {
            throw new CalibrationException("calibration needs at least " + MIN_TOKENS + " tokens, asked for "
                    + maxTokens);
        }
        long fileChars = Files.size(file);
        // ~4 bytes per token for English BPE; start a little above that and double until enough tokens come out.
        long want = Math.max(4096L, 6L * maxTokens);
        while (true) {
            boolean whole = want >= fileChars;
            String text = readPrefix(file, (int) Math.min(want, Integer.MAX_VALUE - 16));
            int[] tokens = tokenizer.encode(text, false, false);
            // The last token of a cut-off prefix may be a fragment of a longer word: drop it unless the file ended.
            int usable = whole ? tokens.length : Math.max(0, tokens.length - 1);
            if (usable >= maxTokens) {
                return Arrays.copyOf(tokens, maxTokens);
            }
            if (whole) {
                if (usable < MIN_TOKENS) {
                    throw new CalibrationException("calibration text " + file + " yields " + usable
                            + " tokens; at least " + MIN_TOKENS + " are needed");
                }
                return Arrays.copyOf(tokens, usable);
            }
            want *= 2;
        }
    }

    private static String readPrefix(Path file, int chars) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            char[] buf = new char[chars];
            int n = 0;
            int read;
            while (n < chars && (read = r.read(buf, n, chars - n)) > 0) {
                n += read;
            }
            return new String(buf, 0, n);
        }
    }
}

package dev.buddy.engine.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words that byte-level BPE merges within, chosen by {@code tokenizer.ggml.pre}.
 *
 * <p>The expressions are llama.cpp's ({@code llm_tokenizer_bpe} in llama-vocab.cpp), applied the way its
 * {@code unicode_regex_split} does: each expression splits every piece left by the previous one, and the text between
 * matches is kept as pieces of its own. They compile with {@link Pattern#UNICODE_CHARACTER_CLASS} so that {@code \s}
 * is Unicode whitespace, as in llama.cpp's own matcher and in Hugging Face tokenizers.
 *
 * @param name          the {@code tokenizer.ggml.pre} value this was chosen for
 * @param expressions   the split expressions, applied in order
 * @param ignoreMerges  whether a word that is itself a token is emitted whole before any merging (Llama 3)
 */
record PreTokenizer(String name, List<Pattern> expressions, boolean ignoreMerges) {

    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 =
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 =
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    PreTokenizer {
        expressions = List.copyOf(expressions);
    }

    /** The pre-tokenizer llama.cpp uses for a {@code tokenizer.ggml.pre} value. */
    static PreTokenizer forName(String pre) {
        return switch (pre) {
            case "default" -> of(pre, false,
                    "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
            case "gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4" -> of(pre, false, GPT2);
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral" -> of(pre, true, LLAMA3);
            case "dbrx", "smaug-bpe" -> of(pre, false, LLAMA3);
            case "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez" -> of(pre, false, QWEN2);
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b" ->
                    of(pre, false, "\\p{N}", GPT2);
            default -> throw new VocabularyException("unsupported pre-tokenizer tokenizer.ggml.pre = '" + pre + "'");
        };
    }

    /** Whether a vocabulary with this pre-tokenizer starts sequences with BOS when the file does not say. */
    static boolean addsBosByDefault(String pre) {
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral" -> true;
            default -> false;
        };
    }

    private static PreTokenizer of(String name, boolean ignoreMerges, String... expressions) {
        return new PreTokenizer(name,
                java.util.Arrays.stream(expressions)
                        .map(e -> Pattern.compile(e, Pattern.UNICODE_CHARACTER_CLASS))
                        .toList(),
                ignoreMerges);
    }

    /**
     * Splits {@code text[start, end)} and appends each word's bounds to {@code bounds} as (start, end) pairs.
     */
    void split(String text, int start, int end, IntArrayList bounds) {
        IntArrayList current = new IntArrayList(2);
        current.add(start);
        current.add(end);
        Matcher matcher = null;
        for (Pattern expression : expressions) {
            IntArrayList next = new IntArrayList(current.size() * 2);
            matcher = matcher == null ? expression.matcher(text) : matcher.usePattern(expression);
            for (int i = 0; i < current.size(); i += 2) {
                int pieceStart = current.get(i);
                int pieceEnd = current.get(i + 1);
                // Opaque bounds: look-arounds such as \s+(?!\S) see the piece's end as the end of input.
                matcher.region(pieceStart, pieceEnd);
                int position = pieceStart;
                while (matcher.find()) {
                    if (matcher.end() == matcher.start()) {
                        continue;
                    }
                    if (matcher.start() > position) {
                        next.add(position);
                        next.add(matcher.start());
                    }
                    next.add(matcher.start());
                    next.add(matcher.end());
                    position = matcher.end();
                }
                if (position < pieceEnd) {
                    next.add(position);
                    next.add(pieceEnd);
                }
            }
            current = next;
        }
        for (int i = 0; i < current.size(); i++) {
            bounds.add(current.get(i));
        }
    }
}

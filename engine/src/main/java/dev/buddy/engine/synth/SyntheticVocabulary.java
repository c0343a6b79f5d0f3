package dev.buddy.engine.synth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufFormatException;

/**
 * A working byte-level BPE tokenizer for a synthetic model: GPT-2's vocabulary and merges (read from a vocab-only GGUF
 * such as llama.cpp's {@code models/ggml-vocab-gpt-2.gguf}) fitted to the shape's vocabulary size.
 *
 * <p>Layout, so that ids stay GPT-2's and llama.cpp's tokenizer test vectors apply unchanged:
 * <ol>
 *   <li>GPT-2's normal tokens, in their order (ids 0..50255);</li>
 *   <li>GPT-2's control tokens ({@code <|endoftext|>}, also BOS and EOS);</li>
 *   <li>control tokens {@code <|reserved_0|>}, {@code <|reserved_1|>}, ... up to the shape's vocabulary size.</li>
 * </ol>
 * A vocabulary smaller than GPT-2's (SmolLM2's 49152, the tiny test shape's) keeps the first normal tokens and drops
 * every merge whose parts or result were cut, so each remaining merge yields a token that exists. GPT-2's token
 * 256 + i is the result of merge i, so the cut keeps exactly the first merges.
 *
 * @param tokens token texts by id ({@code tokenizer.ggml.tokens})
 * @param tokenTypes llama.cpp token types by id: 1 normal, 3 control ({@code tokenizer.ggml.token_type})
 * @param merges "left right" pairs in rank order ({@code tokenizer.ggml.merges})
 * @param endOfTextId the id of {@code <|endoftext|>}, used as BOS and EOS
 */
public record SyntheticVocabulary(String[] tokens, int[] tokenTypes, String[] merges, int endOfTextId) {
    /** llama.cpp's llama_token_type values. */
    public static final int TOKEN_TYPE_NORMAL = 1;
    public static final int TOKEN_TYPE_CONTROL = 3;

    /** Byte-level BPE needs all 256 byte symbols to encode any text. */
    private static final int BYTE_ALPHABET = 256;

    public SyntheticVocabulary {
        tokens = tokens.clone();
        tokenTypes = tokenTypes.clone();
        merges = merges.clone();
    }

    @Override
    public String[] tokens() {
        return tokens.clone();
    }

    @Override
    public int[] tokenTypes() {
        return tokenTypes.clone();
    }

    @Override
    public String[] merges() {
        return merges.clone();
    }

    public int size() {
        return tokens.length;
    }

    /**
     * Reads a GPT-2-style vocabulary ({@code tokenizer.ggml.model = gpt2}) and fits it to {@code vocabSize} tokens.
     *
     * @throws SyntheticModelException when the file is missing, not a gpt2 vocabulary, or too large to cut down
     */
    public static SyntheticVocabulary fromGpt2Gguf(Path vocabFile, int vocabSize) {
        if (!Files.isRegularFile(vocabFile)) {
            throw new SyntheticModelException("vocabulary file not found: " + vocabFile);
        }
        try (GgufFile file = GgufFile.open(vocabFile)) {
            // tokenizer.ggml.model: the tokenizer family; only byte-level BPE can be cut and padded this way.
            String model = file.getString("tokenizer.ggml.model", "");
            if (!model.equals("gpt2")) {
                throw new SyntheticModelException(vocabFile + " holds a '" + model
                        + "' tokenizer; a byte-level BPE (tokenizer.ggml.model = gpt2) vocabulary is needed");
            }
            return fit(file.getStringArray("tokenizer.ggml.tokens"), file.getIntArray("tokenizer.ggml.token_type"),
                    file.getStringArray("tokenizer.ggml.merges"), vocabSize);
        } catch (GgufFormatException e) {
            throw new SyntheticModelException("cannot read vocabulary " + vocabFile + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fits a source vocabulary to {@code vocabSize} tokens, as described in the class comment. */
    static SyntheticVocabulary fit(String[] sourceTokens, int[] sourceTypes, String[] sourceMerges, int vocabSize) {
        if (sourceTypes.length != sourceTokens.length) {
            throw new SyntheticModelException("vocabulary has " + sourceTokens.length + " tokens but "
                    + sourceTypes.length + " token types");
        }
        List<String> normal = new ArrayList<>();
        List<String> control = new ArrayList<>();
        for (int i = 0; i < sourceTokens.length; i++) {
            (sourceTypes[i] == TOKEN_TYPE_NORMAL ? normal : control).add(sourceTokens[i]);
        }
        if (!control.contains("<|endoftext|>")) {
            throw new SyntheticModelException("vocabulary has no <|endoftext|> control token to use as BOS/EOS");
        }
        int keptNormal = Math.min(normal.size(), vocabSize - control.size());
        if (keptNormal < BYTE_ALPHABET) {
            throw new SyntheticModelException("a vocabulary of " + vocabSize + " tokens cannot hold the "
                    + BYTE_ALPHABET + " byte tokens and " + control.size() + " control tokens");
        }
        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        Map<String, Integer> ids = new HashMap<>(); // the kept normal tokens
        int next = 0;
        for (int i = 0; i < keptNormal; i++, next++) {
            tokens[next] = normal.get(i);
            types[next] = TOKEN_TYPE_NORMAL;
            ids.put(tokens[next], next);
        }
        int endOfText = -1;
        for (String c : control) {
            if (c.equals("<|endoftext|>")) {
                endOfText = next;
            }
            tokens[next] = c;
            types[next++] = TOKEN_TYPE_CONTROL;
        }
        for (int reserved = 0; next < vocabSize; reserved++, next++) {
            tokens[next] = "<|reserved_" + reserved + "|>";
            types[next] = TOKEN_TYPE_CONTROL;
        }
        List<String> merges = new ArrayList<>(sourceMerges.length);
        for (String merge : sourceMerges) {
            int space = merge.indexOf(' ');
            if (space <= 0 || space == merge.length() - 1) {
                throw new SyntheticModelException("malformed merge '" + merge + "'");
            }
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            if (ids.containsKey(left) && ids.containsKey(right) && ids.containsKey(left + right)) {
                merges.add(merge);
            }
        }
        return new SyntheticVocabulary(tokens, types, merges.toArray(String[]::new), endOfText);
    }
}

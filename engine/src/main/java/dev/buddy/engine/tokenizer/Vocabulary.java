package dev.buddy.engine.tokenizer;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufStrings;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;

/**
 * Everything a GGUF file stores about its tokenizer, with llama.cpp's defaults applied for keys the file leaves out.
 *
 * <p>Arrays are held as given (not copied: the qwen vocabulary has 151k entries) and must not be modified afterwards.
 * Token texts and merges stay in the file's compact UTF-8 form ({@link GgufStrings}, shared with the
 * {@link GgufFile}): as {@code String[]} they were 12 MB of heap for a 128k-token vocabulary.
 *
 * @param model          {@code tokenizer.ggml.model}: {@code "llama"} (SentencePiece) or {@code "gpt2"} (byte-level BPE)
 * @param pre            {@code tokenizer.ggml.pre}: the pre-tokenizer name, {@code "default"} when absent
 * @param tokens         {@code tokenizer.ggml.tokens}: the text of each token id
 * @param scores         {@code tokenizer.ggml.scores}: SentencePiece merge priorities (zeros when absent)
 * @param tokenTypes     {@code tokenizer.ggml.token_type}: {@link TokenType} numbers (all NORMAL when absent)
 * @param merges         {@code tokenizer.ggml.merges}: BPE merges as {@code "left right"}, highest priority first
 * @param bosId          {@code tokenizer.ggml.bos_token_id}, or {@link #NO_TOKEN}
 * @param eosId          {@code tokenizer.ggml.eos_token_id}, or {@link #NO_TOKEN}
 * @param unknownId      {@code tokenizer.ggml.unknown_token_id}, or {@link #NO_TOKEN}
 * @param paddingId      {@code tokenizer.ggml.padding_token_id}, or {@link #NO_TOKEN}
 * @param eotId          {@code tokenizer.ggml.eot_token_id}, or {@link #NO_TOKEN}
 * @param addBos         {@code tokenizer.ggml.add_bos_token}: whether a sequence starts with BOS
 * @param addEos         {@code tokenizer.ggml.add_eos_token}: whether a sequence ends with EOS
 * @param addSpacePrefix {@code tokenizer.ggml.add_space_prefix}: SentencePiece's leading "▁" before the text
 * @param chatTemplate   {@code tokenizer.chat_template}: the Jinja chat template text, if the file has one
 */
public record Vocabulary(
        String model,
        String pre,
        GgufStrings tokens,
        float[] scores,
        int[] tokenTypes,
        GgufStrings merges,
        int bosId,
        int eosId,
        int unknownId,
        int paddingId,
        int eotId,
        boolean addBos,
        boolean addEos,
        boolean addSpacePrefix,
        Optional<String> chatTemplate) {

    /** Marks a special token id the vocabulary does not have (llama.cpp's LLAMA_TOKEN_NULL). */
    public static final int NO_TOKEN = -1;

    /** {@code tokenizer.ggml.model} of SentencePiece vocabularies (Llama 1/2, TinyLlama). */
    public static final String MODEL_SENTENCEPIECE = "llama";

    /** {@code tokenizer.ggml.model} of byte-level BPE vocabularies (GPT-2, Llama 3, Qwen, SmolLM). */
    public static final String MODEL_BYTE_PAIR = "gpt2";

    /** {@code tokenizer.ggml.model}. */
    public static final String KEY_MODEL = "tokenizer.ggml.model";
    /** {@code tokenizer.ggml.pre}. */
    public static final String KEY_PRE = "tokenizer.ggml.pre";
    /** {@code tokenizer.ggml.tokens}. */
    public static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    /** {@code tokenizer.ggml.scores}. */
    public static final String KEY_SCORES = "tokenizer.ggml.scores";
    /** {@code tokenizer.ggml.token_type}. */
    public static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    /** {@code tokenizer.ggml.merges}. */
    public static final String KEY_MERGES = "tokenizer.ggml.merges";
    /** {@code tokenizer.ggml.bos_token_id}. */
    public static final String KEY_BOS_ID = "tokenizer.ggml.bos_token_id";
    /** {@code tokenizer.ggml.eos_token_id}. */
    public static final String KEY_EOS_ID = "tokenizer.ggml.eos_token_id";
    /** {@code tokenizer.ggml.unknown_token_id}. */
    public static final String KEY_UNKNOWN_ID = "tokenizer.ggml.unknown_token_id";
    /** {@code tokenizer.ggml.padding_token_id}. */
    public static final String KEY_PADDING_ID = "tokenizer.ggml.padding_token_id";
    /** {@code tokenizer.ggml.eot_token_id}. */
    public static final String KEY_EOT_ID = "tokenizer.ggml.eot_token_id";
    /** {@code tokenizer.ggml.add_bos_token}. */
    public static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    /** {@code tokenizer.ggml.add_eos_token}. */
    public static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";
    /** {@code tokenizer.ggml.add_space_prefix}. */
    public static final String KEY_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    /** {@code tokenizer.chat_template}. */
    public static final String KEY_CHAT_TEMPLATE = "tokenizer.chat_template";

    public Vocabulary {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(pre, "pre");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(scores, "scores");
        Objects.requireNonNull(tokenTypes, "tokenTypes");
        Objects.requireNonNull(merges, "merges");
        Objects.requireNonNull(chatTemplate, "chatTemplate");
        if (tokens.size() == 0) {
            throw new VocabularyException("vocabulary has no tokens (tokenizer.ggml.tokens is empty)");
        }
        int size = tokens.size();
        if (scores.length != size) {
            throw new VocabularyException("tokenizer.ggml.scores has " + scores.length + " entries for " + size
                    + " tokens");
        }
        if (tokenTypes.length != size) {
            throw new VocabularyException("tokenizer.ggml.token_type has " + tokenTypes.length + " entries for "
                    + size + " tokens");
        }
        checkId("tokenizer.ggml.bos_token_id", bosId, size);
        checkId("tokenizer.ggml.eos_token_id", eosId, size);
        checkId("tokenizer.ggml.unknown_token_id", unknownId, size);
        checkId("tokenizer.ggml.padding_token_id", paddingId, size);
        checkId("tokenizer.ggml.eot_token_id", eotId, size);
        if (addBos && bosId == NO_TOKEN) {
            throw new VocabularyException("tokenizer.ggml.add_bos_token is true but there is no bos_token_id");
        }
        if (addEos && eosId == NO_TOKEN) {
            throw new VocabularyException("tokenizer.ggml.add_eos_token is true but there is no eos_token_id");
        }
    }

    /**
     * Reads the tokenizer metadata of a GGUF file, with llama.cpp's defaults ({@code llama_vocab::impl::load}) for
     * keys the file leaves out: SentencePiece vocabularies default to bos 1, eos 2, unk 0, add_bos and
     * add_space_prefix; byte-level BPE ones to no special ids and no BOS (except Llama 3 pre-tokenizers, which add it).
     *
     * @throws VocabularyException     when a key is missing or inconsistent
     * @throws dev.buddy.gguf.GgufFormatException when a key has the wrong type
     */
    public static Vocabulary fromGguf(GgufFile gguf) {
        if (!gguf.has(KEY_MODEL)) {
            throw new VocabularyException(gguf.path() + " has no tokenizer (no " + KEY_MODEL + ")");
        }
        String model = gguf.getString(KEY_MODEL);
        boolean sentencePiece = MODEL_SENTENCEPIECE.equals(model);
        if (!sentencePiece && !MODEL_BYTE_PAIR.equals(model)) {
            throw new VocabularyException(gguf.path() + ": unsupported " + KEY_MODEL + " = '" + model
                    + "' (supported: llama, gpt2)");
        }
        String pre = gguf.getString(KEY_PRE, "default");
        if (!gguf.has(KEY_TOKENS)) {
            throw new VocabularyException(gguf.path() + " has no " + KEY_TOKENS);
        }
        GgufStrings tokens = gguf.getStrings(KEY_TOKENS);
        int size = tokens.size();
        float[] scores = gguf.has(KEY_SCORES) ? readScores(gguf, size) : new float[size];
        int[] tokenTypes;
        if (gguf.has(KEY_TOKEN_TYPE)) {
            tokenTypes = prefix(gguf.getIntArray(KEY_TOKEN_TYPE), size, KEY_TOKEN_TYPE);
        } else {
            tokenTypes = new int[size];
            Arrays.fill(tokenTypes, TokenType.NORMAL.id());
        }
        GgufStrings merges = gguf.has(KEY_MERGES) ? gguf.getStrings(KEY_MERGES) : GgufStrings.of();
        if (!sentencePiece && merges.size() == 0) {
            throw new VocabularyException(gguf.path() + ": byte-level BPE vocabulary has no " + KEY_MERGES);
        }
        boolean defaultAddBos = sentencePiece || PreTokenizer.addsBosByDefault(pre);
        return new Vocabulary(model, pre, tokens, scores, tokenTypes, merges,
                specialId(gguf, KEY_BOS_ID, sentencePiece ? 1 : NO_TOKEN, size),
                specialId(gguf, KEY_EOS_ID, sentencePiece ? 2 : NO_TOKEN, size),
                specialId(gguf, KEY_UNKNOWN_ID, sentencePiece ? 0 : NO_TOKEN, size),
                specialId(gguf, KEY_PADDING_ID, NO_TOKEN, size),
                specialId(gguf, KEY_EOT_ID, NO_TOKEN, size),
                gguf.getBool(KEY_ADD_BOS, defaultAddBos),
                gguf.getBool(KEY_ADD_EOS, false),
                gguf.getBool(KEY_ADD_SPACE_PREFIX, sentencePiece),
                gguf.has(KEY_CHAT_TEMPLATE) ? Optional.of(gguf.getString(KEY_CHAT_TEMPLATE)) : Optional.empty());
    }

    /** llama.cpp accepts f32 or i32 scores. */
    private static float[] readScores(GgufFile gguf, int count) {
        GgufValue.GgufArray array = gguf.array(KEY_SCORES);
        if (array.elementType() == GgufValueType.FLOAT32) {
            float[] scores = gguf.getFloatArray(KEY_SCORES);
            if (scores.length < count) {
                throw new VocabularyException(KEY_SCORES + " has " + scores.length + " entries for " + count
                        + " tokens");
            }
            return scores.length == count ? scores : Arrays.copyOf(scores, count);
        }
        int[] integers = prefix(gguf.getIntArray(KEY_SCORES), count, KEY_SCORES);
        float[] scores = new float[count];
        for (int i = 0; i < count; i++) {
            scores[i] = integers[i];
        }
        return scores;
    }

    /** llama.cpp tolerates per-token arrays longer than the token list and reads their first entries. */
    private static int[] prefix(int[] values, int count, String key) {
        if (values.length < count) {
            throw new VocabularyException(key + " has " + values.length + " entries for " + count + " tokens");
        }
        return values.length == count ? values : Arrays.copyOf(values, count);
    }

    /** An id outside the vocabulary is ignored in favour of the default, with llama.cpp's "bad special token" rule. */
    private static int specialId(GgufFile gguf, String key, int defaultId, int size) {
        int fallback = defaultId < size ? defaultId : NO_TOKEN;
        if (!gguf.has(key)) {
            return fallback;
        }
        long id = gguf.getLong(key);
        return id >= 0 && id < size ? (int) id : fallback;
    }

    private static void checkId(String key, int id, int size) {
        if (id != NO_TOKEN && (id < 0 || id >= size)) {
            throw new VocabularyException(key + " = " + id + " is outside the vocabulary of " + size + " tokens");
        }
    }

    /** Number of tokens. */
    public int size() {
        return tokens.size();
    }

    /** The text of a token as stored (with "▁" or GPT-2 byte characters, not decoded); a new string each call. */
    public String token(int id) {
        return tokens.get(id);
    }

    /** The kind of a token. */
    public TokenType type(int id) {
        return TokenType.fromId(tokenTypes[id]);
    }

    /** Whether this is a SentencePiece vocabulary ({@code tokenizer.ggml.model = "llama"}). */
    public boolean isSentencePiece() {
        return MODEL_SENTENCEPIECE.equals(model);
    }

    /** Whether this is a byte-level BPE vocabulary ({@code tokenizer.ggml.model = "gpt2"}). */
    public boolean isBytePair() {
        return MODEL_BYTE_PAIR.equals(model);
    }

    @Override
    public String toString() {
        return "Vocabulary[model=" + model + ", pre=" + pre + ", tokens=" + tokens.size() + ", merges=" + merges.size()
                + ", bos=" + bosId + ", eos=" + eosId + ", eot=" + eotId + ", addBos=" + addBos + "]";
    }
}

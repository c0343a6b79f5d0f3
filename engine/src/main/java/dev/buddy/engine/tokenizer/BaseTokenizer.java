package dev.buddy.engine.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * What both tokenizers share: the text index, special-token splitting, token pieces for decoding and stop tokens.
 * Subclasses supply the merge algorithm for plain text and the bytes of ordinary tokens.
 */
abstract class BaseTokenizer implements Tokenizer {

    /**
     * Token texts llama.cpp treats as end-of-turn or end-of-generation markers when it finds them in a vocabulary
     * (llama-vocab.cpp, "find EOT token" and the end-of-generation list), restricted to the families Buddy runs.
     * The order is the preference for {@link #endOfTurnId()} when the file names none.
     */
    private static final List<String> END_OF_TURN_MARKERS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>");

    private static final byte[] EMPTY = new byte[0];

    protected final Vocabulary vocabulary;
    protected final TokenIndex index;
    private final TokenType[] types;
    /** Tokens matched in raw text before merging, longest text first (llama.cpp's cache_special_tokens order). */
    private final int[] specialTokens;
    /** Every token's text, for matching special tokens in raw text without a string per token. */
    private final TokenTexts texts;
    /**
     * Each token's bytes as rendered with special tokens shown (llama.cpp's token-to-piece cache), back to back: token
     * i's piece is {@code pieceBytes[pieceStarts[i], pieceStarts[i + 1])}. One array instead of one per token saves
     * 3-4 MB on a 128k-token vocabulary.
     */
    private final byte[] pieceBytes;
    private final int[] pieceStarts;
    private final int[] stopTokens;
    private final int endOfTurnId;

    /**
     * @param vocabulary     the vocabulary
     * @param normalSpelling the bytes of an ordinary token's text (a static function: it runs during construction)
     */
    BaseTokenizer(Vocabulary vocabulary, Function<String, byte[]> normalSpelling) {
        this.vocabulary = vocabulary;
        TokenTexts texts = new TokenTexts(vocabulary.tokens());
        this.texts = texts;
        this.index = new TokenIndex(texts);
        int size = vocabulary.size();

        types = new TokenType[size];
        for (int id = 0; id < size; id++) {
            types[id] = vocabulary.type(id);
        }
        // llama.cpp forces end-of-turn markers to control type even when a converter stored them as normal tokens,
        // so that they do not print and are matched in text only with parseSpecial.
        int detectedEndOfTurn = Vocabulary.NO_TOKEN;
        List<Integer> stops = new ArrayList<>();
        for (String marker : END_OF_TURN_MARKERS) {
            int id = index.find(marker);
            if (id >= 0) {
                types[id] = TokenType.CONTROL;
                stops.add(id);
                if (detectedEndOfTurn == Vocabulary.NO_TOKEN) {
                    detectedEndOfTurn = id;
                }
            }
        }
        endOfTurnId = vocabulary.eotId() != Vocabulary.NO_TOKEN ? vocabulary.eotId() : detectedEndOfTurn;
        if (vocabulary.eosId() != Vocabulary.NO_TOKEN) {
            stops.add(vocabulary.eosId());
        }
        if (endOfTurnId != Vocabulary.NO_TOKEN) {
            stops.add(endOfTurnId);
        }
        stopTokens = stops.stream().mapToInt(Integer::intValue).distinct().sorted().toArray();

        specialTokens = IntStream.range(0, size)
                .filter(id -> types[id] == TokenType.CONTROL || types[id] == TokenType.USER_DEFINED
                        || types[id] == TokenType.UNKNOWN)
                .boxed()
                .sorted(Comparator.<Integer>comparingInt(id -> -texts.length(id)).thenComparingInt(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();

        // No piece is longer than its token's UTF-8 text (byte characters spell one byte each, "▁" three bytes as
        // one space, <0xNN> six as one), so the file's text size bounds the array and no per-token arrays are kept.
        byte[] bytes = new byte[vocabulary.tokens().utf8Bytes()];
        pieceStarts = new int[size + 1];
        int at = 0;
        for (int id = 0; id < size; id++) {
            pieceStarts[id] = at;
            byte[] piece = switch (types[id]) {
                case CONTROL, UNKNOWN, USER_DEFINED ->
                        vocabulary.token(id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                case NORMAL -> normalSpelling.apply(vocabulary.token(id));
                case BYTE -> new byte[] {(byte) byteTokenValue(id)};
                case UNUSED, UNDEFINED -> EMPTY;
            };
            if (piece.length > bytes.length - at) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, at + piece.length));
            }
            System.arraycopy(piece, 0, bytes, at, piece.length);
            at += piece.length;
        }
        pieceStarts[size] = at;
        pieceBytes = at == bytes.length ? bytes : Arrays.copyOf(bytes, at);
    }


    /** Merges plain text (no special tokens inside) and appends the ids. */
    protected abstract void encodeText(String text, int start, int end, boolean afterSpecial, IntArrayList out);

    private int byteTokenValue(int id) {
        String text = vocabulary.token(id);
        // Byte tokens are spelled <0xNN>.
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return Integer.parseInt(text, 3, 5, 16);
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new VocabularyException("byte token " + id + " is '" + text + "', not <0xNN>");
    }

    @Override
    public final Vocabulary vocabulary() {
        return vocabulary;
    }

    @Override
    public final int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntArrayList out = new IntArrayList(text.length() / 3 + 4);
        if (addBos && vocabulary.addBos()) {
            out.add(vocabulary.bosId());
        }
        if (!text.isEmpty()) {
            List<int[]> fragments = splitSpecial(text, parseSpecial);
            boolean afterSpecial = true;
            for (int[] fragment : fragments) {
                if (fragment[0] >= 0) {
                    out.add(fragment[0]);
                    afterSpecial = true;
                } else {
                    encodeText(text, fragment[1], fragment[2], afterSpecial, out);
                    afterSpecial = false;
                }
            }
        }
        if (addBos && vocabulary.addEos()) {
            out.add(vocabulary.eosId());
        }
        return out.toArray();
    }

    /**
     * llama.cpp's {@code tokenizer_st_partition}: for each special token, longest first, cut every remaining text
     * fragment at its occurrences. A fragment is {token, -1, -1} or {-1, start, end}.
     */
    private List<int[]> splitSpecial(String text, boolean parseSpecial) {
        List<int[]> fragments = new ArrayList<>();
        fragments.add(new int[] {-1, 0, text.length()});
        for (int special : specialTokens) {
            if (!parseSpecial && types[special] != TokenType.USER_DEFINED) {
                continue;
            }
            int needleLength = texts.length(special);
            if (needleLength == 0) {
                continue;
            }
            List<int[]> next = null;
            for (int f = 0; f < fragments.size(); f++) {
                int[] fragment = fragments.get(f);
                int match = fragment[0] < 0 ? indexOf(text, special, fragment[1], fragment[2]) : -1;
                if (match < 0) {
                    if (next != null) {
                        next.add(fragment);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(fragments.subList(0, f));
                }
                int position = fragment[1];
                int end = fragment[2];
                while (match >= 0) {
                    if (match > position) {
                        next.add(new int[] {-1, position, match});
                    }
                    next.add(new int[] {special, -1, -1});
                    position = match + needleLength;
                    match = indexOf(text, special, position, end);
                }
                if (position < end) {
                    next.add(new int[] {-1, position, end});
                }
            }
            if (next != null) {
                fragments = next;
            }
        }
        return fragments;
    }

    /**
     * The first occurrence of token {@code special}'s text in {@code text[from, end)}, or -1. Candidates come from
     * {@link String#indexOf(int, int)} on the first character (a vector search in the JDK), so the scan costs what
     * {@code String.indexOf(String)} did without a string per special token (a synthetic Llama-3 vocabulary has
     * 78k reserved ones).
     */
    private int indexOf(String text, int special, int from, int end) {
        int length = texts.length(special);
        char first = texts.charAt(special, 0);
        for (int i = text.indexOf(first, from); i >= 0 && i + length <= end; i = text.indexOf(first, i + 1)) {
            if (texts.regionEquals(special, text, i)) {
                return i;
            }
        }
        return -1;
    }

    /** The length of a token's cached piece; 0 for control tokens unless renderSpecial. */
    final int pieceLength(int token, boolean renderSpecial) {
        if (!renderSpecial && types[token].isControlLike()) {
            return 0;
        }
        return pieceStarts[token + 1] - pieceStarts[token];
    }

    /** Byte {@code i} of a token's cached piece. */
    final int pieceByte(int token, int i) {
        return pieceBytes[pieceStarts[token] + i] & 0xFF;
    }

    @Override
    public final byte[] tokenBytes(int token, boolean renderSpecial) {
        checkToken(token);
        int start = pieceStarts[token];
        return Arrays.copyOfRange(pieceBytes, start, start + pieceLength(token, renderSpecial));
    }

    /** Whether decoding at the start of a text drops the first piece's leading space (SentencePiece's prefix). */
    boolean dropsLeadingSpace() {
        return false;
    }

    @Override
    public final StreamingDecoder streamingDecoder(boolean atTextStart) {
        return new StreamingDecoder(this, atTextStart && dropsLeadingSpace());
    }

    @Override
    public final TokenType tokenType(int token) {
        checkToken(token);
        return types[token];
    }

    @Override
    public final boolean isStopToken(int token) {
        return Arrays.binarySearch(stopTokens, token) >= 0;
    }

    @Override
    public final int[] stopTokens() {
        return stopTokens.clone();
    }

    @Override
    public final int endOfTurnId() {
        return endOfTurnId;
    }

    final void checkToken(int token) {
        if (token < 0 || token >= types.length) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of "
                    + types.length + " tokens");
        }
    }
}

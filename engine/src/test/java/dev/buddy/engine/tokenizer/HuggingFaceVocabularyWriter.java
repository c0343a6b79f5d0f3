package dev.buddy.engine.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;

/**
 * Writes a vocabulary-only GGUF from a Hugging Face byte-level BPE tokenizer ({@code tokenizer.json} and
 * {@code tokenizer_config.json}) the way llama.cpp's {@code convert_hf_to_gguf.py} does ({@code _set_vocab_gpt2}):
 * ids without a token become {@code [PAD<id>]} of type UNUSED, added tokens are CONTROL when special and
 * USER_DEFINED otherwise, merges are written as {@code "left right"}.
 */
final class HuggingFaceVocabularyWriter {
    private HuggingFaceVocabularyWriter() {}

    static void write(Path tokenizerJson, Path tokenizerConfigJson, String pre, Path target) throws IOException {
        Map<String, Object> tokenizer = MiniJson.object(
                MiniJson.parse(Files.readString(tokenizerJson, StandardCharsets.UTF_8)));
        Map<String, Object> config = MiniJson.object(
                MiniJson.parse(Files.readString(tokenizerConfigJson, StandardCharsets.UTF_8)));
        Map<String, Object> model = MiniJson.object(tokenizer.get("model"));
        if (!"BPE".equals(model.get("type"))) {
            throw new IllegalArgumentException(tokenizerJson + " is not a BPE tokenizer");
        }

        Map<Integer, String> byId = new HashMap<>();
        Map<Integer, Integer> typeById = new HashMap<>();
        MiniJson.object(model.get("vocab")).forEach((text, id) -> byId.put(((Long) id).intValue(), text));
        for (Object entry : MiniJson.array(tokenizer.get("added_tokens"))) {
            Map<String, Object> added = MiniJson.object(entry);
            int id = ((Long) added.get("id")).intValue();
            byId.put(id, (String) added.get("content"));
            typeById.put(id, Boolean.TRUE.equals(added.get("special"))
                    ? TokenType.CONTROL.id() : TokenType.USER_DEFINED.id());
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        String[] tokens = new String[size];
        int[] types = new int[size];
        Map<String, Integer> idByText = new HashMap<>();
        for (int id = 0; id < size; id++) {
            String text = byId.get(id);
            if (text == null) {
                tokens[id] = "[PAD" + id + "]";
                types[id] = TokenType.UNUSED.id();
            } else {
                tokens[id] = text;
                types[id] = typeById.getOrDefault(id, TokenType.NORMAL.id());
            }
            idByText.put(tokens[id], id);
        }

        List<Object> mergeList = MiniJson.array(model.get("merges"));
        String[] merges = new String[mergeList.size()];
        for (int i = 0; i < merges.length; i++) {
            Object merge = mergeList.get(i);
            // Newer tokenizer.json files store each merge as a pair, older ones as "left right".
            merges[i] = merge instanceof String s ? s
                    : String.join(" ", MiniJson.array(merge).stream().map(String.class::cast).toList());
        }

        GgufWriter writer = new GgufWriter()
                .putString("general.architecture", "qwen3")
                .putString(Vocabulary.KEY_MODEL, Vocabulary.MODEL_BYTE_PAIR)
                .putString(Vocabulary.KEY_PRE, pre)
                .putStringArray(Vocabulary.KEY_TOKENS, tokens)
                .putArray(Vocabulary.KEY_TOKEN_TYPE, GgufValueType.INT32, types)
                .putStringArray(Vocabulary.KEY_MERGES, merges);
        putSpecial(writer, Vocabulary.KEY_EOS_ID, config.get("eos_token"), idByText);
        putSpecial(writer, Vocabulary.KEY_PADDING_ID, config.get("pad_token"), idByText);
        // Qwen has no BOS of its own; the converter records <|endoftext|> as BOS and never adds it.
        putSpecial(writer, Vocabulary.KEY_BOS_ID, config.get("bos_token") != null ? config.get("bos_token")
                : "<|endoftext|>", idByText);
        if (config.get("add_bos_token") instanceof Boolean addBos) {
            writer.putBool(Vocabulary.KEY_ADD_BOS, addBos);
        }
        if (config.get("chat_template") instanceof String template) {
            writer.putString(Vocabulary.KEY_CHAT_TEMPLATE, template);
        }
        writer.write(target);
    }

    private static void putSpecial(GgufWriter writer, String key, Object text, Map<String, Integer> idByText) {
        if (text instanceof String s && idByText.containsKey(s)) {
            writer.putUInt32(key, idByText.get(s));
        }
    }
}

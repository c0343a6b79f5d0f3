package dev.buddy.router.eval;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The perplexity texts, and how each becomes documents (every document is encoded on its own and starts with BOS
 * when the model's vocabulary asks for one, as a Hugging Face tokenizer call does).
 */
public enum PerplexityCorpus {
    /**
     * WikiText-2 raw test set, the file exactly as llama.cpp's {@code get-wikitext-2.sh} fetches it, read as one
     * document (llama-perplexity's convention; datasets/SOURCES.md §3).
     */
    WIKITEXT2("wikitext2", "wikitext/wikitext-2-raw/wiki.test.raw", false),
    /**
     * The first 1841 TinyStories validation stories. Stories are separated by {@code <|endoftext|>} lines; each
     * story is one document (TinyStories models were trained with BOS before every story), trimmed. The file's
     * byte-order mark is dropped.
     */
    TINYSTORIES("tinystories", "tinystories/tinystories-valid-sample.txt", true);

    static final String STORY_SEPARATOR = "<|endoftext|>";

    private final String key;
    private final String relativePath;
    private final boolean stories;

    PerplexityCorpus(String key, String relativePath, boolean stories) {
        this.key = key;
        this.relativePath = relativePath;
        this.stories = stories;
    }

    public String key() {
        return key;
    }

    public Path file(Path datasetsRoot) {
        return datasetsRoot.resolve(relativePath);
    }

    public String relativePath() {
        return relativePath;
    }

    /** The corpus's documents, in file order. */
    public List<String> documents(Path datasetsRoot) throws IOException {
        Path file = file(datasetsRoot);
        String text;
        try {
            byte[] bytes = Files.readAllBytes(file);
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new DatasetFormatException(file, "perplexity text not found (" + key + ")", e);
        } catch (CharacterCodingException e) {
            throw new DatasetFormatException(file, "not valid UTF-8", e);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        if (!stories) {
            return List.of(text);
        }
        List<String> docs = new ArrayList<>();
        StringBuilder story = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (line.strip().equals(STORY_SEPARATOR)) {
                addStory(docs, story);
            } else {
                story.append(line).append('\n');
            }
        }
        addStory(docs, story);
        return docs;
    }

    private static void addStory(List<String> docs, StringBuilder story) {
        String s = story.toString().strip();
        if (!s.isEmpty()) {
            docs.add(s);
        }
        story.setLength(0);
    }

    public static PerplexityCorpus parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        for (PerplexityCorpus c : values()) {
            if (c.key.equals(n) || (c == WIKITEXT2 && n.equals("wikitext"))) {
                return c;
            }
        }
        throw new InvalidEvalOptionException("unknown perplexity text '" + name + "': expected wikitext2 or "
                + "tinystories");
    }
}

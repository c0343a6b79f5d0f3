package dev.buddy.router.train;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.buddy.engine.tokenizer.Tokenizer;

/**
 * Plain-text training data: documents separated by lines that read {@code <|endoftext|>} (the TinyStories
 * convention), or by blank lines (paragraphs, as in WikiText) when the file has no such separator. Each document is
 * one example: BOS (if the vocabulary adds one) then its text, every token after the first scored.
 */
public final class TextData implements TrainingData {
    /** The separator line TinyStories uses between stories. */
    public static final String DOCUMENT_SEPARATOR = "<|endoftext|>";

    private final Path path;
    private final List<String> documents;
    private final int[] firstLines;
    private final Tokenizer tokenizer;
    private final int maxTokens;
    private final TrainingExample[] cache;

    private TextData(Path path, List<String> documents, int[] firstLines, Tokenizer tokenizer, int maxTokens) {
        this.path = path;
        this.documents = documents;
        this.firstLines = firstLines;
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.cache = new TrainingExample[documents.size()];
    }

    static TextData read(Path path, Tokenizer tokenizer, int maxTokens) throws IOException {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maximum sequence length must be at least 2 tokens, got " + maxTokens);
        }
        String text = decode(path);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String[] lines = text.split("\r?\n", -1);
        boolean separated = false;
        for (String line : lines) {
            if (line.strip().equals(DOCUMENT_SEPARATOR)) {
                separated = true;
                break;
            }
        }
        List<String> documents = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int currentStart = 1;
        for (int i = 0; i <= lines.length; i++) {
            boolean end = i == lines.length;
            String line = end ? "" : lines[i];
            boolean boundary = end || (separated ? line.strip().equals(DOCUMENT_SEPARATOR) : line.isBlank());
            if (boundary) {
                String doc = current.toString().strip();
                if (!doc.isEmpty()) {
                    documents.add(doc);
                    starts.add(currentStart);
                }
                current.setLength(0);
                currentStart = i + 2;
            } else {
                if (current.isEmpty()) {
                    currentStart = i + 1;
                }
                current.append(line).append('\n');
            }
        }
        if (documents.isEmpty()) {
            throw new TrainingDataException(path + ": no text documents found");
        }
        return new TextData(path, documents, starts.stream().mapToInt(Integer::intValue).toArray(), tokenizer,
                maxTokens);
    }

    private static String decode(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            String prefix = new String(bytes, StandardCharsets.UTF_8);
            int bad = prefix.indexOf('\uFFFD');
            long line = bad < 0 ? 0 : prefix.substring(0, bad).chars().filter(c -> c == '\n').count() + 1;
            throw new TrainingDataException(path + ": line " + line + ": not valid UTF-8 text", e);
        }
    }

    @Override
    public int size() {
        return documents.size();
    }

    @Override
    public synchronized TrainingExample example(int index) {
        TrainingExample e = cache[index];
        if (e == null) {
            int[] tokens = tokenizer.encode(documents.get(index), true, false);
            if (tokens.length > maxTokens) {
                tokens = java.util.Arrays.copyOf(tokens, maxTokens);
            }
            e = new TrainingExample(tokens, 1, path.getFileName() + " document " + index + " (line "
                    + firstLines[index] + ")");
            cache[index] = e;
        }
        return e;
    }

    @Override
    public String describe() {
        return path.getFileName() + " (text, " + documents.size() + " documents)";
    }
}

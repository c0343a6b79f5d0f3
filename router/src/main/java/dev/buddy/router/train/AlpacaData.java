package dev.buddy.router.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.buddy.engine.tokenizer.Tokenizer;

/**
 * Instruction data in the Alpaca format ({@code instruction}, optional {@code input}, {@code output}), formatted
 * with Stanford Alpaca's prompt template. The prompt is BOS + template; the response is the output followed by EOS,
 * and only the response is scored (SFT as in the paper, §5.1). Prompt and response are tokenized separately so the
 * boundary between them is exact.
 */
public final class AlpacaData implements TrainingData {
    static final String PROMPT_WITH_INPUT = "Below is an instruction that describes a task, paired with an input that"
            + " provides further context. Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:\n";
    static final String PROMPT_NO_INPUT = "Below is an instruction that describes a task. Write a response that"
            + " appropriately completes the request.\n\n### Instruction:\n%s\n\n### Response:\n";

    /** One parsed record and where it started in the file. */
    record Record(String instruction, String input, String output, int line) {}

    private final Path path;
    private final List<Record> records;
    private final Tokenizer tokenizer;
    private final int maxTokens;
    private final TrainingExample[] cache;

    private AlpacaData(Path path, List<Record> records, Tokenizer tokenizer, int maxTokens) {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maximum sequence length must be at least 2 tokens, got " + maxTokens);
        }
        if (records.isEmpty()) {
            throw new TrainingDataException(path + ": no examples");
        }
        this.path = path;
        this.records = records;
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.cache = new TrainingExample[records.size()];
    }

    /** A JSON array of example objects. */
    static AlpacaData readArray(Path path, Tokenizer tokenizer, int maxTokens) throws IOException {
        return new AlpacaData(path, parseArray(path.getFileName().toString(),
                Files.readString(path, StandardCharsets.UTF_8)), tokenizer, maxTokens);
    }

    /** One example object per line (blank lines ignored). */
    static AlpacaData readLines(Path path, Tokenizer tokenizer, int maxTokens) throws IOException {
        return new AlpacaData(path, parseLines(path.getFileName().toString(),
                Files.readString(path, StandardCharsets.UTF_8)), tokenizer, maxTokens);
    }

    static List<Record> parseArray(String source, String text) {
        JsonReader json = new JsonReader(source, text);
        List<Record> records = new ArrayList<>();
        json.expect('[');
        if (!json.consume(']')) {
            do {
                json.atEnd();
                int line = json.line();
                int column = json.column();
                Object value = json.readValue();
                records.add(toRecord(source, value, line, column, records.size()));
            } while (json.consume(','));
            json.expect(']');
        }
        if (!json.atEnd()) {
            throw json.error("unexpected content after the closing ']'");
        }
        return records;
    }

    static List<Record> parseLines(String source, String text) {
        List<Record> records = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            JsonReader json = new JsonReader(source + ": line " + (i + 1), lines[i]);
            Object value;
            try {
                value = json.readValue();
                if (!json.atEnd()) {
                    throw json.error("unexpected content after the example object");
                }
            } catch (TrainingDataException e) {
                // Re-anchor the single-line reader's position on the file's line.
                throw new TrainingDataException(e.getMessage().replace(": line 1, column", ", column"), e);
            }
            records.add(toRecord(source, value, i + 1, 1, records.size()));
        }
        return records;
    }

    private static Record toRecord(String source, Object value, int line, int column, int index) {
        String where = source + ": line " + line + ", column " + column + " (example " + index + ")";
        if (!(value instanceof Map<?, ?> map)) {
            throw new TrainingDataException(where + ": expected an object with instruction, input and output");
        }
        String instruction = field(map, "instruction", where, true);
        String input = field(map, "input", where, false);
        String output = field(map, "output", where, true);
        return new Record(instruction, input == null ? "" : input, output, line);
    }

    private static String field(Map<?, ?> map, String name, String where, boolean required) {
        Object v = map.get(name);
        if (v == null) {
            if (required) {
                throw new TrainingDataException(where + ": missing field '" + name + "'");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw new TrainingDataException(where + ": field '" + name + "' must be a string");
        }
        return s;
    }

    /** The prompt text of a record, Stanford Alpaca's template. */
    static String prompt(Record r) {
        return r.input().isEmpty() ? String.format(PROMPT_NO_INPUT, r.instruction())
                : String.format(PROMPT_WITH_INPUT, r.instruction(), r.input());
    }

    @Override
    public int size() {
        return records.size();
    }

    @Override
    public synchronized TrainingExample example(int index) {
        TrainingExample e = cache[index];
        if (e == null) {
            Record r = records.get(index);
            int[] prompt = tokenizer.encode(prompt(r), true, false);
            int[] response = tokenizer.encode(r.output(), false, false);
            int eos = tokenizer.vocabulary().eosId();
            int length = prompt.length + response.length + (eos >= 0 ? 1 : 0);
            int[] tokens = new int[length];
            System.arraycopy(prompt, 0, tokens, 0, prompt.length);
            System.arraycopy(response, 0, tokens, prompt.length, response.length);
            if (eos >= 0) {
                tokens[length - 1] = eos;
            }
            if (tokens.length > maxTokens) {
                tokens = java.util.Arrays.copyOf(tokens, maxTokens);
            }
            e = new TrainingExample(tokens, Math.max(1, prompt.length),
                    path.getFileName() + " example " + index + " (line " + r.line() + ")");
            cache[index] = e;
        }
        return e;
    }

    @Override
    public String describe() {
        return path.getFileName() + " (alpaca, " + records.size() + " examples)";
    }
}

package dev.buddy.router.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a task's normalised {@code *.mc.jsonl} file (datasets/SOURCES.md §2) into {@link McExample}s.
 *
 * <p>Standard lines are {@code {"id", "context", "choices": [..], "label"}} and become one {@link Choice} per choice,
 * {@code loglik(context, " " + choice)}. WinoGrande lines are {@code {"id", "contexts": [..], "continuation",
 * "label"}} (lm-eval's partial evaluation) and become {@code loglik(contexts[i], " " + continuation)}. MMLU lines
 * carry a {@code subject}. Any other key is ignored. A malformed line stops the read with a
 * {@link DatasetFormatException} naming the file and the line.
 */
public final class McDatasetReader {
    /** lm-eval's {@code target_delimiter} for every task here. */
    public static final String TARGET_DELIMITER = " ";

    private McDatasetReader() {}

    /**
     * The first {@code limit} examples of {@code task} in {@code file}.
     *
     * @param limit the most examples to read; {@link Integer#MAX_VALUE} for all
     * @throws DatasetFormatException if the file is missing, not UTF-8 or has a malformed line
     */
    public static List<McExample> read(Task task, Path file, int limit) throws IOException {
        if (limit < 1) {
            throw new InvalidEvalOptionException("limit must be at least 1, got " + limit);
        }
        List<McExample> examples = new ArrayList<>();
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        long lineNumber = 0;
        try (BufferedReader in = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file),
                decoder), 1 << 16)) {
            String line;
            while (examples.size() < limit && (line = in.readLine()) != null) {
                lineNumber++;
                if (lineNumber == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1); // a byte-order mark is not part of the first record
                }
                examples.add(parseLine(task, file, lineNumber, line));
            }
        } catch (NoSuchFileException e) {
            throw new DatasetFormatException(file, "dataset file not found (task " + task.key() + ")", e);
        } catch (CharacterCodingException e) {
            throw new DatasetFormatException(file, lineNumber + 1, "not valid UTF-8");
        }
        if (examples.isEmpty()) {
            throw new DatasetFormatException(file, 1, "no examples: the file is empty");
        }
        return examples;
    }

    /** Parses one line; {@code lineNumber} is 1-based and only used in messages. */
    static McExample parseLine(Task task, Path file, long lineNumber, String line) {
        if (line.isBlank()) {
            throw new DatasetFormatException(file, lineNumber, "blank line; every line must be one JSON object");
        }
        Object parsed;
        try {
            parsed = Json.parse(line);
        } catch (Json.JsonSyntaxException e) {
            throw new DatasetFormatException(file, lineNumber, "invalid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> row)) {
            throw new DatasetFormatException(file, lineNumber, "expected a JSON object");
        }
        Fields f = new Fields(file, lineNumber, row);
        String id = f.string("id");
        int label = f.integer("label");
        List<Choice> choices = new ArrayList<>();
        switch (task.format()) {
            case STANDARD -> {
                String context = f.string("context");
                for (String text : f.strings("choices")) {
                    choices.add(Choice.of(context, TARGET_DELIMITER, text));
                }
            }
            case PARTIAL -> {
                String continuation = f.string("continuation");
                for (String context : f.strings("contexts")) {
                    // lm-eval's choices for a partial task are the contexts; acc_norm is not reported for them.
                    choices.add(new Choice(context, TARGET_DELIMITER + continuation,
                            context.codePointCount(0, context.length())));
                }
            }
        }
        if (choices.size() < 2) {
            throw new DatasetFormatException(file, lineNumber, "needs at least 2 choices, has " + choices.size());
        }
        if (label < 0 || label >= choices.size()) {
            throw new DatasetFormatException(file, lineNumber, "label " + label + " is outside 0.."
                    + (choices.size() - 1) + " for " + choices.size() + " choices");
        }
        String subject = task == Task.MMLU ? f.string("subject") : null;
        return new McExample(task, id, choices, label, subject);
    }

    /** Typed access to one row's keys, with errors that name the file, line and key. */
    private record Fields(Path file, long line, Map<?, ?> row) {
        Object required(String key) {
            if (!row.containsKey(key)) {
                throw new DatasetFormatException(file, line, "missing key \"" + key + "\"");
            }
            return row.get(key);
        }

        String string(String key) {
            if (required(key) instanceof String s) {
                return s;
            }
            throw new DatasetFormatException(file, line, "key \"" + key + "\" must be a string");
        }

        int integer(String key) {
            if (required(key) instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
                return l.intValue();
            }
            throw new DatasetFormatException(file, line, "key \"" + key + "\" must be an integer");
        }

        List<String> strings(String key) {
            if (required(key) instanceof List<?> list) {
                List<String> out = new ArrayList<>(list.size());
                for (Object o : list) {
                    if (!(o instanceof String s)) {
                        throw new DatasetFormatException(file, line, "key \"" + key
                                + "\" must be an array of strings");
                    }
                    out.add(s);
                }
                return out;
            }
            throw new DatasetFormatException(file, line, "key \"" + key + "\" must be an array of strings");
        }
    }
}

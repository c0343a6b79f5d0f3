package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import dev.buddy.engine.tokenizer.Tokenizer;
import dev.buddy.gguf.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data files: Alpaca JSON/JSONL and plain text, the SFT target mask, and errors that name the line. */
class TrainingDataTest {

    @Test
    void alpacaArrayParsesAllFieldsAndAllowsMissingInput() {
        List<AlpacaData.Record> records = AlpacaData.parseArray("a.json", """
                [
                  {"instruction": "Add \\"two\\" numbers", "input": "1, 2", "output": "3"},
                  {"instruction": "Say hi", "output": "hi\\n"}
                ]""");
        assertEquals(2, records.size());
        assertEquals("Add \"two\" numbers", records.get(0).instruction());
        assertEquals("1, 2", records.get(0).input());
        assertEquals("", records.get(1).input());
        assertEquals("hi\n", records.get(1).output());
        assertEquals(2, records.get(0).line());
        assertEquals(3, records.get(1).line());
        assertTrue(AlpacaData.prompt(records.get(0)).contains("### Input:\n1, 2\n\n### Response:\n"));
        assertTrue(AlpacaData.prompt(records.get(1)).endsWith("### Instruction:\nSay hi\n\n### Response:\n"));
    }

    @Test
    void malformedAlpacaNamesLineColumnAndExample() {
        TrainingDataException syntax = assertThrows(TrainingDataException.class, () -> AlpacaData.parseArray("a.json",
                "[\n {\"instruction\": \"x\", \"output\": \"y\"},\n {\"instruction\": \"x\" \"output\": \"y\"}\n]"));
        assertEquals("a.json: line 3, column 22: expected '}' but found '\"'", syntax.getMessage());
        TrainingDataException missing = assertThrows(TrainingDataException.class, () -> AlpacaData.parseArray(
                "a.json", "[\n {\"instruction\": \"x\", \"output\": \"y\"},\n\n  {\"instruction\": \"x\"}\n]"));
        assertEquals("a.json: line 4, column 3 (example 1): missing field 'output'", missing.getMessage());
        TrainingDataException type = assertThrows(TrainingDataException.class, () -> AlpacaData.parseArray("a.json",
                "[{\"instruction\": \"x\", \"output\": 3}]"));
        assertTrue(type.getMessage().contains("line 1") && type.getMessage().contains("'output' must be a string"),
                type.getMessage());
        TrainingDataException truncated = assertThrows(TrainingDataException.class,
                () -> AlpacaData.parseArray("a.json", "[{\"instruction\": \"x\", \"output\": \"y"));
        assertTrue(truncated.getMessage().startsWith("a.json: line 1, column "), truncated.getMessage());
        assertTrue(truncated.getMessage().endsWith("unterminated string"), truncated.getMessage());
    }

    @Test
    void jsonLinesReportTheFileLine() {
        TrainingDataException e = assertThrows(TrainingDataException.class, () -> AlpacaData.parseLines("a.jsonl",
                "{\"instruction\": \"x\", \"output\": \"y\"}\n\n{\"instruction\": \"x\", \"output\": }\n"));
        assertEquals("a.jsonl: line 3, column 32: unexpected character '}', expected a value", e.getMessage());
        assertEquals(2, AlpacaData.parseLines("a.jsonl",
                "{\"instruction\": \"x\", \"output\": \"y\"}\n\n{\"instruction\": \"z\", \"output\": \"w\"}\n").size());
    }

    @Test
    void alpacaExamplesScoreOnlyTheResponseAndEndWithEos(@TempDir Path tmp) throws IOException {
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            Tokenizer tokenizer = model.tokenizer();
            Path file = tmp.resolve("data.json");
            Files.writeString(file, "[{\"instruction\": \"Tell a story.\", \"input\": \"\", \"output\": \"Once upon"
                    + " a time\"}]");
            TrainingData data = TrainingData.open(file, tokenizer, 512);
            TrainingExample e = data.example(0);
            int[] prompt = tokenizer.encode(AlpacaData.prompt(new AlpacaData.Record("Tell a story.", "", "", 1)),
                    true, false);
            int[] response = tokenizer.encode("Once upon a time", false, false);
            assertEquals(prompt.length, e.firstTarget());
            assertEquals(prompt.length + response.length + 1, e.length());
            assertArrayEquals(prompt, Arrays.copyOf(e.tokens(), prompt.length));
            assertEquals(tokenizer.vocabulary().eosId(), e.tokens()[e.length() - 1]);
            int[] targets = new int[e.length()];
            e.targets(targets);
            for (int t = 0; t < e.length(); t++) {
                int expected = t + 1 >= prompt.length && t + 1 < e.length() ? e.tokens()[t + 1] : -1;
                assertEquals(expected, targets[t], "target at " + t);
            }
            assertEquals(response.length + 1, e.targetCount());
            TrainingData shortData = TrainingData.open(file, tokenizer, 5);
            assertEquals(5, shortData.example(0).length());
            assertEquals(0, shortData.example(0).targetCount(), "a cut that leaves only prompt scores nothing");
        }
    }

    @Test
    void textSplitsOnSeparatorLinesOrElseOnBlankLines(@TempDir Path tmp) throws IOException {
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            Path stories = tmp.resolve("stories.txt");
            Files.writeString(stories, "\uFEFFOne day a cat.\n\nIt slept.\n<|endoftext|>\nA dog ran.\n<|endoftext|>\n");
            TrainingData s = TrainingData.open(stories, model.tokenizer(), 64);
            assertEquals(2, s.size());
            assertArrayEquals(model.tokenizer().encode("One day a cat.\n\nIt slept.", true, false),
                    s.example(0).tokens());
            assertEquals(1, s.example(0).firstTarget());
            assertTrue(s.example(1).label().contains("line 5"), s.example(1).label());
            Path paragraphs = tmp.resolve("wiki.txt");
            Files.writeString(paragraphs, " = Title = \n\n First paragraph .\n continues .\n \n Second .\n");
            TrainingData p = TrainingData.open(paragraphs, model.tokenizer(), 64);
            assertEquals(3, p.size());
            assertEquals(2, p.slice(1, 3).size());
            assertThrows(TrainingDataException.class, () -> p.slice(2, 5));
            Path bad = tmp.resolve("bad.txt");
            Files.write(bad, "fine\nbroken \u00ff\n".getBytes(StandardCharsets.ISO_8859_1));
            TrainingDataException e = assertThrows(TrainingDataException.class,
                    () -> TrainingData.open(bad, model.tokenizer(), 64));
            assertTrue(e.getMessage().contains("line 2: not valid UTF-8"), e.getMessage());
        }
    }
}

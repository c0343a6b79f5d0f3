package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.TestData;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class McDatasetReaderTest {
    private static final int FIRST_LINES = 300;

    /** Rows per file as datasets/SOURCES.md §2 lists them. */
    private static final Map<Task, Integer> ROWS = Map.of(Task.ARC_EASY, 2376, Task.ARC_CHALLENGE, 1172,
            Task.PIQA, 1838, Task.HELLASWAG, 10042, Task.WINOGRANDE, 1267, Task.BOOLQ, 3270, Task.OPENBOOKQA, 500,
            Task.SIQA, 1954, Task.MMLU, 14042);

    private static Path file(Task task) {
        return TestData.require("datasets/" + task.relativePath());
    }

    @ParameterizedTest
    @EnumSource(Task.class)
    void readsTheFirstLinesOfEveryRealFile(Task task) throws IOException {
        List<McExample> examples = McDatasetReader.read(task, file(task), FIRST_LINES);
        assertEquals(FIRST_LINES, examples.size());
        Set<String> ids = new HashSet<>();
        for (McExample e : examples) {
            assertEquals(task, e.task());
            assertFalse(e.id().isEmpty());
            ids.add(e.id());
            int n = e.choices().size();
            assertTrue(e.label() >= 0 && e.label() < n, e.id());
            switch (task) {
                case ARC_EASY, ARC_CHALLENGE -> assertTrue(n >= 3 && n <= 5, e.id() + " has " + n);
                case PIQA, WINOGRANDE, BOOLQ -> assertEquals(2, n, e.id());
                case SIQA -> assertEquals(3, n, e.id());
                case HELLASWAG, OPENBOOKQA, MMLU -> assertEquals(4, n, e.id());
            }
            for (var c : e.choices()) {
                // lm-eval's target delimiter; SOURCES.md: a context never ends with a space.
                assertTrue(c.continuation().startsWith(" "), e.id());
                assertFalse(c.context().endsWith(" "), e.id());
            }
            if (task.format() == Task.Format.PARTIAL) {
                assertFalse(e.sharedContext(), e.id());
                assertEquals(e.choices().get(0).continuation(), e.choices().get(1).continuation());
            } else {
                assertTrue(e.sharedContext(), e.id());
            }
            if (task == Task.MMLU) {
                assertNotNull(e.subject());
                assertTrue(e.choices().get(0).context().contains(e.subject().replace('_', ' ')), e.id());
            } else {
                assertNull(e.subject());
            }
        }
        assertEquals(FIRST_LINES, ids.size(), "ids are unique");
    }

    @ParameterizedTest
    @EnumSource(value = Task.class, names = {"ARC_EASY", "ARC_CHALLENGE", "PIQA", "WINOGRANDE", "BOOLQ",
            "OPENBOOKQA", "SIQA"})
    void readsWholeFilesWithTheDocumentedRowCounts(Task task) throws IOException {
        List<McExample> examples = McDatasetReader.read(task, file(task), Integer.MAX_VALUE);
        assertEquals(ROWS.get(task), examples.size());
        if (task == Task.BOOLQ) {
            long yes = examples.stream().filter(e -> e.label() == 1).count();
            // SOURCES.md: 62.2 % of BoolQ dev answers are yes.
            assertEquals(62.2, Math.round(1000.0 * yes / examples.size()) / 10.0);
        }
    }

    @Test
    void boolqIsAskedAsNoOrYes() throws IOException {
        for (McExample e : McDatasetReader.read(Task.BOOLQ, file(Task.BOOLQ), 20)) {
            assertEquals(" no", e.choices().get(0).continuation());
            assertEquals(" yes", e.choices().get(1).continuation());
            assertTrue(e.choices().get(0).context().endsWith("?\nAnswer:"), e.id());
        }
    }

    @Test
    void winograndeScoresTheSharedContinuationAfterEachOption() throws IOException {
        McExample e = McDatasetReader.read(Task.WINOGRANDE, file(Task.WINOGRANDE), 1).getFirst();
        assertEquals("Sarah was a much better surgeon than Maria so Sarah", e.choices().get(0).context());
        assertEquals("Sarah was a much better surgeon than Maria so Maria", e.choices().get(1).context());
        assertEquals(" always got the easier cases.", e.choices().get(0).continuation());
        assertEquals(1, e.label());
    }

    @Test
    void accNormLengthCountsCharactersWithoutTheDelimiter() {
        Choice c = Choice.of("ctx", " ", "a😀b");
        assertEquals(" a😀b", c.continuation());
        assertEquals(3, c.normLength(), "code points, as Python's len");
    }

    @Test
    void malformedLinesNameFileAndLine(@TempDir Path dir) throws IOException {
        String good = "{\"id\": \"a\", \"context\": \"Q\", \"choices\": [\"x\", \"y\"], \"label\": 0}";
        Map<String, String> cases = Map.of(
                "{\"id\": \"b\", \"context\": \"Q\", \"choices\": [\"x\", \"y\"]}", "missing key \"label\"",
                "{\"id\": \"b\", \"context\": \"Q\", \"choices\": [\"x\", \"y\"], \"label\": 2}", "label 2 is outside",
                "{\"id\": \"b\", \"context\": 5, \"choices\": [\"x\", \"y\"], \"label\": 0}", "\"context\" must be a string",
                "{\"id\": \"b\", \"context\": \"Q\", \"choices\": [\"x\"], \"label\": 0}", "at least 2 choices",
                "{\"id\": \"b\", \"context\": \"Q\", \"choices\": [\"x\", 3], \"label\": 0}", "array of strings",
                "{\"id\": \"b\", \"context\": \"Q\", \"choices\": [\"x\", \"y\"], \"label\": 0.5}", "must be an integer",
                "{\"id\": \"b\", \"context\": \"Q\"", "invalid JSON",
                "[1, 2]", "expected a JSON object",
                "", "blank line");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path f = dir.resolve("case" + i++ + ".mc.jsonl");
            Files.writeString(f, good + "\n" + good + "\n" + c.getKey() + "\n" + good + "\n");
            DatasetFormatException e = assertThrows(DatasetFormatException.class,
                    () -> McDatasetReader.read(Task.ARC_EASY, f, 100));
            assertTrue(e.getMessage().startsWith(f + ":3: "), e.getMessage());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
    }

    @Test
    void winograndeLinesNeedContextsAndAContinuation(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("w.mc.jsonl");
        Files.writeString(f, "{\"id\": \"w\", \"context\": \"x\", \"choices\": [\"a\", \"b\"], \"label\": 0}\n");
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> McDatasetReader.read(Task.WINOGRANDE, f, 10));
        assertTrue(e.getMessage().contains(":1: missing key \"continuation\""), e.getMessage());
    }

    @Test
    void invalidUtf8AndMissingFilesAreDatasetErrors(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad.mc.jsonl");
        byte[] line = "{\"id\": \"a\", \"context\": \"Q\", \"choices\": [\"x\", \"y\"], \"label\": 0}\n"
                .getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[line.length + 3];
        System.arraycopy(line, 0, bytes, 0, line.length);
        bytes[line.length] = (byte) 0xC3; // a lead byte with no continuation
        bytes[line.length + 1] = '"';
        bytes[line.length + 2] = '\n';
        Files.write(f, bytes);
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> McDatasetReader.read(Task.ARC_EASY, f, 10));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
        Path missing = dir.resolve("missing.mc.jsonl");
        e = assertThrows(DatasetFormatException.class, () -> McDatasetReader.read(Task.PIQA, missing, 10));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains("piqa"), e.getMessage());
    }

    @Test
    void limitMustBePositive(@TempDir Path dir) {
        assertThrows(InvalidEvalOptionException.class, () -> McDatasetReader.read(Task.PIQA, dir.resolve("x"), 0));
    }

    @Test
    void taskNamesParse() {
        assertEquals(Task.ARC_EASY, Task.parse("arc-easy"));
        assertEquals(Task.ARC_CHALLENGE, Task.parse("ARC_C"));
        assertEquals(Task.OPENBOOKQA, Task.parse("obqa"));
        assertEquals(8, Task.paperTasks().size());
        assertFalse(Task.paperTasks().contains(Task.MMLU));
        InvalidEvalOptionException e = assertThrows(InvalidEvalOptionException.class, () -> Task.parse("lambada"));
        assertTrue(e.getMessage().contains("arc_easy"), e.getMessage());
    }
}

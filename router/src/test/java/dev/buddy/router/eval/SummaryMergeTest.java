package dev.buddy.router.eval;

import dev.buddy.gguf.AtomicFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merging summaries that {@link EvalReport} itself wrote: every expected value is read back from the report that
 * produced the input, never typed in.
 */
class SummaryMergeTest {
    @TempDir
    Path dir;

    private static ConfigurationResult config(String method, double fraction, int obqaNorm, int boolq, double ppl) {
        Map<Task, TaskResult> tasks = new LinkedHashMap<>();
        tasks.put(Task.OPENBOOKQA, new TaskResult(Task.OPENBOOKQA, 500, obqaNorm - 40, obqaNorm));
        tasks.put(Task.BOOLQ, new TaskResult(Task.BOOLQ, 3270, boolq, -1));
        Map<PerplexityCorpus, PerplexityResult> ppls = Map.of(PerplexityCorpus.WIKITEXT2,
                new PerplexityResult(PerplexityCorpus.WIKITEXT2, 512, 256, 1000, 1000 * Math.log(ppl)));
        return new ConfigurationResult(method, EvalReport.budgetLabel(fraction), fraction, fraction * 0.99, tasks,
                ppls);
    }

    /**
     * The buddy@0.75 entry of {@code summary} as a summary written before {@code newerFields} existed would hold it,
     * in a file of its own.
     */
    private Path olderFormat(Path summary, String... newerFields) throws IOException {
        Path old = dir.resolve("old").resolve(EvalReport.SUMMARY);
        Map<String, Object> entry = new LinkedHashMap<>(entry(read(summary), "buddy", "0.75"));
        List.of(newerFields).forEach(entry::remove);
        AtomicFiles.writeString(old, JsonText.write(Map.of("model", "model.gguf", "methods",
                Map.of("buddy", Map.of("0.75", entry)))) + "\n");
        return old;
    }

    /** buddy@0.75 of the files merged in order. */
    private static Map<String, Object> mergedBuddy(Path... summaries) throws IOException {
        return entry(SummaryMerge.merge(List.of(summaries).stream().map(f -> SummaryMerge.Input.parse(f.toString()))
                .toList()).summary(), "buddy", "0.75");
    }

    /** Writes the report's summary.json into a folder of its own and returns it. */
    private Path write(String name, ConfigurationResult... results) throws IOException {
        // Only the summary, as writeAll writes it: rendering each input's PNG would only slow the test down.
        Path file = dir.resolve(name).resolve(EvalReport.SUMMARY);
        AtomicFiles.writeString(file, JsonText.write(new EvalReport("model.gguf", Map.of(), List.of(results))
                .summary()) + "\n");
        return file;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> entry(Map<String, Object> summary, String method, String budget) {
        Map<String, Object> methods = (Map<String, Object>) summary.get("methods");
        return ((Map<String, Map<String, Object>>) methods.get(method)).get(budget);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Path summary) throws IOException {
        return (Map<String, Object>) Json.parse(Files.readString(summary));
    }

    private static void assertSameEntry(Map<String, Object> expected, Map<String, Object> actual) {
        // Read back through the JSON text both times, so 1 and 1.0 compare as the numbers they are.
        assertEquals(JsonText.write(expected), JsonText.write(actual));
    }

    @Test
    void mergesTheUnionRenamesAndLetsTheLaterFileWin() throws IOException {
        ConfigurationResult dense = config("dense", 1.0, 221, 2541, 5.47);
        ConfigurationResult buddyA = config("buddy", 0.75, 195, 2370, 8.25);
        ConfigurationResult shortgptA = config("shortgpt", 0.75, 180, 2000, 12.5);
        Path a = write("a", shortgptA, dense, buddyA);
        ConfigurationResult buddyB = config("buddy", 0.75, 200, 2400, 7.5);
        Path b = write("b", buddyB);
        ConfigurationResult shortgptC = config("shortgpt", 0.75, 170, 1900, 13.0);
        ConfigurationResult shortgptC2 = config("shortgpt", 0.5, 120, 1700, 30.0);
        Path c = write("c", shortgptC, shortgptC2);

        SummaryMerge merge = SummaryMerge.merge(List.of(SummaryMerge.Input.parse(a.toString()),
                SummaryMerge.Input.parse(b + ":buddy=buddy-reuse"), SummaryMerge.Input.parse(c.toString())));

        assertEquals("model.gguf", merge.model());
        assertEquals(List.of("dense", "buddy", "shortgpt", "buddy-reuse"), List.copyOf(merge.methods().keySet()));
        assertEquals(List.of("0.75", "0.5"), List.copyOf(merge.methods().get("shortgpt").keySet()));
        Map<String, Object> merged = merge.summary();
        Map<String, Object> sa = read(a);
        Map<String, Object> sb = read(b);
        Map<String, Object> sc = read(c);
        assertSameEntry(entry(sa, "dense", "1.0"), entry(merged, "dense", "1.0"));
        assertSameEntry(entry(sa, "buddy", "0.75"), entry(merged, "buddy", "0.75"));
        assertSameEntry(entry(sb, "buddy", "0.75"), entry(merged, "buddy-reuse", "0.75"));
        assertSameEntry(entry(sc, "shortgpt", "0.75"), entry(merged, "shortgpt", "0.75")); // c came later
        assertSameEntry(entry(sc, "shortgpt", "0.5"), entry(merged, "shortgpt", "0.5"));
        assertEquals(List.of(new SummaryMerge.Replacement("shortgpt", "0.75", a, c)), merge.replacements());

        // The written summary.json is the merged map, and reads back as the same tree.
        Path out = dir.resolve("merged");
        EvalReport.Written written = merge.writeAll(out);
        assertTrue(written.files().contains(out.resolve(EvalReport.PLOT_SVG)), written.files().toString());
        assertEquals(JsonText.write(merged), JsonText.write(read(out.resolve(EvalReport.SUMMARY))));

        String md = Files.readString(out.resolve(EvalReport.MARKDOWN));
        assertTrue(md.contains("| Method | 1.0 | 0.75 | 0.5 |"), md);
        String buddyReuseCell = String.format(java.util.Locale.ROOT, "%.2f / %.3f (%.3f)",
                buddyB.meanAccuracyPercent(), buddyB.perplexity(PerplexityCorpus.WIKITEXT2), buddyB.computeFraction());
        assertTrue(md.contains("| buddy-reuse |  | " + buddyReuseCell + " |  |\n"), md);
        assertTrue(md.contains(b + " (buddy → buddy-reuse)"), md);
        assertTrue(md.contains("- shortgpt @ 0.75: " + a + " → " + c), md);
        assertTrue(md.contains("| openbookqa | boolq | Mean |"), md);

        // One series per method, in the merged order.
        String svg = Files.readString(out.resolve(EvalReport.PLOT_SVG));
        List<String> series = new ArrayList<>();
        Matcher m = Pattern.compile("class=\"series\" data-method=\"([^\"]+)\"").matcher(svg);
        while (m.find()) {
            series.add(m.group(1));
        }
        assertEquals(List.of("dense", "buddy", "shortgpt", "buddy-reuse"), series);
        assertTrue(svg.contains("class=\"reference\""), "the dense point is drawn as the reference line");
    }

    @Test
    void anAccuracyRunAndAPerplexityRunOfOneRouterCombine() throws IOException {
        ConfigurationResult both = config("buddy", 0.75, 195, 2370, 8.25);
        ConfigurationResult accuracyOnly = new ConfigurationResult("buddy", both.budget(), 0.75, both.executedFraction(),
                both.tasks(), Map.of());
        ConfigurationResult perplexityOnly = new ConfigurationResult("buddy", both.budget(), 0.75,
                both.executedFraction(), Map.of(), both.perplexities());
        Path acc = write("acc", accuracyOnly);
        Path ppl = write("ppl", perplexityOnly);
        Path whole = write("whole", both);

        for (List<Path> order : List.of(List.of(acc, ppl), List.of(ppl, acc))) {
            SummaryMerge merge = SummaryMerge.merge(order.stream().map(f -> SummaryMerge.Input.parse(f.toString()))
                    .toList());
            assertTrue(merge.replacements().isEmpty(), "disjoint fields replaced nothing: " + merge.replacements());
            assertSameEntry(entry(read(whole), "buddy", "0.75"), entry(merge.summary(), "buddy", "0.75"));
        }
        // A later measured score still wins, and is noted.
        SummaryMerge again = SummaryMerge.merge(List.of(SummaryMerge.Input.parse(whole.toString()),
                SummaryMerge.Input.parse(acc.toString())));
        assertEquals(1, again.replacements().size());
    }

    @Test
    void exampleCountsTravelWithTheAccuraciesTheyDescribe() throws IOException {
        ConfigurationResult full = config("buddy", 0.75, 195, 2370, 8.25);
        Map<Task, TaskResult> fewer = new LinkedHashMap<>();
        fewer.put(Task.OPENBOOKQA, new TaskResult(Task.OPENBOOKQA, 20, 5, 6));
        fewer.put(Task.BOOLQ, new TaskResult(Task.BOOLQ, 20, 11, -1));
        ConfigurationResult limited = new ConfigurationResult("buddy", full.budget(), 0.75, full.executedFraction(),
                fewer, Map.of());
        Path small = write("small", limited);
        Path whole = write("whole", full);
        assertEquals(20L, ((Map<?, ?>) entry(read(small), "buddy", "0.75").get("tasks_examples")).get("boolq"));

        // The later accuracies bring their counts; the earlier perplexity stays.
        Map<String, Object> merged = mergedBuddy(whole, small);
        assertEquals(JsonText.write(entry(read(small), "buddy", "0.75").get("tasks_examples")),
                JsonText.write(merged.get("tasks_examples")));
        assertEquals(JsonText.write(entry(read(whole), "buddy", "0.75").get("wikitext_ppl")),
                JsonText.write(merged.get("wikitext_ppl")));

        // Accuracies from a summary written before the counts existed drop the counts they replace, and a count
        // that is not a whole number is refused.
        Path old = olderFormat(small, "tasks_examples");
        Map<String, Object> replaced = mergedBuddy(whole, old);
        assertFalse(replaced.containsKey("tasks_examples"), replaced.toString());
        assertEquals(JsonText.write(entry(read(small), "buddy", "0.75").get("tasks")),
                JsonText.write(replaced.get("tasks")));
        assertTrue(problem("{\"model\": \"m\", \"methods\": {\"dense\": {\"1.0\": {\"executed_fraction\": 1,"
                + " \"tasks_examples\": {\"boolq\": 2.5}}}}}", "").contains("tasks_examples.boolq is 2.5, expected a"
                + " positive whole number"));
    }

    @Test
    void tokenCountsTravelWithThePerplexitiesTheyDescribe() throws IOException {
        ConfigurationResult shorter = config("buddy", 0.75, 195, 2370, 8.25);
        ConfigurationResult longer = new ConfigurationResult("buddy", shorter.budget(), 0.75, shorter.executedFraction(),
                Map.of(), Map.of(PerplexityCorpus.WIKITEXT2, new PerplexityResult(PerplexityCorpus.WIKITEXT2, 512, 256,
                        8191, 8191 * Math.log(9.5))));
        Path first = write("first", shorter);
        Path second = write("second", longer);
        assertEquals(1000L, ((Number) entry(read(first), "buddy", "0.75").get("wikitext_tokens")).longValue());

        // The later perplexity brings its token count; the earlier accuracies and their counts stay.
        Map<String, Object> merged = mergedBuddy(first, second);
        for (String key : List.of("wikitext_ppl", "wikitext_tokens")) {
            assertEquals(JsonText.write(entry(read(second), "buddy", "0.75").get(key)), JsonText.write(merged.get(key)));
        }
        for (String key : List.of("tasks", "tasks_examples")) {
            assertEquals(JsonText.write(entry(read(first), "buddy", "0.75").get(key)), JsonText.write(merged.get(key)));
        }
        // An accuracy-only file merged after keeps the perplexity and its count.
        Map<String, Object> accuracyLater = mergedBuddy(second, write("acc", new ConfigurationResult("buddy",
                shorter.budget(), 0.75, shorter.executedFraction(), shorter.tasks(), Map.of())));
        assertEquals(8191L, ((Number) accuracyLater.get("wikitext_tokens")).longValue());

        // A perplexity from a summary written before the counts existed drops the count it replaces, and a count
        // that is not a positive whole number is refused.
        Path old = olderFormat(first, "wikitext_tokens", "tinystories_tokens");
        Map<String, Object> replaced = mergedBuddy(second, old);
        assertFalse(replaced.containsKey("wikitext_tokens"), replaced.toString());
        assertEquals(JsonText.write(entry(read(old), "buddy", "0.75").get("wikitext_ppl")),
                JsonText.write(replaced.get("wikitext_ppl")));
        assertTrue(problem("{\"model\": \"m\", \"methods\": {\"dense\": {\"1.0\": {\"executed_fraction\": 1,"
                + " \"wikitext_tokens\": 0}}}}", "").contains("wikitext_tokens is 0, expected a positive whole number"));
    }

    @Test
    void budgetLabelsAreNormalisedAndAutoGoesLast() throws IOException {
        Path f = dir.resolve("s.json");
        Files.writeString(f, """
                {"model": "m", "methods": {"buddy": {"auto": {"executed_fraction": null},
                  "0.50": {"executed_fraction": 0.5, "mean_acc": 40}, "0.875": {"executed_fraction": 0.875}}}}""");
        SummaryMerge merge = SummaryMerge.merge(List.of(SummaryMerge.Input.parse(f.toString())));
        assertEquals(List.of("0.875", "0.5", "auto"), List.copyOf(merge.methods().get("buddy").keySet()));
        assertEquals(40.0, merge.methods().get("buddy").get("0.5").get("mean_acc"));
    }

    @Test
    void thePlotDrawsAutoApartFromTheFixedBudgetLine() throws IOException {
        Path f = dir.resolve("s.json");
        Files.writeString(f, """
                {"model": "m", "methods": {"buddy": {"auto": {"executed_fraction": 0.7, "mean_acc": 45},
                  "0.5": {"executed_fraction": 0.5, "mean_acc": 40}, "0.875": {"executed_fraction": 0.875,
                  "mean_acc": 50}}}}""");
        String svg = SummaryMerge.merge(List.of(SummaryMerge.Input.parse(f.toString()))).plot().svg();
        assertTrue(svg.contains("data-method=\"buddy\""), svg);
        assertTrue(svg.contains("data-method=\"buddy auto\""), svg);
        // buddy's line joins its two fixed budgets only: one polyline of two points.
        int from = svg.indexOf("points=\"", svg.indexOf("data-method=\"buddy\"")) + 8;
        String line = svg.substring(from, svg.indexOf('"', from));
        assertEquals(2, line.trim().split(" ").length, line);
    }

    @Test
    void renameArgumentsAreParsed() {
        SummaryMerge.Input plain = SummaryMerge.Input.parse("runs/a/summary.json");
        assertEquals(Path.of("runs/a/summary.json"), plain.file());
        assertTrue(plain.renames().isEmpty());
        SummaryMerge.Input two = SummaryMerge.Input.parse("b.json:buddy:r1=buddy-r1,shortgpt=sg");
        assertEquals(Path.of("b.json"), two.file());
        assertEquals(Map.of("buddy:r1", "buddy-r1", "shortgpt", "sg"), two.renames());
        assertThrows(SummaryFormatException.class, () -> SummaryMerge.Input.parse("b.json:buddy="));
        assertThrows(SummaryFormatException.class, () -> SummaryMerge.Input.parse("b.json:=x"));
        assertThrows(SummaryFormatException.class, () -> SummaryMerge.Input.parse("b.json:a=b,a=c"));
    }

    private String problem(String json, String rename) throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, json);
        SummaryFormatException e = assertThrows(SummaryFormatException.class,
                () -> SummaryMerge.merge(List.of(SummaryMerge.Input.parse(f + rename))));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badInputsNameTheFileAndTheProblem() throws IOException {
        assertTrue(problem("{\"model\": \"m\",", "").contains("not valid JSON"));
        assertTrue(problem("[1]", "").contains("expected a JSON object"));
        assertTrue(problem("{\"methods\": {}}", "").contains("no \"model\""));
        assertTrue(problem("{\"model\": \"m\"}", "").contains("no \"methods\""));
        assertTrue(problem("{\"model\": \"m\", \"methods\": {\"dense\": [1]}}", "")
                .contains("methods.dense is not an object of budgets"));
        assertTrue(problem("{\"model\": \"m\", \"methods\": {\"dense\": {\"1.0\": {\"executed_fraction\": \"x\"}}}}",
                "").contains("executed_fraction is the string \"x\", expected a number or null"));
        assertTrue(problem("{\"model\": \"m\", \"methods\": {\"dense\": {\"1.0\": {\"mean_acc\": 3}}}}", "")
                .contains("has no executed_fraction"));
        assertTrue(problem("{\"model\": \"m\", \"methods\": {\"dense\": {\"1.5\": {\"executed_fraction\": 1}}}}", "")
                .contains("budget 1.5"));
        String twoMethods = "{\"model\": \"m\", \"methods\": {\"dense\": {\"1.0\": {\"executed_fraction\": 1}},"
                + " \"buddy\": {\"0.5\": {\"executed_fraction\": 0.5}}}}";
        assertTrue(problem(twoMethods, ":sleb=x").contains("no method 'sleb' to rename (it has dense, buddy)"));
        assertTrue(problem(twoMethods, ":buddy=dense").contains("two methods named 'dense'"));
    }

    @Test
    void anotherModelIsRefusedNamingBothFiles() throws IOException {
        Path a = write("a", config("dense", 1.0, 221, 2541, 5.47));
        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"model\": \"other.gguf\", \"methods\": {}}");
        SummaryFormatException e = assertThrows(SummaryFormatException.class, () -> SummaryMerge.merge(
                List.of(SummaryMerge.Input.parse(a.toString()), SummaryMerge.Input.parse(other.toString()))));
        assertEquals(other + ": model 'other.gguf' differs from 'model.gguf' in " + a
                + "; only evaluations of one model can be merged", e.getMessage());
    }

    @Test
    void aMissingFileIsAnIoError() {
        Path missing = dir.resolve("missing.json");
        assertThrows(NoSuchFileException.class,
                () -> SummaryMerge.merge(List.of(SummaryMerge.Input.parse(missing.toString()))));
    }
}

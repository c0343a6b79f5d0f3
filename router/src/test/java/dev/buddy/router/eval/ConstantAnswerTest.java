package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ConstantAnswerTest {

    private static McExample boolq(int i, boolean yes) {
        String ctx = "Passage " + i + "\nQuestion: q" + i + "?\nAnswer:";
        return new McExample(Task.BOOLQ, "boolq-" + i, List.of(Choice.of(ctx, " ", "no"), Choice.of(ctx, " ", "yes")),
                yes ? 1 : 0, null);
    }

    private static McExample arc(int i, int choices, int label) {
        List<Choice> list = new ArrayList<>();
        for (int c = 0; c < choices; c++) {
            list.add(Choice.of("Question: " + i + "\nAnswer:", " ", "option " + i + "." + c));
        }
        return new McExample(Task.ARC_EASY, "arc-" + i, list, label, null);
    }

    @Test
    void boolqMostlyYesIsAlwaysYes() {
        List<McExample> examples = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            examples.add(boolq(i, i % 7 != 3));   // 3 of 20 are "no" (i = 3, 10, 17)
        }
        ConstantAnswer c = ConstantAnswer.of(Task.BOOLQ, examples);
        assertEquals(20, c.n());
        assertEquals(1, c.position());
        assertEquals("yes", c.text());
        assertEquals(17 / 20.0, c.accuracy(), 0.0);
    }

    @Test
    void textOnlyWhenEveryExampleSharesItAndNeverForWinogrande() {
        ConstantAnswer arc = ConstantAnswer.of(Task.ARC_EASY, List.of(arc(0, 4, 2), arc(1, 3, 2), arc(2, 5, 0)));
        assertEquals(2, arc.position());
        assertNull(arc.text(), "the choices' texts differ between questions");
        assertEquals(2 / 3.0, arc.accuracy(), 1e-12);
        McExample wino = new McExample(Task.WINOGRANDE, "w", List.of(Choice.of("The cat", " ", "sat."),
                Choice.of("The dog", " ", "sat.")), 1, null);
        ConstantAnswer w = ConstantAnswer.of(Task.WINOGRANDE, List.of(wino));
        assertEquals(1.0, w.accuracy(), 0.0);
        assertNull(w.text(), "WinoGrande's choices differ in their context, not their shared continuation");
    }

    @Test
    void noExamplesIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> ConstantAnswer.of(Task.PIQA, List.of()));
    }

    /** Against counting every position by brute force: the best share, and the lowest position on a tie. */
    @Property(tries = 300)
    void picksTheMostCommonGoldPosition(
            @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 0, max = 4) Integer> labels) {
        List<McExample> examples = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            examples.add(arc(i, 5, labels.get(i)));
        }
        ConstantAnswer c = ConstantAnswer.of(Task.ARC_EASY, examples);
        int bestCount = -1;
        int bestPosition = -1;
        for (int p = 0; p < 5; p++) {
            int count = 0;
            for (int l : labels) {
                count += l == p ? 1 : 0;
            }
            if (count > bestCount) {
                bestCount = count;
                bestPosition = p;
            }
        }
        assertEquals(bestPosition, c.position());
        assertEquals((double) bestCount / labels.size(), c.accuracy(), 0.0);
        assertTrue(c.accuracy() >= 0.2, "some position is gold for at least a fifth of five-choice questions");
    }

    @Test
    void reportsShowTheBaselineBesideTheMethods() {
        Map<Task, TaskResult> tasks = new LinkedHashMap<>();
        tasks.put(Task.BOOLQ, new TaskResult(Task.BOOLQ, 20, 5, -1));
        ConfigurationResult dense = new ConfigurationResult("dense", "1.0", 1.0, 1.0, tasks, Map.of());
        List<McExample> examples = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            examples.add(boolq(i, i % 7 != 3));
        }
        EvalReport report = new EvalReport("m.gguf", Map.of(), List.of(dense),
                List.of(ConstantAnswer.of(Task.BOOLQ, examples)));
        assertTrue(report.markdown().contains("| boolq | 20 | choice 2 (\"yes\") | 85.00 |"), report.markdown());
        @SuppressWarnings("unchecked")
        Map<String, Object> constant = (Map<String, Object>) report.json().get("constant_answer");
        @SuppressWarnings("unchecked")
        Map<String, Object> boolq = (Map<String, Object>) constant.get("boolq");
        assertEquals(85.0, boolq.get("acc"));
        assertEquals("yes", boolq.get("text"));
        assertEquals(1, boolq.get("choice"));
        assertTrue(!new EvalReport("m.gguf", Map.of(), List.of(dense)).markdown().contains("Constant answer"),
                "no section without baselines");
    }
}

package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesADatasetLine() {
        Object v = Json.parse("{\"id\": \"x-1\", \"context\": \"Q: a\\nA:\", \"choices\": [\"no\", \"yes\"],"
                + " \"label\": 1, \"w\": -2.5e1, \"ok\": true, \"none\": null}");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals("x-1", m.get("id"));
        assertEquals("Q: a\nA:", m.get("context"));
        assertEquals(List.of("no", "yes"), m.get("choices"));
        assertEquals(1L, m.get("label"));
        assertEquals(-25.0, m.get("w"));
        assertEquals(Boolean.TRUE, m.get("ok"));
        assertTrue(m.containsKey("none"));
        assertNull(m.get("none"));
        assertEquals(List.of("id", "context", "choices", "label", "w", "ok", "none"), List.copyOf(m.keySet()));
    }

    @Test
    void decodesEscapesAndSurrogatePairs() {
        assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        assertEquals("é😀", Json.parse("\"\\u00e9\\ud83d\\ude00\""));
        assertEquals("plain ünïcode 😀", Json.parse("\"plain ünïcode 😀\""));
    }

    @Test
    void rejectsMalformedInputWithAPosition() {
        for (String bad : List.of("{\"a\": 1,}", "[1 2]", "{\"a\" 1}", "\"open", "tru", "01", "1.", "{\"a\":1}x",
                "\"\\x\"", "\"tab\tin string\"", "{\"a\":1, \"a\":2}", "")) {
            Json.JsonSyntaxException e = assertThrows(Json.JsonSyntaxException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().contains("column"), e.getMessage());
        }
    }

    @Test
    void numbersKeepTheirKind() {
        assertEquals(0L, Json.parse("0"));
        assertEquals(-7L, Json.parse("-7"));
        assertEquals(0.5, Json.parse("0.5"));
        assertEquals(1e300, Json.parse("1e300"));
        assertEquals(1e20, Json.parse("100000000000000000000"));
    }

    @Property(tries = 300)
    void writtenStringsParseBack(@ForAll String s) {
        StringBuilder sb = new StringBuilder();
        JsonText.quote(sb, s);
        assertEquals(s, Json.parse(sb.toString()));
    }

    @Test
    void writtenTreesParseBack() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("model", "m \"q\"");
        tree.put("n", 3);
        tree.put("acc", 61.25);
        tree.put("whole", 1.0);
        tree.put("missing", Double.NaN);
        tree.put("list", List.of(1, "two", List.of()));
        tree.put("empty", Map.of());
        Map<?, ?> back = (Map<?, ?>) Json.parse(JsonText.write(tree));
        assertEquals("m \"q\"", back.get("model"));
        assertEquals(3L, back.get("n"));
        assertEquals(61.25, back.get("acc"));
        assertEquals(1.0, back.get("whole"));
        assertNull(back.get("missing"));
        assertEquals(List.of(1L, "two", List.of()), back.get("list"));
        assertEquals(Map.of(), back.get("empty"));
    }
}

package dev.buddy.cli.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.buddy.cli.TinyJson;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** The hand-written JSON writer: escaping, structure, and round trips through an independent parser. */
class JsonWriterTest {
    @Test
    void escapesWhatRfc8259Requires() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\"", JsonWriter.quote("a\"b\\c\n\r\t\b\f\u0001\u001f"));
        assertEquals("\"/ and ~ stay\"", JsonWriter.quote("/ and ~ stay"));
    }

    @Test
    void nonAsciiIsEscapedIncludingSurrogatePairsAndLoneSurrogates() {
        assertEquals("\"\\u00fc\\u2028\\ud83e\\udd99\\u007f\"", JsonWriter.quote("ü\u2028🦙\u007f"));
        assertEquals("\"\\udc00x\"", JsonWriter.quote("\udc00x"), "a lone surrogate stays a valid escape");
    }

    /** Any Java string, however odd, comes back unchanged through the writer and an independent parser. */
    @Property(tries = 100)
    void stringsRoundTrip(@ForAll String s) {
        String json = JsonWriter.quote(s);
        assertTrue(json.chars().allMatch(c -> c >= 0x20 && c < 0x7f), json);
        assertEquals(s, TinyJson.parse(json));
    }

    @Property(tries = 100)
    void numbersRoundTrip(@ForAll long l, @ForAll double d, @ForAll float f) {
        StringBuilder sb = new StringBuilder();
        new JsonWriter(sb).beginArray().value(l).value(d).value(f).endArray();
        List<?> back = (List<?>) TinyJson.parse(sb.toString());
        assertEquals(l, back.get(0));
        if (Double.isFinite(d)) {
            assertEquals(d, ((Number) back.get(1)).doubleValue());
        } else {
            assertEquals(null, back.get(1), "non-finite numbers become null");
        }
        if (Float.isFinite(f)) {
            assertEquals(f, ((Number) back.get(2)).floatValue(), "a float's shortest decimal parses back to it");
        }
    }

    @Test
    void nestedStructuresRoundTrip() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("empty object", Map.of());
        value.put("empty list", List.of());
        value.put("list", Arrays.asList(1L, "two", 3.5, true, null, List.of(List.of()), Map.of("k", "v")));
        value.put("nothing", null);
        StringBuilder sb = new StringBuilder();
        new JsonWriter(sb).value(value);
        assertEquals(value, TinyJson.parse(sb.toString()));
        assertEquals("{}", write(w -> w.beginObject().endObject()));
        assertEquals("{\n  \"a\": [\n    1,\n    2\n  ]\n}",
                write(w -> w.beginObject().name("a").beginArray().value(1L).value(2L).endArray().endObject()));
    }

    @Test
    void misuseFailsFast() {
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringBuilder()).beginObject().value(1L));
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringBuilder()).beginArray().name("x"));
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringBuilder()).beginArray().endObject());
        assertThrows(IllegalStateException.class, () -> new JsonWriter(new StringBuilder()).value(1L).value(2L));
        assertThrows(IllegalArgumentException.class, () -> new JsonWriter(new StringBuilder()).value(new ArrayList<>(List.of(new Object()))));
    }

    private static String write(java.util.function.Consumer<JsonWriter> body) {
        StringBuilder sb = new StringBuilder();
        body.accept(new JsonWriter(sb));
        return sb.toString();
    }
}

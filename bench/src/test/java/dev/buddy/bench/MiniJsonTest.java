package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class MiniJsonTest {
    @Test
    void readsNestedValues() {
        Object v = MiniJson.parse(" [ {\"a\": 1.5e3, \"b\": [true, false, null], \"s\": \"x\\\"\\u00e9\\n\"}, -2 ] ");
        List<?> list = (List<?>) v;
        Map<?, ?> first = (Map<?, ?>) list.get(0);
        assertEquals(1500.0, first.get("a"));
        assertEquals(List.of(true, false), ((List<?>) first.get("b")).subList(0, 2));
        assertNull(((List<?>) first.get("b")).get(2));
        assertEquals("x\"é\n", first.get("s"));
        assertEquals(-2.0, list.get(1));
        assertEquals(Map.of(), MiniJson.parse("{}"));
    }

    @Test
    void rejectsMalformedInput() {
        for (String bad : new String[] {"", "[1,", "{\"a\" 1}", "[1] x", "\"open", "{1: 2}", "tru"}) {
            assertThrows(IllegalArgumentException.class, () -> MiniJson.parse(bad), bad);
        }
    }

    @Test
    void engineRunsComeFromBenchJson() {
        String json = """
                [{"n_prompt": 512, "n_gen": 0, "avg_ts": 100.5, "peak_rss_bytes": 2048},
                 {"n_prompt": 0, "n_gen": 128, "avg_ts": 20.25, "peak_rss_bytes": 4096}]""";
        EngineRun run = EngineRun.fromBenchJson(json);
        assertEquals(100.5, run.promptTokensPerSecond());
        assertEquals(20.25, run.generationTokensPerSecond());
        assertEquals(4096, run.peakRssBytes());
        assertThrows(IllegalArgumentException.class, () -> EngineRun.fromBenchJson("[]"));
        assertThrows(IllegalArgumentException.class, () -> EngineRun.fromBenchJson("[{\"n_prompt\": 1}]"));
    }
}

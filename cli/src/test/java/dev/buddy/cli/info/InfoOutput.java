package dev.buddy.cli.info;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads {@code buddy info}'s text output back: section title -> (label -> value), and each section's raw lines. */
record InfoOutput(Map<String, Map<String, String>> fields, Map<String, List<String>> lines) {
    private static final Pattern FIELD = Pattern.compile("^  (\\S.*?) {2,}(\\S.*)$");

    static InfoOutput parse(String text) {
        Map<String, Map<String, String>> fields = new LinkedHashMap<>();
        Map<String, List<String>> lines = new LinkedHashMap<>();
        for (String block : text.split("\n\n")) {
            String[] rows = block.split("\n");
            String title = rows[0];
            assertTrue(!title.startsWith(" ") && !title.isEmpty(), () -> "section title: '" + title + "'");
            Map<String, String> f = new LinkedHashMap<>();
            List<String> raw = new ArrayList<>();
            for (int i = 1; i < rows.length; i++) {
                raw.add(rows[i]);
                Matcher m = FIELD.matcher(rows[i]);
                if (m.matches()) {
                    f.put(m.group(1), m.group(2));
                }
            }
            fields.put(title, f);
            lines.put(title, raw);
        }
        return new InfoOutput(fields, lines);
    }

    String get(String section, String label) {
        Map<String, String> s = fields.get(section);
        assertNotNull(s, () -> "section " + section + " in " + fields.keySet());
        String v = s.get(label);
        assertNotNull(v, () -> label + " in section " + section + ": " + s);
        return v;
    }
}

package dev.buddy.cli.info;

import dev.buddy.cli.json.JsonWriter;

/**
 * Renders an {@link InfoReport} as one JSON object: each section is a member named by its key, holding an object of
 * its fields or an array of its table rows (objects keyed by column). Values are the raw numbers and strings, without
 * the units and notes of the text form.
 */
public final class JsonRenderer {
    private JsonRenderer() {}

    public static String render(InfoReport report) {
        StringBuilder sb = new StringBuilder();
        JsonWriter w = new JsonWriter(sb);
        w.beginObject();
        for (InfoSection section : report.sections()) {
            w.name(section.key());
            if (section.fields() != null) {
                w.beginObject();
                for (InfoField f : section.fields()) {
                    w.name(f.key()).value(f.value());
                }
                w.endObject();
            } else {
                InfoTable table = section.table();
                w.beginArray();
                for (var row : table.rows()) {
                    w.beginObject();
                    for (int c = 0; c < row.size(); c++) {
                        w.name(table.columns().get(c).key()).value(row.get(c));
                    }
                    w.endObject();
                }
                w.endArray();
            }
        }
        w.endObject();
        return sb.append('\n').toString();
    }
}

package dev.buddy.cli.info;

import java.util.List;

/**
 * A titled group of facts: either fields (a JSON object) or a table (a JSON array). Architecture plug-ins contribute
 * sections; see {@link ArchitectureInfo}.
 *
 * @param title the text heading, e.g. "RoPE"
 * @param key the JSON member name, e.g. {@code rope}; unique within a report
 */
public record InfoSection(String title, String key, List<InfoField> fields, InfoTable table) {
    public InfoSection {
        fields = fields == null ? null : List.copyOf(fields);
        if ((fields == null) == (table == null)) {
            throw new IllegalArgumentException(key + ": a section holds either fields or a table");
        }
        if (fields != null && fields.stream().map(InfoField::key).distinct().count() != fields.size()) {
            throw new IllegalArgumentException(key + ": two fields share a key, which JSON cannot represent");
        }
    }

    public static InfoSection ofFields(String title, String key, List<InfoField> fields) {
        return new InfoSection(title, key, fields, null);
    }

    public static InfoSection ofTable(String title, String key, InfoTable table) {
        return new InfoSection(title, key, null, table);
    }

    /** The field with this JSON key, if present. */
    public InfoField field(String fieldKey) {
        if (fields != null) {
            for (InfoField f : fields) {
                if (f.key().equals(fieldKey)) {
                    return f;
                }
            }
        }
        return null;
    }
}

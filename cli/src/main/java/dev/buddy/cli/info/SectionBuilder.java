package dev.buddy.cli.info;

import java.util.ArrayList;
import java.util.List;

/** Collects the fields of one section, skipping facts the file does not state. */
final class SectionBuilder {
    private final String title;
    private final String key;
    private final List<InfoField> fields = new ArrayList<>();

    SectionBuilder(String title, String key) {
        this.title = title;
        this.key = key;
    }

    /** Adds the field when {@code value} is not null. */
    SectionBuilder add(String label, String fieldKey, Object value) {
        return add(label, fieldKey, value, null);
    }

    SectionBuilder add(String label, String fieldKey, Object value, String display) {
        if (value != null) {
            fields.add(new InfoField(label, fieldKey, value, display));
        }
        return this;
    }

    boolean isEmpty() {
        return fields.isEmpty();
    }

    InfoSection build() {
        return InfoSection.ofFields(title, key, fields);
    }
}

package dev.buddy.cli.info;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Everything {@code buddy info} says about a file, in display order. */
public record InfoReport(List<InfoSection> sections) {
    public InfoReport {
        sections = List.copyOf(sections);
        Set<String> keys = new HashSet<>();
        for (InfoSection s : sections) {
            if (!keys.add(s.key())) {
                throw new IllegalArgumentException("two sections with key " + s.key());
            }
        }
    }

    public InfoSection section(String key) {
        for (InfoSection s : sections) {
            if (s.key().equals(key)) {
                return s;
            }
        }
        return null;
    }
}

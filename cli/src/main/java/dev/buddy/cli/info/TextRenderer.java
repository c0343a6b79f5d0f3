package dev.buddy.cli.info;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders an {@link InfoReport} for people: titled sections of aligned "label  value" lines, tables as columns. */
public final class TextRenderer {
    private TextRenderer() {}

    public static String render(InfoReport report) {
        StringBuilder sb = new StringBuilder();
        // One label width for the whole report, so values line up from section to section.
        int width = report.sections().stream().filter(s -> s.fields() != null).flatMap(s -> s.fields().stream())
                .mapToInt(f -> f.label().length()).max().orElse(0);
        for (InfoSection section : report.sections()) {
            if (!sb.isEmpty()) {
                sb.append('\n');
            }
            sb.append(section.title()).append('\n');
            if (section.fields() != null) {
                fields(section.fields(), width, sb);
            } else {
                table(section.table(), sb);
            }
        }
        return sb.toString();
    }

    private static void fields(List<InfoField> fields, int width, StringBuilder sb) {
        for (InfoField f : fields) {
            String text = f.display() != null ? f.display() : Formats.value(f.value());
            sb.append("  ").append(pad(f.label(), width, false)).append("  ").append(text).append('\n');
        }
    }

    private static void table(InfoTable table, StringBuilder sb) {
        if (table.rows().isEmpty()) {
            sb.append("  ").append(table.emptyText()).append('\n');
            return;
        }
        List<InfoTable.Column> columns = table.columns();
        List<List<String>> cells = new ArrayList<>();
        cells.add(columns.stream().map(InfoTable.Column::label).toList());
        for (List<Object> row : table.rows()) {
            cells.add(format(columns, row));
        }
        if (table.total() != null) {
            cells.add(format(columns, table.total()));
        }
        int[] widths = new int[columns.size()];
        for (List<String> row : cells) {
            for (int c = 0; c < widths.length; c++) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        for (int r = 0; r < cells.size(); r++) {
            if (table.total() != null && r == cells.size() - 1) {
                line(widths, sb);
            }
            sb.append(' ');
            for (int c = 0; c < widths.length; c++) {
                boolean right = columns.get(c).format() != InfoTable.Format.TEXT;
                sb.append(' ').append(pad(cells.get(r).get(c), widths[c], right));
                if (c < widths.length - 1) {
                    sb.append(' ');
                }
            }
            sb.append('\n');
        }
    }

    private static void line(int[] widths, StringBuilder sb) {
        int total = 0;
        for (int w : widths) {
            total += w + 2;
        }
        sb.append("  ").append("-".repeat(total - 1)).append('\n');
    }

    private static List<String> format(List<InfoTable.Column> columns, List<Object> row) {
        List<String> out = new ArrayList<>(row.size());
        for (int c = 0; c < row.size(); c++) {
            Object v = row.get(c);
            out.add(switch (columns.get(c).format()) {
                case BYTES -> v instanceof Number n ? Formats.binary(n.longValue()) : Formats.value(v);
                case PERCENT -> v instanceof Number n
                        ? String.format(Locale.ROOT, "%.2f%%", n.doubleValue()) : Formats.value(v);
                case TEXT, INTEGER -> Formats.value(v);
            });
        }
        return out;
    }

    private static String pad(String s, int width, boolean right) {
        if (s.length() >= width) {
            return s;
        }
        String spaces = " ".repeat(width - s.length());
        return right ? spaces + s : s + spaces;
    }
}

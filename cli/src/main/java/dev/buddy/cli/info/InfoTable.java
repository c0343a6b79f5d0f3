package dev.buddy.cli.info;

import java.util.List;

/**
 * A table of facts, e.g. tensor types. Rendered as aligned columns in text and as an array of objects in JSON.
 *
 * @param columns the columns, in order
 * @param rows each row's values in column order (the same value kinds as {@link InfoField#value()})
 * @param total a totals row shown under the text table (JSON readers can sum the rows), or null
 * @param emptyText what the text rendering says when there are no rows
 */
public record InfoTable(List<Column> columns, List<List<Object>> rows, List<Object> total, String emptyText) {
    /** How a column's values read in text; JSON always gets the plain value. */
    public enum Format { TEXT, INTEGER, BYTES, PERCENT }

    /**
     * @param label the text header
     * @param key the JSON member name
     */
    public record Column(String label, String key, Format format) {}

    public InfoTable {
        columns = List.copyOf(columns);
        rows = rows.stream().map(List::copyOf).toList();
        total = total == null ? null : List.copyOf(total);
        for (List<Object> row : rows) {
            if (row.size() != columns.size()) {
                throw new IllegalArgumentException("row has " + row.size() + " values for " + columns.size() + " columns");
            }
        }
        if (total != null && total.size() != columns.size()) {
            throw new IllegalArgumentException("total has " + total.size() + " values for " + columns.size() + " columns");
        }
    }
}

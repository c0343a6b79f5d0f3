package dev.buddy.cli.train;

import dev.buddy.cli.UsageException;

/** A comma-separated list of budget fractions, as {@code train-router --budgets} and {@code route-oracle --budget} take. */
final class BudgetList {
    private BudgetList() {}

    /**
     * Parses {@code text}, given as {@code option}: numbers in (0, 1], or in (0, 1) when {@code fullDepth} is false
     * ({@code why} then says why 1 is refused).
     *
     * @throws UsageException naming the option and the whole list
     */
    static double[] parse(String option, String text, boolean fullDepth, String why) {
        String[] parts = text.split(",", -1);
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                values[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                values[i] = Double.NaN;
            }
            if (!(values[i] > 0 && (fullDepth ? values[i] <= 1 : values[i] < 1))) {
                throw new UsageException("invalid " + option + " '" + text + "': expected numbers in (0, "
                        + (fullDepth ? "1]" : "1)") + " separated by commas" + (why.isEmpty() ? "" : " (" + why + ")"));
            }
        }
        return values;
    }
}

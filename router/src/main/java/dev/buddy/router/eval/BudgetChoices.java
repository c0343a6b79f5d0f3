package dev.buddy.router.eval;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How often the Budget Predictor chose each budget under {@code --budgets auto}: one count per routed sequence, for
 * the k it predicted from that sequence's first forward call (the context's prefill, which is the whole context
 * unless {@code --prefill-batch} cuts it). In multiple-choice scoring every continuation after the first is routed as
 * a fresh sequence that replays the same context, so an example counts once per scored continuation of two or more
 * tokens, plus once for its context; all of them see the same context and so choose the same k.
 *
 * <p>Sequences scored at once ({@code eval --parallel}) count into one tally, so a count is atomic; {@link #reset} and
 * {@link #snapshot} are called between tasks, when no sequence runs.
 */
public final class BudgetChoices {
    private final int layerCount;
    private final AtomicLongArray counts;

    public BudgetChoices(int layerCount) {
        if (layerCount < 3) {
            throw new IllegalArgumentException("a " + layerCount + "-block model has no budget to choose");
        }
        this.layerCount = layerCount;
        this.counts = new AtomicLongArray(layerCount - 2);
    }

    /** The predictor chose k middle blocks for one sequence. */
    public void record(int k) {
        counts.incrementAndGet(k - 1);
    }

    public void reset() {
        for (int i = 0; i < counts.length(); i++) {
            counts.set(i, 0);
        }
    }

    /** The counts so far, index k−1. */
    public Distribution snapshot() {
        long[] now = new long[counts.length()];
        for (int i = 0; i < now.length; i++) {
            now[i] = counts.get(i);
        }
        return new Distribution(layerCount, now);
    }

    /**
     * A frozen distribution of chosen budgets.
     *
     * @param layerCount L
     * @param counts     sequences that chose k middle blocks, index k−1
     */
    public record Distribution(int layerCount, long[] counts) {
        public Distribution {
            counts = counts.clone();
        }

        @Override
        public long[] counts() {
            return counts.clone();
        }

        public long total() {
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            return n;
        }

        /** The mean chosen budget b = (k+2)/L over the sequences; NaN if none. */
        public double meanBudget() {
            long n = total();
            if (n == 0) {
                return Double.NaN;
            }
            double sum = 0;
            for (int k = 1; k <= counts.length; k++) {
                sum += counts[k - 1] * (k + 2) / (double) layerCount;
            }
            return sum / n;
        }

        /** Budget label (as {@link EvalReport#budgetLabel}) → count, for the chosen budgets only, in budget order. */
        public java.util.Map<String, Long> byBudget() {
            java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
            for (int k = 1; k <= counts.length; k++) {
                if (counts[k - 1] > 0) {
                    out.put(EvalReport.budgetLabel((k + 2) / (double) layerCount), counts[k - 1]);
                }
            }
            return out;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Distribution d && d.layerCount == layerCount && Arrays.equals(d.counts, counts);
        }

        @Override
        public int hashCode() {
            return layerCount * 31 + Arrays.hashCode(counts);
        }
    }
}

package dev.buddy.router;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A fixed, input-independent block plan for the static baselines (ShortGPT, ΔPPL/Shortened LLaMA, SLEB, prior-only):
 * a ranking of the middle blocks, most important first, so budget k runs the first k; and/or explicit block sets for
 * particular k where a method's sets are not nested (e.g. SLEB run separately per budget). An explicit set wins over
 * the ranking.
 */
public final class StaticPlan implements Router {
    private final String name;
    private final int layerCount;
    private final int[] ranking;
    private final Map<Integer, int[]> setsByK;
    private final Provenance provenance;

    /**
     * @param ranking middle block indices (1..L−2), most important first: a permutation of all of them, or empty
     * @param setsByK for some k, the exact k middle blocks to run
     */
    public StaticPlan(String name, int layerCount, int[] ranking, Map<Integer, int[]> setsByK, Provenance provenance) {
        Budget.requireRoutableDepth(layerCount);
        this.name = Objects.requireNonNull(name);
        this.layerCount = layerCount;
        this.provenance = Objects.requireNonNull(provenance);
        int middle = layerCount - 2;
        if (ranking.length != 0) {
            requireDistinctMiddle("ranking", ranking, layerCount);
            if (ranking.length != middle) {
                throw new IllegalArgumentException("ranking lists " + ranking.length + " blocks, expected all "
                        + middle + " middle blocks");
            }
        }
        this.ranking = ranking.clone();
        TreeMap<Integer, int[]> sets = new TreeMap<>();
        for (Map.Entry<Integer, int[]> e : setsByK.entrySet()) {
            int k = e.getKey();
            int[] set = e.getValue();
            if (k < 1 || k > middle || set.length != k) {
                throw new IllegalArgumentException("block set for k=" + k + " must list exactly k blocks, k in 1.."
                        + middle + "; got " + set.length);
            }
            requireDistinctMiddle("block set for k=" + k, set, layerCount);
            int[] sorted = set.clone();
            Arrays.sort(sorted);
            sets.put(k, sorted);
        }
        if (this.ranking.length == 0 && sets.isEmpty()) {
            throw new IllegalArgumentException("a static plan needs a ranking or at least one block set");
        }
        this.setsByK = Collections.unmodifiableMap(sets);
    }

    private static void requireDistinctMiddle(String what, int[] blocks, int layerCount) {
        boolean[] seen = new boolean[layerCount];
        for (int b : blocks) {
            if (b < 1 || b > layerCount - 2) {
                throw new IllegalArgumentException(what + " names block " + b + ", which is not a middle block (1.."
                        + (layerCount - 2) + ")");
            }
            if (seen[b]) {
                throw new IllegalArgumentException(what + " names block " + b + " twice");
            }
            seen[b] = true;
        }
    }

    /**
     * A ranking from per-middle-block importance scores (higher = more important), ties to the lower block: the
     * "prior-only" baseline, or any one-shot score such as ShortGPT's 1−cos or ΔPPL.
     */
    public static StaticPlan fromScores(String name, float[] importance, Provenance provenance) {
        int middle = importance.length;
        int layerCount = middle + 2;
        boolean[] taken = new boolean[middle];
        int[] ranking = new int[middle];
        float[] scores = importance.clone();
        boolean[] chosen = new boolean[middle];
        for (int r = 0; r < middle; r++) {
            // Select r+1 and record the newly added block: the same tie rule as the dynamic router's TopK.
            TopK.select(scores, middle, r + 1, chosen, 0);
            for (int j = 0; j < middle; j++) {
                if (chosen[j] && !taken[j]) {
                    taken[j] = true;
                    ranking[r] = j + 1;
                }
            }
        }
        return new StaticPlan(name, layerCount, ranking, Map.of(), provenance);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int layerCount() {
        return layerCount;
    }

    @Override
    public Provenance provenance() {
        return provenance;
    }

    /** The ranking, most important first; empty if the plan has only explicit sets. */
    public int[] ranking() {
        return ranking.clone();
    }

    /** Explicit block sets by k, each sorted ascending. */
    public Map<Integer, int[]> setsByK() {
        TreeMap<Integer, int[]> copy = new TreeMap<>();
        setsByK.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** The mask for k middle blocks; first and last block always set. */
    public boolean[] maskFor(int k) {
        int middle = layerCount - 2;
        if (k < 1 || k > middle) {
            throw new InvalidBudgetException("k = " + k + " middle blocks is outside 1.." + middle);
        }
        boolean[] mask = new boolean[layerCount];
        mask[0] = true;
        mask[layerCount - 1] = true;
        int[] set = setsByK.get(k);
        if (set != null) {
            for (int b : set) {
                mask[b] = true;
            }
        } else if (k == middle) {
            Arrays.fill(mask, true);
        } else if (ranking.length == middle) {
            for (int r = 0; r < k; r++) {
                mask[ranking[r]] = true;
            }
        } else {
            throw new InvalidBudgetException("static plan " + name + " has no block set for k = " + k
                    + " and no ranking; it covers k in " + setsByK.keySet());
        }
        return mask;
    }

    @Override
    public StaticRoutingSession openSession(Budget budget, Reroute reroute) {
        if (budget == null) {
            throw new InvalidBudgetException("static plan " + name + " cannot predict a budget; give one");
        }
        return new StaticRoutingSession(this, maskFor(budget.middleBlocks(layerCount)));
    }
}

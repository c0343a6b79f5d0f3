package dev.buddy.router.eval;

import dev.buddy.router.MaskSet;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How many transformer blocks ran, summed over every token the model was run on: the compute axis of the
 * accuracy–compute plot. Block 0 always counts as run. Also which paths (block masks) the tokens took, so a report
 * can say whether a router routes at all: a static plan runs one path for every token.
 */
public final class BlockUsage {
    private final int layerCount;
    private final MaskSet paths;
    private final boolean[] dense;
    private final SkippedKvDemand kv;
    private long tokens;
    private long blocksRun;

    public BlockUsage(int layerCount) {
        if (layerCount < 1) {
            throw new IllegalArgumentException("layer count must be positive, got " + layerCount);
        }
        this.layerCount = layerCount;
        this.paths = new MaskSet(layerCount);
        this.dense = new boolean[layerCount];
        java.util.Arrays.fill(dense, true);
        this.kv = new SkippedKvDemand(layerCount);
    }

    /** The positions recorded next start a new sequence (a fresh cache), whose context comes first. */
    public void startSequence() {
        kv.startSequence();
    }

    /** The sequence's context is complete; the positions recorded next continue it on a copy of its cache. */
    public void startBranch() {
        kv.startBranch();
    }

    /** {@code tokenCount} tokens each ran the blocks set in {@code runBlock} (entry 0 counted as run). */
    public void record(int tokenCount, boolean[] runBlock) {
        record(tokenCount, runBlock, 0);
    }

    /** {@code tokenCount} tokens each ran the blocks set in {@code masks[offset, offset + L)}. */
    public void record(int tokenCount, boolean[] masks, int offset) {
        int run = 1;
        for (int b = 1; b < layerCount; b++) {
            run += masks[offset + b] ? 1 : 0;
        }
        tokens += tokenCount;
        blocksRun += (long) run * tokenCount;
        paths.add(masks, offset, tokenCount);
        kv.record(tokenCount, masks, offset);
    }

    /** {@code tokenCount} tokens ran every block. */
    public void recordDense(int tokenCount) {
        tokens += tokenCount;
        blocksRun += (long) layerCount * tokenCount;
        paths.add(dense, 0, tokenCount);
        kv.record(tokenCount, dense, 0);
    }

    /** Distinct block paths the tokens took. */
    public int distinctPaths() {
        return paths.size();
    }

    /** The share of tokens on the most common path (1 for a static plan); NaN before any token ran. */
    public double topPathShare() {
        return paths.topShare();
    }

    public long tokens() {
        return tokens;
    }

    public long blocksRun() {
        return blocksRun;
    }

    /** Executed blocks over {@code L × tokens}; NaN before any token ran. */
    public double executedFraction() {
        return tokens == 0 ? Double.NaN : blocksRun / ((double) layerCount * tokens);
    }

    /**
     * Skipped-block slots over {@code L × tokens}: the blocks' share of key/value projections that {@code compute-kv}
     * adds; NaN before any token ran.
     */
    public double skippedKvFraction() {
        return tokens == 0 ? Double.NaN : kv.skippedSlots() / ((double) layerCount * tokens);
    }

    /**
     * Of {@link #skippedKvFraction()}, the share of {@code L × tokens} that a later position of the same sequence
     * reads (see {@link SkippedKvDemand}); NaN before any token ran.
     */
    public double neededKvFraction() {
        return tokens == 0 ? Double.NaN : kv.neededSlots() / ((double) layerCount * tokens);
    }

    /**
     * Adds what {@code other} (of the same layer count) recorded, as if its sequences had been recorded here after
     * this one's: how a report sums the scorers that evaluated a configuration's examples in parallel.
     */
    public void add(BlockUsage other) {
        if (other.layerCount != layerCount) {
            throw new IllegalArgumentException("usage of " + other.layerCount + " layers added to usage of "
                    + layerCount);
        }
        tokens += other.tokens;
        blocksRun += other.blocksRun;
        paths.addAll(other.paths);
        kv.add(other.kv);
    }

    /** Blocks per token (L). */
    public int layerCount() {
        return layerCount;
    }

    /**
     * What this usage has recorded, as plain numbers: the sequence still open counts as finished, as in
     * {@link #add(BlockUsage)}. Adding the counts to a usage ({@link #add(Counts)}) is the same as adding this usage.
     */
    public Counts counts() {
        Map<String, Long> masks = new TreeMap<>();
        paths.forEach((mask, weight) -> masks.put(Counts.spell(mask), weight));
        return new Counts(layerCount, tokens, blocksRun, masks, kv.skippedSlots(), kv.neededSlots());
    }

    /** Adds counts taken from a usage of the same layer count (an evaluation checkpoint's). */
    public void add(Counts counts) {
        if (counts.layerCount() != layerCount) {
            throw new IllegalArgumentException("usage of " + counts.layerCount() + " layers added to usage of "
                    + layerCount);
        }
        tokens += counts.tokens();
        blocksRun += counts.blocksRun();
        counts.paths().forEach((mask, weight) -> paths.add(Counts.parse(mask, layerCount), 0, weight));
        kv.add(counts.skippedSlots(), counts.neededSlots());
    }

    /**
     * A {@link BlockUsage} as numbers.
     *
     * @param layerCount   L
     * @param tokens       tokens run
     * @param blocksRun    blocks run, summed over the tokens
     * @param paths        tokens per distinct block path, each path spelled block 0 first, {@code '1'} for a block
     *                     that ran and {@code '0'} for one skipped
     * @param skippedSlots skipped-block key/value slots
     * @param neededSlots  of those, the slots a later position read
     */
    public record Counts(int layerCount, long tokens, long blocksRun, Map<String, Long> paths, long skippedSlots,
                         long neededSlots) {
        public Counts {
            paths = Map.copyOf(Objects.requireNonNull(paths, "paths"));
            if (layerCount < 1 || tokens < 0 || blocksRun < 0 || skippedSlots < 0 || neededSlots < 0
                    || neededSlots > skippedSlots) {
                throw new IllegalArgumentException("inconsistent block usage: " + layerCount + " layers, " + tokens
                        + " tokens, " + blocksRun + " blocks run, " + skippedSlots + " skipped and " + neededSlots
                        + " needed slots");
            }
            long pathTokens = 0;
            for (Map.Entry<String, Long> e : paths.entrySet()) {
                parse(e.getKey(), layerCount);
                if (e.getValue() < 0) {
                    throw new IllegalArgumentException("path " + e.getKey() + " has " + e.getValue() + " tokens");
                }
                pathTokens += e.getValue();
            }
            if (pathTokens != tokens) {
                throw new IllegalArgumentException("paths hold " + pathTokens + " tokens, not " + tokens);
            }
        }

        static String spell(boolean[] mask) {
            StringBuilder sb = new StringBuilder(mask.length);
            for (boolean run : mask) {
                sb.append(run ? '1' : '0');
            }
            return sb.toString();
        }

        static boolean[] parse(String spelled, int layerCount) {
            if (spelled.length() != layerCount) {
                throw new IllegalArgumentException("path '" + spelled + "' is not " + layerCount + " blocks long");
            }
            boolean[] mask = new boolean[layerCount];
            for (int i = 0; i < layerCount; i++) {
                char c = spelled.charAt(i);
                if (c != '0' && c != '1') {
                    throw new IllegalArgumentException("path '" + spelled + "' holds '" + c + "'");
                }
                mask[i] = c == '1';
            }
            return mask;
        }
    }

    public void reset() {
        kv.reset();
        tokens = 0;
        blocksRun = 0;
        paths.clear();
    }
}

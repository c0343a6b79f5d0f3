package dev.buddy.router.eval;

import java.util.Arrays;

/**
 * Which skipped-block key/value slots a later token actually reads. Under {@code compute-kv} every skipped block still
 * projects its key and value (about 6% of a block on SmolLM2), but a slot is read only if the same block runs at a
 * later position of the same sequence: a block that no later token runs never looks at it. Counting both tells how
 * much of {@code compute-kv}'s extra work a policy that knew the future would keep, the floor any causal policy with
 * {@code compute-kv}'s perplexity could reach.
 *
 * <p>A sequence is a shared context followed by branches (the continuations scored after it, each on its own copy of
 * the context's cache): a context slot is needed when the block runs later in the context or anywhere in a branch, a
 * branch slot when the block runs later in that branch. Masks arrive in position order, as the forward calls run.
 * Block 0 always runs. Without {@link #startSequence()} every mask counts as one running sequence.
 */
final class SkippedKvDemand {
    private final int layerCount;
    /** Skipped slots since the block last ran, in the context (or the only sequence). */
    private final long[] contextPending;
    /** Skipped slots since the block last ran, in the current branch. */
    private final long[] branchPending;
    /** Whether any branch of the current sequence ran the block. */
    private final boolean[] branchRan;
    private boolean inBranch;
    private long skipped;
    private long needed;

    SkippedKvDemand(int layerCount) {
        this.layerCount = layerCount;
        this.contextPending = new long[layerCount];
        this.branchPending = new long[layerCount];
        this.branchRan = new boolean[layerCount];
    }

    /** A new sequence: slots of the one before that no token read are dropped. */
    void startSequence() {
        finishSequence();
    }

    /** The context is complete; a continuation starts on its own copy of the context's cache. */
    void startBranch() {
        inBranch = true;
        Arrays.fill(branchPending, 0);
    }

    /** {@code tokenCount} consecutive positions each ran the blocks set in {@code masks[offset, offset + L)}. */
    void record(int tokenCount, boolean[] masks, int offset) {
        long[] pending = inBranch ? branchPending : contextPending;
        for (int b = 1; b < layerCount; b++) {
            if (masks[offset + b]) {
                needed += pending[b];
                pending[b] = 0;
                if (inBranch) {
                    branchRan[b] = true;
                }
            } else {
                skipped += tokenCount;
                pending[b] += tokenCount;
            }
        }
    }

    /** Slots of skipped blocks, over every position recorded. */
    long skippedSlots() {
        return skipped;
    }

    /** Of those, the slots a later position of the same sequence reads (so far, for the sequence still open). */
    long neededSlots() {
        return needed + contextSlotsReadByBranches();
    }

    /**
     * Adds the counts of {@code other}, which recorded other sequences (its open one counted as finished): the totals
     * are those one counter would have after recording both's sequences.
     */
    void add(SkippedKvDemand other) {
        add(other.skippedSlots(), other.neededSlots());
    }

    /** Adds the totals of finished sequences recorded elsewhere (a checkpoint's). */
    void add(long skippedSlots, long neededSlots) {
        skipped += skippedSlots;
        needed += neededSlots;
    }

    /** Context slots since each block's last context run that a branch of the open sequence reads. */
    private long contextSlotsReadByBranches() {
        long read = 0;
        for (int b = 1; b < layerCount; b++) {
            if (branchRan[b]) {
                read += contextPending[b];
            }
        }
        return read;
    }

    private void finishSequence() {
        needed += contextSlotsReadByBranches();
        Arrays.fill(contextPending, 0);
        Arrays.fill(branchPending, 0);
        Arrays.fill(branchRan, false);
        inBranch = false;
    }

    void reset() {
        finishSequence();
        skipped = 0;
        needed = 0;
    }
}

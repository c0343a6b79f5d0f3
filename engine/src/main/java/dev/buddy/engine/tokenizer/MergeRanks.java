package dev.buddy.engine.tokenizer;

import java.util.Arrays;

/**
 * BPE merge ranks keyed by the ids of the two symbols, with the id of the merged symbol: merging works on ids and
 * never builds strings.
 *
 * <p>Open addressing over a power-of-two table of packed (left, right) keys. Per rank it keeps the pair and the
 * result, which also lets a queued merge be checked for staleness from its rank alone.
 */
final class MergeRanks {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final int[] slotRanks;
    private final int mask;
    private final int[] lefts;
    private final int[] rights;
    private final int[] results;

    MergeRanks(int maxRanks) {
        int capacity = Integer.highestOneBit(Math.max(4, maxRanks) * 2) << 1;
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        slotRanks = new int[capacity];
        mask = capacity - 1;
        lefts = new int[maxRanks];
        rights = new int[maxRanks];
        results = new int[maxRanks];
    }

    /** Records a merge; a pair seen before keeps its first (best) rank, as llama.cpp's {@code emplace} does. */
    void put(int rank, int left, int right, int result) {
        long key = key(left, right);
        int slot = slotOf(key);
        while (keys[slot] != EMPTY) {
            if (keys[slot] == key) {
                return;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        slotRanks[slot] = rank;
        lefts[rank] = left;
        rights[rank] = right;
        results[rank] = result;
    }

    /** The rank of merging {@code left} and {@code right} (smaller merges first), or -1 when they do not merge. */
    int rank(int left, int right) {
        long key = key(left, right);
        for (int slot = slotOf(key); ; slot = (slot + 1) & mask) {
            long k = keys[slot];
            if (k == key) {
                return slotRanks[slot];
            }
            if (k == EMPTY) {
                return -1;
            }
        }
    }

    int left(int rank) {
        return lefts[rank];
    }

    int right(int rank) {
        return rights[rank];
    }

    int result(int rank) {
        return results[rank];
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slotOf(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }
}

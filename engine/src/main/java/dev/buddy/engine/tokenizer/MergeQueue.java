package dev.buddy.engine.tokenizer;

import java.util.Arrays;

/**
 * A binary min-heap of candidate merges: a 64-bit priority (smaller pops first) with an int payload.
 *
 * <p>Both tokenizers pack "best merge first, then leftmost" into the priority, which is the order llama.cpp's
 * comparators define, so ties resolve the same way. Stale entries are not removed; the caller skips them on pop.
 */
final class MergeQueue {
    private long[] priorities = new long[32];
    private int[] payloads = new int[32];
    private int size;

    private int poppedPayload;

    boolean isEmpty() {
        return size == 0;
    }

    void push(long priority, int payload) {
        if (size == priorities.length) {
            int capacity = size * 2;
            priorities = Arrays.copyOf(priorities, capacity);
            payloads = Arrays.copyOf(payloads, capacity);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (priorities[parent] <= priority) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        priorities[i] = priority;
        payloads[i] = payload;
    }

    /** Removes the smallest entry and returns its priority; its payload is then {@link #payload()}. */
    long pop() {
        long top = priorities[0];
        poppedPayload = payloads[0];
        int last = --size;
        if (last > 0) {
            long priority = priorities[last];
            int payload = payloads[last];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= last) {
                    break;
                }
                if (child + 1 < last && priorities[child + 1] < priorities[child]) {
                    child++;
                }
                if (priorities[child] >= priority) {
                    break;
                }
                move(child, i);
                i = child;
            }
            priorities[i] = priority;
            payloads[i] = payload;
        }
        return top;
    }

    /** The payload of the entry the last {@link #pop()} removed. */
    int payload() {
        return poppedPayload;
    }

    private void move(int from, int to) {
        priorities[to] = priorities[from];
        payloads[to] = payloads[from];
    }
}

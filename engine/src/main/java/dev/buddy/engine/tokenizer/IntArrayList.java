package dev.buddy.engine.tokenizer;

import java.util.Arrays;

/** A growable list of ints without boxing, for token output and symbol bookkeeping. */
final class IntArrayList {
    private int[] values;
    private int size;

    IntArrayList(int capacity) {
        values = new int[Math.max(capacity, 4)];
    }

    void add(int value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, values.length * 2);
        }
        values[size++] = value;
    }

    int get(int index) {
        return values[index];
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}

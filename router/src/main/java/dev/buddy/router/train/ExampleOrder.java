package dev.buddy.router.train;

import java.util.SplittableRandom;

/**
 * Which example fills each batch slot of a step: a fresh seeded permutation of the data per epoch, read in order, so
 * the example of (step, slot) is a pure function of the seed and a resumed run sees the same examples as an
 * uninterrupted one. (The same scheme {@link RouterTrainer} uses.)
 */
final class ExampleOrder {
    private final long seed;
    private final int size;
    private int[] permutation;
    private long epoch = -1;

    ExampleOrder(long seed, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("no examples to order");
        }
        this.seed = seed;
        this.size = size;
    }

    /** Slot i of {@code out} gets position {@code step·out.length + i} of the epoch-wise shuffled order. */
    void indices(int step, int[] out) {
        for (int i = 0; i < out.length; i++) {
            long position = (long) step * out.length + i;
            out[i] = permutation(position / size)[(int) (position % size)];
        }
    }

    private int[] permutation(long e) {
        if (e != epoch) {
            int[] p = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = i;
            }
            SplittableRandom random = new SplittableRandom(mix(seed, 0x5EED_0F_DA7AL, e));
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            permutation = p;
            epoch = e;
        }
        return permutation;
    }

    /** A well-mixed 64-bit hash of (seed, a, b), for per-step, per-slot random streams. */
    static long mix(long seed, long a, long b) {
        long h = seed * 0x9E3779B97F4A7C15L + a;
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + b;
        return (h ^ (h >>> 29)) * 0x94D049BB133111EBL;
    }
}

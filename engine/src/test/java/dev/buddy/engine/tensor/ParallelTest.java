package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ParallelTest {

    @Property(tries = 60)
    void everyIndexRunsExactlyOnceAndSumsAreExact(@ForAll @IntRange(min = 1, max = 5) int threads,
            @ForAll @IntRange(min = 0, max = 5000) int n, @ForAll @IntRange(min = 1, max = 300) int grain,
            @ForAll long seed) {
        long[] values = new Random(seed).longs(n, -1_000_000, 1_000_000).toArray();
        long expected = 0;
        for (long v : values) {
            expected += v;
        }
        try (Parallel pool = new Parallel(threads)) {
            for (int round = 0; round < 3; round++) {
                AtomicIntegerArray visits = new AtomicIntegerArray(n);
                AtomicLong sum = new AtomicLong();
                pool.forRange(n, grain, (from, to) -> {
                    long partial = 0;
                    for (int i = from; i < to; i++) {
                        visits.incrementAndGet(i);
                        partial += values[i];
                    }
                    sum.addAndGet(partial);
                });
                assertEquals(expected, sum.get());
                for (int i = 0; i < n; i++) {
                    assertEquals(1, visits.get(i), "index " + i);
                }
            }
        }
    }

    /** Aligned ranges: every index once, and every chunk starts on a multiple of the alignment (the first at 0). */
    @Property(tries = 60)
    void alignedChunksStartOnMultiplesAndCoverTheRange(@ForAll @IntRange(min = 1, max = 5) int threads,
            @ForAll @IntRange(min = 0, max = 5000) int n, @ForAll @IntRange(min = 1, max = 300) int grain,
            @ForAll @IntRange(min = 1, max = 64) int align) {
        try (Parallel pool = new Parallel(threads)) {
            AtomicIntegerArray visits = new AtomicIntegerArray(n);
            java.util.Set<Integer> starts = java.util.concurrent.ConcurrentHashMap.newKeySet();
            pool.forRange(n, grain, align, (from, to) -> {
                assertTrue(from < to, "empty chunk " + from);
                starts.add(from);
                for (int i = from; i < to; i++) {
                    visits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, visits.get(i), "index " + i);
            }
            for (int start : starts) {
                assertEquals(0, start % align, "a chunk starts at " + start + ", not a multiple of " + align);
            }
        }
    }

    @Property(tries = 40)
    void workerNumbersAreInRangeAndNeverShared(@ForAll @IntRange(min = 1, max = 5) int threads,
            @ForAll @IntRange(min = 0, max = 3000) int n, @ForAll @IntRange(min = 1, max = 100) int grain) {
        try (Parallel pool = new Parallel(threads)) {
            for (int round = 0; round < 3; round++) {
                AtomicIntegerArray visits = new AtomicIntegerArray(n);
                AtomicIntegerArray busy = new AtomicIntegerArray(threads);
                AtomicIntegerArray clashes = new AtomicIntegerArray(1);
                Thread[] owner = new Thread[threads];
                pool.forRange(n, grain, (worker, from, to) -> {
                    // a worker number is a thread's own: never two chunks at once, never two threads
                    if (!busy.compareAndSet(worker, 0, 1)) {
                        clashes.incrementAndGet(0);
                    }
                    synchronized (owner) {
                        if (owner[worker] == null) {
                            owner[worker] = Thread.currentThread();
                        } else if (owner[worker] != Thread.currentThread()) {
                            clashes.incrementAndGet(0);
                        }
                    }
                    for (int i = from; i < to; i++) {
                        visits.incrementAndGet(i);
                        Thread.onSpinWait();
                    }
                    busy.set(worker, 0);
                });
                assertEquals(0, clashes.get(0), "a worker number was shared");
                for (int i = 0; i < n; i++) {
                    assertEquals(1, visits.get(i), "index " + i);
                }
            }
        }
    }

    @Test
    void theCallerIsWorkerZeroAndANestedRangeKeepsItsThreadsNumber() {
        try (Parallel pool = new Parallel(3)) {
            List<Integer> inline = new ArrayList<>();
            pool.forRange(4, 4, (worker, from, to) -> inline.add(worker));
            assertEquals(List.of(0), inline, "a range run inline on the caller is worker 0");
            int[] nestedNumbers = new int[64];
            int[] outerNumbers = new int[64];
            pool.forRange(64, 1, (worker, from, to) -> {
                for (int i = from; i < to; i++) {
                    int index = i;
                    outerNumbers[i] = worker;
                    pool.forRange(10, 1, (inner, a, b) -> nestedNumbers[index] = inner);
                }
            });
            assertArrayEquals(outerNumbers, nestedNumbers);
        }
    }

    @Test
    void tinyRangesRunInlineOnTheCaller() {
        try (Parallel pool = new Parallel(4)) {
            Thread caller = Thread.currentThread();
            List<Thread> seen = new ArrayList<>();
            pool.forRange(8, 8, (from, to) -> seen.add(Thread.currentThread()));
            assertEquals(List.of(caller), seen);
        }
    }

    @Test
    void nestedRegionsRunInline() {
        try (Parallel pool = new Parallel(3)) {
            AtomicLong total = new AtomicLong();
            pool.forRange(30, (from, to) -> {
                for (int i = from; i < to; i++) {
                    pool.forRange(100, (a, b) -> total.addAndGet(b - a));
                }
            });
            assertEquals(3000, total.get());
        }
    }

    @Test
    void taskFailuresReachTheCallerAndThePoolStaysUsable() {
        try (Parallel pool = new Parallel(3)) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class,
                    () -> pool.forRange(1000, (from, to) -> {
                        if (from <= 500 && 500 < to) {
                            throw new IllegalStateException("boom");
                        }
                    }));
            assertEquals("boom", thrown.getMessage());
            AtomicLong count = new AtomicLong();
            pool.forRange(1000, (from, to) -> count.addAndGet(to - from));
            assertEquals(1000, count.get());
        }
    }

    @Test
    void closedPoolRejectsParallelWork() {
        Parallel pool = new Parallel(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.forRange(100, (from, to) -> { }));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new Parallel(0));
        try (Parallel pool = new Parallel(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.forRange(10, 0, (from, to) -> { }));
        }
    }

    /** Several callers, each with its own pool, run matvecs on one shared matrix at the same time. */
    @Test
    void concurrentMatvecsOnDifferentPoolsAgree() throws Exception {
        Random rnd = new Random(42);
        int rows = 300;
        int cols = 32 * 8;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(GgmlType.Q8_0, rows, cols, 1, rnd, arena);
            WeightMatrix m = WeightMatrix.of("shared", GgmlType.Q8_0, new long[] {cols, rows}, t);
            float[][] inputs = new float[4][];
            float[][] expected = new float[4][rows];
            try (Parallel serial = new Parallel(1)) {
                for (int k = 0; k < inputs.length; k++) {
                    inputs[k] = TestTensors.randomInput(cols, rnd);
                    m.matvec(inputs[k], 0, expected[k], 0, serial);
                }
            }
            ExecutorService callers = Executors.newFixedThreadPool(inputs.length);
            try {
                List<Future<float[][]>> results = new ArrayList<>();
                for (int k = 0; k < inputs.length; k++) {
                    int which = k;
                    results.add(callers.submit(() -> {
                        float[][] outs = new float[6][rows];
                        try (Parallel pool = new Parallel(2)) {
                            for (float[] out : outs) {
                                m.matvec(inputs[which], 0, out, 0, pool);
                            }
                        }
                        return outs;
                    }));
                }
                for (int k = 0; k < inputs.length; k++) {
                    for (float[] out : results.get(k).get()) {
                        assertArrayEquals(expected[k], out, "caller " + k);
                    }
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }

    @Test
    void threadCountIsReported() {
        try (Parallel pool = new Parallel(3)) {
            assertEquals(3, pool.threads());
        }
        try (Parallel pool = new Parallel()) {
            assertEquals(Runtime.getRuntime().availableProcessors(), pool.threads());
        }
        assertSame(VectorWidth.W256, VectorWidth.fromBits(256));
    }
}

package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import org.junit.jupiter.api.Test;

/** {@link IndexedWork}: every job runs once, on a worker in range, one thread per worker; failures come back typed. */
class IndexedWorkTest {

    @Property(tries = 60)
    void everyJobRunsExactlyOnceOnAWorkerInRange(@ForAll @IntRange(min = 0, max = 200) int count,
            @ForAll @IntRange(min = 1, max = 6) int workers) {
        AtomicIntegerArray runs = new AtomicIntegerArray(count);
        int[] workerOf = new int[count];
        ConcurrentHashMap<Integer, Thread> threadOf = new ConcurrentHashMap<>();
        boolean[] sameThread = {true};
        IndexedWork.run(count, workers, (worker, index) -> {
            runs.incrementAndGet(index);
            workerOf[index] = worker;
            Thread previous = threadOf.putIfAbsent(worker, Thread.currentThread());
            if (previous != null && previous != Thread.currentThread()) {
                sameThread[0] = false;
            }
        });
        for (int i = 0; i < count; i++) {
            assertEquals(1, runs.get(i), "job " + i);
            assertTrue(workerOf[i] >= 0 && workerOf[i] < workers, "worker " + workerOf[i]);
        }
        assertTrue(sameThread[0], "a worker number is one thread, so it can own a sequence state");
        Thread first = threadOf.get(0);
        if (first != null) {
            assertSame(Thread.currentThread(), first, "worker 0 is the caller");
        }
    }

    @Test
    void oneWorkerRunsTheJobsInOrderOnTheCaller() {
        StringBuilder order = new StringBuilder();
        Thread caller = Thread.currentThread();
        IndexedWork.run(5, 1, (worker, index) -> {
            assertSame(caller, Thread.currentThread());
            order.append(worker).append(index).append(' ');
        });
        assertEquals("00 01 02 03 04 ", order.toString());
    }

    @Test
    void theFirstFailureIsRethrownWithItsType() {
        InvalidEvalOptionException e = assertThrows(InvalidEvalOptionException.class,
                () -> IndexedWork.run(50, 3, (worker, index) -> {
                    if (index == 17) {
                        throw new InvalidEvalOptionException("window 17 does not fit");
                    }
                }));
        assertEquals("window 17 does not fit", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IndexedWork.run(3, 0, (worker, index) -> { }));
    }
}

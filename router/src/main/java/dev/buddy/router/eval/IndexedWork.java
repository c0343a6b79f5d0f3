package dev.buddy.router.eval;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs the jobs {@code 0 .. count-1} on a fixed number of workers, each job once, on whichever worker is free next:
 * worker 0 is the calling thread, the others are threads started for the call. A job writes its result into its own
 * slot, so the caller reads results in index order and sums them exactly as one worker would. With one worker the jobs
 * run in order on the caller, as a plain loop.
 */
final class IndexedWork {
    private IndexedWork() {}

    /** One job: index {@code index}, run on worker {@code worker}, in {@code [0, workers)}. */
    @FunctionalInterface
    interface Job {
        void run(int worker, int index);
    }

    /**
     * Runs every job and returns when all have finished. The first job to throw stops the others from starting new
     * jobs, and its exception is rethrown here (unchecked ones as they are).
     */
    static void run(int count, int workers, Job job) {
        if (workers < 1) {
            throw new IllegalArgumentException("at least one worker is needed, got " + workers);
        }
        int used = Math.min(workers, count);
        if (used <= 1) {
            for (int i = 0; i < count; i++) {
                job.run(0, i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[used - 1];
        for (int w = 1; w < used; w++) {
            int worker = w;
            threads[w - 1] = Thread.ofPlatform().name("buddy-eval-" + w).daemon()
                    .start(() -> work(worker, count, job, next, failure));
        }
        work(0, count, job, next, failure);
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    // the workers stop at their next job once a failure is set; finish joining, then re-interrupt
                    failure.compareAndSet(null, e);
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException("evaluation worker interrupted", t);
        }
    }

    private static void work(int worker, int count, Job job, AtomicInteger next, AtomicReference<Throwable> failure) {
        while (failure.get() == null) {
            int i = next.getAndIncrement();
            if (i >= count) {
                return;
            }
            try {
                job.run(worker, i);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }
    }

    /** A view of {@code listener} that several workers may tell at once. */
    static ProgressListener shared(ProgressListener listener) {
        if (listener == ProgressListener.NONE) {
            return listener;
        }
        Object lock = new Object();
        return units -> {
            synchronized (lock) {
                listener.advance(units);
            }
        };
    }
}

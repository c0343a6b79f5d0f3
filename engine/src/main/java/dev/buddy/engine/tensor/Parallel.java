package dev.buddy.engine.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of worker threads for data-parallel kernels: {@link #forRange} splits {@code [0, n)} into
 * contiguous chunks that the calling thread and the workers claim from a shared counter.
 *
 * <p>Decode issues a few hundred parallel regions per token, each lasting tens of microseconds, so the hand-off must
 * be cheap: workers spin briefly on an epoch counter before parking, nothing is allocated per call, and tiny ranges
 * (at most one grain) run inline on the caller. Chunks are claimed dynamically (a few per thread) because the machine
 * may be shared and one slow core should not stall the whole region.
 *
 * <p>One region runs at a time per pool: concurrent callers from different threads are serialised, and a
 * {@code forRange} issued from inside a task of the same pool runs inline (no deadlock).
 */
public final class Parallel implements AutoCloseable {

    /** The body of a parallel region: handles indices {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /**
     * The body of a parallel region that keeps working memory per thread: handles indices {@code [from, to)} on the
     * thread numbered {@code worker}, in {@code [0, threads())}. No two chunks run at the same time with the same
     * number, so {@code worker} can pick a thread's own slice of a scratch buffer.
     */
    @FunctionalInterface
    public interface WorkerRangeTask {
        void run(int worker, int from, int to);
    }

    private static final int CHUNKS_PER_THREAD = 4;
    /** How long an idle thread busy-waits before parking: long enough to span the gap between two kernels. */
    private static final long SPIN_NANOS = 100_000;

    private final int threads;
    private final Worker[] workers;
    private final Object regionLock = new Object();
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger unfinishedWorkers = new AtomicInteger();

    // Region state: written by the caller before the volatile epoch bump, read by workers after seeing it.
    private RangeTask task;
    private WorkerRangeTask workerTask;
    private int size;
    private int chunks;
    private int align = 1;
    private Thread regionOwner;

    private volatile int epoch;
    private volatile Thread waitingCaller;
    private volatile Throwable failure;
    private volatile boolean closed;

    /** A pool with {@link Runtime#availableProcessors()} threads (the caller counts as one). */
    public Parallel() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /**
     * A pool of {@code threads} threads in total: the caller of {@link #forRange} works too, so {@code threads - 1}
     * daemon workers are started. {@code threads == 1} runs everything inline.
     */
    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i + 1);
            workers[i].start();
        }
    }

    /** Total threads working on a region, the caller included. */
    public int threads() {
        return threads;
    }

    /** Runs {@code task} over {@code [0, n)}; every index is handled exactly once. */
    public void forRange(int n, RangeTask task) {
        forRange(n, 1, task);
    }

    /**
     * Runs {@code task} over {@code [0, n)} in contiguous chunks of at least {@code grain} indices (except possibly
     * the last); runs inline when {@code n <= grain}, when the pool has one thread, or when called from inside one
     * of this pool's tasks. Exceptions thrown by the task are rethrown here after all threads have stopped.
     */
    public void forRange(int n, int grain, RangeTask task) {
        forRange(n, grain, 1, task);
    }

    /**
     * As {@link #forRange(int, int, RangeTask)}, with every chunk boundary but {@code n} a multiple of {@code align}:
     * kernels that work on groups of rows (eight Q4_0 rows at a time) then never split a group between two chunks,
     * which would compute it twice.
     */
    public void forRange(int n, int grain, int align, RangeTask task) {
        if (n <= 0) {
            return;
        }
        if (align < 1) {
            throw new IllegalArgumentException("align must be at least 1, got " + align);
        }
        if (runsInline(n, grain)) {
            task.run(0, n);
            return;
        }
        synchronized (regionLock) {
            this.task = task;
            this.align = align;
            runRegion(n, grain);
        }
    }

    /**
     * As {@link #forRange(int, int, RangeTask)}, telling each chunk which thread runs it: the caller is 0, the
     * workers 1 to {@code threads() - 1}. A call that runs inline gets the number of the thread it runs on.
     */
    public void forRange(int n, int grain, WorkerRangeTask task) {
        if (n <= 0) {
            return;
        }
        if (runsInline(n, grain)) {
            task.run(Thread.currentThread() instanceof Worker w && w.pool == this ? w.index : 0, 0, n);
            return;
        }
        synchronized (regionLock) {
            this.workerTask = task;
            this.align = 1;
            runRegion(n, grain);
        }
    }

    /** Checks the arguments of a non-empty range; true when it runs on the calling thread alone. */
    private boolean runsInline(int n, int grain) {
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be at least 1, got " + grain);
        }
        if (n <= grain || workers.length == 0 || isInsideRegion()) {
            return true;
        }
        if (closed) {
            throw new IllegalStateException("the thread pool is closed");
        }
        return false;
    }

    private boolean isInsideRegion() {
        Thread current = Thread.currentThread();
        return current == regionOwner || (current instanceof Worker w && w.pool == this);
    }

    private void runRegion(int n, int grain) {
        Thread caller = Thread.currentThread();
        regionOwner = caller;
        size = n;
        chunks = (int) Math.min((long) threads * CHUNKS_PER_THREAD, ((long) n + grain - 1) / grain);
        nextChunk.set(0);
        failure = null;
        unfinishedWorkers.set(workers.length);
        epoch = epoch + 1;
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w);
            }
        }
        runChunks(0);
        awaitWorkers(caller);
        task = null;
        workerTask = null;
        regionOwner = null;
        Throwable t = failure;
        if (t != null) {
            failure = null;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException("parallel task failed", t);
        }
    }

    private void runChunks(int worker) {
        RangeTask t = task;
        WorkerRangeTask wt = workerTask;
        int n = size;
        int total = chunks;
        int a = align;
        int c;
        while ((c = nextChunk.getAndIncrement()) < total) {
            int from = (int) ((long) n * c / total) / a * a;
            int to = c + 1 == total ? n : (int) ((long) n * (c + 1) / total) / a * a;
            if (from == to) {
                continue;
            }
            try {
                if (wt != null) {
                    wt.run(worker, from, to);
                } else {
                    t.run(from, to);
                }
            } catch (Throwable e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
    }

    private void awaitWorkers(Thread caller) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (unfinishedWorkers.get() != 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                waitingCaller = caller;
                if (unfinishedWorkers.get() != 0) {
                    LockSupport.park(this);
                }
                waitingCaller = null;
            }
        }
    }

    private void workerFinished() {
        if (unfinishedWorkers.decrementAndGet() == 0) {
            Thread caller = waitingCaller;
            if (caller != null) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** Stops the workers; later {@link #forRange} calls that need them fail. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (regionLock) {
            epoch = epoch + 1;
        }
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
        for (Worker w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static final class Worker extends Thread {
        final Parallel pool;
        final int index;
        volatile boolean parked;

        Worker(Parallel pool, int index) {
            super("buddy-worker-" + index);
            this.pool = pool;
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            // Workers are created before the first region, when the epoch is 0. Reading pool.epoch here instead
            // would race with a region started before this thread got scheduled, and miss it.
            int seen = 0;
            while (true) {
                seen = awaitNextEpoch(seen);
                if (pool.closed) {
                    return;
                }
                pool.runChunks(index);
                pool.workerFinished();
            }
        }

        private int awaitNextEpoch(int seen) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                int e = pool.epoch;
                if (e != seen || pool.closed) {
                    return e;
                }
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (pool.epoch == seen && !pool.closed) {
                    LockSupport.park(pool);
                }
                parked = false;
                spinUntil = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}

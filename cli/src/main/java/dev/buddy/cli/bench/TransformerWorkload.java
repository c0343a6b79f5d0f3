package dev.buddy.cli.bench;

import java.io.IOException;
import java.nio.file.Path;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.BuddyPlanner;

/** Buddy's forward pass as a {@link BenchWorkload}: one model, one thread pool, one preallocated sequence state. */
final class TransformerWorkload implements BenchWorkload {
    private final Model model;
    private final Parallel pool;
    private final Transformer transformer;
    private final InferenceState state;
    private final LayerPlanner planner;
    private final int[] single = new int[1];
    private long timedNanos;
    private long cpuNanos;
    private long countedWallNanos;
    private final java.lang.management.ThreadMXBean threadBean =
            java.lang.management.ManagementFactory.getThreadMXBean();
    private long routerNanosAtMark;
    private long timedNanosAtMark;

    /**
     * @param model a loaded model, owned by the caller
     * @param threads worker threads
     * @param contextLength KV cache positions (prompt plus generated tokens)
     * @param batchSize most tokens per forward chunk
     * @param kvType KV cache storage
     * @param planner the layer planner (null runs every block); a {@link BuddyPlanner} also reports its time
     * @param policy what blocks the planner skips leave in the KV cache
     */
    TransformerWorkload(Model model, int threads, int contextLength, int batchSize, KvCacheType kvType,
                        LayerPlanner planner, SkippedKvPolicy policy) {
        this.model = model;
        this.pool = new Parallel(threads);
        this.transformer = new Transformer(model, pool);
        this.state = transformer.newState(contextLength, kvType, Math.min(batchSize, contextLength), policy);
        this.planner = planner;
    }

    /**
     * The router's share of the forward-pass time since the previous call (warm-up runs included), or NaN without
     * a BUDDY planner. The planner's own clock covers reading layer-0 rows, the MLP, pooling, top-k and bookkeeping.
     */
    double routerShareSinceMark() {
        if (!(planner instanceof BuddyPlanner buddy)) {
            return Double.NaN;
        }
        long router = buddy.stats().routerNanos();
        long timed = timedNanos - timedNanosAtMark;
        double share = timed == 0 ? Double.NaN : (router - routerNanosAtMark) / (double) timed;
        routerNanosAtMark = router;
        timedNanosAtMark = timedNanos;
        return share;
    }

    /**
     * The calling thread's CPU time over the timed runs since the previous call (the warm-up runs, which the JIT
     * slows, are left out: {@link #timedRunsStart} restarts the count), with the wall time those runs took. With one
     * thread the whole forward pass runs on the caller, so on a machine shared with other jobs the CPU time shows the
     * work itself, where wall time also counts the waits for a core.
     */
    long[] cpuAndWallNanosSinceMark() {
        long[] out = {cpuNanos, countedWallNanos};
        cpuNanos = 0;
        countedWallNanos = 0;
        return out;
    }

    /** Restarts the CPU and wall count: warm-up runs, however many there were, must not dilute the timed ones. */
    @Override
    public void timedRunsStart() {
        cpuNanos = 0;
        countedWallNanos = 0;
    }

    private void count(long cpu, long wall) {
        timedNanos += wall;
        cpuNanos += cpu;
        countedWallNanos += wall;
    }

    private long cpuNow() {
        return threadBean.getCurrentThreadCpuTime();
    }

    static Model load(Path path) throws IOException {
        return Model.load(path);
    }

    @Override
    public int vocabularySize() {
        return model.spec().vocabSize();
    }

    @Override
    public int startToken() {
        int bos = model.tokenizer().vocabulary().bosId();
        return bos >= 0 ? bos : 0;
    }

    @Override
    public long promptNanos(int[] tokens) {
        state.reset();
        long cpu = cpuNow();
        long start = System.nanoTime();
        transformer.forward(state, tokens, 0, tokens.length, planner, true);
        long elapsed = System.nanoTime() - start;
        count(cpuNow() - cpu, elapsed);
        return elapsed;
    }

    @Override
    public long generationNanos(int first, int[] next, int count) {
        state.reset();
        long cpu = cpuNow();
        long start = System.nanoTime();
        single[0] = first;
        for (int i = 0; i < count; i++) {
            transformer.forward(state, single, i, 1, planner, true);
            if (i + 1 < count) {
                single[0] = next[i];
            }
        }
        long elapsed = System.nanoTime() - start;
        count(cpuNow() - cpu, elapsed);
        return elapsed;
    }

    @Override
    public void close() {
        pool.close();
    }
}

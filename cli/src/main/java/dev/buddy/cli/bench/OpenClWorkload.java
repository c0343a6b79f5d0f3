package dev.buddy.cli.bench;

import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.opencl.KernelProfile;
import dev.buddy.opencl.OpenClBackend;

/**
 * The OpenCL forward pass as a {@link BenchWorkload}: the model already uploaded; each timed pass sends token ids and
 * reads the last token's logits back to the host, as a generator would (the read-back is part of the cost).
 */
final class OpenClWorkload implements BenchWorkload {
    private final OpenClBackend backend;
    private final int startToken;
    private final LayerPlanner planner;
    private final boolean profiling;
    private final int[] single = new int[1];

    /**
     * @param backend    the model on its device, owned by this workload from now on
     * @param startToken BOS, or 0 when the model has none
     * @param planner    the layer planner (null runs every block)
     * @param profiling  whether the backend was opened with kernel profiling, to be reported per test
     */
    OpenClWorkload(OpenClBackend backend, int startToken, LayerPlanner planner, boolean profiling) {
        this.backend = backend;
        this.startToken = startToken;
        this.planner = planner;
        this.profiling = profiling;
    }

    boolean profiling() {
        return profiling;
    }

    /** Device time per kernel over the timed runs of the test just measured. */
    KernelProfile kernelProfile() {
        return backend.kernelProfile();
    }

    @Override
    public void timedRunsStart() {
        if (profiling) {
            backend.resetKernelProfile();
        }
    }

    @Override
    public int vocabularySize() {
        return backend.model().vocabSize();
    }

    @Override
    public int startToken() {
        return startToken;
    }

    @Override
    public long promptNanos(int[] tokens) {
        backend.reset();
        long start = System.nanoTime();
        backend.forward(tokens, 0, tokens.length, 0, planner);
        return System.nanoTime() - start;
    }

    @Override
    public long generationNanos(int first, int[] next, int count) {
        backend.reset();
        long start = System.nanoTime();
        single[0] = first;
        for (int i = 0; i < count; i++) {
            backend.forward(single, 0, 1, i, planner);
            if (i + 1 < count) {
                single[0] = next[i];
            }
        }
        return System.nanoTime() - start;
    }

    @Override
    public void close() {
        backend.close();
    }
}

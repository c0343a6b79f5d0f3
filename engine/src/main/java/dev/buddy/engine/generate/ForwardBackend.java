package dev.buddy.engine.generate;

import dev.buddy.engine.model.LayerPlanner;

/**
 * The forward pass a {@link Generator} drives, with its own sequence state (KV cache): Buddy's CPU {@code Transformer}
 * by default, or another backend (the {@code opencl} module's device-resident pass) that keeps its state elsewhere.
 * Sampling, stop tokens and text decoding stay in the generator, so every backend goes through the same path.
 */
public interface ForwardBackend extends AutoCloseable {
    /** KV cache size in tokens: prompt plus generated tokens must fit. */
    int contextLength();

    /** Forgets the current sequence; the next call starts at position 0. */
    void reset();

    /**
     * Runs {@code count} tokens from {@code tokens[offset..]} at positions {@code startPosition..} and returns the last
     * token's logits. The array belongs to the backend and is valid until its next call.
     *
     * @param planner the router's hook, or null to run every block
     */
    float[] forward(int[] tokens, int offset, int count, int startPosition, LayerPlanner planner);

    @Override
    void close();
}

package dev.buddy.router.lora;

import dev.buddy.engine.tensor.Parallel;

/**
 * One block's adapters during training: the training forward pass adds each adapter's output to its projection
 * ({@link #forward}) and keeps A·x; the backward pass ({@link #backward}) accumulates the adapter's weight gradients,
 * scaled by the block's gate, and adds its input gradient. Targets without an adapter are no-ops.
 */
public final class LoraBlock {
    private final LoraLayer[] layers;
    private final float[][] hidden;
    private final double[] gradient;
    private final LoraLayer.Scratch scratch;
    private float gate = 1f;

    LoraBlock(LoraLayer[] layers, int capacity, int rank, double[] gradient, LoraLayer.Scratch scratch) {
        this.layers = layers;
        this.hidden = new float[layers.length][];
        for (int i = 0; i < layers.length; i++) {
            hidden[i] = layers[i] == null ? null : new float[capacity * rank];
        }
        this.gradient = gradient;
        this.scratch = scratch;
    }

    /** The block's weight in the residual stream during the coming backward pass (its weight gradients scale by it). */
    public void setGate(float m) {
        this.gate = m;
    }

    /** {@code y[t] += s·B·A·x[t]} for {@code t < n} when {@code target} is adapted (x: n × in, y: n × out). */
    public void forward(LoraTarget target, float[] x, int n, float[] y, Parallel pool) {
        LoraLayer l = layers[target.ordinal()];
        if (l != null) {
            l.forward(x, 0, n, hidden[target.ordinal()], y, 0, pool);
        }
    }

    /**
     * For output gradient {@code dY} of {@code target}'s projection over the inputs {@code x} the last forward pass
     * used: weight gradients (times the gate) into the run's gradient, and the input gradient added to {@code dX}.
     */
    public void backward(LoraTarget target, float[] x, float[] dY, int n, float[] dX, Parallel pool) {
        LoraLayer l = layers[target.ordinal()];
        if (l != null) {
            l.backward(x, n, hidden[target.ordinal()], dY, gate, gradient, dX, scratch, pool);
        }
    }
}

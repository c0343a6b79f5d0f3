package dev.buddy.router.train;

/** The SwiGLU activation {@code a = silu(g)·u} and its gradient, element-wise. */
final class SwiGlu {
    private SwiGlu() {}

    static void forward(float[] gate, float[] up, int count, float[] out) {
        for (int i = 0; i < count; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /**
     * {@code dGate = dOut·u·silu'(g)}, {@code dUp = dOut·silu(g)}, with
     * {@code silu'(g) = σ(g)·(1 + g·(1 − σ(g)))}. Overwrites both outputs.
     */
    static void backward(float[] dOut, float[] gate, float[] up, int count, float[] dGate, float[] dUp) {
        for (int i = 0; i < count; i++) {
            float g = gate[i];
            float sigma = 1f / (1f + (float) Math.exp(-g));
            float d = dOut[i];
            dUp[i] = d * g * sigma;
            dGate[i] = d * up[i] * sigma * (1f + g * (1f - sigma));
        }
    }
}

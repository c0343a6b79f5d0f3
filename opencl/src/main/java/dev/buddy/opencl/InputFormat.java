package dev.buddy.opencl;

import dev.buddy.gguf.GgmlType;

/**
 * The form a weight format's input activations take before the dot products, as ggml-cpu's {@code vec_dot_type}
 * prescribes: matching it keeps the device's logits, and so greedy tokens, in step with the CPU backend and llama.cpp.
 */
public enum InputFormat {
    /** Plain floats (F32 weights). */
    FLOAT(1),
    /** Floats rounded to half precision (F16 weights). */
    HALF(1),
    /** 32-element int8 blocks with a half scale (Q8_0 and Q4_0 weights). */
    Q8_0(32),
    /** Q8_0 plus the half block sum {@code d * sum(q)} (Q4_1 weights). */
    Q8_1(32),
    /** 256-element int8 blocks with a float scale and sums of each 16 quants (Q4_K and Q6_K weights). */
    Q8_K(256);

    private final int blockSize;

    InputFormat(int blockSize) {
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    /** The input format {@code weightType}'s dot product consumes. */
    public static InputFormat forWeight(GgmlType weightType) {
        return switch (weightType) {
            case F32 -> FLOAT;
            case F16 -> HALF;
            case Q8_0, Q4_0 -> Q8_0;
            case Q4_1 -> Q8_1;
            case Q4_K, Q6_K -> Q8_K;
            default -> throw new OpenClUnsupportedTypeException("(input for " + weightType + ")", weightType);
        };
    }
}

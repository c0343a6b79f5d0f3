package dev.buddy.engine.tensor;

/**
 * How a weight format wants its input activations, mirroring {@code vec_dot_type} in ggml-cpu's type traits:
 * llama.cpp converts or quantises the activation row to this format before the dot products, and Buddy does the same
 * so its logits (and greedy tokens) track llama.cpp's.
 */
public enum ActivationFormat {
    /** Plain floats (F32 weights). */
    F32(1),
    /** Floats rounded to IEEE half precision (F16 weights). */
    F16(1),
    /** Floats rounded to bfloat16 (BF16 weights). */
    BF16(1),
    /** 32-element blocks of int8 with an fp16 scale (Q8_0, Q4_0, Q5_0 weights). */
    Q8_0(32),
    /** Q8_0 plus the fp16 block sum {@code d * sum(q)} (Q4_1, Q5_1 weights, whose blocks carry an offset). */
    Q8_1(32),
    /** 256-element blocks of int8 with a float scale and sums per 16 elements (K-quant weights). */
    Q8_K(256);

    private final int blockSize;

    ActivationFormat(int blockSize) {
        this.blockSize = blockSize;
    }

    /** Elements per quantisation block (1 for the float formats). */
    public int blockSize() {
        return blockSize;
    }
}

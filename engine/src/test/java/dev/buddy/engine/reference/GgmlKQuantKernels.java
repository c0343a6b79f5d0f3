package dev.buddy.engine.reference;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * ggml-cpu's own K-quant kernels from the bundled llama.cpp build (b4916, x86-64 AVX2), called directly: the
 * activation quantiser {@code quantize_row_q8_K} and the dot products {@code ggml_vec_dot_q{4,5,6}_K_q8_K}. Lets
 * tests compare Buddy's kernels with the real machine code bit for bit on arbitrary blocks, not only through the
 * logits of a whole model (where requantisation hides most last-bit differences).
 */
public final class GgmlKQuantKernels {
    /** {@code sizeof(block_q8_K)}: float d, int8 qs[256], int16 bsums[16]. */
    public static final int Q8_K_BLOCK_BYTES = 4 + 256 + 32;

    private static final MethodHandle QUANTIZE_Q8_K = LlamaCppNative.bind("quantize_row_q8_K",
            FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG));
    private static final FunctionDescriptor VEC_DOT = FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, JAVA_LONG,
            ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle DOT_Q4_K = LlamaCppNative.bind("ggml_vec_dot_q4_K_q8_K", VEC_DOT);
    private static final MethodHandle DOT_Q5_K = LlamaCppNative.bind("ggml_vec_dot_q5_K_q8_K", VEC_DOT);
    private static final MethodHandle DOT_Q6_K = LlamaCppNative.bind("ggml_vec_dot_q6_K_q8_K", VEC_DOT);

    private GgmlKQuantKernels() {}

    /** {@code quantize_row_q8_K(x, y, n)}: {@code n} (a multiple of 256) floats to Q8_K blocks. */
    public static MemorySegment quantizeQ8K(float[] x, int offset, int n, Arena arena) {
        MemorySegment src = arena.allocate(4L * n, 64);
        MemorySegment.copy(x, offset, src, ValueLayout.JAVA_FLOAT, 0, n);
        MemorySegment dst = arena.allocate((long) n / 256 * Q8_K_BLOCK_BYTES, 64);
        try {
            QUANTIZE_Q8_K.invokeExact(src, dst, (long) n);
        } catch (Throwable t) {
            throw new LlamaCppException("quantize_row_q8_K failed: " + t, t);
        }
        return dst;
    }

    /**
     * {@code ggml_vec_dot_<type>_q8_K(n, &s, 0, row, 0, q8k, 0, 1)} for {@code type} one of Q4_K, Q5_K, Q6_K
     * (its {@code ggml_type} name); {@code row} holds one row of {@code n} weights.
     */
    public static float dot(String type, int n, MemorySegment row, MemorySegment q8k, Arena arena) {
        MethodHandle kernel = switch (type) {
            case "Q4_K" -> DOT_Q4_K;
            case "Q5_K" -> DOT_Q5_K;
            case "Q6_K" -> DOT_Q6_K;
            default -> throw new IllegalArgumentException("no K-quant kernel for " + type);
        };
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT);
        try {
            kernel.invokeExact(n, s, 0L, row, 0L, q8k, 0L, 1);
        } catch (Throwable t) {
            throw new LlamaCppException("ggml_vec_dot_" + type + "_q8_K failed: " + t, t);
        }
        return s.get(ValueLayout.JAVA_FLOAT, 0);
    }
}

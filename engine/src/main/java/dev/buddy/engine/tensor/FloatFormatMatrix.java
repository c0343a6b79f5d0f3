package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * What the float weight formats (F32, F16, BF16) share: llama.cpp multiplies them with one of two kernels whose sums
 * run in different orders, {@code ggml_vec_dot_*} for a single token and tinyBLAS for a prompt batch it accepts
 * ({@link #tinyBlasOrder}), and Buddy reproduces whichever one llama.cpp runs (see {@link GgmlSums}). This class holds
 * the choice and both scalar kernels; each format supplies how an element widens to float, how its vec_dot finishes
 * (the 8-lane reduction and the elements past the last multiple of 32), and its vector kernels, which compute the same
 * lanes.
 */
abstract sealed class FloatFormatMatrix extends WeightMatrix permits F32Matrix, F16Matrix, BF16Matrix {

    FloatFormatMatrix(String name, GgmlType type, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, type, rows, cols, data, width);
    }

    /** Element {@code i} of the row starting at byte {@code off}, as a float (exact for every float format). */
    abstract float element(long off, int i);

    /** The end of this format's vec_dot: the eight combined lanes reduced, then the elements from {@code np} on. */
    abstract float finishVecDot(long off, float[] x, int xo, int np, float l0, float l1, float l2, float l3, float l4,
            float l5, float l6, float l7);

    /** The vec_dot kernel at 128 bits (two halves per 8-lane register) and at 256 bits. */
    abstract float vecDot128(long off, float[] x, int xo);

    abstract float vecDot256(long off, float[] x, int xo);

    /** The tinyBLAS kernel for one token, at 128 and 256 bits. */
    abstract float tinyBlas128(long off, float[] x, int xo);

    abstract float tinyBlas256(long off, float[] x, int xo);

    /** The tinyBLAS kernel for four tokens ({@code cols} apart from {@code xo}), writing {@code out[outIndex + k*rows]}. */
    abstract void tinyBlas4x128(long off, float[] x, int xo, float[] out, int outIndex);

    abstract void tinyBlas4x256(long off, float[] x, int xo, float[] out, int outIndex);

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        long off = rowOffset(r);
        for (int i = 0; i < cols; i++) {
            dst[dstOffset + i] = element(off, i);
        }
    }

    @Override
    final float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int xo = in.valuesOffset + token * cols;
        return tinyBlasOrder(in.tokens()) ? scalarTinyBlas(off, in.values, xo) : scalarVecDot(off, in.values, xo);
    }

    /** vec_dot, lane by lane: element i in lane i mod 8 of FMA accumulator (i / 8) mod 4, up to the last 32. */
    private float scalarVecDot(long off, float[] x, int xo) {
        int np = cols & ~31;
        return finishVecDot(off, x, xo, np, vecDotLane(off, x, xo, np, 0), vecDotLane(off, x, xo, np, 1),
                vecDotLane(off, x, xo, np, 2), vecDotLane(off, x, xo, np, 3), vecDotLane(off, x, xo, np, 4),
                vecDotLane(off, x, xo, np, 5), vecDotLane(off, x, xo, np, 6), vecDotLane(off, x, xo, np, 7));
    }

    /** Lane {@code lane} of the four FMA accumulators, combined (0+2)+(1+3) as every ggml float vec_dot does. */
    private float vecDotLane(long off, float[] x, int xo, int np, int lane) {
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
        for (int i = lane; i < np; i += 32) {
            a0 = Math.fma(element(off, i), x[xo + i], a0);
            a1 = Math.fma(element(off, i + 8), x[xo + i + 8], a1);
            a2 = Math.fma(element(off, i + 16), x[xo + i + 16], a2);
            a3 = Math.fma(element(off, i + 24), x[xo + i + 24], a3);
        }
        return (a0 + a2) + (a1 + a3);
    }

    /** tinyBLAS: element i in lane i mod 8 of one FMA accumulator, then its hsum. */
    private float scalarTinyBlas(long off, float[] x, int xo) {
        return GgmlSums.tinyBlasHsum(tinyLane(off, x, xo, 0), tinyLane(off, x, xo, 1), tinyLane(off, x, xo, 2),
                tinyLane(off, x, xo, 3), tinyLane(off, x, xo, 4), tinyLane(off, x, xo, 5), tinyLane(off, x, xo, 6),
                tinyLane(off, x, xo, 7));
    }

    private float tinyLane(long off, float[] x, int xo, int lane) {
        float a = 0f;
        for (int i = lane; i < cols; i += 8) {
            a = Math.fma(element(off, i), x[xo + i], a);
        }
        return a;
    }

    @Override
    final float simdDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int xo = in.valuesOffset + token * cols;
        boolean tiny = tinyBlasOrder(in.tokens());
        return switch (width) {
            case W128 -> tiny ? tinyBlas128(off, in.values, xo) : vecDot128(off, in.values, xo);
            case W256, W512 -> tiny ? tinyBlas256(off, in.values, xo) : vecDot256(off, in.values, xo);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    final void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        if (!tinyBlasOrder(in.tokens()) || width == VectorWidth.SCALAR) {
            super.simdDot4(r, in, token, out, outIndex);
            return;
        }
        long off = rowOffset(r);
        int xo = in.valuesOffset + token * cols;
        if (width == VectorWidth.W128) {
            tinyBlas4x128(off, in.values, xo, out, outIndex);
        } else {
            tinyBlas4x256(off, in.values, xo, out, outIndex);
        }
    }
}

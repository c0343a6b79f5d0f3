package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights: blocks of 32 int8 quants with an fp16 scale ({@code block_q8_0}: d, qs[32]; 34 bytes), against a
 * Q8_0-quantised input as in {@code ggml_vec_dot_q8_0_q8_0}: per block the exact integer dot, scaled by
 * {@code d_w * d_x} and summed in float.
 *
 * <p>SIMD choice, measured with a throwaway timing loop on an AVX2 Zen 3 core (4096-column rows, one thread): the
 * integer path (bytes widened to 16-bit lanes, multiplied by the pre-widened input, adjacent 16-bit products summed
 * into 32-bit lanes with a shift pair) ran at ~6.3 GB/s of weights against ~4.9 GB/s for widening both sides to
 * float and using FMA, so the integer path is used. Two products of int8 values (at most 128*127 each) always fit a
 * 16-bit lane when added, which is what lets the block sum stay in short lanes before widening.
 *
 * <p>At 512 bits on a CPU with 512-bit vectors ({@link VectorWidth#native512}), single tokens run {@link V512}: one
 * block's 32 quants widen into one 32-lane short vector, about half the vector operations of the 256-bit kernel per
 * block, same bits. Measured on the Zen 4 VM (AVX-512): JMH {@code KernelBenchmark.decode}, Q8_0 8192x2048, one
 * thread, {@code -Dbuddy.vector.bits=256|512} alternated: 786 / 870 and 755 / 876 ops/s (1.11x, 1.16x); whole
 * Llama-1B-shaped Q8_0 decode, 8 alternated pairs of {@code bench -p 64 -n 48 -r 2 -t 2} against the build before,
 * median 1.11x (0.93-1.17); Qwen2.5-0.5B-shaped Q8_0, 6 pairs, 1.04-1.16x. Prompt tiles stay at 256 bits (with
 * two rows per tile at 512, {@link #simdDot4Rows}).
 *
 * <p>Where the CPU has 512-bit vectors and the row count is a multiple of 16, the matrix is instead copied at load
 * into sixteen-row groups ({@link Q8_0RowGroups}) and every token, of a decode step or a prompt, runs sixteen rows at
 * a time, in the same order and so with the same bits: about half the vector operations per row and block of the
 * two-row kernel, none of them scalar. Measured on the Intel Xeon VM (AVX-512) of BENCHMARKS.md's "Session 28".
 */
final class Q8_0Matrix extends WeightMatrix implements RowPairs.Kernel, RowGroupLayout.GroupKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 34;

    /**
     * Whether the CPU has 512-bit vectors at this width ({@link VectorWidth#native512}), decided once at load: single
     * tokens then take the 512-bit kernels ({@link V512}) and prompts the two-row tile ({@link #simdDot4Rows}).
     */
    private final boolean native512;

    /**
     * The weights in {@link Q8_0RowGroups}' sixteen-row groups, which its kernel reads for every token; null unless
     * the CPU has 512-bit vectors at this width ({@link VectorWidth#native512}), the row count is a multiple of 16 and
     * every d is finite. The scalar kernel keeps reading {@link #data}; {@link #row} reads the groups.
     */
    private final MemorySegment groups;

    Q8_0Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q8_0, rows, cols, data, width);
        this.native512 = width.native512();
        this.groups = native512 && rows % Q8_0RowGroups.ROWS == 0 ? Q8_0RowGroups.pack(data, rows, cols / 32) : null;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    /**
     * {@code dequantize_row_q8_0}: {@code y = q * d}; from the row groups where they exist, so that a row-wise reader
     * (embedding lookups of a tied table, router training's transposed products) does not bring the unloaded original
     * back into memory beside them.
     */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        if (groups != null) {
            long group = (long) (r - r % Q8_0RowGroups.ROWS) * rowBytes;
            int l = r % Q8_0RowGroups.ROWS;
            for (int b = 0; b < cols / 32; b++) {
                long gb = group + (long) b * Q8_0RowGroups.GROUP_BLOCK;
                float d = Halfs.f16ToFloat(groups.get(HALF, gb + 2L * l));
                for (int j = 0; j < 32; j++) {
                    dst[dstOffset + b * 32 + j] = groups.get(BYTE, gb + Q8_0RowGroups.quantAt(l, j)) * d;
                }
            }
            return;
        }
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            for (int j = 0; j < 32; j++) {
                dst[dstOffset + b * 32 + j] = data.get(BYTE, bo + 2 + j) * d;
            }
        }
    }

    /**
     * ggml's AVX2 order exactly: per block, lane j of 8 holds the integer sum of elements 4j..4j+3
     * ({@code maddubs} then {@code madd}), converted to float and FMA-accumulated with {@code d_w * d_x}; the 8
     * lanes are reduced as {@code hsum_float_8}. The SIMD kernels compute the same lanes, so all widths agree bit
     * for bit with each other and with llama.cpp (whose tinyBLAS prefill kernel sums Q8_0 the same way).
     */
    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 32;
        short[] xq = in.qs;
        int xo = token * cols;
        int dOff = token * blocks;
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) b * BLOCK;
            int e = xo + b * 32;
            float d = Halfs.f16ToFloat(data.get(HALF, bo)) * in.d[dOff + b];
            a0 = Math.fma(d, quad(bo, xq, e, 0), a0);
            a1 = Math.fma(d, quad(bo, xq, e, 1), a1);
            a2 = Math.fma(d, quad(bo, xq, e, 2), a2);
            a3 = Math.fma(d, quad(bo, xq, e, 3), a3);
            a4 = Math.fma(d, quad(bo, xq, e, 4), a4);
            a5 = Math.fma(d, quad(bo, xq, e, 5), a5);
            a6 = Math.fma(d, quad(bo, xq, e, 6), a6);
            a7 = Math.fma(d, quad(bo, xq, e, 7), a7);
        }
        return hsum8(a0, a1, a2, a3, a4, a5, a6, a7);
    }

    /** The integer dot of elements 4j..4j+3 of the block at {@code bo} with the input from {@code e}. */
    private int quad(long bo, short[] xq, int e, int j) {
        int sum = 0;
        for (int k = 4 * j; k < 4 * j + 4; k++) {
            sum += data.get(BYTE, bo + 2 + k) * xq[e + k];
        }
        return sum;
    }

    /** ggml's {@code hsum_float_8}: 128-bit halves added, then the pairs, then the last two lanes. */
    static float hsum8(float a0, float a1, float a2, float a3, float a4, float a5, float a6, float a7) {
        return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> V128.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, token * blocks);
            case W256, W512 -> native512
                    ? V512.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, token * blocks)
                    : V256.dot(data, rowOffset(r), blocks, in.qs, token * cols, in.d, token * blocks);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        switch (width) {
            case W256, W512 -> V256.dot4(data, rowOffset(r), cols / 32, in, token, out, outIndex, rows);
            default -> super.simdDot4(r, in, token, out, outIndex);
        }
    }

    /**
     * With {@link #groups}, every token runs sixteen rows at a time ({@link Q8_0RowGroups#dot16}). Otherwise tokens
     * that the 4-token tile does not take (every token of a decode step) run two rows per pass at 256/512 bits through
     * {@link RowPairs} ({@link V256#dot2}, each row's bits those of {@link V256#dot}).
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (groups != null) {
            // prompts too
            RowGroupLayout.groupTokens(this, in, rowFrom, rowTo, Q8_0RowGroups.ROWS, Q8_0RowGroups.ROWS * rowBytes,
                    out, outOffset, rows);
            return;
        }
        if (width == VectorWidth.W128 || in.tokens() >= 4) {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
        } else {
            RowPairs.rows(this, this, in, rowFrom, rowTo, out, outOffset);
        }
    }

    /**
     * Two neighbouring rows per 4-token tile ({@link V256#dot4x2}) where the CPU has 32 vector registers (512-bit
     * vectors, {@link VectorWidth#native512}), so each token's permuted input is loaded once for both rows; the last
     * row of an odd range takes the single-row tile.
     */
    @Override
    int simdDot4Rows(int r, int rowEnd, QuantizedInput in, int token, float[] out, int outIndex) {
        if (native512 && r + 1 < rowEnd) {
            V256.dot4x2(data, rowOffset(r), rowBytes, cols / 32, in, token, out, outIndex, rows);
            return 2;
        }
        simdDot4(r, in, token, out, outIndex);
        return 1;
    }

    @Override
    public void dotPair(int r, long stride, QuantizedInput in, int token, float[] out, int out0, int out1) {
        int blocks = cols / 32;
        if (native512) {
            V512.dot2(data, rowOffset(r), stride, blocks, in.qs, token * cols, in.d, token * blocks, out, out0, out1);
        } else {
            V256.dot2(data, rowOffset(r), stride, blocks, in.qs, token * cols, in.d, token * blocks, out, out0, out1);
        }
    }

    /** {@link Q8_0RowGroups#dot16} on {@link #groups} (the driver: {@link RowGroupLayout#groupRows}). */
    @Override
    public void dot8(QuantizedInput in, int token, long groupOffset, float[] out, int at) {
        int blocks = cols / 32;
        Q8_0RowGroups.dot16(groups, groupOffset, blocks, in.q8Pairs, token * blocks * Q8_0RowGroups.PAIRS, in.d,
                token * blocks, out, at);
    }

    /**
     * Only the 4-token prompt tile reads the permuted input; the one-token dot keeps the integer path, and the row
     * groups read {@link QuantizedInput#q8Pairs}.
     */
    @Override
    boolean readsPermutedInput(int tokens) {
        return groups == null && tokens >= 4;
    }

    @Override
    boolean readsQ8Pairs() {
        return groups != null;
    }

    /**
     * ggml's lanes two ways: the single-token kernel in 16-bit integer lanes ({@link #dot}), the 4-token tile in
     * float lanes on the permuted input ({@link #dot4}).
     */
    private static final class V256 {
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
        static final VectorMask<Integer> ODD_INTS = VectorMask.fromLong(I, 0xAAL);
        static final VectorShuffle<Integer> SWAP_INTS = VectorShuffle.fromValues(I, 1, 0, 3, 2, 5, 4, 7, 6);

        // One method per kernel, vector values only in locals: a vector passed to or returned from a call that
        // C2 declines to inline is boxed, which made an earlier helper-based version 20x slower.
        /**
         * Single token. Each 16-byte half of the block is widened straight from memory into 16-bit lanes and
         * multiplied by the input; adding each 32-bit lane shifted left by 16 (its product with {@code 0x10001},
         * without the slow 32-bit multiply) puts each pair sum (at most
         * 2 * 128 * 127, so exact in 16 bits) in a lane's high half, an arithmetic shift sign-extends it, and one
         * blend-swap-add of the two halves' pair sums gives ggml's 8 quad lanes in the order
         * {@code [q0, q4, q1, q5, q2, q6, q3, q7]}, which the final {@code hsum_float_8} reads back in ggml's order.
         * About half the vector operations of widening the whole block and shuffling even and odd lanes apart.
         */
        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, int dOff) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                IntVector lo = ((ShortVector) ByteVector.fromMemorySegment(B128, w, bo + 2, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, xq, e))
                        .reinterpretAsInts();
                lo = lo.lanewise(VectorOperators.ADD, lo.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                IntVector hi = ((ShortVector) ByteVector.fromMemorySegment(B128, w, bo + 18, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, xq, e + 16))
                        .reinterpretAsInts();
                hi = hi.lanewise(VectorOperators.ADD, hi.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                IntVector quads = lo.blend(hi, ODD_INTS).add(hi.blend(lo, ODD_INTS).rearrange(SWAP_INTS));
                float d = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                acc = FloatVector.broadcast(F, d).fma((FloatVector) quads.convertShape(VectorOperators.I2F, F, 0), acc);
            }
            return hsum8(acc.lane(0), acc.lane(2), acc.lane(4), acc.lane(6), acc.lane(1), acc.lane(3), acc.lane(5),
                    acc.lane(7));
        }

        /**
         * {@link #dot} for two rows at once (row 0 at {@code off}, row 1 {@code stride} bytes further), sharing the
         * input's loads; each row's lanes and sums are {@link #dot}'s, so are its bits.
         */
        static void dot2(MemorySegment w, long off, long stride, int blocks, short[] xq, int xo, float[] xd, int dOff,
                float[] out, int out0, int out1) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            long off1 = off + stride;
            for (int b = 0; b < blocks; b++) {
                long bb = (long) b * BLOCK;
                int e = xo + b * 32;
                ShortVector xlo = ShortVector.fromArray(S, xq, e);
                ShortVector xhi = ShortVector.fromArray(S, xq, e + 16);
                float dx = xd[dOff + b];
                IntVector lo0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + bb + 2, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(xlo)
                        .reinterpretAsInts();
                lo0 = lo0.lanewise(VectorOperators.ADD, lo0.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                IntVector hi0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + bb + 18, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(xhi)
                        .reinterpretAsInts();
                hi0 = hi0.lanewise(VectorOperators.ADD, hi0.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                IntVector quads0 = lo0.blend(hi0, ODD_INTS).add(hi0.blend(lo0, ODD_INTS).rearrange(SWAP_INTS));
                float d0 = Halfs.f16ToFloat(w.get(HALF, off + bb)) * dx;
                acc0 = FloatVector.broadcast(F, d0)
                        .fma((FloatVector) quads0.convertShape(VectorOperators.I2F, F, 0), acc0);
                IntVector lo1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off1 + bb + 2, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(xlo)
                        .reinterpretAsInts();
                lo1 = lo1.lanewise(VectorOperators.ADD, lo1.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                IntVector hi1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off1 + bb + 18, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(xhi)
                        .reinterpretAsInts();
                hi1 = hi1.lanewise(VectorOperators.ADD, hi1.lanewise(VectorOperators.LSHL, Constants256.I16))
                        .lanewise(VectorOperators.ASHR, Constants256.I16);
                IntVector quads1 = lo1.blend(hi1, ODD_INTS).add(hi1.blend(lo1, ODD_INTS).rearrange(SWAP_INTS));
                float d1 = Halfs.f16ToFloat(w.get(HALF, off1 + bb)) * dx;
                acc1 = FloatVector.broadcast(F, d1)
                        .fma((FloatVector) quads1.convertShape(VectorOperators.I2F, F, 0), acc1);
            }
            out[out0] = hsum8(acc0.lane(0), acc0.lane(2), acc0.lane(4), acc0.lane(6), acc0.lane(1), acc0.lane(3),
                    acc0.lane(5), acc0.lane(7));
            out[out1] = hsum8(acc1.lane(0), acc1.lane(2), acc1.lane(4), acc1.lane(6), acc1.lane(1), acc1.lane(3),
                    acc1.lane(5), acc1.lane(7));
        }

        /**
         * Tokens {@code token .. token+3} against one row, in float lanes on the permuted input
         * ({@link QuantizedInput#permuted}: sub-vector t holds element 4j+t in lane j). The block's 32 quants, read
         * as 8 ints, hold elements 4j..4j+3 in int j, so shifting byte t to the top and back sign-extends element
         * 4j+t into lane j: four weight vectors per block, shared by the four tokens. Lane j's sum of four products
         * is an integer below 2^24 and so exact in float in any order; the scale FMA and {@code hsum_float_8} then
         * give the single-token dot's bits (and tinyBLAS's, llama.cpp's Q8_0 prompt kernel). {@code token} is a
         * multiple of 4; the four products {@code d_w * d_x} come from one vector multiply on
         * {@link QuantizedInput#groupD}, as in {@link LegacyQuantKernels.V256#lanes4}.
         */
        static void dot4(MemorySegment w, long off, int blocks, QuantizedInput in, int token, float[] out,
                int outIndex, int outStride) {
            float[] xp = in.permuted;
            float[] gd = in.groupD;
            int gAt = token / 4 * blocks * 8;
            int cols = blocks * 32;
            int x0 = token * cols;
            int x1 = x0 + cols;
            int x2 = x1 + cols;
            int x3 = x2 + cols;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = b * 32;
                IntVector q = IntVector.fromMemorySegment(I, w, bo + 2, LE);
                FloatVector w0 = (FloatVector) q.lanewise(VectorOperators.LSHL, 24)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector w1 = (FloatVector) q.lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector w2 = (FloatVector) q.lanewise(VectorOperators.LSHL, 8)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector w3 = (FloatVector) q.lanewise(VectorOperators.ASHR, 24)
                        .convertShape(VectorOperators.I2F, F, 0);
                float dw = Halfs.f16ToFloat(w.get(HALF, bo));
                FloatVector s0 = w0.mul(FloatVector.fromArray(F, xp, x0 + e));
                FloatVector s1 = w0.mul(FloatVector.fromArray(F, xp, x1 + e));
                FloatVector s2 = w0.mul(FloatVector.fromArray(F, xp, x2 + e));
                FloatVector s3 = w0.mul(FloatVector.fromArray(F, xp, x3 + e));
                s0 = w1.fma(FloatVector.fromArray(F, xp, x0 + e + 8), s0);
                s1 = w1.fma(FloatVector.fromArray(F, xp, x1 + e + 8), s1);
                s2 = w1.fma(FloatVector.fromArray(F, xp, x2 + e + 8), s2);
                s3 = w1.fma(FloatVector.fromArray(F, xp, x3 + e + 8), s3);
                s0 = w2.fma(FloatVector.fromArray(F, xp, x0 + e + 16), s0);
                s1 = w2.fma(FloatVector.fromArray(F, xp, x1 + e + 16), s1);
                s2 = w2.fma(FloatVector.fromArray(F, xp, x2 + e + 16), s2);
                s3 = w2.fma(FloatVector.fromArray(F, xp, x3 + e + 16), s3);
                s0 = w3.fma(FloatVector.fromArray(F, xp, x0 + e + 24), s0);
                s1 = w3.fma(FloatVector.fromArray(F, xp, x1 + e + 24), s1);
                s2 = w3.fma(FloatVector.fromArray(F, xp, x2 + e + 24), s2);
                s3 = w3.fma(FloatVector.fromArray(F, xp, x3 + e + 24), s3);
                FloatVector d = FloatVector.fromArray(F, gd, gAt + 8 * b).mul(dw);
                acc0 = d.rearrange(LegacyQuantKernels.V256.SPLAT0).fma(s0, acc0);
                acc1 = d.rearrange(LegacyQuantKernels.V256.SPLAT1).fma(s1, acc1);
                acc2 = d.rearrange(LegacyQuantKernels.V256.SPLAT2).fma(s2, acc2);
                acc3 = d.rearrange(LegacyQuantKernels.V256.SPLAT3).fma(s3, acc3);
            }
            out[outIndex] = hsum8(acc0.lane(0), acc0.lane(1), acc0.lane(2), acc0.lane(3), acc0.lane(4),
                    acc0.lane(5), acc0.lane(6), acc0.lane(7));
            out[outIndex + outStride] = hsum8(acc1.lane(0), acc1.lane(1), acc1.lane(2), acc1.lane(3), acc1.lane(4),
                    acc1.lane(5), acc1.lane(6), acc1.lane(7));
            out[outIndex + 2 * outStride] = hsum8(acc2.lane(0), acc2.lane(1), acc2.lane(2), acc2.lane(3),
                    acc2.lane(4), acc2.lane(5), acc2.lane(6), acc2.lane(7));
            out[outIndex + 3 * outStride] = hsum8(acc3.lane(0), acc3.lane(1), acc3.lane(2), acc3.lane(3),
                    acc3.lane(4), acc3.lane(5), acc3.lane(6), acc3.lane(7));
        }
        /**
         * {@link #dot4} for rows at {@code off} and {@code off + rowStride} (written to {@code out[outIndex + k *
         * outStride]} and the next index): the four tokens' permuted inputs are loaded once for both rows. Each
         * (row, token) sum is {@link #dot4}'s operations in {@link #dot4}'s order, so its bits. Eight accumulators,
         * eight weight vectors and the inputs need more than AVX2's sixteen registers: for W512 (AVX-512) only.
         */
        static void dot4x2(MemorySegment w, long off, long rowStride, int blocks, QuantizedInput in, int token,
                float[] out, int outIndex, int outStride) {
            float[] xp = in.permuted;
            float[] gd = in.groupD;
            int gAt = token / 4 * blocks * 8;
            int cols = blocks * 32;
            int x0 = token * cols;
            int x1 = x0 + cols;
            int x2 = x1 + cols;
            int x3 = x2 + cols;
            long off1 = off + rowStride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F);
            FloatVector b1 = FloatVector.zero(F);
            FloatVector b2 = FloatVector.zero(F);
            FloatVector b3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                long bo1 = off1 + (long) b * BLOCK;
                // headers first: C2 inlines in bytecode order, and plain calls past its node cutoff stay calls
                float dwa = Halfs.f16ToFloat(w.get(HALF, bo));
                float dwb = Halfs.f16ToFloat(w.get(HALF, bo1));
                int e = b * 32;
                IntVector q = IntVector.fromMemorySegment(I, w, bo + 2, LE);
                FloatVector wa0 = (FloatVector) q.lanewise(VectorOperators.LSHL, 24)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector wa1 = (FloatVector) q.lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector wa2 = (FloatVector) q.lanewise(VectorOperators.LSHL, 8)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector wa3 = (FloatVector) q.lanewise(VectorOperators.ASHR, 24)
                        .convertShape(VectorOperators.I2F, F, 0);
                q = IntVector.fromMemorySegment(I, w, bo1 + 2, LE);
                FloatVector wb0 = (FloatVector) q.lanewise(VectorOperators.LSHL, 24)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector wb1 = (FloatVector) q.lanewise(VectorOperators.LSHL, 16)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector wb2 = (FloatVector) q.lanewise(VectorOperators.LSHL, 8)
                        .lanewise(VectorOperators.ASHR, 24).convertShape(VectorOperators.I2F, F, 0);
                FloatVector wb3 = (FloatVector) q.lanewise(VectorOperators.ASHR, 24)
                        .convertShape(VectorOperators.I2F, F, 0);
                FloatVector g = FloatVector.fromArray(F, gd, gAt + 8 * b);
                FloatVector da = g.mul(dwa);
                FloatVector db = g.mul(dwb);
                FloatVector x = FloatVector.fromArray(F, xp, x0 + e);
                FloatVector sa = wa0.mul(x);
                FloatVector sb = wb0.mul(x);
                x = FloatVector.fromArray(F, xp, x0 + e + 8);
                sa = wa1.fma(x, sa);
                sb = wb1.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x0 + e + 16);
                sa = wa2.fma(x, sa);
                sb = wb2.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x0 + e + 24);
                sa = wa3.fma(x, sa);
                sb = wb3.fma(x, sb);
                a0 = da.rearrange(LegacyQuantKernels.V256.SPLAT0).fma(sa, a0);
                b0 = db.rearrange(LegacyQuantKernels.V256.SPLAT0).fma(sb, b0);
                x = FloatVector.fromArray(F, xp, x1 + e);
                sa = wa0.mul(x);
                sb = wb0.mul(x);
                x = FloatVector.fromArray(F, xp, x1 + e + 8);
                sa = wa1.fma(x, sa);
                sb = wb1.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x1 + e + 16);
                sa = wa2.fma(x, sa);
                sb = wb2.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x1 + e + 24);
                sa = wa3.fma(x, sa);
                sb = wb3.fma(x, sb);
                a1 = da.rearrange(LegacyQuantKernels.V256.SPLAT1).fma(sa, a1);
                b1 = db.rearrange(LegacyQuantKernels.V256.SPLAT1).fma(sb, b1);
                x = FloatVector.fromArray(F, xp, x2 + e);
                sa = wa0.mul(x);
                sb = wb0.mul(x);
                x = FloatVector.fromArray(F, xp, x2 + e + 8);
                sa = wa1.fma(x, sa);
                sb = wb1.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x2 + e + 16);
                sa = wa2.fma(x, sa);
                sb = wb2.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x2 + e + 24);
                sa = wa3.fma(x, sa);
                sb = wb3.fma(x, sb);
                a2 = da.rearrange(LegacyQuantKernels.V256.SPLAT2).fma(sa, a2);
                b2 = db.rearrange(LegacyQuantKernels.V256.SPLAT2).fma(sb, b2);
                x = FloatVector.fromArray(F, xp, x3 + e);
                sa = wa0.mul(x);
                sb = wb0.mul(x);
                x = FloatVector.fromArray(F, xp, x3 + e + 8);
                sa = wa1.fma(x, sa);
                sb = wb1.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x3 + e + 16);
                sa = wa2.fma(x, sa);
                sb = wb2.fma(x, sb);
                x = FloatVector.fromArray(F, xp, x3 + e + 24);
                sa = wa3.fma(x, sa);
                sb = wb3.fma(x, sb);
                a3 = da.rearrange(LegacyQuantKernels.V256.SPLAT3).fma(sa, a3);
                b3 = db.rearrange(LegacyQuantKernels.V256.SPLAT3).fma(sb, b3);
            }
            out[outIndex] = hsum8(a0.lane(0), a0.lane(1), a0.lane(2), a0.lane(3), a0.lane(4), a0.lane(5),
                    a0.lane(6), a0.lane(7));
            out[outIndex + outStride] = hsum8(a1.lane(0), a1.lane(1), a1.lane(2), a1.lane(3), a1.lane(4),
                    a1.lane(5), a1.lane(6), a1.lane(7));
            out[outIndex + 2 * outStride] = hsum8(a2.lane(0), a2.lane(1), a2.lane(2), a2.lane(3), a2.lane(4),
                    a2.lane(5), a2.lane(6), a2.lane(7));
            out[outIndex + 3 * outStride] = hsum8(a3.lane(0), a3.lane(1), a3.lane(2), a3.lane(3), a3.lane(4),
                    a3.lane(5), a3.lane(6), a3.lane(7));
            out[outIndex + 1] = hsum8(b0.lane(0), b0.lane(1), b0.lane(2), b0.lane(3), b0.lane(4), b0.lane(5),
                    b0.lane(6), b0.lane(7));
            out[outIndex + 1 + outStride] = hsum8(b1.lane(0), b1.lane(1), b1.lane(2), b1.lane(3), b1.lane(4),
                    b1.lane(5), b1.lane(6), b1.lane(7));
            out[outIndex + 1 + 2 * outStride] = hsum8(b2.lane(0), b2.lane(1), b2.lane(2), b2.lane(3), b2.lane(4),
                    b2.lane(5), b2.lane(6), b2.lane(7));
            out[outIndex + 1 + 3 * outStride] = hsum8(b3.lane(0), b3.lane(1), b3.lane(2), b3.lane(3), b3.lane(4),
                    b3.lane(5), b3.lane(6), b3.lane(7));
        }
    }

    /**
     * Single tokens in 512-bit lanes, where the CPU has them ({@link VectorWidth#native512}): a whole block's 32
     * quants widen into one 32-lane short vector, so a block is one load, one widening, a multiply, a shift-add and a
     * shift instead of two of each and the blend-swap-add of {@link V256#dot}. The 16 pair sums {@code p_k} (pairs
     * 2k, 2k+1) plus their neighbours swapped put ggml's quad j (elements 4j..4j+3) in lanes 2j and 2j+1 alike, and
     * lane 2j accumulates exactly {@link #scalarDot}'s lane j (odd lanes repeat it and are never read).
     */
    private static final class V512 {
        static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
        static final VectorShuffle<Integer> SWAP_INTS = VectorShuffle.fromValues(I, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11,
                10, 13, 12, 15, 14);

        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, int dOff) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                IntVector pairs = ((ShortVector) ByteVector.fromMemorySegment(B256, w, bo + 2, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(ShortVector.fromArray(S, xq, xo + b * 32))
                        .reinterpretAsInts();
                pairs = pairs.lanewise(VectorOperators.ADD, pairs.lanewise(VectorOperators.LSHL, Constants512.I16))
                        .lanewise(VectorOperators.ASHR, Constants512.I16);
                IntVector quads = pairs.add(pairs.rearrange(SWAP_INTS));
                float d = Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b];
                acc = FloatVector.broadcast(F, d).fma((FloatVector) quads.convertShape(VectorOperators.I2F, F, 0), acc);
            }
            return hsum8(acc.lane(0), acc.lane(2), acc.lane(4), acc.lane(6), acc.lane(8), acc.lane(10), acc.lane(12),
                    acc.lane(14));
        }

        /** {@link #dot} for two rows at once, sharing the input's loads; each row's bits are {@link #dot}'s. */
        static void dot2(MemorySegment w, long off, long stride, int blocks, short[] xq, int xo, float[] xd, int dOff,
                float[] out, int out0, int out1) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            long off1 = off + stride;
            for (int b = 0; b < blocks; b++) {
                long bb = (long) b * BLOCK;
                ShortVector x = ShortVector.fromArray(S, xq, xo + b * 32);
                float dx = xd[dOff + b];
                IntVector pairs0 = ((ShortVector) ByteVector.fromMemorySegment(B256, w, off + bb + 2, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x)
                        .reinterpretAsInts();
                pairs0 = pairs0.lanewise(VectorOperators.ADD, pairs0.lanewise(VectorOperators.LSHL, Constants512.I16))
                        .lanewise(VectorOperators.ASHR, Constants512.I16);
                IntVector quads0 = pairs0.add(pairs0.rearrange(SWAP_INTS));
                float d0 = Halfs.f16ToFloat(w.get(HALF, off + bb)) * dx;
                acc0 = FloatVector.broadcast(F, d0)
                        .fma((FloatVector) quads0.convertShape(VectorOperators.I2F, F, 0), acc0);
                IntVector pairs1 = ((ShortVector) ByteVector.fromMemorySegment(B256, w, off1 + bb + 2, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x)
                        .reinterpretAsInts();
                pairs1 = pairs1.lanewise(VectorOperators.ADD, pairs1.lanewise(VectorOperators.LSHL, Constants512.I16))
                        .lanewise(VectorOperators.ASHR, Constants512.I16);
                IntVector quads1 = pairs1.add(pairs1.rearrange(SWAP_INTS));
                float d1 = Halfs.f16ToFloat(w.get(HALF, off1 + bb)) * dx;
                acc1 = FloatVector.broadcast(F, d1)
                        .fma((FloatVector) quads1.convertShape(VectorOperators.I2F, F, 0), acc1);
            }
            out[out0] = hsum8(acc0.lane(0), acc0.lane(2), acc0.lane(4), acc0.lane(6), acc0.lane(8), acc0.lane(10),
                    acc0.lane(12), acc0.lane(14));
            out[out1] = hsum8(acc1.lane(0), acc1.lane(2), acc1.lane(4), acc1.lane(6), acc1.lane(8), acc1.lane(10),
                    acc1.lane(12), acc1.lane(14));
        }
    }

    /** 128-bit lanes: ggml's 8 lanes as two 4-lane accumulators (elements 0-15 and 16-31 of each block). */
    private static final class V128 {
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
        static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
        static final VectorShuffle<Integer> EVEN = VectorShuffle.fromValues(I, 0, 2, 4, 6);
        static final VectorShuffle<Integer> ODD = VectorShuffle.fromValues(I, 1, 3, 5, 7);

        static float dot(MemorySegment w, long off, int blocks, short[] xq, int xo, float[] xd, int dOff) {
            FloatVector accLo = FloatVector.zero(F);
            FloatVector accHi = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long bo = off + (long) b * BLOCK;
                int e = xo + b * 32;
                ByteVector q0 = ByteVector.fromMemorySegment(B, w, bo + 2, LE);
                ByteVector q1 = ByteVector.fromMemorySegment(B, w, bo + 18, LE);
                IntVector p0 = ((ShortVector) q0.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e)).reinterpretAsInts();
                IntVector p1 = ((ShortVector) q0.convertShape(VectorOperators.B2S, S, 1))
                        .mul(ShortVector.fromArray(S, xq, e + 8)).reinterpretAsInts();
                IntVector p2 = ((ShortVector) q1.convertShape(VectorOperators.B2S, S, 0))
                        .mul(ShortVector.fromArray(S, xq, e + 16)).reinterpretAsInts();
                IntVector p3 = ((ShortVector) q1.convertShape(VectorOperators.B2S, S, 1))
                        .mul(ShortVector.fromArray(S, xq, e + 24)).reinterpretAsInts();
                p0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p0.lanewise(VectorOperators.ASHR, 16));
                p1 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p1.lanewise(VectorOperators.ASHR, 16));
                p2 = p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p2.lanewise(VectorOperators.ASHR, 16));
                p3 = p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(p3.lanewise(VectorOperators.ASHR, 16));
                FloatVector d = FloatVector.broadcast(F, Halfs.f16ToFloat(w.get(HALF, bo)) * xd[dOff + b]);
                accLo = d.fma((FloatVector) p0.rearrange(EVEN, p1).add(p0.rearrange(ODD, p1))
                        .convertShape(VectorOperators.I2F, F, 0), accLo);
                accHi = d.fma((FloatVector) p2.rearrange(EVEN, p3).add(p2.rearrange(ODD, p3))
                        .convertShape(VectorOperators.I2F, F, 0), accHi);
            }
            return hsum8(accLo.lane(0), accLo.lane(1), accLo.lane(2), accLo.lane(3), accHi.lane(0), accHi.lane(1),
                    accHi.lane(2), accHi.lane(3));
        }
    }
}

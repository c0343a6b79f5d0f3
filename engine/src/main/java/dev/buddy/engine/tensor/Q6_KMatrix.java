package dev.buddy.engine.tensor;

import static dev.buddy.engine.tensor.Constants256.HIGH_BITS;
import static dev.buddy.engine.tensor.Constants256.I16;
import static dev.buddy.engine.tensor.Constants256.I2;
import static dev.buddy.engine.tensor.Constants256.I32;
import static dev.buddy.engine.tensor.Constants256.I4;
import static dev.buddy.engine.tensor.Constants256.I8;
import static dev.buddy.engine.tensor.Constants256.INT_HIGH_BITS;
import static dev.buddy.engine.tensor.Constants256.INT_LOW_BYTE;
import static dev.buddy.engine.tensor.Constants256.INT_LOW_NIBBLES;
import static dev.buddy.engine.tensor.Constants256.LOW_BYTE;
import static dev.buddy.engine.tensor.Constants256.LOW_NIBBLES;
import static dev.buddy.engine.tensor.Constants256.S2;
import static dev.buddy.engine.tensor.Constants256.S4;
import static dev.buddy.engine.tensor.Constants256.S8;

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
 * Q6_K weights: super-blocks of 256 elements ({@code block_q6_K}: ql[128] low nibbles, qh[64] two high bits each,
 * int8 scales[16], fp16 d; 210 bytes). In each 128-element half n, byte l of {@code ql[64n..]} and {@code qh[32n..]}
 * yields elements l, l+32, l+64, l+96 (low nibble of ql[l] / ql[l+32], high nibble of ql[l] / ql[l+32], with qh bit
 * pairs 0-1, 2-3, 4-5, 6-7 on top), each minus 32; every 16 elements share one signed scale.
 *
 * <p>Every width computes exactly what llama.cpp b4916's AVX2 {@code ggml_vec_dot_q6_K_q8_K} computes (see
 * {@link #scalarDot}), for decode and prefill alike; prompts of 4 or more tokens at 256/512 bits run
 * {@link KQuantPromptGemm} (64 tokens in 76-96 ms against 183-203 ms for the single-token kernel per token, JMH
 * {@code KernelBenchmark.prefill}, one thread).
 *
 * <p>SIMD choice, measured as in Q4_K (8192x2048, one thread, best of many calls on the loaded 2-core machine): the
 * single-token kernel in 16-bit integer lanes with the four planes written out and the centring taken off per lane
 * takes 2.3-2.6 ms per matvec against 2.9 ms for main's non-exact kernel; the same lanes in float took 4.3-4.5 ms,
 * the integer kernel with a loop over planes (variable shift counts) 4.6 ms. A 4-token float tile (650 ms for 64
 * tokens) lost to the earlier single-token kernel per token (522 ms); dequantising once for up to 64 tokens is what
 * made float lanes win.
 *
 * <p>Tried for decode and kept out, for want of a measurable gain (8192x2048, one thread, old and new alternated in
 * one JVM, best of 60 matvecs: 2.08-2.16 ms either way): the eight scales of a half as one sign-extended vector with
 * one lane shuffle per plane instead of two byte loads, a broadcast and a blend; the neighbour sum as one multiply by
 * {@code 0x10001}; each plane consumed as soon as it is built. Removing work outright (the centring, the scale
 * shuffles, the plane assembly) barely moved the time either, while a loop that only loads the same weight bytes
 * block by block already takes 1.2 ms: this kernel is bound by its block walk, not by its integer arithmetic.
 *
 * <p>Where the CPU has 512-bit vectors and the row count is a multiple of 16, the matrix is copied at load into
 * sixteen-row groups ({@link Q6_KRowGroups}, the file's size) instead: single tokens run sixteen rows at a time
 * with the rows as lanes, prompts keep {@link KQuantPromptGemm} over lane weights transposed out of the groups, both
 * with the same bits (BENCHMARKS.md, "Session 28").
 */
final class Q6_KMatrix extends KQuantMatrix implements RowPairs.Kernel, RowGroupLayout.GroupKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 210;

    /**
     * The weights in {@link Q6_KRowGroups}' sixteen-row groups, which its kernel reads for every token; null unless
     * the CPU has 512-bit vectors at this width ({@link VectorWidth#native512}), the row count is a multiple of 16 and
     * every d is finite. The scalar kernel keeps reading {@link #data}; {@link #row} reads the groups.
     */
    private final MemorySegment groups;

    Q6_KMatrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q6_K, rows, cols, data, width);
        this.groups = width.native512() && rows % Q6_KRowGroups.ROWS == 0
                ? Q6_KRowGroups.pack(data, rows, cols / 256) : null;
    }

    /**
     * Quant {@code k} (0-3: elements l, l+32, l+64, l+96) of byte {@code l} in half {@code n} of the super-block at
     * {@code bo}, already minus 32.
     */
    private int quant(long bo, int n, int l, int k) {
        int ql = data.get(BYTE, bo + 64L * n + l + (k & 1) * 32) & 0xFF;
        int qh = data.get(BYTE, bo + 128 + 32L * n + l) & 0xFF;
        int low = k < 2 ? ql & 0xF : ql >> 4;
        return (low | (((qh >> (2 * k)) & 3) << 4)) - 32;
    }

    private int scale(long bo, int i) {
        return data.get(BYTE, bo + 192 + i);
    }

    /**
     * {@code dequantize_row_q6_K}: {@code y = d * scale * q}; from the row groups where they exist, so that a row-wise
     * reader (embedding lookups of a tied table, router training's transposed products) does not bring the unloaded
     * original back into memory beside them.
     */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        if (groups != null) {
            rowFromGroups(r, dst, dstOffset);
            return;
        }
        long off = rowOffset(r);
        for (int sb = 0; sb < cols / 256; sb++) {
            long bo = off + (long) sb * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo + 208));
            for (int n = 0; n < 2; n++) {
                int y = dstOffset + sb * 256 + 128 * n;
                for (int l = 0; l < 32; l++) {
                    int is = 8 * n + l / 16;
                    for (int k = 0; k < 4; k++) {
                        dst[y + l + 32 * k] = d * scale(bo, is + 2 * k) * quant(bo, n, l, k);
                    }
                }
            }
        }
    }

    /**
     * The scalar transcription of ggml's AVX2 {@code ggml_vec_dot_q6_K_q8_K} (b4916): per super-block, 32-bit lane
     * j of 8 holds the exact integer {@code sum scale * ((q - 32) . x)} over bytes 4j..4j+3 of each of the eight
     * 32-element planes (lanes 0-3 take the plane's first 16-element scale, lanes 4-7 its second, as the
     * {@code madd} with the shuffled scales does), converted to float and accumulated as
     * {@code fma(d_x * d, lane, acc_j)}; the lanes are reduced as {@code hsum_float_8}.
     */
    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        long off = rowOffset(r);
        int blocks = cols / 256;
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int sb = 0; sb < blocks; sb++) {
            long bo = off + (long) sb * BLOCK;
            int db = token * blocks + sb;
            float d = in.d[db] * Halfs.f16ToFloat(data.get(HALF, bo + 208));
            int e = db * 256;
            a0 = Math.fma(d, lane(bo, in.qs, e, 0), a0);
            a1 = Math.fma(d, lane(bo, in.qs, e, 1), a1);
            a2 = Math.fma(d, lane(bo, in.qs, e, 2), a2);
            a3 = Math.fma(d, lane(bo, in.qs, e, 3), a3);
            a4 = Math.fma(d, lane(bo, in.qs, e, 4), a4);
            a5 = Math.fma(d, lane(bo, in.qs, e, 5), a5);
            a6 = Math.fma(d, lane(bo, in.qs, e, 6), a6);
            a7 = Math.fma(d, lane(bo, in.qs, e, 7), a7);
        }
        return Q8_0Matrix.hsum8(a0, a1, a2, a3, a4, a5, a6, a7);
    }

    /** Integer lane {@code j} of one super-block (see {@link #scalarDot}). */
    private int lane(long bo, short[] xq, int e, int j) {
        int sum = 0;
        for (int n = 0; n < 2; n++) {
            for (int k = 0; k < 4; k++) {
                int dot = 0;
                for (int b = 4 * j; b < 4 * j + 4; b++) {
                    dot += quant(bo, n, b, k) * xq[e + 128 * n + 32 * k + b];
                }
                sum += scale(bo, 8 * n + 2 * k + j / 4) * dot;
            }
        }
        return sum;
    }

    /** {@link #row} read back from {@link #groups} (a lane's byte v holds its quant v and two bits of quant 3). */
    private void rowFromGroups(int r, float[] dst, int dstOffset) {
        long group = (long) (r - r % Q6_KRowGroups.ROWS) * rowBytes;
        int l = r % Q6_KRowGroups.ROWS;
        for (int sb = 0; sb < cols / 256; sb++) {
            long gb = group + (long) sb * Q6_KRowGroups.GROUP_BLOCK;
            float d = Halfs.f16ToFloat(groups.get(HALF, gb + 2L * l));
            for (int c = 0; c < 8; c++) {
                int y = dstOffset + sb * 256 + 32 * c;
                for (int p = 0; p < 4; p++) {
                    for (int g = 0; g < 2; g++) {
                        long at = gb + Q6_KRowGroups.planeAt(c, p) + 2L * l + g;
                        int scale = groups.get(BYTE, gb + Q6_KRowGroups.SCALES_AT + 16L * (2 * c + g) + l);
                        for (int e = 0; e < 4; e++) {
                            dst[y + 4 * (p + 4 * g) + e] = d * scale * (groupQuant(at, e) - 32);
                        }
                    }
                }
            }
        }
    }

    /**
     * With {@link #groups}, tokens below {@link KQuantPromptGemm#MIN_TOKENS} run sixteen rows at a time
     * ({@link Q6_KRowGroups#dot16}); prompts take {@link KQuantPromptGemm} as before, over weights unpacked from the
     * groups ({@link #laneWeightRows}): the group kernel token by token ran Llama-1B Q4_K_M pp64 at 0.74-0.85x of it
     * (BENCHMARKS.md, "Session 28"). Both give every (row, token) the scalar kernel's bits.
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (groups == null || in.tokens() >= KQuantPromptGemm.MIN_TOKENS) {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
            return;
        }
        RowGroupLayout.groupTokens(this, in, rowFrom, rowTo, Q6_KRowGroups.ROWS, Q6_KRowGroups.ROWS * rowBytes,
                out, outOffset, rows);
    }

    /** {@link Q6_KRowGroups#dot16} on {@link #groups} (the driver: {@link RowGroupLayout#groupRows}). */
    @Override
    public void dot8(QuantizedInput in, int token, long groupOffset, float[] out, int at) {
        int blocks = cols / 256;
        Q6_KRowGroups.dot16(groups, groupOffset, blocks, in.q6kPairs, token * blocks * Q6_KRowGroups.PAIRS, in.d,
                token * blocks, out, at);
    }

    @Override
    boolean readsQ6KPairs() {
        return groups != null;
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        return switch (width) {
            case W128 -> V128.dot(data, rowOffset(r), cols / 256, in, token);
            case W256, W512 -> V256.dot(data, rowOffset(r), cols / 256, in, token);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    void laneWeights(int r, int sb, int count, float[] dst, int off, float[] ds, int dOff) {
        if (groups == null) {
            V256.laneWeights(data, rowOffset(r), sb, count, dst, off, ds, dOff);
            return;
        }
        // one row of a group that a row range cuts: read back as {@link #rowFromGroups} does
        long group = (long) (r - r % Q6_KRowGroups.ROWS) * rowBytes;
        int l = r % Q6_KRowGroups.ROWS;
        for (int s = 0; s < count; s++) {
            long gb = group + (long) (sb + s) * Q6_KRowGroups.GROUP_BLOCK;
            ds[dOff + s] = Halfs.f16ToFloat(groups.get(HALF, gb + 2L * l));
            for (int c = 0; c < 8; c++) {
                for (int j = 0; j < 8; j++) {
                    int scale = groups.get(BYTE, gb + Q6_KRowGroups.SCALES_AT + 16L * (2 * c + j / 4) + l);
                    long at = gb + Q6_KRowGroups.planeAt(c, j % 4) + 2L * l + j / 4;
                    for (int e = 0; e < 4; e++) {
                        // lane order: element 4j + e of the plane to 8e + j
                        dst[off + 256 * s + 32 * c + 8 * e + j] = (groupQuant(at, e) - 32) * scale;
                    }
                }
            }
        }
    }

    /**
     * Quant {@code e} (0-3) of the group lane at byte {@code at}: the lane's three bytes 32 apart hold quants 0-2 in
     * their low six bits and quant 3's bit pairs on top ({@link Q6_KRowGroups#packLane}).
     */
    private int groupQuant(long at, int e) {
        if (e < 3) {
            return groups.get(BYTE, at + 32L * e) & 0x3F;
        }
        return ((groups.get(BYTE, at) & 0xFF) >> 6) | (((groups.get(BYTE, at + 32) & 0xFF) >> 6) << 2)
                | (((groups.get(BYTE, at + 64) & 0xFF) >> 6) << 4);
    }

    @Override
    int laneGroupRows() {
        return groups == null ? 0 : Q6_KRowGroups.ROWS;
    }

    /** Sixteen rows at a time ({@link Q6_KRowGroups#laneWeights16}). */
    @Override
    void laneWeightGroup(int r, int sb, int blocks, float[] dst, int off, int rowStride, float[] ds, int dOff,
            int dStride) {
        Q6_KRowGroups.laneWeights16(groups, (long) r * rowBytes, sb, blocks, dst, off, rowStride, ds, dOff, dStride);
    }

    @Override
    int minLaneCount() {
        return 0;
    }

    /** {@link V256#dot2}: the two-row single-token kernel that {@link RowPairs} drives at 256 bits and up. */
    @Override
    public void dotPair(int r, long stride, QuantizedInput in, int token, float[] out, int out0, int out1) {
        V256.dot2(data, rowOffset(r), stride, cols / 256, in, token, out, out0, out1);
    }


    /**
     * Q4_K's schemes (see there), the 128-bit kernel in float lanes: 32-byte runs of ql and qh read as eight
     * 32-bit lanes put bytes 4j..4j+3 in lane j, and the four 6-bit planes are assembled for all four bytes of a lane
     * at once (mask, shift, or). XOR-ing 0x20 into a 6-bit quant and sign-extending the 6-bit field gives
     * {@code q - 32} (q >= 32 loses bit 5; q < 32 gains it and turns negative), so one shift pair takes byte k of
     * every lane, already centred.
     * Products and partial sums stay integers of at most 32 * 32 * 128 * 127 < 2^24 per lane, so exact.
     */
    // One method per kernel, vectors only in locals (a vector passed to a call C2 does not inline gets boxed), and
    // only Vector API methods these call sites dispatch, with vector constants (Constants256 and Constants512 say why).
    private static final class V256 {
        static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
        static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
        static final VectorSpecies<Byte> SCALE_BYTES = ByteVector.SPECIES_64;
        /** Plane k's scales, bytes 2k and 2k+1 of a half's eight: lanes 0-3 take the first, lanes 4-7 the second. */
        static final VectorShuffle<Float> PLANE_SCALES_0 = VectorShuffle.fromValues(F, 0, 0, 0, 0, 1, 1, 1, 1);
        static final VectorShuffle<Float> PLANE_SCALES_1 = VectorShuffle.fromValues(F, 2, 2, 2, 2, 3, 3, 3, 3);
        static final VectorShuffle<Float> PLANE_SCALES_2 = VectorShuffle.fromValues(F, 4, 4, 4, 4, 5, 5, 5, 5);
        static final VectorShuffle<Float> PLANE_SCALES_3 = VectorShuffle.fromValues(F, 6, 6, 6, 6, 7, 7, 7, 7);

        /**
         * Single token, in integer lanes as Q4_K's: each plane's 6-bit quants are assembled two per 16-bit lane and
         * multiplied uncentred by {@link QuantizedInput#pairs}: pair sums (at most 2 * 63 * 127) and their neighbour
         * sums (4 * 63 * 127 = 32004) still fit 16 bits. The centring ({@code q - 32}) then comes off each 32-bit lane
         * as 32 times the input's 4-element sum ({@link QuantizedInput#offsets32}): one subtraction per plane instead
         * of sign-extending every quant (2.3-2.6 ms per 8192x2048 matvec instead of 3.1-3.2 ms). Lanes 0-3 and 4-7
         * of a plane take different scales, so the scale is a two-valued vector. The scaled sums are float FMAs: every
         * partial sum is an integer below 2^24 (see above), so exactly ggml's integer lane ({@link Constants256}).
         */
        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            short[] xp = in.pairs;
            int[] x32 = in.offsets32;
            FloatVector acc = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                FloatVector isum = FloatVector.zero(F);
                for (int n = 0; n < 2; n++) {
                    // planes written out with constant shifts: as a loop over planes (variable shift counts) this
                    // kernel ran 1.5x slower
                    ShortVector l1 = ShortVector.fromMemorySegment(S, w, bo + 64L * n, LE);
                    ShortVector l2 = ShortVector.fromMemorySegment(S, w, bo + 64L * n + 32, LE);
                    ShortVector h = ShortVector.fromMemorySegment(S, w, bo + 128 + 32L * n, LE);
                    ShortVector p0 = l1.lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                            h.lanewise(VectorOperators.LSHL, S4).lanewise(VectorOperators.AND, HIGH_BITS));
                    ShortVector p1 = l2.lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                            h.lanewise(VectorOperators.LSHL, S2).lanewise(VectorOperators.AND, HIGH_BITS));
                    ShortVector p2 = l1.lanewise(VectorOperators.LSHR, S4).lanewise(VectorOperators.AND, LOW_NIBBLES)
                            .lanewise(VectorOperators.OR, h.lanewise(VectorOperators.AND, HIGH_BITS));
                    ShortVector p3 = l2.lanewise(VectorOperators.LSHR, S4).lanewise(VectorOperators.AND, LOW_NIBBLES)
                            .lanewise(VectorOperators.OR,
                                    h.lanewise(VectorOperators.LSHR, S2).lanewise(VectorOperators.AND, HIGH_BITS));
                    int x = db * 256 + 128 * n;
                    long sc = bo + 192 + 8L * n;
                    IntVector q0 = (IntVector) p0.lanewise(VectorOperators.AND, LOW_BYTE)
                            .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x))
                            .lanewise(VectorOperators.ADD, p0.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 16)))
                            .reinterpretShape(I, 0);
                    IntVector q1 = (IntVector) p1.lanewise(VectorOperators.AND, LOW_BYTE)
                            .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 32))
                            .lanewise(VectorOperators.ADD, p1.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 48)))
                            .reinterpretShape(I, 0);
                    IntVector q2 = (IntVector) p2.lanewise(VectorOperators.AND, LOW_BYTE)
                            .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 64))
                            .lanewise(VectorOperators.ADD, p2.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 80)))
                            .reinterpretShape(I, 0);
                    IntVector q3 = (IntVector) p3.lanewise(VectorOperators.AND, LOW_BYTE)
                            .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 96))
                            .lanewise(VectorOperators.ADD, p3.lanewise(VectorOperators.LSHR, S8)
                                    .lanewise(VectorOperators.MUL, ShortVector.fromArray(S, xp, x + 112)))
                            .reinterpretShape(I, 0);
                    q0 = q0.lanewise(VectorOperators.ADD, q0.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16)
                            .lanewise(VectorOperators.SUB, IntVector.fromArray(I, x32, x / 4 + 0));
                    q1 = q1.lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16)
                            .lanewise(VectorOperators.SUB, IntVector.fromArray(I, x32, x / 4 + 8));
                    q2 = q2.lanewise(VectorOperators.ADD, q2.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16)
                            .lanewise(VectorOperators.SUB, IntVector.fromArray(I, x32, x / 4 + 16));
                    q3 = q3.lanewise(VectorOperators.ADD, q3.lanewise(VectorOperators.LSHL, I16))
                            .lanewise(VectorOperators.ASHR, I16)
                            .lanewise(VectorOperators.SUB, IntVector.fromArray(I, x32, x / 4 + 24));
                    // the half's eight int8 scales in one load, plane k's two spread over lanes 0-3 and 4-7
                    FloatVector scales = (FloatVector) ByteVector.fromMemorySegment(SCALE_BYTES, w, sc, LE)
                            .convertShape(VectorOperators.B2F, F, 0);
                    isum = ((FloatVector) q0.convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_0), isum);
                    isum = ((FloatVector) q1.convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_1), isum);
                    isum = ((FloatVector) q2.convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_2), isum);
                    isum = ((FloatVector) q3.convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_3), isum);
                }
                float d = in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo + 208));
                acc = isum.lanewise(VectorOperators.FMA, FloatVector.broadcast(F, d), acc);
            }
            return Q8_0Matrix.hsum8(acc.lane(0), acc.lane(1), acc.lane(2), acc.lane(3), acc.lane(4), acc.lane(5),
                    acc.lane(6), acc.lane(7));
        }

        /**
         * {@link #dot} for two rows at once (row 0 at {@code off}, row 1 {@code stride} bytes further), sharing the
         * input's loads; each row's lanes and sums are {@link #dot}'s, so are its bits.
         */
        static void dot2(MemorySegment w, long off, long stride, int blocks, QuantizedInput in, int token, float[] out,
                int out0, int out1) {
            short[] xp = in.pairs;
            int[] x32 = in.offsets32;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            long off1 = off + stride;
            for (int sb = 0; sb < blocks; sb++) {
                long bb = (long) sb * BLOCK;
                int db = token * blocks + sb;
                FloatVector isum0 = FloatVector.zero(F);
                FloatVector isum1 = FloatVector.zero(F);
                for (int n = 0; n < 2; n++) {
                    int x = db * 256 + 128 * n;
                    ShortVector x0 = ShortVector.fromArray(S, xp, x);
                    ShortVector x1 = ShortVector.fromArray(S, xp, x + 16);
                    ShortVector x2 = ShortVector.fromArray(S, xp, x + 32);
                    ShortVector x3 = ShortVector.fromArray(S, xp, x + 48);
                    ShortVector x4 = ShortVector.fromArray(S, xp, x + 64);
                    ShortVector x5 = ShortVector.fromArray(S, xp, x + 80);
                    ShortVector x6 = ShortVector.fromArray(S, xp, x + 96);
                    ShortVector x7 = ShortVector.fromArray(S, xp, x + 112);
                    IntVector c0 = IntVector.fromArray(I, x32, x / 4);
                    IntVector c1 = IntVector.fromArray(I, x32, x / 4 + 8);
                    IntVector c2 = IntVector.fromArray(I, x32, x / 4 + 16);
                    IntVector c3 = IntVector.fromArray(I, x32, x / 4 + 24);
                    // the two rows written out, each in its own block: as a loop over rows (an if/else or a
                    // rotation of the sums) the sums boxed under the slow-mode trigger (Constants256)
                    {
                        // row 0
                        long bo = off + bb;
                        ShortVector l1 = ShortVector.fromMemorySegment(S, w, bo + 64L * n, LE);
                        ShortVector l2 = ShortVector.fromMemorySegment(S, w, bo + 64L * n + 32, LE);
                        ShortVector h = ShortVector.fromMemorySegment(S, w, bo + 128 + 32L * n, LE);
                        ShortVector p0 = l1.lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                                h.lanewise(VectorOperators.LSHL, S4).lanewise(VectorOperators.AND, HIGH_BITS));
                        ShortVector p1 = l2.lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                                h.lanewise(VectorOperators.LSHL, S2).lanewise(VectorOperators.AND, HIGH_BITS));
                        ShortVector p2 = l1.lanewise(VectorOperators.LSHR, S4)
                                .lanewise(VectorOperators.AND, LOW_NIBBLES)
                                .lanewise(VectorOperators.OR, h.lanewise(VectorOperators.AND, HIGH_BITS));
                        ShortVector p3 = l2.lanewise(VectorOperators.LSHR, S4)
                                .lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                                        h.lanewise(VectorOperators.LSHR, S2).lanewise(VectorOperators.AND, HIGH_BITS));
                        IntVector q0 = (IntVector) p0.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x0).lanewise(VectorOperators.ADD,
                                        p0.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x1))
                                .reinterpretShape(I, 0);
                        IntVector q1 = (IntVector) p1.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x2).lanewise(VectorOperators.ADD,
                                        p1.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x3))
                                .reinterpretShape(I, 0);
                        IntVector q2 = (IntVector) p2.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x4).lanewise(VectorOperators.ADD,
                                        p2.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x5))
                                .reinterpretShape(I, 0);
                        IntVector q3 = (IntVector) p3.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x6).lanewise(VectorOperators.ADD,
                                        p3.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x7))
                                .reinterpretShape(I, 0);
                        q0 = q0.lanewise(VectorOperators.ADD, q0.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c0);
                        q1 = q1.lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c1);
                        q2 = q2.lanewise(VectorOperators.ADD, q2.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c2);
                        q3 = q3.lanewise(VectorOperators.ADD, q3.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c3);
                        FloatVector scales = (FloatVector) ByteVector.fromMemorySegment(SCALE_BYTES, w,
                                bo + 192 + 8L * n, LE).convertShape(VectorOperators.B2F, F, 0);
                        isum0 = ((FloatVector) q0.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_0), isum0);
                        isum0 = ((FloatVector) q1.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_1), isum0);
                        isum0 = ((FloatVector) q2.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_2), isum0);
                        isum0 = ((FloatVector) q3.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_3), isum0);
                    }
                    {
                        // row 1
                        long bo = off1 + bb;
                        ShortVector l1 = ShortVector.fromMemorySegment(S, w, bo + 64L * n, LE);
                        ShortVector l2 = ShortVector.fromMemorySegment(S, w, bo + 64L * n + 32, LE);
                        ShortVector h = ShortVector.fromMemorySegment(S, w, bo + 128 + 32L * n, LE);
                        ShortVector p0 = l1.lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                                h.lanewise(VectorOperators.LSHL, S4).lanewise(VectorOperators.AND, HIGH_BITS));
                        ShortVector p1 = l2.lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                                h.lanewise(VectorOperators.LSHL, S2).lanewise(VectorOperators.AND, HIGH_BITS));
                        ShortVector p2 = l1.lanewise(VectorOperators.LSHR, S4)
                                .lanewise(VectorOperators.AND, LOW_NIBBLES)
                                .lanewise(VectorOperators.OR, h.lanewise(VectorOperators.AND, HIGH_BITS));
                        ShortVector p3 = l2.lanewise(VectorOperators.LSHR, S4)
                                .lanewise(VectorOperators.AND, LOW_NIBBLES).lanewise(VectorOperators.OR,
                                        h.lanewise(VectorOperators.LSHR, S2).lanewise(VectorOperators.AND, HIGH_BITS));
                        IntVector q0 = (IntVector) p0.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x0).lanewise(VectorOperators.ADD,
                                        p0.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x1))
                                .reinterpretShape(I, 0);
                        IntVector q1 = (IntVector) p1.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x2).lanewise(VectorOperators.ADD,
                                        p1.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x3))
                                .reinterpretShape(I, 0);
                        IntVector q2 = (IntVector) p2.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x4).lanewise(VectorOperators.ADD,
                                        p2.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x5))
                                .reinterpretShape(I, 0);
                        IntVector q3 = (IntVector) p3.lanewise(VectorOperators.AND, LOW_BYTE)
                                .lanewise(VectorOperators.MUL, x6).lanewise(VectorOperators.ADD,
                                        p3.lanewise(VectorOperators.LSHR, S8).lanewise(VectorOperators.MUL, x7))
                                .reinterpretShape(I, 0);
                        q0 = q0.lanewise(VectorOperators.ADD, q0.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c0);
                        q1 = q1.lanewise(VectorOperators.ADD, q1.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c1);
                        q2 = q2.lanewise(VectorOperators.ADD, q2.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c2);
                        q3 = q3.lanewise(VectorOperators.ADD, q3.lanewise(VectorOperators.LSHL, I16))
                                .lanewise(VectorOperators.ASHR, I16).lanewise(VectorOperators.SUB, c3);
                        FloatVector scales = (FloatVector) ByteVector.fromMemorySegment(SCALE_BYTES, w,
                                bo + 192 + 8L * n, LE).convertShape(VectorOperators.B2F, F, 0);
                        isum1 = ((FloatVector) q0.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_0), isum1);
                        isum1 = ((FloatVector) q1.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_1), isum1);
                        isum1 = ((FloatVector) q2.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_2), isum1);
                        isum1 = ((FloatVector) q3.convertShape(VectorOperators.I2F, F, 0))
                                .lanewise(VectorOperators.FMA, scales.rearrange(PLANE_SCALES_3), isum1);
                    }
                }
                float dx = in.d[db];
                acc0 = isum0.lanewise(VectorOperators.FMA,
                        FloatVector.broadcast(F, dx * Halfs.f16ToFloat(w.get(HALF, off + bb + 208))), acc0);
                acc1 = isum1.lanewise(VectorOperators.FMA,
                        FloatVector.broadcast(F, dx * Halfs.f16ToFloat(w.get(HALF, off1 + bb + 208))), acc1);
            }
            out[out0] = Q8_0Matrix.hsum8(acc0.lane(0), acc0.lane(1), acc0.lane(2), acc0.lane(3), acc0.lane(4),
                    acc0.lane(5), acc0.lane(6), acc0.lane(7));
            out[out1] = Q8_0Matrix.hsum8(acc1.lane(0), acc1.lane(1), acc1.lane(2), acc1.lane(3), acc1.lane(4),
                    acc1.lane(5), acc1.lane(6), acc1.lane(7));
        }

        /** Float lanes 4-7: they take a plane's second 16-element scale. */
        static final VectorMask<Float> UPPER_FLOAT = VectorMask.fromLong(F, 0xF0L);

        /**
         * Super-blocks {@code [sb, sb + count)} as exact integer weights {@code (q - 32) * scale} in lane order (see
         * {@link KQuantMatrix#laneWeights}): the four 6-bit planes of a half assembled four bytes per
         * 32-bit lane as in {@link #dot}, byte b of each lane then a constant shift away; lanes 0-3 and 4-7 of a
         * plane take its two 16-element scales.
         */
        static void laneWeights(MemorySegment w, long off, int sb, int count, float[] dst, int at, float[] ds,
                int dAt) {
            for (int s = 0; s < count; s++) {
                long bo = off + (long) (sb + s) * BLOCK;
                ds[dAt + s] = Halfs.f16ToFloat(w.get(HALF, bo + 208));
                for (int n = 0; n < 2; n++) {
                    IntVector a = IntVector.fromMemorySegment(I, w, bo + 64L * n, LE);
                    IntVector b = IntVector.fromMemorySegment(I, w, bo + 64L * n + 32, LE);
                    IntVector h = IntVector.fromMemorySegment(I, w, bo + 128 + 32L * n, LE);
                    IntVector p0 = a.lanewise(VectorOperators.AND, INT_LOW_NIBBLES).lanewise(VectorOperators.OR,
                            h.lanewise(VectorOperators.LSHL, I4).lanewise(VectorOperators.AND, INT_HIGH_BITS));
                    IntVector p1 = b.lanewise(VectorOperators.AND, INT_LOW_NIBBLES).lanewise(VectorOperators.OR,
                            h.lanewise(VectorOperators.LSHL, I2).lanewise(VectorOperators.AND, INT_HIGH_BITS));
                    IntVector p2 = a.lanewise(VectorOperators.LSHR, I4).lanewise(VectorOperators.AND, INT_LOW_NIBBLES)
                            .lanewise(VectorOperators.OR, h.lanewise(VectorOperators.AND, INT_HIGH_BITS));
                    IntVector p3 = b.lanewise(VectorOperators.LSHR, I4).lanewise(VectorOperators.AND, INT_LOW_NIBBLES)
                            .lanewise(VectorOperators.OR,
                                    h.lanewise(VectorOperators.LSHR, I2).lanewise(VectorOperators.AND, INT_HIGH_BITS));
                    long sc = bo + 192 + 8L * n;
                    FloatVector s0 = FloatVector.broadcast(F, w.get(BYTE, sc))
                            .blend(FloatVector.broadcast(F, w.get(BYTE, sc + 1)), UPPER_FLOAT);
                    FloatVector s1 = FloatVector.broadcast(F, w.get(BYTE, sc + 2))
                            .blend(FloatVector.broadcast(F, w.get(BYTE, sc + 3)), UPPER_FLOAT);
                    FloatVector s2 = FloatVector.broadcast(F, w.get(BYTE, sc + 4))
                            .blend(FloatVector.broadcast(F, w.get(BYTE, sc + 5)), UPPER_FLOAT);
                    FloatVector s3 = FloatVector.broadcast(F, w.get(BYTE, sc + 6))
                            .blend(FloatVector.broadcast(F, w.get(BYTE, sc + 7)), UPPER_FLOAT);
                    int y = at + 256 * s + 128 * n;
                    // byte k of every lane, the planes shifted right by 8 per turn; carried round the loop as float
                    // vectors' bits, since an IntVector loop variable boxes under the slow-mode trigger (Constants256)
                    FloatVector b0 = (FloatVector) p0.reinterpretShape(F, 0);
                    FloatVector b1 = (FloatVector) p1.reinterpretShape(F, 0);
                    FloatVector b2 = (FloatVector) p2.reinterpretShape(F, 0);
                    FloatVector b3 = (FloatVector) p3.reinterpretShape(F, 0);
                    for (int k = 0; k < 4; k++) {
                        IntVector q0 = (IntVector) b0.reinterpretShape(I, 0);
                        IntVector q1 = (IntVector) b1.reinterpretShape(I, 0);
                        IntVector q2 = (IntVector) b2.reinterpretShape(I, 0);
                        IntVector q3 = (IntVector) b3.reinterpretShape(I, 0);
                        ((FloatVector) q0.lanewise(VectorOperators.AND, INT_LOW_BYTE).lanewise(VectorOperators.SUB, I32)
                                .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.MUL, s0)
                                .intoArray(dst, y + 8 * k);
                        ((FloatVector) q1.lanewise(VectorOperators.AND, INT_LOW_BYTE).lanewise(VectorOperators.SUB, I32)
                                .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.MUL, s1)
                                .intoArray(dst, y + 32 + 8 * k);
                        ((FloatVector) q2.lanewise(VectorOperators.AND, INT_LOW_BYTE).lanewise(VectorOperators.SUB, I32)
                                .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.MUL, s2)
                                .intoArray(dst, y + 64 + 8 * k);
                        ((FloatVector) q3.lanewise(VectorOperators.AND, INT_LOW_BYTE).lanewise(VectorOperators.SUB, I32)
                                .convertShape(VectorOperators.I2F, F, 0)).lanewise(VectorOperators.MUL, s3)
                                .intoArray(dst, y + 96 + 8 * k);
                        b0 = (FloatVector) q0.lanewise(VectorOperators.LSHR, I8).reinterpretShape(F, 0);
                        b1 = (FloatVector) q1.lanewise(VectorOperators.LSHR, I8).reinterpretShape(F, 0);
                        b2 = (FloatVector) q2.lanewise(VectorOperators.LSHR, I8).reinterpretShape(F, 0);
                        b3 = (FloatVector) q3.lanewise(VectorOperators.LSHR, I8).reinterpretShape(F, 0);
                    }
                }
            }
        }
    }

    /** 128-bit lanes: ggml's lanes 0-3 and 4-7 as two accumulators, each with one scale per plane. */
    private static final class V128 {
        static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;

        static float dot(MemorySegment w, long off, int blocks, QuantizedInput in, int token) {
            float[] xl = in.lanes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = FloatVector.zero(F);
            for (int sb = 0; sb < blocks; sb++) {
                long bo = off + (long) sb * BLOCK;
                int db = token * blocks + sb;
                FloatVector sumA = FloatVector.zero(F);
                FloatVector sumB = FloatVector.zero(F);
                for (int n = 0; n < 2; n++) {
                    IntVector ha = IntVector.fromMemorySegment(I, w, bo + 128 + 32L * n, LE);
                    IntVector hb = IntVector.fromMemorySegment(I, w, bo + 144 + 32L * n, LE);
                    for (int k = 0; k < 4; k++) {
                        long lo = bo + 64L * n + 32 * (k & 1);
                        IntVector pa = IntVector.fromMemorySegment(I, w, lo, LE)
                                .lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0x0F0F0F0F)
                                .or(ha.lanewise(VectorOperators.LSHR, 2 * k).lanewise(VectorOperators.LSHL, 4)
                                        .and(0x30303030))
                                .lanewise(VectorOperators.XOR, 0x20202020);
                        IntVector pb = IntVector.fromMemorySegment(I, w, lo + 16, LE)
                                .lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0x0F0F0F0F)
                                .or(hb.lanewise(VectorOperators.LSHR, 2 * k).lanewise(VectorOperators.LSHL, 4)
                                        .and(0x30303030))
                                .lanewise(VectorOperators.XOR, 0x20202020);
                        int x = db * 256 + 128 * n + 32 * k;
                        FloatVector a = FloatVector.zero(F);
                        FloatVector b = FloatVector.zero(F);
                        for (int byteIndex = 0; byteIndex < 4; byteIndex++) {
                            int shift = 26 - 8 * byteIndex;
                            a = ((FloatVector) pa.lanewise(VectorOperators.LSHL, shift)
                                    .lanewise(VectorOperators.ASHR, 26).convertShape(VectorOperators.I2F, F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * byteIndex), a);
                            b = ((FloatVector) pb.lanewise(VectorOperators.LSHL, shift)
                                    .lanewise(VectorOperators.ASHR, 26).convertShape(VectorOperators.I2F, F, 0))
                                    .fma(FloatVector.fromArray(F, xl, x + 8 * byteIndex + 4), b);
                        }
                        long sc = bo + 192 + 8L * n + 2 * k;
                        sumA = a.fma(FloatVector.broadcast(F, (float) w.get(BYTE, sc)), sumA);
                        sumB = b.fma(FloatVector.broadcast(F, (float) w.get(BYTE, sc + 1)), sumB);
                    }
                }
                FloatVector d = FloatVector.broadcast(F, in.d[db] * Halfs.f16ToFloat(w.get(HALF, bo + 208)));
                accA = sumA.fma(d, accA);
                accB = sumB.fma(d, accB);
            }
            return Q8_0Matrix.hsum8(accA.lane(0), accA.lane(1), accA.lane(2), accA.lane(3), accB.lane(0),
                    accB.lane(1), accB.lane(2), accB.lane(3));
        }
    }
}

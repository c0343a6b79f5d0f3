package dev.buddy.engine.tensor;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.FMA;
import static jdk.incubator.vector.VectorOperators.MUL;
import static jdk.incubator.vector.VectorOperators.NEG;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The prompt GEMM of the K-quants (Q4_K, Q5_K, Q6_K) at 256 and 512 bits: weights dequantised once per slice into
 * exact integers in ggml's lane order, then a float micro-kernel of two rows by four tokens over them.
 *
 * <p>Why this is exact: ggml's AVX2 {@code ggml_vec_dot_q*_K_q8_K} forms, per super-block, eight 32-bit integer
 * lanes (lane j: bytes 4j..4j+3 of every 32-element group, each product scaled by its group's integer scale), converts
 * them to float and accumulates {@code fma(d_x * d_w, lane, acc)}. Here each weight becomes the float
 * {@code q * scale} (Q6_K: {@code (q - 32) * scale}), an integer, stored so that float lane j of every 8-float
 * vector holds the same elements as ggml's lane j ({@link QuantizedInput#lanes} orders the Q8_K activations the
 * same way). Every product and partial sum of one super-block's lane is then an integer of magnitude at most
 * 32 * 32 * 128 * 128 = 2^24 (Q6_K, the widest; Q4_K 32 * 15 * 63 * 127), which float represents exactly in any
 * summation order; so the lane sums equal ggml's integer lanes, and the per-super-block FMA, {@code hsum_float_8}
 * and the format's min term (same lanes, same order, eight tokens per vector) reproduce the single-token kernel's
 * bits for every (row, token), as llama.cpp's prompt path (one {@code vec_dot} per row and token) does.
 *
 * <p>Why it is faster: the single-token kernels unpack every weight for every token; this unpacks each weight once
 * per slice and token block (up to {@value #TOKEN_BLOCK} tokens), and the micro-kernel then needs six vector loads
 * for eight FMAs. Blocking: {@value #ROW_BLOCK} rows by {@value #SLICE_BLOCKS} super-blocks of dequantised weights
 * (32 KiB) against the same slice of up to {@value #TOKEN_BLOCK} tokens' activations (128 KiB) in L2; within one
 * super-block, four tokens' activations (4 KiB) meet all the block's rows (16 KiB) in L1. Per-(row, token) lane
 * totals live in a small array between super-blocks.
 *
 * <p>Measured (JMH {@code KernelBenchmark.prefill}, 8192x2048, 64 tokens, one thread, old and new jars alternated):
 * Q4_K 146 to 86-92 ms, Q5_K 183 to 82-87 ms, Q6_K 183-203 to 76-96 ms; {@code buddy bench} pp128 on the
 * Llama-3.2-1B-shaped Q4_K_M file at two threads 13.1-14.0 to 20.6-22.2 t/s. A 2x3 micro-kernel and one looping over
 * the slice's super-blocks inside the call were no faster (the latter slower: 128 ms for Q6_K). The tile loop runs
 * at about 0.85 FMA per cycle against 1.5 for the same loop on L1-resident arrays alone.
 */
final class KQuantPromptGemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /** Rows dequantised together. */
    static final int ROW_BLOCK = 16;
    /** Super-blocks of 256 elements per slice of the inner dimension. */
    static final int SLICE_BLOCKS = 2;
    static final int SLICE = SLICE_BLOCKS * 256;
    /** Tokens per block: their activations for one slice stay in L2. */
    static final int TOKEN_BLOCK = 64;
    /** Tokens per call below which the single-token kernels run instead (dequantising costs about a token's dot). */
    static final int MIN_TOKENS = 4;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private KQuantPromptGemm() {
    }

    /** Rows {@code [rowFrom, rowTo)} of {@code m} for every token of {@code in}; out is token-major. */
    static void rows(KQuantMatrix m, QuantizedInput in, int rowFrom, int rowTo, float[] out,
            int outOffset) {
        Scratch s = SCRATCH.get();
        int tokens = in.tokens();
        int cols = m.cols;
        int blocks = cols / 256;
        int minLanes = m.minLaneCount();
        float[] xl = in.lanes;
        float[] xd = in.d;
        for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
            int nt = Math.min(TOKEN_BLOCK, tokens - t0);
            if (minLanes > 0) {
                s.transposeTokens(in, blocks, t0, nt);
            }
            for (int r0 = rowFrom; r0 < rowTo; r0 += ROW_BLOCK) {
                int nr = Math.min(ROW_BLOCK, rowTo - r0);
                java.util.Arrays.fill(s.totals, 0, ROW_BLOCK * TOKEN_BLOCK * 8, 0f);
                if (minLanes > 0) {
                    java.util.Arrays.fill(s.minTotals, 0, ROW_BLOCK * 4 * TOKEN_BLOCK, 0f);
                }
                for (int sb0 = 0; sb0 < blocks; sb0 += SLICE_BLOCKS) {
                    int nsb = Math.min(SLICE_BLOCKS, blocks - sb0);
                    m.laneWeightRows(r0, nr, sb0, nsb, s.weights, 0, SLICE, s.scales, 0, SLICE_BLOCKS);
                    if (minLanes > 0) {
                        for (int i = 0; i < nr; i++) {
                            m.mins(r0 + i, sb0, nsb, s.mins, i * SLICE_BLOCKS * 8, s.dmins, i * SLICE_BLOCKS);
                        }
                    }
                    for (int sb = 0; sb < nsb; sb++) {
                        slice(s, xl, xd, cols, blocks, sb0 + sb, sb, nr, t0, nt);
                        if (minLanes == 4) {
                            minLanes4(s, sb0 + sb, sb, nr, nt);
                        } else if (minLanes == 1) {
                            minLane1(s, sb0 + sb, sb, nr, nt);
                        }
                    }
                }
                for (int i = 0; i < nr; i++) {
                    int r = r0 + i;
                    for (int t = 0; t < nt; t++) {
                        int tot = (i * TOKEN_BLOCK + t) * 8;
                        float[] a = s.totals;
                        float v = Q8_0Matrix.hsum8(a[tot], a[tot + 1], a[tot + 2], a[tot + 3], a[tot + 4],
                                a[tot + 5], a[tot + 6], a[tot + 7]);
                        int mt = i * 4 * TOKEN_BLOCK + t;
                        float[] mn = s.minTotals;
                        if (minLanes == 4) {
                            v += Q4_KMatrix.minLanes(mn[mt], mn[mt + TOKEN_BLOCK], mn[mt + 2 * TOKEN_BLOCK],
                                    mn[mt + 3 * TOKEN_BLOCK]);
                        } else if (minLanes == 1) {
                            v += mn[mt];
                        }
                        out[outOffset + (t0 + t) * m.rows + r] = v;
                    }
                }
            }
        }
    }

    /**
     * Q4_K's min lanes for every row and token of the blocks over one super-block, eight tokens per vector: lane k
     * gets {@code fma(-d_x * dmin, m_2k * bsum_2k + m_2k+1 * bsum_2k+1, lane)}, the exact integer in int lanes.
     */
    private static void minLanes4(Scratch scr, int sb, int s, int nr, int nt) {
        int[] bs = scr.blockSumsT;
        float[] dxT = scr.dT;
        float[] tot = scr.minTotals;
        for (int i = 0; i < nr; i++) {
            int mo = (i * SLICE_BLOCKS + s) * 8;
            int[] m = scr.mins;
            FloatVector dmin = FloatVector.broadcast(F, scr.dmins[i * SLICE_BLOCKS + s]);
            for (int t = 0; t < nt; t += 8) {
                FloatVector d = FloatVector.fromArray(F, dxT, sb * TOKEN_BLOCK + t).lanewise(NEG).lanewise(MUL, dmin);
                int b = sb * 8 * TOKEN_BLOCK + t;
                int at = i * 4 * TOKEN_BLOCK + t;
                for (int k = 0; k < 4; k++) {
                    IntVector pair = IntVector.fromArray(I, bs, b + 2 * k * TOKEN_BLOCK)
                            .lanewise(MUL, IntVector.broadcast(I, m[mo + 2 * k]))
                            .lanewise(ADD, IntVector.fromArray(I, bs, b + (2 * k + 1) * TOKEN_BLOCK)
                                    .lanewise(MUL, IntVector.broadcast(I, m[mo + 2 * k + 1])));
                    ((FloatVector) pair.convertShape(VectorOperators.I2F, F, 0))
                            .lanewise(FMA, d, FloatVector.fromArray(F, tot, at + k * TOKEN_BLOCK))
                            .intoArray(tot, at + k * TOKEN_BLOCK);
                }
            }
        }
    }

    /**
     * Q5_K's single min lane: {@code fma(-d_x * dmin, sum_j m_j * bsum_j, summs)}, eight tokens per vector. Kept apart
     * from {@link #minLanes4}: one method looping over a lane count made the Q4_K GEMM 1.6x slower (150 against 90
     * ms for 64 tokens).
     */
    private static void minLane1(Scratch scr, int sb, int s, int nr, int nt) {
        int[] bs = scr.blockSumsT;
        float[] dxT = scr.dT;
        float[] tot = scr.minTotals;
        for (int i = 0; i < nr; i++) {
            int mo = (i * SLICE_BLOCKS + s) * 8;
            int[] m = scr.mins;
            FloatVector dmin = FloatVector.broadcast(F, scr.dmins[i * SLICE_BLOCKS + s]);
            for (int t = 0; t < nt; t += 8) {
                FloatVector d = FloatVector.fromArray(F, dxT, sb * TOKEN_BLOCK + t).lanewise(NEG).lanewise(MUL, dmin);
                int b = sb * 8 * TOKEN_BLOCK + t;
                IntVector sum = IntVector.fromArray(I, bs, b).lanewise(MUL, IntVector.broadcast(I, m[mo]));
                for (int g = 1; g < 8; g++) {
                    sum = sum.lanewise(ADD, IntVector.fromArray(I, bs, b + g * TOKEN_BLOCK)
                            .lanewise(MUL, IntVector.broadcast(I, m[mo + g])));
                }
                int at = i * 4 * TOKEN_BLOCK + t;
                ((FloatVector) sum.convertShape(VectorOperators.I2F, F, 0))
                        .lanewise(FMA, d, FloatVector.fromArray(F, tot, at))
                        .intoArray(tot, at);
            }
        }
    }

    /** One super-block ({@code sb} of the matrix, {@code s} of the slice) for every row and token of the blocks. */
    private static void slice(Scratch scr, float[] xl, float[] xd, int cols, int blocks, int sb, int s, int nr,
            int t0, int nt) {
        // token groups outside, rows inside: one group's activations (4 KiB) and the block's weights of this
        // super-block (16 KiB) stay in L1 together
        int t = 0;
        for (; t + 4 <= nt; t += 4) {
            int i = 0;
            for (; i + 2 <= nr; i += 2) {
                tile2x4(scr, xl, xd, cols, blocks, sb, s, i, t0 + t, t);
            }
            for (; i < nr; i++) {
                for (int u = t; u < t + 4; u++) {
                    tile1x1(scr, xl, xd, cols, blocks, sb, s, i, t0 + u, u);
                }
            }
        }
        for (; t < nt; t++) {
            for (int i = 0; i < nr; i++) {
                tile1x1(scr, xl, xd, cols, blocks, sb, s, i, t0 + t, t);
            }
        }
    }

    /**
     * Rows {@code i, i+1} of the block by tokens {@code token .. token+3} over one super-block: eight exact lane
     * sums, then each folded into its total as ggml does, {@code fma(d_x * d_w, sum, total)}.
     */
    private static void tile2x4(Scratch scr, float[] xl, float[] xd, int cols, int blocks, int sb, int s, int i,
            int token, int tt) {
        float[] w = scr.weights;
        int w0 = i * SLICE + s * 256;
        int w1 = w0 + SLICE;
        int x0 = token * cols + sb * 256;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F);
        FloatVector a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a13 = FloatVector.zero(F);
        for (int e = 0; e < 256; e += 8) {
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + e);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + e);
            FloatVector x = FloatVector.fromArray(F, xl, x0 + e);
            a00 = v0.lanewise(FMA, x, a00);
            a10 = v1.lanewise(FMA, x, a10);
            x = FloatVector.fromArray(F, xl, x0 + cols + e);
            a01 = v0.lanewise(FMA, x, a01);
            a11 = v1.lanewise(FMA, x, a11);
            x = FloatVector.fromArray(F, xl, x0 + 2 * cols + e);
            a02 = v0.lanewise(FMA, x, a02);
            a12 = v1.lanewise(FMA, x, a12);
            x = FloatVector.fromArray(F, xl, x0 + 3 * cols + e);
            a03 = v0.lanewise(FMA, x, a03);
            a13 = v1.lanewise(FMA, x, a13);
        }
        float[] tot = scr.totals;
        float d0 = scr.scales[i * SLICE_BLOCKS + s];
        float d1 = scr.scales[(i + 1) * SLICE_BLOCKS + s];
        int dx = token * blocks + sb;
        int t00 = (i * TOKEN_BLOCK + tt) * 8;
        int t10 = t00 + TOKEN_BLOCK * 8;
        fold(a00, xd[dx] * d0, tot, t00);
        fold(a01, xd[dx + blocks] * d0, tot, t00 + 8);
        fold(a02, xd[dx + 2 * blocks] * d0, tot, t00 + 16);
        fold(a03, xd[dx + 3 * blocks] * d0, tot, t00 + 24);
        fold(a10, xd[dx] * d1, tot, t10);
        fold(a11, xd[dx + blocks] * d1, tot, t10 + 8);
        fold(a12, xd[dx + 2 * blocks] * d1, tot, t10 + 16);
        fold(a13, xd[dx + 3 * blocks] * d1, tot, t10 + 24);
    }

    /** One row by one token over one super-block (the leftovers of {@link #tile2x4}). */
    private static void tile1x1(Scratch scr, float[] xl, float[] xd, int cols, int blocks, int sb, int s, int i,
            int token, int tt) {
        float[] w = scr.weights;
        int w0 = i * SLICE + s * 256;
        int x0 = token * cols + sb * 256;
        FloatVector a = FloatVector.zero(F);
        for (int e = 0; e < 256; e += 8) {
            a = FloatVector.fromArray(F, w, w0 + e).lanewise(FMA, FloatVector.fromArray(F, xl, x0 + e), a);
        }
        fold(a, xd[token * blocks + sb] * scr.scales[i * SLICE_BLOCKS + s], scr.totals, (i * TOKEN_BLOCK + tt) * 8);
    }

    /** {@code total = fma(sum, d, total)} lane by lane: ggml's per-super-block accumulation. */
    private static void fold(FloatVector sum, float d, float[] tot, int at) {
        sum.lanewise(FMA, FloatVector.broadcast(F, d), FloatVector.fromArray(F, tot, at)).intoArray(tot, at);
    }

    /** Per-thread buffers, allocated once per thread (the token-major sums grow with the widest row seen). */
    private static final class Scratch {
        final float[] weights = new float[ROW_BLOCK * SLICE];
        final float[] scales = new float[ROW_BLOCK * SLICE_BLOCKS];
        final float[] totals = new float[ROW_BLOCK * TOKEN_BLOCK * 8];
        final int[] mins = new int[ROW_BLOCK * SLICE_BLOCKS * 8];
        final float[] dmins = new float[ROW_BLOCK * SLICE_BLOCKS];
        final float[] minTotals = new float[ROW_BLOCK * 4 * TOKEN_BLOCK];
        /** {@code blockSumsT[(sb * 8 + g) * TOKEN_BLOCK + t]}: the 32-quant sum g of token t, super-block sb. */
        int[] blockSumsT = new int[0];
        /** {@code dT[sb * TOKEN_BLOCK + t]}: the Q8_K scale of token t, super-block sb. */
        float[] dT = new float[0];

        /**
         * Tokens {@code [t0, t0 + nt)}'s block sums and scales, token-minor; tokens past nt read as 0. Each parallel
         * chunk redoes this for its own token block (at most 64 x blocks x 8 ints, against millions of FMAs per
         * chunk), which keeps the token-minor layout out of {@link QuantizedInput}.
         */
        void transposeTokens(QuantizedInput in, int blocks, int t0, int nt) {
            if (dT.length < blocks * TOKEN_BLOCK) {
                blockSumsT = new int[blocks * 8 * TOKEN_BLOCK];
                dT = new float[blocks * TOKEN_BLOCK];
            }
            java.util.Arrays.fill(blockSumsT, 0, blocks * 8 * TOKEN_BLOCK, 0);
            java.util.Arrays.fill(dT, 0, blocks * TOKEN_BLOCK, 0f);
            for (int t = 0; t < nt; t++) {
                for (int sb = 0; sb < blocks; sb++) {
                    int db = (t0 + t) * blocks + sb;
                    dT[sb * TOKEN_BLOCK + t] = in.d[db];
                    for (int g = 0; g < 8; g++) {
                        blockSumsT[(sb * 8 + g) * TOKEN_BLOCK + t] = in.blockSums[db * 8 + g];
                    }
                }
            }
        }
    }
}

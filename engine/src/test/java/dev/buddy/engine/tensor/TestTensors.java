package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.codec.BlockCodecs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Test tensors: random GGUF blocks (every quant bit pattern is valid, only the fp16 scale fields are forced to
 * finite values) and an independent transcription of ggml's {@code dequantize_row_*} to check the kernels against.
 */
final class TestTensors {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The formats the kernels support. */
    static final GgmlType[] FORMATS = {
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
        GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K
    };

    private TestTensors() {
    }

    /**
     * A {@code rows x cols} tensor of random blocks, placed {@code misalign} bytes into a larger segment (so the
     * kernels see the unaligned block starts a real GGUF file gives them) and returned as a slice.
     */
    static MemorySegment randomTensor(GgmlType type, int rows, int cols, int misalign, Random rnd, Arena arena) {
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        byte[] raw = new byte[(int) bytes];
        rnd.nextBytes(raw);
        MemorySegment.copy(raw, 0, t, ValueLayout.JAVA_BYTE, 0, raw.length);
        long blocks = (long) rows * cols / type.blockSize();
        int bpb = type.bytesPerBlock();
        switch (type) {
            case F32 -> {
                for (long i = 0; i < blocks; i++) {
                    t.set(FLOAT, 4 * i, (float) rnd.nextGaussian());
                }
            }
            case F16 -> {
                for (long i = 0; i < blocks; i++) {
                    t.set(HALF, 2 * i, Float.floatToFloat16((float) rnd.nextGaussian()));
                }
            }
            case BF16 -> {
                for (long i = 0; i < blocks; i++) {
                    t.set(HALF, 2 * i, Halfs.floatToBf16((float) rnd.nextGaussian()));
                }
            }
            case Q8_0, Q4_0, Q5_0 -> {
                for (long b = 0; b < blocks; b++) {
                    t.set(HALF, b * bpb, scale(rnd));
                }
            }
            case Q4_1, Q5_1, Q4_K, Q5_K -> {
                for (long b = 0; b < blocks; b++) {
                    t.set(HALF, b * bpb, scale(rnd));
                    t.set(HALF, b * bpb + 2, scale(rnd));
                }
            }
            case Q6_K -> {
                for (long b = 0; b < blocks; b++) {
                    t.set(HALF, b * bpb + 208, scale(rnd));
                }
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
        return t;
    }

    /**
     * A tensor as a real model file holds it: Gaussian weights (with a few outliers) quantised by the reference
     * codecs ({@code quantize_row_*_ref}), placed {@code misalign} bytes into a larger segment.
     */
    static MemorySegment quantizedTensor(GgmlType type, int rows, int cols, int misalign, Random rnd, Arena arena) {
        float[] w = new float[rows * cols];
        float scale = (float) Math.exp(rnd.nextDouble(Math.log(1e-3), Math.log(1)));
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian() * scale * (rnd.nextInt(50) == 0 ? 8 : 1);
        }
        byte[] bytes = BlockCodecs.quantize(type, w);
        MemorySegment whole = arena.allocate(bytes.length + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes.length);
        MemorySegment.copy(bytes, 0, t, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return t;
    }

    /** Either kind of tensor: random bit patterns, or codec-quantised Gaussian weights. */
    static MemorySegment tensor(boolean quantizedByCodec, GgmlType type, int rows, int cols, int misalign, Random rnd,
            Arena arena) {
        return quantizedByCodec
                ? quantizedTensor(type, rows, cols, misalign, rnd, arena)
                : randomTensor(type, rows, cols, misalign, rnd, arena);
    }

    private static short scale(Random rnd) {
        float magnitude = (float) Math.exp(rnd.nextDouble(Math.log(1e-4), Math.log(5e-2)));
        return Float.floatToFloat16(rnd.nextBoolean() ? magnitude : -magnitude);
    }

    /** Random activations with a spread of magnitudes, some exact zeros and, now and then, an all-zero block. */
    static float[] randomInput(int n, Random rnd) {
        float[] x = new float[n];
        float scale = (float) Math.exp(rnd.nextDouble(Math.log(1e-3), Math.log(30)));
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextInt(16) == 0 ? 0f : (float) rnd.nextGaussian() * scale;
        }
        if (n >= 32 && rnd.nextInt(4) == 0) {
            int start = rnd.nextInt(n / 32) * 32;
            java.util.Arrays.fill(x, start, start + 32, 0f);
        }
        return x;
    }

    /** Row {@code r} dequantised as ggml's {@code dequantize_row_*} does (transcribed independently of main). */
    static float[] dequantizeRow(GgmlType type, MemorySegment t, int r, int cols) {
        float[] y = new float[cols];
        long off = r * type.byteSize(cols);
        int bpb = type.bytesPerBlock();
        for (int b = 0; b < cols / type.blockSize(); b++) {
            long o = off + (long) b * bpb;
            int yo = b * type.blockSize();
            switch (type) {
                case F32 -> y[yo] = t.get(FLOAT, o);
                case F16 -> y[yo] = Float.float16ToFloat(t.get(HALF, o));
                case BF16 -> y[yo] = Float.intBitsToFloat((t.get(HALF, o) & 0xFFFF) << 16);
                case Q8_0 -> {
                    float d = f16(t, o);
                    for (int j = 0; j < 32; j++) {
                        y[yo + j] = t.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
                    }
                }
                case Q4_0 -> {
                    float d = f16(t, o);
                    for (int j = 0; j < 16; j++) {
                        int q = u8(t, o + 2 + j);
                        y[yo + j] = ((q & 0x0F) - 8) * d;
                        y[yo + j + 16] = ((q >> 4) - 8) * d;
                    }
                }
                case Q4_1 -> {
                    float d = f16(t, o);
                    float m = f16(t, o + 2);
                    for (int j = 0; j < 16; j++) {
                        int q = u8(t, o + 4 + j);
                        y[yo + j] = (q & 0x0F) * d + m;
                        y[yo + j + 16] = (q >> 4) * d + m;
                    }
                }
                case Q5_0 -> {
                    float d = f16(t, o);
                    int qh = t.get(INT, o + 2);
                    for (int j = 0; j < 16; j++) {
                        int xh0 = ((qh >>> j) << 4) & 0x10;
                        int xh1 = (qh >>> (j + 12)) & 0x10;
                        int q = u8(t, o + 6 + j);
                        y[yo + j] = (((q & 0x0F) | xh0) - 16) * d;
                        y[yo + j + 16] = (((q >> 4) | xh1) - 16) * d;
                    }
                }
                case Q5_1 -> {
                    float d = f16(t, o);
                    float m = f16(t, o + 2);
                    int qh = t.get(INT, o + 4);
                    for (int j = 0; j < 16; j++) {
                        int xh0 = ((qh >>> j) << 4) & 0x10;
                        int xh1 = (qh >>> (j + 12)) & 0x10;
                        int q = u8(t, o + 8 + j);
                        y[yo + j] = ((q & 0x0F) | xh0) * d + m;
                        y[yo + j + 16] = ((q >> 4) | xh1) * d + m;
                    }
                }
                case Q4_K -> {
                    float d = f16(t, o);
                    float min = f16(t, o + 2);
                    long q = o + 16;
                    int is = 0;
                    int yi = yo;
                    for (int j = 0; j < 256; j += 64) {
                        int[] sm1 = scaleMinK4(t, o + 4, is);
                        int[] sm2 = scaleMinK4(t, o + 4, is + 1);
                        float d1 = d * sm1[0];
                        float m1 = min * sm1[1];
                        float d2 = d * sm2[0];
                        float m2 = min * sm2[1];
                        for (int l = 0; l < 32; l++) {
                            y[yi++] = d1 * (u8(t, q + l) & 0xF) - m1;
                        }
                        for (int l = 0; l < 32; l++) {
                            y[yi++] = d2 * (u8(t, q + l) >> 4) - m2;
                        }
                        q += 32;
                        is += 2;
                    }
                }
                case Q5_K -> {
                    float d = f16(t, o);
                    float min = f16(t, o + 2);
                    long qh = o + 16;
                    long ql = o + 48;
                    int is = 0;
                    int u1 = 1;
                    int u2 = 2;
                    int yi = yo;
                    for (int j = 0; j < 256; j += 64) {
                        int[] sm1 = scaleMinK4(t, o + 4, is);
                        int[] sm2 = scaleMinK4(t, o + 4, is + 1);
                        float d1 = d * sm1[0];
                        float m1 = min * sm1[1];
                        float d2 = d * sm2[0];
                        float m2 = min * sm2[1];
                        for (int l = 0; l < 32; l++) {
                            y[yi++] = d1 * ((u8(t, ql + l) & 0xF) + ((u8(t, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                        }
                        for (int l = 0; l < 32; l++) {
                            y[yi++] = d2 * ((u8(t, ql + l) >> 4) + ((u8(t, qh + l) & u2) != 0 ? 16 : 0)) - m2;
                        }
                        ql += 32;
                        is += 2;
                        u1 <<= 2;
                        u2 <<= 2;
                    }
                }
                case Q6_K -> {
                    float d = f16(t, o + 208);
                    long ql = o;
                    long qh = o + 128;
                    long sc = o + 192;
                    int yi = yo;
                    for (int n = 0; n < 256; n += 128) {
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int q1 = ((u8(t, ql + l) & 0xF) | (((u8(t, qh + l) >> 0) & 3) << 4)) - 32;
                            int q2 = ((u8(t, ql + l + 32) & 0xF) | (((u8(t, qh + l) >> 2) & 3) << 4)) - 32;
                            int q3 = ((u8(t, ql + l) >> 4) | (((u8(t, qh + l) >> 4) & 3) << 4)) - 32;
                            int q4 = ((u8(t, ql + l + 32) >> 4) | (((u8(t, qh + l) >> 6) & 3) << 4)) - 32;
                            y[yi + l] = d * s8(t, sc + is) * q1;
                            y[yi + l + 32] = d * s8(t, sc + is + 2) * q2;
                            y[yi + l + 64] = d * s8(t, sc + is + 4) * q3;
                            y[yi + l + 96] = d * s8(t, sc + is + 6) * q4;
                        }
                        yi += 128;
                        ql += 64;
                        qh += 32;
                        sc += 8;
                    }
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return y;
    }

    /**
     * A bound on |w_i| including the block offsets that cancel inside the kernels' block sums (Q4_1/Q5_1 {@code m},
     * K-quant {@code dmin * min}), so tolerances scale with what the kernels actually add up.
     */
    static double[] magnitudeRow(GgmlType type, MemorySegment t, int r, int cols) {
        float[] w = dequantizeRow(type, t, r, cols);
        double[] m = new double[cols];
        long off = r * type.byteSize(cols);
        for (int i = 0; i < cols; i++) {
            long o = off + (long) (i / type.blockSize()) * type.bytesPerBlock();
            double offset = switch (type) {
                case Q4_1, Q5_1 -> 2 * Math.abs(f16(t, o + 2));
                case Q4_K, Q5_K -> 2 * 63 * Math.abs(f16(t, o + 2));
                default -> 0;
            };
            m[i] = Math.abs(w[i]) + offset;
        }
        return m;
    }

    private static int[] scaleMinK4(MemorySegment t, long q, int j) {
        if (j < 4) {
            return new int[] {u8(t, q + j) & 63, u8(t, q + j + 4) & 63};
        }
        return new int[] {
            (u8(t, q + j + 4) & 0xF) | ((u8(t, q + j - 4) >> 6) << 4),
            (u8(t, q + j + 4) >> 4) | ((u8(t, q + j) >> 6) << 4)
        };
    }

    private static float f16(MemorySegment t, long o) {
        return Float.float16ToFloat(t.get(HALF, o));
    }

    private static int u8(MemorySegment t, long o) {
        return t.get(ValueLayout.JAVA_BYTE, o) & 0xFF;
    }

    private static int s8(MemorySegment t, long o) {
        return t.get(ValueLayout.JAVA_BYTE, o);
    }

    /**
     * Q4_0 blocks with random fp16 scales; nibbles random (mode 0), all 15 (1), all 0 (2), or each block all 0 or
     * all 15 at random (3): the largest positive and negative products of the biased quants.
     */
    static MemorySegment q4_0Tensor(int rows, int cols, int nibbleMode, int misalign, Random rnd, Arena arena) {
        long bytes = (long) rows * cols / 32 * 18;
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        for (long bo = 0; bo < bytes; bo += 18) {
            float magnitude = (float) Math.exp(rnd.nextDouble(Math.log(1e-4), Math.log(5e-2)));
            t.set(HALF, bo, Float.floatToFloat16(rnd.nextBoolean() ? magnitude : -magnitude));
            fillNibbles(t, bo + 2, nibbleMode, rnd);
        }
        return t;
    }

    /**
     * The 16 quant bytes of a 4-bit block at {@code at}: random (mode 0), all nibbles 15 (1), all 0 (2), or all 0 or
     * all 15 at random (3).
     */
    static void fillNibbles(MemorySegment t, long at, int nibbleMode, Random rnd) {
        int fill = switch (nibbleMode) {
            case 1 -> 0xFF;
            case 2 -> 0x00;
            case 3 -> rnd.nextBoolean() ? 0xFF : 0x00;
            default -> -1;
        };
        for (int j = 0; j < 16; j++) {
            t.set(ValueLayout.JAVA_BYTE, at + j, (byte) (fill < 0 ? rnd.nextInt(256) : fill));
        }
    }



    /**
     * Activations for Q8_0 blocks: random (mode 0), or blocks of one value each, so every quant is +127 or -127 (mode 1
     * random signs, mode 2 all negative).
     */
    static float[] q8Input(int cols, int inputMode, Random rnd) {
        if (inputMode == 0) {
            return TestTensors.randomInput(cols, rnd);
        }
        float[] x = new float[cols];
        for (int b = 0; b < cols / 32; b++) {
            float v = (float) Math.exp(rnd.nextDouble(Math.log(1e-3), Math.log(30)));
            boolean negative = inputMode == 2 || rnd.nextBoolean();
            Arrays.fill(x, b * 32, b * 32 + 32, negative ? -v : v);
        }
        return x;
    }


    /** {@code tokens} rows of {@link #q8Input} one after another, drawn in token order. */
    static float[] q8Inputs(int tokens, int cols, int inputMode, Random rnd) {
        float[] x = new float[tokens * cols];
        for (int k = 0; k < tokens; k++) {
            System.arraycopy(q8Input(cols, inputMode, rnd), 0, x, k * cols, cols);
        }
        return x;
    }

    /** Every SIMD width this machine runs, plus the 512-bit kernels (emulated in Java where AVX-512 is missing). */
    static Arbitrary<VectorWidth> simdWidthsWith512() {
        List<VectorWidth> widths = new ArrayList<>(VectorWidth.available());
        widths.remove(VectorWidth.SCALAR);
        if (!widths.contains(VectorWidth.W512)) {
            widths.add(VectorWidth.W512);
        }
        return Arbitraries.of(widths);
    }

    /**
     * Asserts that {@code width}'s kernels give the scalar kernels' float bits on tensor {@code t} ({@code rows} x
     * {@code cols} of {@code type}) for the {@code tokens} tokens of {@code x}: the scalar matmul on {@code serial},
     * the SIMD one on {@code pool}; a failure names the output, its row and token, and both values.
     */
    static void assertScalarBits(GgmlType type, int rows, int cols, MemorySegment t, VectorWidth width, float[] x,
            int tokens, Parallel serial, Parallel pool) {
        long[] dims = {cols, rows};
        WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
        WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
        float[] expected = new float[tokens * rows];
        float[] actual = new float[tokens * rows];
        scalar.matmul(x, tokens, expected, serial);
        simd.matmul(x, tokens, actual, pool);
        for (int i = 0; i < expected.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(expected[i]),
                    Float.floatToRawIntBits(actual[i]), type + " " + width + " " + rows + "x" + cols + ", " + tokens
                            + " tokens, row " + i % rows + " token " + i / rows + ": " + expected[i] + " vs "
                            + actual[i]);
        }
    }

    /** A finite fp16 value of either sign, now and then subnormal (the scale widening's other case) or zero. */
    static short finiteHalf(Random rnd) {
        return switch (rnd.nextInt(10)) {
            case 0 -> (short) (rnd.nextInt(0x400) | (rnd.nextBoolean() ? 0x8000 : 0));
            case 1 -> 0;
            default -> {
                float magnitude = (float) Math.exp(rnd.nextDouble(Math.log(1e-4), Math.log(5e-2)));
                yield Float.floatToFloat16(rnd.nextBoolean() ? magnitude : -magnitude);
            }
        };
    }

    /**
     * For a format whose SIMD widths copy whole matrices into row groups: {@link #assertScalarBits} at every width this
     * machine runs (matmuls of {@code tokens} tokens on {@code pool}), a single-token matvec of a random token, and a
     * random row range of the first {@code rangeTokens} tokens ({@link #assertRowRangeGivesTheScalarBits}), each
     * against the scalar kernel bit for bit.
     */
    static void assertGroupMatmulsGiveTheScalarBits(GgmlType type, int rows, int cols, MemorySegment t, float[] x,
            int tokens, int rangeTokens, Random rnd, Parallel serial, Parallel pool) {
        for (VectorWidth width : VectorWidth.available()) {
            assertScalarBits(type, rows, cols, t, width, x, tokens, serial, pool);
        }
        WeightMatrix simd = WeightMatrix.of("w", type, new long[] {cols, rows}, t);
        WeightMatrix scalar = WeightMatrix.of("w", type, new long[] {cols, rows}, t, VectorWidth.SCALAR);
        float[] expected = new float[rows];
        float[] actual = new float[rows];
        int k = rnd.nextInt(tokens);
        scalar.matvec(x, k * cols, expected, 0, serial);
        simd.matvec(x, k * cols, actual, 0, pool);
        for (int r = 0; r < rows; r++) {
            org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(expected[r]),
                    Float.floatToRawIntBits(actual[r]),
                    "decode, row " + r + " of " + rows + ": scalar " + expected[r] + " simd " + actual[r]);
        }
        // a row range that starts and ends anywhere, as a chunk of matmulAll's concatenated rows can
        QuantizedInput in = new QuantizedInput(simd.activationFormat());
        in.quantize(x, 0, rangeTokens, cols);
        simd.prepareInput(in);
        assertRowRangeGivesTheScalarBits(scalar, simd, in, x, rangeTokens, rnd, serial);
    }

    /**
     * Asserts that {@code simd} computing only a random row range {@code [from, to)} of the {@code tokens} tokens of
     * {@code in} (quantised from {@code x}), as a chunk of matmulAll's concatenated rows can, gives there the bits of
     * {@code scalar}'s whole matmul and writes nothing outside it.
     */
    static void assertRowRangeGivesTheScalarBits(WeightMatrix scalar, WeightMatrix simd, QuantizedInput in, float[] x,
            int tokens, Random rnd, Parallel serial) {
        int rows = scalar.rows();
        int from = rnd.nextInt(rows);
        int to = from + 1 + rnd.nextInt(rows - from);
        float[] all = new float[tokens * rows];
        float[] cut = new float[tokens * rows];
        scalar.matmul(x, tokens, all, serial);
        simd.computeRows(in, from, to, cut, 0);
        for (int i = 0; i < all.length; i++) {
            int r = i % rows;
            if (r >= from && r < to) {
                org.junit.jupiter.api.Assertions.assertEquals(Float.floatToRawIntBits(all[i]),
                        Float.floatToRawIntBits(cut[i]),
                        "rows " + from + "-" + to + " of " + rows + ", row " + r + " token " + i / rows);
            } else {
                org.junit.jupiter.api.Assertions.assertEquals(0f, cut[i],
                        "row " + r + " outside " + from + "-" + to + " written");
            }
        }
    }
}

package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q2_K: super-blocks of 256 in 16 sub-blocks of 16, {@code x = d·sc_j·q - dmin·m_j} with 2-bit {@code q} and 4-bit
 * sub-block scales and mins. Layout ({@code block_q2_K}, 84 bytes): 16 bytes of scales (low nibble) and mins (high
 * nibble), 64 bytes of quants, fp16 {@code d}, fp16 {@code dmin}. Each 128-element half uses 32 quant bytes: element
 * {@code 32s + l} sits at bits {@code 2s..2s+1} of byte {@code l}.
 */
final class Q2_KCodec extends AbstractBlockCodec {
    private static final int QK_K = 256;
    private static final int SCALES = 0;
    private static final int QS = 16;
    private static final int D = 80;
    private static final int DMIN = 82;

    Q2_KCodec() {
        super(GgmlType.Q2_K);
    }

    /** ggml's {@code dequantize_row_q2_K}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset + D);
        float min = LittleEndian.half(src, offset + DMIN);
        long q = offset + QS;
        int y = dstOffset;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                int sc = LittleEndian.u8(src, offset + SCALES + is++);
                float dl = d * (sc & 0xF);
                float ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) {
                    dst[y++] = dl * ((LittleEndian.u8(src, q + l) >> shift) & 3) - ml;
                }
                sc = LittleEndian.u8(src, offset + SCALES + is++);
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) {
                    dst[y++] = dl * ((LittleEndian.u8(src, q + l + 16) >> shift) & 3) - ml;
                }
                shift += 2;
            }
            q += 32;
        }
    }

    /**
     * ggml's {@code quantize_row_q2_K_ref}: fit each sub-block with {@code make_qkx2_quants} (weights {@code |x|},
     * absolute error), quantise scales and mins to 4 bits, then re-round every element against the stored values.
     */
    @Override
    void quantizeBlock(float[] x, int xOffset, byte[] block) {
        final float q4scale = 15.f;
        byte[] levels = new byte[QK_K];
        byte[] scratch = new byte[16];
        float[] weights = new float[16];
        float[] mins = new float[QK_K / 16];
        float[] scales = new float[QK_K / 16];

        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l) {
                weights[l] = Math.abs(x[xOffset + 16 * j + l]);
            }
            scales[j] = QuantMath.makeQkx2Quants(16, 3, x, xOffset + 16 * j, weights, levels, 16 * j, mins, j,
                    scratch, -0.5f, 0.1f, 15, true);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }

        if (maxScale > 0) {
            float iscale = q4scale / maxScale;
            for (int j = 0; j < QK_K / 16; ++j) {
                block[SCALES + j] = (byte) QuantMath.nearestInt(iscale * scales[j]);
            }
            LittleEndian.putHalf(block, D, maxScale / q4scale);
        } else {
            LittleEndian.putHalf(block, D, 0.f);
        }
        if (maxMin > 0) {
            float iscale = q4scale / maxMin;
            for (int j = 0; j < QK_K / 16; ++j) {
                int l = QuantMath.nearestInt(iscale * mins[j]);
                block[SCALES + j] |= (byte) (l << 4);
            }
            LittleEndian.putHalf(block, DMIN, maxMin / q4scale);
        } else {
            LittleEndian.putHalf(block, DMIN, 0.f);
        }

        float storedD = LittleEndian.half(block, D);
        float storedDmin = LittleEndian.half(block, DMIN);
        for (int j = 0; j < QK_K / 16; ++j) {
            int sc = block[SCALES + j] & 0xFF;
            float d = storedD * (sc & 0xF);
            if (d == 0) {
                continue;
            }
            float dm = storedDmin * (sc >> 4);
            for (int ii = 0; ii < 16; ++ii) {
                int l = QuantMath.nearestInt((x[xOffset + 16 * j + ii] + dm) / d);
                levels[16 * j + ii] = (byte) QuantMath.clamp(l, 0, 3);
            }
        }

        packTwoBitQuants(levels, block, QS);
    }

    /** Packs 256 two-bit levels as Q2_K and Q3_K store their low bits. */
    static void packTwoBitQuants(byte[] levels, byte[] block, int qs) {
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                block[qs + j / 4 + l] = (byte) (levels[j + l] | (levels[j + l + 32] << 2) | (levels[j + l + 64] << 4)
                        | (levels[j + l + 96] << 6));
            }
        }
    }
}

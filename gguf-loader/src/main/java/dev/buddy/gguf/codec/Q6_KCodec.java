package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q6_K: super-blocks of 256 in 16 sub-blocks of 16, {@code x = d·sc_j·(q - 32)} with 6-bit {@code q} and int8
 * sub-block scales. Layout ({@code block_q6_K}, 210 bytes): 128 bytes {@code ql} of low nibbles, 64 bytes {@code qh}
 * of 2-bit high parts, 16 int8 scales, fp16 {@code d}. Each 128-element half uses 64 {@code ql} and 32 {@code qh}
 * bytes: for {@code l < 32}, elements {@code l, l+32, l+64, l+96} take the low nibble of {@code ql[l]}, of
 * {@code ql[l+32]}, the high nibble of {@code ql[l]}, of {@code ql[l+32]}, and bits 0-1, 2-3, 4-5, 6-7 of
 * {@code qh[l]}.
 */
final class Q6_KCodec extends AbstractBlockCodec {
    private static final int QK_K = 256;
    private static final int QL = 0;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    Q6_KCodec() {
        super(GgmlType.Q6_K);
    }

    /** ggml's {@code dequantize_row_q6_K}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset + D);
        long ql = offset + QL;
        long qh = offset + QH;
        long sc = offset + SCALES;
        int y = dstOffset;
        for (int n = 0; n < QK_K; n += 128) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                int low0 = LittleEndian.u8(src, ql + l);
                int low32 = LittleEndian.u8(src, ql + l + 32);
                int high = LittleEndian.u8(src, qh + l);
                int q1 = ((low0 & 0xF) | ((high & 3) << 4)) - 32;
                int q2 = ((low32 & 0xF) | (((high >> 2) & 3) << 4)) - 32;
                int q3 = ((low0 >> 4) | (((high >> 4) & 3) << 4)) - 32;
                int q4 = ((low32 >> 4) | (((high >> 6) & 3) << 4)) - 32;
                dst[y + l] = d * LittleEndian.i8(src, sc + is) * q1;
                dst[y + l + 32] = d * LittleEndian.i8(src, sc + is + 2) * q2;
                dst[y + l + 64] = d * LittleEndian.i8(src, sc + is + 4) * q3;
                dst[y + l + 96] = d * LittleEndian.i8(src, sc + is + 6) * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }

    /**
     * ggml's {@code quantize_row_q6_K_ref}: fit each sub-block with {@code make_qx_quants} (levels -32..31), quantise
     * the 16 scales to int8 against the one of largest magnitude, then re-round every element against the stored
     * scales.
     */
    @Override
    void quantizeBlock(float[] x, int xOffset, byte[] block) {
        byte[] levels = new byte[QK_K];
        float[] scales = new float[QK_K / 16];

        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < QK_K / 16; ++ib) {
            float scale = QuantMath.makeQxQuants(16, 32, x, xOffset + 16 * ib, levels, 16 * ib);
            scales[ib] = scale;
            float absScale = Math.abs(scale);
            if (absScale > maxAbsScale) {
                maxAbsScale = absScale;
                maxScale = scale;
            }
        }
        if (maxAbsScale < QuantMath.GROUP_MAX_EPS) {
            return; // ggml writes an all-zero block
        }

        float iscale = -128.f / maxScale;
        LittleEndian.putHalf(block, D, 1 / iscale);
        for (int ib = 0; ib < QK_K / 16; ++ib) {
            block[SCALES + ib] = (byte) Math.min(127, QuantMath.nearestInt(iscale * scales[ib]));
        }

        float storedD = LittleEndian.half(block, D);
        for (int j = 0; j < QK_K / 16; ++j) {
            float d = storedD * block[SCALES + j];
            if (d == 0) {
                continue; // keeps the make_qx_quants levels, as ggml does
            }
            for (int ii = 0; ii < 16; ++ii) {
                int l = QuantMath.nearestInt(x[xOffset + 16 * j + ii] / d);
                levels[16 * j + ii] = (byte) (QuantMath.clamp(l, -32, 31) + 32);
            }
        }

        int ql = QL;
        int qh = QH;
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                int l0 = levels[j + l];
                int l32 = levels[j + l + 32];
                int l64 = levels[j + l + 64];
                int l96 = levels[j + l + 96];
                block[ql + l] = (byte) ((l0 & 0xF) | ((l64 & 0xF) << 4));
                block[ql + l + 32] = (byte) ((l32 & 0xF) | ((l96 & 0xF) << 4));
                block[qh + l] = (byte) ((l0 >> 4) | ((l32 >> 4) << 2) | ((l64 >> 4) << 4) | ((l96 >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }
}

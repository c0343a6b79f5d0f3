package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q5_K: as Q4_K but with 5-bit quants. Layout ({@code block_q5_K}, 176 bytes): fp16 {@code d}, fp16 {@code dmin},
 * 12 bytes of packed 6-bit scales and mins, 32 bytes {@code qh} of fifth bits (bit {@code 2c} of {@code qh[l]} for
 * element {@code 64c + l}, bit {@code 2c+1} for element {@code 64c + 32 + l}), 128 bytes of low nibbles laid out as
 * Q4_K's.
 */
final class Q5_KCodec extends AbstractBlockCodec {
    private static final int QK_K = 256;
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;

    Q5_KCodec() {
        super(GgmlType.Q5_K);
    }

    /** ggml's {@code dequantize_row_q5_K}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        float min = LittleEndian.half(src, offset + 2);
        long scales = offset + SCALES;
        long qh = offset + QH;
        long ql = offset + QS;
        int y = dstOffset;
        int is = 0;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            float d1 = d * QuantMath.scaleK4(src, scales, is);
            float m1 = min * QuantMath.minK4(src, scales, is);
            float d2 = d * QuantMath.scaleK4(src, scales, is + 1);
            float m2 = min * QuantMath.minK4(src, scales, is + 1);
            for (int l = 0; l < 32; ++l) {
                int high = (LittleEndian.u8(src, qh + l) & u1) != 0 ? 16 : 0;
                dst[y++] = d1 * ((LittleEndian.u8(src, ql + l) & 0xF) + high) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                int high = (LittleEndian.u8(src, qh + l) & u2) != 0 ? 16 : 0;
                dst[y++] = d2 * ((LittleEndian.u8(src, ql + l) >> 4) + high) - m2;
            }
            ql += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    /** ggml's {@code quantize_row_q5_K_ref}: Q4_K's procedure with 32 levels and a narrower scale search. */
    @Override
    void quantizeBlock(float[] x, int xOffset, byte[] block) {
        byte[] levels = new byte[QK_K];
        byte[] scratch = new byte[32];
        float[] weights = new float[32];
        float[] mins = new float[QK_K / 32];
        float[] scales = new float[QK_K / 32];

        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 32; ++j) {
            int sub = xOffset + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) {
                sumX2 += x[sub + l] * x[sub + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) {
                weights[l] = avX + Math.abs(x[sub + l]);
            }
            scales[j] = QuantMath.makeQkx2Quants(32, 31, x, sub, weights, levels, 32 * j, mins, j, scratch, -0.5f,
                    0.1f, 15, false);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }

        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        for (int j = 0; j < QK_K / 32; ++j) {
            int ls = Math.min(63, QuantMath.nearestInt(invScale * scales[j]) & 0xFF);
            int lm = Math.min(63, QuantMath.nearestInt(invMin * mins[j]) & 0xFF);
            QuantMath.packScaleMinK4(block, SCALES, j, ls, lm);
        }
        LittleEndian.putHalf(block, 0, maxScale / 63.f);
        LittleEndian.putHalf(block, 2, maxMin / 63.f);

        MemorySegment stored = MemorySegment.ofArray(block);
        float storedD = LittleEndian.half(block, 0);
        float storedDmin = LittleEndian.half(block, 2);
        for (int j = 0; j < QK_K / 32; ++j) {
            float d = storedD * QuantMath.scaleK4(stored, SCALES, j);
            if (d == 0) {
                continue;
            }
            float dm = storedDmin * QuantMath.minK4(stored, SCALES, j);
            for (int ii = 0; ii < 32; ++ii) {
                int l = QuantMath.nearestInt((x[xOffset + 32 * j + ii] + dm) / d);
                levels[32 * j + ii] = (byte) QuantMath.clamp(l, 0, 31);
            }
        }

        int m1 = 1;
        int m2 = 2;
        int ql = QS;
        for (int n = 0; n < QK_K; n += 64) {
            for (int j = 0; j < 32; ++j) {
                int l1 = levels[n + j];
                if (l1 > 15) {
                    l1 -= 16;
                    block[QH + j] |= (byte) m1;
                }
                int l2 = levels[n + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    block[QH + j] |= (byte) m2;
                }
                block[ql + j] = (byte) (l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
            ql += 32;
        }
    }
}

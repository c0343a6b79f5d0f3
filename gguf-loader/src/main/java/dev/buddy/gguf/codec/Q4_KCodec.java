package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q4_K: super-blocks of 256 in 8 sub-blocks of 32, {@code x = d·sc_j·q - dmin·m_j} with 4-bit {@code q} and 6-bit
 * sub-block scales {@code sc_j} and mins {@code m_j}. Layout ({@code block_q4_K}, 144 bytes): fp16 {@code d}, fp16
 * {@code dmin}, 12 bytes of packed scales and mins (see {@link QuantMath#scaleK4}), then 128 bytes of nibbles: each
 * 32-byte run holds one 64-element chunk, low nibbles the first 32 elements, high nibbles the next 32.
 */
final class Q4_KCodec extends AbstractBlockCodec {
    private static final int QK_K = 256;
    private static final int SCALES = 4;
    private static final int QS = 16;

    Q4_KCodec() {
        super(GgmlType.Q4_K);
    }

    /** ggml's {@code dequantize_row_q4_K}. */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float d = LittleEndian.half(src, offset);
        float min = LittleEndian.half(src, offset + 2);
        long scales = offset + SCALES;
        long q = offset + QS;
        int y = dstOffset;
        int is = 0;
        for (int j = 0; j < QK_K; j += 64) {
            float d1 = d * QuantMath.scaleK4(src, scales, is);
            float m1 = min * QuantMath.minK4(src, scales, is);
            float d2 = d * QuantMath.scaleK4(src, scales, is + 1);
            float m2 = min * QuantMath.minK4(src, scales, is + 1);
            for (int l = 0; l < 32; ++l) {
                dst[y++] = d1 * (LittleEndian.u8(src, q + l) & 0xF) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                dst[y++] = d2 * (LittleEndian.u8(src, q + l) >> 4) - m2;
            }
            q += 32;
            is += 2;
        }
    }

    /**
     * ggml's {@code quantize_row_q4_K_ref}: fit each sub-block with {@code make_qkx2_quants} (weights
     * {@code rms + |x|}), quantise the 8 scales and 8 mins to 6 bits against their maxima, then re-round every element
     * against the scales as actually stored.
     */
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
            scales[j] = QuantMath.makeQkx2Quants(32, 15, x, sub, weights, levels, 32 * j, mins, j, scratch, -1.f,
                    0.1f, 20, false);
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
            // C stores nearest_int() into a uint8_t before clamping, hence the & 0xFF.
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
                continue; // keeps the make_qkx2_quants levels, as ggml does
            }
            float dm = storedDmin * QuantMath.minK4(stored, SCALES, j);
            for (int ii = 0; ii < 32; ++ii) {
                int l = QuantMath.nearestInt((x[xOffset + 32 * j + ii] + dm) / d);
                levels[32 * j + ii] = (byte) QuantMath.clamp(l, 0, 15);
            }
        }

        int q = QS;
        for (int j = 0; j < QK_K; j += 64) {
            for (int l = 0; l < 32; ++l) {
                block[q + l] = (byte) (levels[j + l] | (levels[j + l + 32] << 4));
            }
            q += 32;
        }
    }
}

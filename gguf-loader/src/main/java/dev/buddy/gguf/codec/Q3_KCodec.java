package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Q3_K: super-blocks of 256 in 16 sub-blocks of 16, {@code x = d·(sc_j - 32)·(q - 4)} with 3-bit {@code q} and 6-bit
 * sub-block scales. Layout ({@code block_q3_K}, 110 bytes): 32 bytes {@code hmask} (bit {@code e/32} of byte
 * {@code e%32} is element {@code e}'s high bit, set meaning "no -4"), 64 bytes of low 2-bit quants packed as Q2_K's,
 * 12 bytes of scales, fp16 {@code d}. Scale {@code j} keeps its low 4 bits in the low (j &lt; 8) or high (j ≥ 8)
 * nibble of byte {@code j % 8}, and its top 2 bits at bit {@code 2·(j/4)} of byte {@code 8 + j % 4}.
 */
final class Q3_KCodec extends AbstractBlockCodec {
    private static final int QK_K = 256;
    private static final int HMASK = 0;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;

    Q3_KCodec() {
        super(GgmlType.Q3_K);
    }

    /**
     * ggml's {@code dequantize_row_q3_K}. ggml unpacks the 16 scales with 32-bit mask tricks; reading each scale by
     * the layout rule above yields the same numbers.
     */
    @Override
    void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset) {
        float dAll = LittleEndian.half(src, offset + D);
        long q = offset + QS;
        long hm = offset + HMASK;
        int m = 1;
        int y = dstOffset;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                float dl = dAll * (scale(src, offset + SCALES, is++) - 32);
                for (int l = 0; l < 16; ++l) {
                    int low = (LittleEndian.u8(src, q + l) >> shift) & 3;
                    dst[y++] = dl * (low - ((LittleEndian.u8(src, hm + l) & m) != 0 ? 0 : 4));
                }
                dl = dAll * (scale(src, offset + SCALES, is++) - 32);
                for (int l = 0; l < 16; ++l) {
                    int low = (LittleEndian.u8(src, q + l + 16) >> shift) & 3;
                    dst[y++] = dl * (low - ((LittleEndian.u8(src, hm + l + 16) & m) != 0 ? 0 : 4));
                }
                shift += 2;
                m <<= 1;
            }
            q += 32;
        }
    }

    /** The unsigned 6-bit scale {@code j} (0..15) of the 12 scale bytes at {@code scales}. */
    private static int scale(MemorySegment block, long scales, int j) {
        int low = j < 8 ? LittleEndian.u8(block, scales + j) & 0xF : LittleEndian.u8(block, scales + j - 8) >> 4;
        int high = (LittleEndian.u8(block, scales + 8 + j % 4) >> (2 * (j / 4))) & 3;
        return low | (high << 4);
    }

    /**
     * ggml's {@code quantize_row_q3_K_ref}: fit each sub-block with {@code make_q3_quants}, quantise the 16 scales to
     * 6 bits against the one of largest magnitude, then re-round every element against the stored scales.
     */
    @Override
    void quantizeBlock(float[] x, int xOffset, byte[] block) {
        byte[] levels = new byte[QK_K];
        float[] scales = new float[QK_K / 16];

        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            scales[j] = QuantMath.makeQ3Quants(16, 4, x, xOffset + 16 * j, levels, 16 * j);
            float scale = Math.abs(scales[j]);
            if (scale > amax) {
                amax = scale;
                maxScale = scales[j];
            }
        }

        if (maxScale != 0) {
            float iscale = -32.f / maxScale;
            for (int j = 0; j < QK_K / 16; ++j) {
                // C: int8_t l = nearest_int(...), so the int is truncated to 8 bits before clamping.
                int l = QuantMath.clamp((byte) QuantMath.nearestInt(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) {
                    block[SCALES + j] = (byte) (l & 0xF);
                } else {
                    block[SCALES + j - 8] |= (byte) ((l & 0xF) << 4);
                }
                l >>= 4;
                block[SCALES + j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
            }
            LittleEndian.putHalf(block, D, 1 / iscale);
        } else {
            LittleEndian.putHalf(block, D, 0.f);
        }

        MemorySegment stored = MemorySegment.ofArray(block);
        float storedD = LittleEndian.half(block, D);
        for (int j = 0; j < QK_K / 16; ++j) {
            int sc = scale(stored, SCALES, j) - 32;
            float d = storedD * sc;
            if (d == 0) {
                continue; // keeps the make_q3_quants levels, as ggml does
            }
            for (int ii = 0; ii < 16; ++ii) {
                int l = QuantMath.nearestInt(x[xOffset + 16 * j + ii] / d);
                levels[16 * j + ii] = (byte) (QuantMath.clamp(l, -4, 3) + 4);
            }
        }

        // The high bit of the first 32 elements goes into bit 0 of hmask[0..31], of the next 32 into bit 1, etc.
        int m = 0;
        int hm = 1;
        for (int j = 0; j < QK_K; ++j) {
            if (levels[j] > 3) {
                block[HMASK + m] |= (byte) hm;
                levels[j] -= 4;
            }
            if (++m == QK_K / 8) {
                m = 0;
                hm <<= 1;
            }
        }
        Q2_KCodec.packTwoBitQuants(levels, block, QS);
    }
}

package dev.buddy.opencl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import dev.buddy.gguf.GgmlType;

/**
 * Random GGUF blocks for the kernel tests. Besides weights quantised by the reference codecs, the tests feed blocks
 * of arbitrary bytes: every bit pattern is a valid block, so each bit of the layout is exercised, including quant
 * values and scale bits that ggml's quantisers rarely produce.
 */
final class BlockReference {
    private BlockReference() {}

    /**
     * A random row of {@code cols} elements in {@code type}'s layout. Quantised blocks get arbitrary quant bytes (every
     * bit pattern is a valid block) and small finite half scales, so each layout bit matters.
     */
    static byte[] randomRow(GgmlType type, int cols, Random rnd) {
        ByteBuffer b = ByteBuffer.allocate((int) type.byteSize(cols)).order(ByteOrder.LITTLE_ENDIAN);
        int blocks = cols / type.blockSize();
        switch (type) {
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    b.putFloat(rnd.nextFloat() * 2 - 1);
                }
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    b.putShort(Float.floatToFloat16(rnd.nextFloat() * 2 - 1));
                }
            }
            case Q8_0 -> {
                for (int k = 0; k < blocks; k++) {
                    b.putShort(scale(rnd, 0.02f, true));
                    bytes(b, rnd, 32);
                }
            }
            case Q4_0 -> {
                for (int k = 0; k < blocks; k++) {
                    b.putShort(scale(rnd, 0.2f, true));
                    bytes(b, rnd, 16);
                }
            }
            case Q4_1 -> {
                for (int k = 0; k < blocks; k++) {
                    b.putShort(scale(rnd, 0.1f, false));
                    b.putShort(scale(rnd, 1f, true));
                    bytes(b, rnd, 16);
                }
            }
            case Q4_K -> {
                for (int k = 0; k < blocks; k++) {
                    b.putShort(scale(rnd, 0.005f, false));
                    b.putShort(scale(rnd, 0.005f, false));
                    bytes(b, rnd, 12 + 128);
                }
            }
            case Q6_K -> {
                for (int k = 0; k < blocks; k++) {
                    bytes(b, rnd, 128 + 64 + 16);
                    b.putShort(scale(rnd, 0.002f, true));
                }
            }
            default -> throw new IllegalArgumentException("no generator for " + type);
        }
        return b.array();
    }

    private static short scale(Random rnd, float max, boolean signed) {
        float v = max * (0.05f + 0.95f * rnd.nextFloat());
        return Float.floatToFloat16(signed && rnd.nextBoolean() ? -v : v);
    }

    private static void bytes(ByteBuffer b, Random rnd, int n) {
        byte[] r = new byte[n];
        rnd.nextBytes(r);
        b.put(r);
    }

}

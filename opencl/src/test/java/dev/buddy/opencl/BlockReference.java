package dev.buddy.opencl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import dev.buddy.gguf.GgmlType;

/**
 * Test-side GGUF block builders and the scalar dequantisers the kernels are checked against, written from ggml's
 * {@code dequantize_row_*} (ggml-quants.c) independently of the kernels.
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

    /** ggml's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d). */
    static byte[] quantizeQ8_0(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < x.length / 32; k++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[k * 32 + j]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                b.put((byte) Math.round(x[k * 32 + j] * id));
            }
        }
        return b.array();
    }

    /** ggml's quantize_row_q4_0_ref: d = (signed absmax) / -8, q = min(15, (int)(x / d + 8.5)). */
    static byte[] quantizeQ4_0(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length / 32 * 18).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < x.length / 32; k++) {
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; j++) {
                float v = x[k * 32 + j];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0 ? 1f / d : 0f;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, (int) (x[k * 32 + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (x[k * 32 + 16 + j] * id + 8.5f));
                b.put((byte) (q0 | (q1 << 4)));
            }
        }
        return b.array();
    }

    /** Dequantises one row (ggml's dequantize_row_* semantics, float arithmetic). */
    static float[] dequantize(GgmlType type, byte[] row, int cols) {
        ByteBuffer b = ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[cols];
        int blocks = cols / type.blockSize();
        switch (type) {
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    y[i] = b.getFloat(i * 4);
                }
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    y[i] = half(b, i * 2);
                }
            }
            case Q8_0 -> {
                for (int k = 0; k < blocks; k++) {
                    int o = k * 34;
                    float d = half(b, o);
                    for (int j = 0; j < 32; j++) {
                        y[k * 32 + j] = d * b.get(o + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int k = 0; k < blocks; k++) {
                    int o = k * 18;
                    float d = half(b, o);
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(o + 2 + j) & 0xFF;
                        y[k * 32 + j] = d * ((q & 0xF) - 8);
                        y[k * 32 + j + 16] = d * ((q >> 4) - 8);
                    }
                }
            }
            case Q4_1 -> {
                for (int k = 0; k < blocks; k++) {
                    int o = k * 20;
                    float d = half(b, o);
                    float m = half(b, o + 2);
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(o + 4 + j) & 0xFF;
                        y[k * 32 + j] = (q & 0xF) * d + m;
                        y[k * 32 + j + 16] = (q >> 4) * d + m;
                    }
                }
            }
            case Q4_K -> {
                for (int k = 0; k < blocks; k++) {
                    int o = k * 144;
                    float d = half(b, o);
                    float min = half(b, o + 2);
                    int[] sc = new int[2];
                    int yi = k * 256;
                    int q = o + 16;
                    for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
                        scaleMinK4(is, b, o + 4, sc);
                        float d1 = d * sc[0];
                        float m1 = min * sc[1];
                        scaleMinK4(is + 1, b, o + 4, sc);
                        float d2 = d * sc[0];
                        float m2 = min * sc[1];
                        for (int l = 0; l < 32; l++) {
                            y[yi++] = d1 * (b.get(q + l) & 0xF) - m1;
                        }
                        for (int l = 0; l < 32; l++) {
                            y[yi++] = d2 * ((b.get(q + l) & 0xFF) >> 4) - m2;
                        }
                        q += 32;
                    }
                }
            }
            case Q6_K -> {
                for (int k = 0; k < blocks; k++) {
                    int o = k * 210;
                    float d = half(b, o + 208);
                    int ql = o;
                    int qh = o + 128;
                    int sc = o + 192;
                    int yi = k * 256;
                    for (int n = 0; n < 256; n += 128) {
                        for (int l = 0; l < 32; l++) {
                            int is = l / 16;
                            int h = b.get(qh + l) & 0xFF;
                            int q1 = ((b.get(ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                            int q2 = ((b.get(ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                            int q3 = (((b.get(ql + l) & 0xFF) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                            int q4 = (((b.get(ql + l + 32) & 0xFF) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                            y[yi + l] = d * b.get(sc + is) * q1;
                            y[yi + l + 32] = d * b.get(sc + is + 2) * q2;
                            y[yi + l + 64] = d * b.get(sc + is + 4) * q3;
                            y[yi + l + 96] = d * b.get(sc + is + 6) * q4;
                        }
                        yi += 128;
                        ql += 64;
                        qh += 32;
                        sc += 8;
                    }
                }
            }
            default -> throw new IllegalArgumentException("no reference for " + type);
        }
        return y;
    }

    private static void scaleMinK4(int j, ByteBuffer b, int q, int[] out) {
        if (j < 4) {
            out[0] = b.get(q + j) & 63;
            out[1] = b.get(q + j + 4) & 63;
        } else {
            out[0] = (b.get(q + j + 4) & 0xF) | (((b.get(q + j - 4) & 0xFF) >> 6) << 4);
            out[1] = ((b.get(q + j + 4) & 0xFF) >> 4) | (((b.get(q + j) & 0xFF) >> 6) << 4);
        }
    }

    private static float half(ByteBuffer b, int offset) {
        return Float.float16ToFloat(b.getShort(offset));
    }
}

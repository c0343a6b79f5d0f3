package dev.buddy.opencl;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * A random weight matrix in GGUF layout, with its rows dequantised by the reference codecs ({@link BlockCodecs}, bit-exact
 * with ggml) and per-element error magnitudes.
 */
final class WeightFixture {
    final GgmlType type;
    final int rows;
    final int cols;
    final byte[] bytes;
    final float[][] dequantized;
    /** |scaled quant| + |offset| per element: what float rounding inside the kernel is relative to. */
    final float[][] magnitude;

    private WeightFixture(GgmlType type, int rows, int cols, byte[][] rowBytes) {
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        int rowSize = rowBytes[0].length;
        this.bytes = new byte[rows * rowSize];
        this.dequantized = new float[rows][];
        this.magnitude = new float[rows][];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(rowBytes[r], 0, bytes, r * rowSize, rowSize);
            dequantized[r] = BlockCodecs.dequantize(type, MemorySegment.ofArray(rowBytes[r]), cols);
            magnitude[r] = magnitudes(type, rowBytes[r], dequantized[r]);
        }
    }

    /** Rows of arbitrary valid blocks ({@link BlockReference#randomRow}). */
    static WeightFixture random(GgmlType type, int rows, int cols, Random rnd) {
        return random(type, rows, cols, rnd, false);
    }

    /**
     * Rows of random blocks, or, when {@code quantised}, random floats encoded by the reference quantiser (weights as
     * llama.cpp's quantize tool would write them).
     */
    static WeightFixture random(GgmlType type, int rows, int cols, Random rnd, boolean quantised) {
        byte[][] rowBytes = new byte[rows][];
        for (int r = 0; r < rows; r++) {
            rowBytes[r] = quantised ? BlockCodecs.quantize(type, randomVector(cols, rnd))
                    : BlockReference.randomRow(type, cols, rnd);
        }
        return new WeightFixture(type, rows, cols, rowBytes);
    }

    static WeightFixture of(GgmlType type, int rows, int cols, byte[][] rowBytes) {
        return new WeightFixture(type, rows, cols, rowBytes);
    }

    DeviceMatrix upload(OpenClKernels kernels) {
        return kernels.upload("test." + type, type, new long[] {cols, rows}, MemorySegment.ofArray(bytes));
    }

    /** The reference dot product of row r with x[xOffset ..], in double. */
    double dot(int r, float[] x, int xOffset) {
        double s = 0;
        for (int i = 0; i < cols; i++) {
            s += (double) dequantized[r][i] * x[xOffset + i];
        }
        return s;
    }

    /**
     * The allowed float error of a device dot of row r: 16 sqrt(cols) float epsilons of the magnitude sum, far above
     * what summation-order differences produce and far below the error of one misread element.
     */
    double tolerance(int r, float[] x, int xOffset) {
        double m = 0;
        for (int i = 0; i < cols; i++) {
            m += (double) magnitude[r][i] * Math.abs(x[xOffset + i]);
        }
        return 16 * Math.sqrt(cols) * 0x1p-24 * m + 1e-30;
    }

    private static float[] magnitudes(GgmlType type, byte[] row, float[] dq) {
        float[] m = new float[dq.length];
        switch (type) {
            case Q4_1 -> {
                // w = d*q + m: the offset term is rounded separately
                var b = java.nio.ByteBuffer.wrap(row).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < dq.length; i++) {
                    float off = Math.abs(Float.float16ToFloat(b.getShort(i / 32 * 20 + 2)));
                    m[i] = Math.abs(dq[i]) + 2 * off;
                }
            }
            case Q4_K -> {
                var b = java.nio.ByteBuffer.wrap(row).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < dq.length; i++) {
                    float dmin = Math.abs(Float.float16ToFloat(b.getShort(i / 256 * 144 + 2)));
                    m[i] = Math.abs(dq[i]) + 2 * 63 * dmin;
                }
            }
            default -> {
                for (int i = 0; i < dq.length; i++) {
                    m[i] = Math.abs(dq[i]);
                }
            }
        }
        return m;
    }

    static float[] randomVector(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextFloat() * 2 - 1;
        }
        return v;
    }

    /** A row length for {@code type}: {@code units} whole blocks, or any length for plain floats. */
    static int cols(GgmlType type, int units) {
        return type.blockSize() == 1 ? units : units * type.blockSize();
    }
}

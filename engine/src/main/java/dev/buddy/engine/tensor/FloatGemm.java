package dev.buddy.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled float micro-kernels behind Q8_0's prefill GEMM (the one format left on it; see
 * {@link WeightMatrix#simdRows}): a few weight rows, already dequantised into scratch, against many tokens' scaled
 * activations. A 2-row x 4-token tile keeps eight accumulators in registers and loads each weight vector once for four
 * tokens and each activation vector once for two rows, so the loop is bound by FMA throughput rather than by loads
 * or by the integer unpacking the per-block kernels repeat for every token.
 *
 * <p>{@code gemm} computes, for weight rows {@code i < rowCount} and tokens {@code t < tokens},
 * {@code out[outIndex + t*outStride + i] (+)= sum_k w[i*wStride + k] * x[xOffset + t*xStride + k]} over
 * {@code k < len}: it overwrites on the first column chunk and accumulates on later ones.
 *
 * <p>Accumulator lanes are summed in a fixed order ({@link GgmlSums#tinyBlasHsum}'s), never with
 * {@code reduceLanes(ADD)}: that leaves the order to the implementation, and its Java fallback (before C2 compiles a
 * kernel) and its intrinsic add the lanes differently, so the same evaluation gave different last bits depending on
 * how warm the process was (two runs of one router file: WikiText-2 perplexity 328.19 and 327.90).
 */
final class FloatGemm {
    private FloatGemm() {}

    static void gemm(VectorWidth width, float[] w, int wStride, int rowCount, float[] x, int xOffset, int xStride,
            int tokens, int len, float[] out, int outIndex, int outStride, boolean accumulate) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            int x0 = xOffset + t * xStride;
            int o = outIndex + t * outStride;
            int i = 0;
            for (; i + 2 <= rowCount; i += 2) {
                switch (width) {
                    case W128 -> V128.tile2x4(w, i * wStride, wStride, x, x0, xStride, len, out, o + i,
                            outStride, accumulate);
                    case W256 -> V256.tile2x4(w, i * wStride, wStride, x, x0, xStride, len, out, o + i,
                            outStride, accumulate);
                    case W512 -> V512.tile2x4(w, i * wStride, wStride, x, x0, xStride, len, out, o + i,
                            outStride, accumulate);
                    case SCALAR -> scalarTile(w, i * wStride, wStride, 2, x, x0, xStride, 4, len, out, o + i,
                            outStride, accumulate);
                }
            }
            if (i < rowCount) {
                singles(width, w, i * wStride, x, x0, xStride, 4, len, out, o + i, outStride, accumulate);
            }
        }
        if (t < tokens) {
            int x0 = xOffset + t * xStride;
            int o = outIndex + t * outStride;
            for (int i = 0; i < rowCount; i++) {
                singles(width, w, i * wStride, x, x0, xStride, tokens - t, len, out, o + i, outStride, accumulate);
            }
        }
    }

    /** One weight row against {@code count} tokens, one dot product at a time (tile edges). */
    private static void singles(VectorWidth width, float[] w, int wOffset, float[] x, int x0, int xStride, int count,
            int len, float[] out, int o, int outStride, boolean accumulate) {
        for (int k = 0; k < count; k++) {
            float dot = switch (width) {
                case W128 -> V128.dot(w, wOffset, x, x0 + k * xStride, len);
                case W256 -> V256.dot(w, wOffset, x, x0 + k * xStride, len);
                case W512 -> V512.dot(w, wOffset, x, x0 + k * xStride, len);
                case SCALAR -> scalarDot(w, wOffset, x, x0 + k * xStride, len);
            };
            int idx = o + k * outStride;
            out[idx] = accumulate ? out[idx] + dot : dot;
        }
    }

    private static float scalarDot(float[] w, int wOffset, float[] x, int xOffset, int len) {
        float sum = 0f;
        for (int k = 0; k < len; k++) {
            sum += w[wOffset + k] * x[xOffset + k];
        }
        return sum;
    }

    private static void scalarTile(float[] w, int wOffset, int wStride, int rowCount, float[] x, int x0, int xStride,
            int count, int len, float[] out, int o, int outStride, boolean accumulate) {
        for (int i = 0; i < rowCount; i++) {
            singles(VectorWidth.SCALAR, w, wOffset + i * wStride, x, x0, xStride, count, len, out, o + i, outStride,
                    accumulate);
        }
    }

    private static void store(float[] out, int idx, float value, boolean accumulate) {
        out[idx] = accumulate ? out[idx] + value : value;
    }

    // One copy per width with the species a constant (see VectorWidth); vectors live only in locals.

    private static final class V256 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

        static void tile2x4(float[] w, int w0, int wStride, float[] x, int x0, int xStride, int len, float[] out,
                int o, int outStride, boolean accumulate) {
            int w1 = w0 + wStride;
            int x1 = x0 + xStride;
            int x2 = x1 + xStride;
            int x3 = x2 + xStride;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = FloatVector.zero(F);
            FloatVector a02 = FloatVector.zero(F);
            FloatVector a03 = FloatVector.zero(F);
            FloatVector a10 = FloatVector.zero(F);
            FloatVector a11 = FloatVector.zero(F);
            FloatVector a12 = FloatVector.zero(F);
            FloatVector a13 = FloatVector.zero(F);
            int upper = F.loopBound(len);
            int k = 0;
            for (; k < upper; k += 8) {
                FloatVector v0 = FloatVector.fromArray(F, w, w0 + k);
                FloatVector v1 = FloatVector.fromArray(F, w, w1 + k);
                FloatVector y = FloatVector.fromArray(F, x, x0 + k);
                a00 = v0.fma(y, a00);
                a10 = v1.fma(y, a10);
                y = FloatVector.fromArray(F, x, x1 + k);
                a01 = v0.fma(y, a01);
                a11 = v1.fma(y, a11);
                y = FloatVector.fromArray(F, x, x2 + k);
                a02 = v0.fma(y, a02);
                a12 = v1.fma(y, a12);
                y = FloatVector.fromArray(F, x, x3 + k);
                a03 = v0.fma(y, a03);
                a13 = v1.fma(y, a13);
            }
            float s00 = GgmlSums.tinyBlasHsum(a00.lane(0), a00.lane(1), a00.lane(2), a00.lane(3),
                    a00.lane(4), a00.lane(5), a00.lane(6), a00.lane(7));
            float s01 = GgmlSums.tinyBlasHsum(a01.lane(0), a01.lane(1), a01.lane(2), a01.lane(3),
                    a01.lane(4), a01.lane(5), a01.lane(6), a01.lane(7));
            float s02 = GgmlSums.tinyBlasHsum(a02.lane(0), a02.lane(1), a02.lane(2), a02.lane(3),
                    a02.lane(4), a02.lane(5), a02.lane(6), a02.lane(7));
            float s03 = GgmlSums.tinyBlasHsum(a03.lane(0), a03.lane(1), a03.lane(2), a03.lane(3),
                    a03.lane(4), a03.lane(5), a03.lane(6), a03.lane(7));
            float s10 = GgmlSums.tinyBlasHsum(a10.lane(0), a10.lane(1), a10.lane(2), a10.lane(3),
                    a10.lane(4), a10.lane(5), a10.lane(6), a10.lane(7));
            float s11 = GgmlSums.tinyBlasHsum(a11.lane(0), a11.lane(1), a11.lane(2), a11.lane(3),
                    a11.lane(4), a11.lane(5), a11.lane(6), a11.lane(7));
            float s12 = GgmlSums.tinyBlasHsum(a12.lane(0), a12.lane(1), a12.lane(2), a12.lane(3),
                    a12.lane(4), a12.lane(5), a12.lane(6), a12.lane(7));
            float s13 = GgmlSums.tinyBlasHsum(a13.lane(0), a13.lane(1), a13.lane(2), a13.lane(3),
                    a13.lane(4), a13.lane(5), a13.lane(6), a13.lane(7));
            for (; k < len; k++) {
                float v0 = w[w0 + k];
                float v1 = w[w1 + k];
                s00 += v0 * x[x0 + k];
                s01 += v0 * x[x1 + k];
                s02 += v0 * x[x2 + k];
                s03 += v0 * x[x3 + k];
                s10 += v1 * x[x0 + k];
                s11 += v1 * x[x1 + k];
                s12 += v1 * x[x2 + k];
                s13 += v1 * x[x3 + k];
            }
            store(out, o, s00, accumulate);
            store(out, o + outStride, s01, accumulate);
            store(out, o + 2 * outStride, s02, accumulate);
            store(out, o + 3 * outStride, s03, accumulate);
            store(out, o + 1, s10, accumulate);
            store(out, o + 1 + outStride, s11, accumulate);
            store(out, o + 1 + 2 * outStride, s12, accumulate);
            store(out, o + 1 + 3 * outStride, s13, accumulate);
        }

        static float dot(float[] w, int w0, float[] x, int x0, int len) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            int k = 0;
            for (; k + 16 <= len; k += 16) {
                a0 = FloatVector.fromArray(F, w, w0 + k).fma(FloatVector.fromArray(F, x, x0 + k), a0);
                a1 = FloatVector.fromArray(F, w, w0 + k + 8).fma(FloatVector.fromArray(F, x, x0 + k + 8), a1);
            }
            for (; k + 8 <= len; k += 8) {
                a0 = FloatVector.fromArray(F, w, w0 + k).fma(FloatVector.fromArray(F, x, x0 + k), a0);
            }
            FloatVector a0a1 = a0.add(a1);
            float sum = GgmlSums.tinyBlasHsum(a0a1.lane(0), a0a1.lane(1), a0a1.lane(2), a0a1.lane(3),
                    a0a1.lane(4), a0a1.lane(5), a0a1.lane(6), a0a1.lane(7));
            for (; k < len; k++) {
                sum += w[w0 + k] * x[x0 + k];
            }
            return sum;
        }
    }

    private static final class V128 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_128;

        static void tile2x4(float[] w, int w0, int wStride, float[] x, int x0, int xStride, int len, float[] out,
                int o, int outStride, boolean accumulate) {
            int w1 = w0 + wStride;
            int x1 = x0 + xStride;
            int x2 = x1 + xStride;
            int x3 = x2 + xStride;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = FloatVector.zero(F);
            FloatVector a02 = FloatVector.zero(F);
            FloatVector a03 = FloatVector.zero(F);
            FloatVector a10 = FloatVector.zero(F);
            FloatVector a11 = FloatVector.zero(F);
            FloatVector a12 = FloatVector.zero(F);
            FloatVector a13 = FloatVector.zero(F);
            int upper = F.loopBound(len);
            int k = 0;
            for (; k < upper; k += 4) {
                FloatVector v0 = FloatVector.fromArray(F, w, w0 + k);
                FloatVector v1 = FloatVector.fromArray(F, w, w1 + k);
                FloatVector y = FloatVector.fromArray(F, x, x0 + k);
                a00 = v0.fma(y, a00);
                a10 = v1.fma(y, a10);
                y = FloatVector.fromArray(F, x, x1 + k);
                a01 = v0.fma(y, a01);
                a11 = v1.fma(y, a11);
                y = FloatVector.fromArray(F, x, x2 + k);
                a02 = v0.fma(y, a02);
                a12 = v1.fma(y, a12);
                y = FloatVector.fromArray(F, x, x3 + k);
                a03 = v0.fma(y, a03);
                a13 = v1.fma(y, a13);
            }
            float s00 = (a00.lane(0) + a00.lane(2)) + (a00.lane(1) + a00.lane(3));
            float s01 = (a01.lane(0) + a01.lane(2)) + (a01.lane(1) + a01.lane(3));
            float s02 = (a02.lane(0) + a02.lane(2)) + (a02.lane(1) + a02.lane(3));
            float s03 = (a03.lane(0) + a03.lane(2)) + (a03.lane(1) + a03.lane(3));
            float s10 = (a10.lane(0) + a10.lane(2)) + (a10.lane(1) + a10.lane(3));
            float s11 = (a11.lane(0) + a11.lane(2)) + (a11.lane(1) + a11.lane(3));
            float s12 = (a12.lane(0) + a12.lane(2)) + (a12.lane(1) + a12.lane(3));
            float s13 = (a13.lane(0) + a13.lane(2)) + (a13.lane(1) + a13.lane(3));
            for (; k < len; k++) {
                float v0 = w[w0 + k];
                float v1 = w[w1 + k];
                s00 += v0 * x[x0 + k];
                s01 += v0 * x[x1 + k];
                s02 += v0 * x[x2 + k];
                s03 += v0 * x[x3 + k];
                s10 += v1 * x[x0 + k];
                s11 += v1 * x[x1 + k];
                s12 += v1 * x[x2 + k];
                s13 += v1 * x[x3 + k];
            }
            store(out, o, s00, accumulate);
            store(out, o + outStride, s01, accumulate);
            store(out, o + 2 * outStride, s02, accumulate);
            store(out, o + 3 * outStride, s03, accumulate);
            store(out, o + 1, s10, accumulate);
            store(out, o + 1 + outStride, s11, accumulate);
            store(out, o + 1 + 2 * outStride, s12, accumulate);
            store(out, o + 1 + 3 * outStride, s13, accumulate);
        }

        static float dot(float[] w, int w0, float[] x, int x0, int len) {
            FloatVector a0 = FloatVector.zero(F);
            int k = 0;
            for (; k + 4 <= len; k += 4) {
                a0 = FloatVector.fromArray(F, w, w0 + k).fma(FloatVector.fromArray(F, x, x0 + k), a0);
            }
            float sum = (a0.lane(0) + a0.lane(2)) + (a0.lane(1) + a0.lane(3));
            for (; k < len; k++) {
                sum += w[w0 + k] * x[x0 + k];
            }
            return sum;
        }
    }

    private static final class V512 {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

        static void tile2x4(float[] w, int w0, int wStride, float[] x, int x0, int xStride, int len, float[] out,
                int o, int outStride, boolean accumulate) {
            int w1 = w0 + wStride;
            int x1 = x0 + xStride;
            int x2 = x1 + xStride;
            int x3 = x2 + xStride;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = FloatVector.zero(F);
            FloatVector a02 = FloatVector.zero(F);
            FloatVector a03 = FloatVector.zero(F);
            FloatVector a10 = FloatVector.zero(F);
            FloatVector a11 = FloatVector.zero(F);
            FloatVector a12 = FloatVector.zero(F);
            FloatVector a13 = FloatVector.zero(F);
            int upper = F.loopBound(len);
            int k = 0;
            for (; k < upper; k += 16) {
                FloatVector v0 = FloatVector.fromArray(F, w, w0 + k);
                FloatVector v1 = FloatVector.fromArray(F, w, w1 + k);
                FloatVector y = FloatVector.fromArray(F, x, x0 + k);
                a00 = v0.fma(y, a00);
                a10 = v1.fma(y, a10);
                y = FloatVector.fromArray(F, x, x1 + k);
                a01 = v0.fma(y, a01);
                a11 = v1.fma(y, a11);
                y = FloatVector.fromArray(F, x, x2 + k);
                a02 = v0.fma(y, a02);
                a12 = v1.fma(y, a12);
                y = FloatVector.fromArray(F, x, x3 + k);
                a03 = v0.fma(y, a03);
                a13 = v1.fma(y, a13);
            }
            float s00 = GgmlSums.tinyBlasHsum(a00.lane(0), a00.lane(1), a00.lane(2), a00.lane(3),
                    a00.lane(4), a00.lane(5), a00.lane(6), a00.lane(7))
                    + GgmlSums.tinyBlasHsum(a00.lane(8), a00.lane(9), a00.lane(10), a00.lane(11),
                            a00.lane(12), a00.lane(13), a00.lane(14), a00.lane(15));
            float s01 = GgmlSums.tinyBlasHsum(a01.lane(0), a01.lane(1), a01.lane(2), a01.lane(3),
                    a01.lane(4), a01.lane(5), a01.lane(6), a01.lane(7))
                    + GgmlSums.tinyBlasHsum(a01.lane(8), a01.lane(9), a01.lane(10), a01.lane(11),
                            a01.lane(12), a01.lane(13), a01.lane(14), a01.lane(15));
            float s02 = GgmlSums.tinyBlasHsum(a02.lane(0), a02.lane(1), a02.lane(2), a02.lane(3),
                    a02.lane(4), a02.lane(5), a02.lane(6), a02.lane(7))
                    + GgmlSums.tinyBlasHsum(a02.lane(8), a02.lane(9), a02.lane(10), a02.lane(11),
                            a02.lane(12), a02.lane(13), a02.lane(14), a02.lane(15));
            float s03 = GgmlSums.tinyBlasHsum(a03.lane(0), a03.lane(1), a03.lane(2), a03.lane(3),
                    a03.lane(4), a03.lane(5), a03.lane(6), a03.lane(7))
                    + GgmlSums.tinyBlasHsum(a03.lane(8), a03.lane(9), a03.lane(10), a03.lane(11),
                            a03.lane(12), a03.lane(13), a03.lane(14), a03.lane(15));
            float s10 = GgmlSums.tinyBlasHsum(a10.lane(0), a10.lane(1), a10.lane(2), a10.lane(3),
                    a10.lane(4), a10.lane(5), a10.lane(6), a10.lane(7))
                    + GgmlSums.tinyBlasHsum(a10.lane(8), a10.lane(9), a10.lane(10), a10.lane(11),
                            a10.lane(12), a10.lane(13), a10.lane(14), a10.lane(15));
            float s11 = GgmlSums.tinyBlasHsum(a11.lane(0), a11.lane(1), a11.lane(2), a11.lane(3),
                    a11.lane(4), a11.lane(5), a11.lane(6), a11.lane(7))
                    + GgmlSums.tinyBlasHsum(a11.lane(8), a11.lane(9), a11.lane(10), a11.lane(11),
                            a11.lane(12), a11.lane(13), a11.lane(14), a11.lane(15));
            float s12 = GgmlSums.tinyBlasHsum(a12.lane(0), a12.lane(1), a12.lane(2), a12.lane(3),
                    a12.lane(4), a12.lane(5), a12.lane(6), a12.lane(7))
                    + GgmlSums.tinyBlasHsum(a12.lane(8), a12.lane(9), a12.lane(10), a12.lane(11),
                            a12.lane(12), a12.lane(13), a12.lane(14), a12.lane(15));
            float s13 = GgmlSums.tinyBlasHsum(a13.lane(0), a13.lane(1), a13.lane(2), a13.lane(3),
                    a13.lane(4), a13.lane(5), a13.lane(6), a13.lane(7))
                    + GgmlSums.tinyBlasHsum(a13.lane(8), a13.lane(9), a13.lane(10), a13.lane(11),
                            a13.lane(12), a13.lane(13), a13.lane(14), a13.lane(15));
            for (; k < len; k++) {
                float v0 = w[w0 + k];
                float v1 = w[w1 + k];
                s00 += v0 * x[x0 + k];
                s01 += v0 * x[x1 + k];
                s02 += v0 * x[x2 + k];
                s03 += v0 * x[x3 + k];
                s10 += v1 * x[x0 + k];
                s11 += v1 * x[x1 + k];
                s12 += v1 * x[x2 + k];
                s13 += v1 * x[x3 + k];
            }
            store(out, o, s00, accumulate);
            store(out, o + outStride, s01, accumulate);
            store(out, o + 2 * outStride, s02, accumulate);
            store(out, o + 3 * outStride, s03, accumulate);
            store(out, o + 1, s10, accumulate);
            store(out, o + 1 + outStride, s11, accumulate);
            store(out, o + 1 + 2 * outStride, s12, accumulate);
            store(out, o + 1 + 3 * outStride, s13, accumulate);
        }

        static float dot(float[] w, int w0, float[] x, int x0, int len) {
            FloatVector a0 = FloatVector.zero(F);
            int k = 0;
            for (; k + 16 <= len; k += 16) {
                a0 = FloatVector.fromArray(F, w, w0 + k).fma(FloatVector.fromArray(F, x, x0 + k), a0);
            }
            float sum = GgmlSums.tinyBlasHsum(a0.lane(0), a0.lane(1), a0.lane(2), a0.lane(3),
                    a0.lane(4), a0.lane(5), a0.lane(6), a0.lane(7))
                    + GgmlSums.tinyBlasHsum(a0.lane(8), a0.lane(9), a0.lane(10), a0.lane(11),
                            a0.lane(12), a0.lane(13), a0.lane(14), a0.lane(15));
            for (; k < len; k++) {
                sum += w[w0 + k] * x[x0 + k];
            }
            return sum;
        }
    }
}

package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

/**
 * The helpers shared by ggml's reference quantisers (ggml-quants.c), ported line by line.
 *
 * <p>Bit-exactness depends on doing the same float operations in the same order: every intermediate here is a
 * {@code float} (never widened to double), an {@code int} meets a float exactly where C converts it, and products
 * and sums keep C's left-to-right grouping. Java never contracts {@code a*b + c} into a fused multiply-add, which
 * matches ggml compiled without FMA contraction (the x86-64 baseline); a build that fuses (e.g. GCC's default
 * {@code -ffp-contract=fast} on AArch64) can differ from this oracle in the last bit of a K-quant scale search.
 */
final class QuantMath {
    /** ggml's {@code GROUP_MAX_EPS}: below this largest magnitude a group counts as all zeros. */
    static final float GROUP_MAX_EPS = 1e-15f;

    private QuantMath() {}

    /**
     * ggml's {@code nearest_int}: rounds to nearest, ties to even, by adding 1.5·2^23 so that the float adder drops
     * the fraction. Valid for |fval| ≤ 4194303; like ggml (whose assert is compiled out in release builds) it returns
     * whatever the bit trick gives beyond that.
     */
    static int nearestInt(float fval) {
        float val = fval + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007FFFFF) - 0x00400000;
    }

    /** C's {@code roundf}: to nearest, ties away from zero (unlike {@link Math#round}, which ties upwards). */
    static float roundHalfAwayFromZero(float x) {
        // |x| + 0.5 is exact in double for every float that still has a fraction, so floor() sees the true sum.
        return (float) Math.copySign(Math.floor(Math.abs((double) x) + 0.5), x);
    }

    /**
     * ggml's {@code make_qx_quants} in the form its reference quantisers use ({@code rmse_type} 1, no importance
     * weights): symmetric levels {@code -nmax..nmax-1}, weighted by x², searching 18 scales around {@code nmax/max}
     * for the one with the least weighted squared error. Writes {@code level + nmax} into {@code levels} and returns
     * the scale.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xOffset, byte[] levels, int levelsOffset) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xOffset + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOffset + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                levels[levelsOffset + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xOffset + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[levelsOffset + i] = (byte) (l + nmax);
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xOffset + i];
                int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = nearestInt(iscale * x[xOffset + i]);
                    levels[levelsOffset + i] = (byte) (nmax + clamp(l, -nmax, nmax - 1));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * ggml's {@code make_q3_quants} with {@code do_rmse} set (as {@code quantize_row_q3_K_ref} calls it): symmetric
     * levels {@code -nmax..nmax-1} weighted by x², then up to five passes that move single levels while that lowers the
     * weighted error. Writes {@code level + nmax} into {@code levels} and returns the scale.
     */
    static float makeQ3Quants(int n, int nmax, float[] x, int xOffset, byte[] levels, int levelsOffset) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xOffset + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOffset + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                levels[levelsOffset + i] = 0;
            }
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xOffset + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[levelsOffset + i] = (byte) l;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int changed = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xOffset + i];
                int li = levels[levelsOffset + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = clamp(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[levelsOffset + i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            ++changed;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; ++i) {
            levels[levelsOffset + i] += (byte) nmax;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /**
     * ggml's {@code make_qkx2_quants}: asymmetric levels {@code 0..nmax} with a scale and a non-positive offset,
     * fitted by weighted least squares over {@code nstep + 1} candidate scales
     * {@code (rmin + rdelta·is + nmax) / (max - min)}, keeping the fit with the least weighted error (absolute when
     * {@code useMad}, else squared). Writes the levels, stores {@code -min} (≥ 0) into {@code minOut[minIndex]} and
     * returns the scale. {@code scratch} holds {@code n} candidate levels.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xOffset, float[] weights, byte[] levels,
            int levelsOffset, float[] minOut, int minIndex, byte[] scratch, float rmin, float rdelta, int nstep,
            boolean useMad) {
        float min = x[xOffset];
        float max = x[xOffset];
        float sumW = weights[0];
        float sumX = sumW * x[xOffset];
        for (int i = 1; i < n; ++i) {
            float xi = x[xOffset + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; ++i) {
                levels[levelsOffset + i] = 0;
            }
            minOut[minIndex] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xOffset + i];
            int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
            levels[levelsOffset + i] = (byte) l;
            float diff = scale * l + min - xi;
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1) {
            minOut[minIndex] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xOffset + i];
                int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
                scratch[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * xi;
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * scratch[i] + thisMin - x[xOffset + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    curError += weights[i] * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(scratch, 0, levels, levelsOffset, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        minOut[minIndex] = -min;
        return scale;
    }

    /**
     * The 6-bit scale of sub-block {@code j} (0..7) from the 12 packed scale bytes of a Q4_K/Q5_K block at
     * {@code scales}: ggml's {@code get_scale_min_k4}, first output.
     */
    static int scaleK4(MemorySegment block, long scales, int j) {
        if (j < 4) {
            return LittleEndian.u8(block, scales + j) & 63;
        }
        return (LittleEndian.u8(block, scales + j + 4) & 0xF) | ((LittleEndian.u8(block, scales + j - 4) >> 6) << 4);
    }

    /** The 6-bit min of sub-block {@code j}: ggml's {@code get_scale_min_k4}, second output. */
    static int minK4(MemorySegment block, long scales, int j) {
        if (j < 4) {
            return LittleEndian.u8(block, scales + j + 4) & 63;
        }
        return (LittleEndian.u8(block, scales + j + 4) >> 4) | ((LittleEndian.u8(block, scales + j) >> 6) << 4);
    }

    /**
     * Packs the 6-bit scale and min of sub-block {@code j} into the 12 scale bytes at {@code block[scales..]}, as
     * {@code quantize_row_q4_K_ref} does; must be called for j = 0..7 in order, since sub-blocks 4..7 put their top
     * bits into bytes that 0..3 wrote.
     */
    static void packScaleMinK4(byte[] block, int scales, int j, int ls, int lm) {
        if (j < 4) {
            block[scales + j] = (byte) ls;
            block[scales + j + 4] = (byte) lm;
        } else {
            block[scales + j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
            block[scales + j - 4] |= (byte) ((ls >> 4) << 6);
            block[scales + j] |= (byte) ((lm >> 4) << 6);
        }
    }

    static int clamp(int value, int lo, int hi) {
        return Math.max(lo, Math.min(hi, value));
    }
}

package dev.buddy.router.train;

/**
 * RMSNorm over rows, {@code y = x · r · w} with {@code r = 1/sqrt(mean(x²) + ε)}, and its input gradient. The sum of
 * squares is taken in double and the scale rounded to float, as ggml's {@code rms_norm} does. Used for the block
 * norms (rows are positions) and for Qwen3's per-head Q/K norms (rows are position × head).
 */
final class RmsNorm {
    private RmsNorm() {}

    /**
     * Normalises {@code rows} rows of {@code width} values.
     *
     * @param invRms receives r per row, which {@link #backward} needs
     */
    static void forward(float[] x, int rows, int width, float[] weight, float eps, float[] y, float[] invRms) {
        for (int row = 0; row < rows; row++) {
            int o = row * width;
            double sum = 0;
            for (int i = 0; i < width; i++) {
                sum += (double) x[o + i] * x[o + i];
            }
            float mean = (float) (sum / width);
            float r = (float) (1.0 / Math.sqrt(mean + eps));
            invRms[row] = r;
            for (int i = 0; i < width; i++) {
                y[o + i] = (x[o + i] * r) * weight[i];
            }
        }
    }

    /**
     * {@code dx += ∂y/∂xᵀ · dy}: {@code dx_i = r·w_i·dy_i − r³·x_i·Σ_j(w_j·dy_j·x_j)/width}.
     *
     * @param x      the forward input
     * @param invRms r per row from {@link #forward}
     */
    static void backward(float[] dy, float[] x, float[] invRms, float[] weight, int rows, int width, float[] dx) {
        for (int row = 0; row < rows; row++) {
            int o = row * width;
            double s = 0;
            for (int i = 0; i < width; i++) {
                s += (double) weight[i] * dy[o + i] * x[o + i];
            }
            double r = invRms[row];
            float coefficient = (float) (r * r * r * s / width);
            float rf = invRms[row];
            for (int i = 0; i < width; i++) {
                dx[o + i] += rf * weight[i] * dy[o + i] - coefficient * x[o + i];
            }
        }
    }
}

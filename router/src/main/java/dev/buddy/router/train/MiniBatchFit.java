package dev.buddy.router.train;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The small fits over route-oracle tokens ({@link TokenRouteClassifier}, {@link TokenRouterFit}): inputs standardised
 * by the fitting rows' mean and standard deviation, then a fixed number of epochs of mini-batches in an order drawn
 * from one random stream, each batch's mean gradient taken by {@link AdamW}. One thread, so a fixed seed gives the
 * same parameters.
 */
final class MiniBatchFit {
    private MiniBatchFit() {}

    /** Accumulates the gradient of items {@code order[from..to)} into {@code grad} (which starts at zero). */
    @FunctionalInterface
    interface BatchGradient {
        void accumulate(int[] order, int from, int to, double[] grad);
    }

    /**
     * Per column of {@code rows} ({@code width} floats per row), over the rows {@code which}: {@code [0]} the mean,
     * {@code [1]} the reciprocal standard deviation (0 for a constant column).
     */
    static float[][] standardisation(float[] rows, int width, int[] which) {
        float[] mean = new float[width];
        float[] scale = new float[width];
        for (int i = 0; i < width; i++) {
            double sum = 0;
            double squares = 0;
            for (int g : which) {
                double v = rows[g * width + i];
                sum += v;
                squares += v * v;
            }
            double m = sum / which.length;
            double sd = Math.sqrt(Math.max(0, squares / which.length - m * m));
            mean[i] = (float) m;
            scale[i] = sd > 1e-12 ? (float) (1 / sd) : 0f;
        }
        return new float[][] {mean, scale};
    }

    /**
     * Trains {@code params} in place: each epoch shuffles {@code order} (Fisher-Yates from {@code random}) and takes
     * an AdamW step per batch of {@code batch} items on the batch's mean gradient.
     */
    static void train(float[] params, int[] order, int epochs, int batch, double learningRate, double weightDecay,
                      SplittableRandom random, BatchGradient gradient) {
        AdamW adam = new AdamW(params.length, weightDecay);
        double[] grad = new double[params.length];
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int from = 0; from < order.length; from += batch) {
                int to = Math.min(order.length, from + batch);
                Arrays.fill(grad, 0);
                gradient.accumulate(order, from, to, grad);
                for (int i = 0; i < grad.length; i++) {
                    grad[i] /= to - from;
                }
                adam.step(params, grad, learningRate);
            }
        }
    }
}

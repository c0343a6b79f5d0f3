package dev.buddy.router.train;

/**
 * AdamW (Loshchilov &amp; Hutter) over a flat float parameter vector, with PyTorch's defaults β1 = 0.9,
 * β2 = 0.999, ε = 1e-8, bias correction, and decoupled weight decay {@code θ ← θ − lr·λ·θ}. Each element is updated
 * in double and rounded once, in a fixed order, so runs repeat bit for bit; the moments are float so they can be
 * checkpointed exactly.
 */
final class AdamW {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPSILON = 1e-8;

    private final float[] firstMoment;
    private final float[] secondMoment;
    private final double weightDecay;
    private long steps;

    AdamW(int size, double weightDecay) {
        this.firstMoment = new float[size];
        this.secondMoment = new float[size];
        this.weightDecay = weightDecay;
    }

    /** One update of {@code params} with {@code gradient} at learning rate {@code lr}. */
    void step(float[] params, double[] gradient, double lr) {
        steps++;
        double correction1 = 1 - Math.pow(BETA1, steps);
        double correction2 = 1 - Math.pow(BETA2, steps);
        for (int i = 0; i < params.length; i++) {
            double g = gradient[i];
            double m = BETA1 * firstMoment[i] + (1 - BETA1) * g;
            double v = BETA2 * secondMoment[i] + (1 - BETA2) * g * g;
            firstMoment[i] = (float) m;
            secondMoment[i] = (float) v;
            double mHat = m / correction1;
            double vHat = v / correction2;
            double p = params[i];
            p -= lr * weightDecay * p;
            p -= lr * mHat / (Math.sqrt(vHat) + EPSILON);
            params[i] = (float) p;
        }
    }

    long steps() {
        return steps;
    }

    float[] firstMoment() {
        return firstMoment;
    }

    float[] secondMoment() {
        return secondMoment;
    }

    /** Restores the state a checkpoint saved. */
    void restore(long stepCount, float[] first, float[] second) {
        if (first.length != firstMoment.length || second.length != secondMoment.length) {
            throw new IllegalArgumentException("optimiser state has " + first.length + " values, expected "
                    + firstMoment.length);
        }
        this.steps = stepCount;
        System.arraycopy(first, 0, firstMoment, 0, first.length);
        System.arraycopy(second, 0, secondMoment, 0, second.length);
    }
}

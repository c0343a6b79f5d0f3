package dev.buddy.router.train;

import java.io.IOException;
import java.nio.file.Path;

import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;

/**
 * The LoRA side of a router training run ({@code train-router --lora R}): the adapters, their gradient and their own
 * AdamW state (the same optimiser, warm-up and decay as the router's, at {@link LoraConfig#learningRate} when one is
 * given). The router and the adapters are one model for gradient clipping: one global norm over both.
 *
 * <p>Gradients reach every adapter of every executed block. The router's own features are read from block 0 after
 * its adapters, but no gradient flows from the router's loss back into block 0's adapters through those features
 * (the router's backward pass stops at its input, as it does without LoRA).
 *
 * <p>A is seeded from the run's seed, so a fixed seed still gives a bit-identical run.
 */
final class LoraTraining {
    /** Mixed into the run seed so A's draws are independent of the router's initial weights. */
    private static final long SEED_SALT = 0x10_4A_AD_A9_7E_25L;

    private final LoraAdapters adapters;
    private final double[] gradient;
    private final AdamW adam;
    private final LearningRateSchedule schedule;

    /**
     * @param resumeFrom   the checkpoint to restore the adapters and their optimiser state from, or null for fresh
     *                     adapters
     * @param resumedSteps the steps the checkpoint holds
     */
    LoraTraining(FrozenModel model, LoraConfig config, TrainConfig run, Path resumeFrom, int resumedSteps)
            throws IOException {
        int size = LoraAdapters.parameterCount(model.spec(), config);
        this.adam = new AdamW(size, run.weightDecay());
        if (resumeFrom != null) {
            TrainingCheckpoint.LoraState s = TrainingCheckpoint.readLora(resumeFrom);
            if (s.params().length != size) {
                throw new CheckpointException(resumeFrom + " holds " + s.params().length + " LoRA weights, expected "
                        + size);
            }
            this.adapters = LoraAdapters.of(model.spec(), config, s.params());
            adam.restore(resumedSteps, s.firstMoment(), s.secondMoment());
        } else {
            this.adapters = LoraAdapters.initial(model.spec(), config, run.seed() ^ SEED_SALT);
        }
        this.gradient = new double[size];
        this.schedule = new LearningRateSchedule(config.learningRate(run.learningRate()), run.warmupSteps(),
                run.steps());
    }

    LoraAdapters adapters() {
        return adapters;
    }

    void attach(ModelPass pass) {
        pass.attachAdapters(adapters, gradient);
    }

    void zeroGradient() {
        java.util.Arrays.fill(gradient, 0.0);
    }

    /** Scales both gradients down together so that their joint L2 norm is at most {@code maxNorm} (0: no clip). */
    void clipWith(double[] routerGradient, double maxNorm) {
        if (maxNorm <= 0) {
            return;
        }
        double sq = 0;
        for (double g : routerGradient) {
            sq += g * g;
        }
        for (double g : gradient) {
            sq += g * g;
        }
        double norm = Math.sqrt(sq);
        if (norm > maxNorm) {
            double factor = maxNorm / norm;
            for (int i = 0; i < routerGradient.length; i++) {
                routerGradient[i] *= factor;
            }
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] *= factor;
            }
        }
    }

    /** The AdamW update of step {@code step} (0-based). */
    void step(int step) {
        adam.step(adapters.params(), gradient, schedule.rate(step));
    }

    void writeAdapterFile(Path path, String baseFingerprint) throws IOException {
        LoraFile.write(adapters, baseFingerprint, path);
    }

    TrainingCheckpoint.LoraState checkpointState() {
        return new TrainingCheckpoint.LoraState(adapters.params().clone(), adam.firstMoment().clone(),
                adam.secondMoment().clone());
    }
}

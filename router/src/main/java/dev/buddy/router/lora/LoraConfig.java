package dev.buddy.router.lora;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The shape of a set of LoRA adapters and how fast they learn: {@code y = W·x + (alpha/rank)·B·(A·x)} on every
 * chosen projection of every block.
 *
 * @param rank         r, the adapters' inner width
 * @param alpha        α; the update is scaled by α/r. {@link #of(int)} takes α = 2r (scale 2), the common choice for
 *                     small ranks (e.g. r = 8, α = 16)
 * @param targets      the projections adapted in every block
 * @param learningRate the adapters' peak learning rate, or NaN to use the router's
 */
public record LoraConfig(int rank, float alpha, Set<LoraTarget> targets, double learningRate) {

    public LoraConfig {
        if (rank < 1) {
            throw new InvalidLoraOptionException("LoRA rank must be at least 1, got " + rank);
        }
        if (!(alpha > 0) || !Float.isFinite(alpha)) {
            throw new InvalidLoraOptionException("LoRA alpha must be a positive number, got " + alpha);
        }
        if (targets == null || targets.isEmpty()) {
            throw new InvalidLoraOptionException("no LoRA targets given");
        }
        if (!Double.isNaN(learningRate) && !(learningRate > 0)) {
            throw new InvalidLoraOptionException("LoRA learning rate must be positive, got " + learningRate);
        }
        targets = Collections.unmodifiableSet(EnumSet.copyOf(targets));
    }

    /** Rank r with α = 2r on all seven projections, at the router's learning rate. */
    public static LoraConfig of(int rank) {
        return new LoraConfig(rank, 2f * rank, EnumSet.allOf(LoraTarget.class), Double.NaN);
    }

    /** α/r, the factor on B·A. */
    public float scale() {
        return alpha / rank;
    }

    /** The learning rate the adapters train at, given the router's. */
    public double learningRate(double routerRate) {
        return Double.isNaN(learningRate) ? routerRate : learningRate;
    }

    /** The targets as the command line spells them, e.g. {@code q,k,v,o,gate,up,down}. */
    public String targetList() {
        return targets.stream().map(LoraTarget::cliName).collect(Collectors.joining(","));
    }

    /** One comparable line of what changes a training run's result (for checkpoint identity). */
    public String describe() {
        return "lora=r" + rank + "/alpha" + alpha + "/" + targetList()
                + (Double.isNaN(learningRate) ? "" : "/lr" + learningRate);
    }
}

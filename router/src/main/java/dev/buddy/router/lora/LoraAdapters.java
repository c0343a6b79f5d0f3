package dev.buddy.router.lora;

import java.util.SplittableRandom;

import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.ModelWeights;
import dev.buddy.engine.tensor.WeightMatrix;

/**
 * A model's LoRA adapters: one {@link LoraLayer} per block and target, all weights in one flat float vector (so the
 * optimiser, the clip and the checkpoint treat them as one parameter block). Layout: blocks in order, within a block
 * the targets in {@link LoraTarget} order, each as A ({@code rank × in}) then Bᵀ ({@code rank × out}).
 */
public final class LoraAdapters {
    private final ModelSpec spec;
    private final LoraConfig config;
    private final float[] params;
    /** [block][target ordinal], null where a target is not adapted. */
    private final LoraLayer[][] layers;
    private final int widest;

    private LoraAdapters(ModelSpec spec, LoraConfig config, float[] params) {
        this.spec = spec;
        this.config = config;
        int expected = parameterCount(spec, config);
        if (params.length != expected) {
            throw new LoraFormatException("LoRA state holds " + params.length + " weights, rank " + config.rank()
                    + " on " + config.targetList() + " of this model needs " + expected);
        }
        this.params = params;
        this.layers = new LoraLayer[spec.blockCount()][LoraTarget.values().length];
        int offset = 0;
        int wide = 0;
        int r = config.rank();
        for (int b = 0; b < spec.blockCount(); b++) {
            for (LoraTarget t : config.targets()) {
                int in = t.inputs(spec);
                int out = t.outputs(spec);
                layers[b][t.ordinal()] = new LoraLayer(b, t, params, offset, offset + r * in, r, in, out,
                        config.scale());
                offset += r * (in + out);
                wide = Math.max(wide, Math.max(in, out));
            }
        }
        this.widest = wide;
    }

    /** Weights of rank-r adapters on the configured targets of every block. */
    public static int parameterCount(ModelSpec spec, LoraConfig config) {
        long n = 0;
        for (int b = 0; b < spec.blockCount(); b++) {
            for (LoraTarget t : config.targets()) {
                n += (long) config.rank() * (t.inputs(spec) + t.outputs(spec));
            }
        }
        return Math.toIntExact(n);
    }

    /**
     * Fresh adapters as PEFT initialises them: A ~ U(±1/√in) (Kaiming-uniform with a = √5, PyTorch's
     * {@code nn.Linear} default), B = 0, so the adapted model starts exactly as the base model. Seeded: the same
     * seed gives the same A.
     */
    public static LoraAdapters initial(ModelSpec spec, LoraConfig config, long seed) {
        LoraAdapters a = new LoraAdapters(spec, config, new float[parameterCount(spec, config)]);
        SplittableRandom random = new SplittableRandom(seed);
        for (LoraLayer[] block : a.layers) {
            for (LoraLayer l : block) {
                if (l == null) {
                    continue;
                }
                double bound = 1.0 / Math.sqrt(l.inputs());
                for (int i = 0; i < l.rank() * l.inputs(); i++) {
                    a.params[l.aOffset() + i] = (float) random.nextDouble(-bound, bound);
                }
            }
        }
        return a;
    }

    /** Adapters over the given weights (a checkpoint's or a file's), in this class's layout; not copied. */
    public static LoraAdapters of(ModelSpec spec, LoraConfig config, float[] params) {
        return new LoraAdapters(spec, config, params);
    }

    public LoraConfig config() {
        return config;
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The flat weight vector (live: the trainer updates it in place). */
    public float[] params() {
        return params;
    }

    /** The adapter of one block's target, or null when that target is not adapted. */
    public LoraLayer layer(int block, LoraTarget target) {
        return layers[block][target.ordinal()];
    }

    /** The largest input or output width of any adapted projection. */
    int widest() {
        return widest;
    }

    /**
     * The weights with every adapted projection decorated ({@link WeightMatrix#withAddend}): after the base product
     * (quantised kernels on the unchanged mapped data), {@code s·B·(A·x)} is added in float, for decode and prefill
     * alike. Later changes to {@link #params()} show through.
     */
    public ModelWeights applyTo(ModelWeights weights) {
        if (weights.layers().length != layers.length) {
            throw new LoraFormatException("adapters for " + layers.length + " blocks, the model has "
                    + weights.layers().length);
        }
        return weights.withLayerMatrices((block, base) -> {
            for (LoraLayer l : layers[block]) {
                if (l != null && l.target().tensorName(block).equals(base.name())) {
                    if (base.rows() != l.outputs() || base.cols() != l.inputs()) {
                        throw new LoraFormatException(base.name() + " is " + base.rows() + "x" + base.cols()
                                + ", its adapter " + l.outputs() + "x" + l.inputs());
                    }
                    return base.withAddend(new LoraAddend(l));
                }
            }
            return base;
        });
    }

    /**
     * Per-block training state over {@code capacity} positions: keeps each adapter's A·x for the backward pass and
     * accumulates weight gradients into {@code gradient} (this object's layout).
     */
    public LoraBlock trainingBlock(int block, int capacity, double[] gradient, LoraLayer.Scratch scratch) {
        if (gradient.length != params.length) {
            throw new IllegalArgumentException("gradient of " + gradient.length + " for " + params.length
                    + " LoRA weights");
        }
        return new LoraBlock(layers[block], capacity, config.rank(), gradient, scratch);
    }
}

package dev.buddy.engine.generate;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.sampling.SamplerConfig;

/**
 * How a {@link Generator} runs a model. Start from {@link #defaults()} and adjust with the {@code with} methods.
 *
 * @param contextLength   KV cache size in tokens; 0 takes the model's training context, capped at
 *                        {@link #DEFAULT_CONTEXT_CAP} to keep memory modest
 * @param kvCacheType     KV cache storage (F16 like llama.cpp, or F32)
 * @param threads         worker threads for matrix products and attention
 * @param batchSize       most prompt tokens per forward call; longer prompts are processed in chunks; {@link #AUTO}
 *                        chooses per model ({@link #promptBatchFor})
 * @param sampler         how tokens are chosen
 * @param layerPlanner    the router's hook; null runs every block without consulting a planner
 * @param skippedKvPolicy what blocks skipped by the planner leave in the KV cache
 */
public record GenerationOptions(int contextLength, KvCacheType kvCacheType, int threads, int batchSize,
        SamplerConfig sampler, LayerPlanner layerPlanner, SkippedKvPolicy skippedKvPolicy) {

    public static final int DEFAULT_CONTEXT_CAP = 4096;

    /** {@code batchSize} that lets {@link #promptBatchFor} choose for the model at hand. */
    public static final int AUTO = 0;

    /** Most prompt tokens per forward call when chosen per model: llama.cpp's default micro-batch is 512. */
    static final int MAX_AUTO_BATCH = 256;
    /** Fewest prompt tokens per forward call when chosen per model (the default before it was chosen per model). */
    static final int MIN_AUTO_BATCH = 64;
    /** Roughly what one prompt chunk's activations may take when the batch is chosen per model. */
    static final long AUTO_BATCH_BYTES = 16L << 20;

    public GenerationOptions {
        if (contextLength < 0) {
            throw new IllegalArgumentException("context length must be >= 0 (0 = the model's), got " + contextLength);
        }
        if (threads <= 0) {
            throw new IllegalArgumentException("thread count must be positive, got " + threads);
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("batch size must be positive (or 0 = chosen per model), got "
                    + batchSize);
        }
        java.util.Objects.requireNonNull(kvCacheType, "kvCacheType");
        java.util.Objects.requireNonNull(sampler, "sampler");
        java.util.Objects.requireNonNull(skippedKvPolicy, "skippedKvPolicy");
    }

    /**
     * The model's context (capped at 4096), F16 KV cache, all available processors, prompt chunks sized per model
     * ({@link #promptBatchFor}), llama.cpp's default sampling with seed 42, every block run.
     */
    public static GenerationOptions defaults() {
        return new GenerationOptions(0, KvCacheType.F16, Runtime.getRuntime().availableProcessors(), AUTO,
                SamplerConfig.defaults(42), null, SkippedKvPolicy.ZEROS);
    }

    /** The prompt tokens per forward call for {@code spec}: {@code batchSize}, or the per-model choice for AUTO. */
    public int batchSizeFor(ModelSpec spec) {
        return batchSize == AUTO ? promptBatchFor(spec) : batchSize;
    }

    /**
     * The default prompt chunk for a model: as many tokens as keep one chunk's activations near 16 MiB (the residual,
     * normed, query, key, value, attention, projection, gate and up rows of {@code InferenceState}, plus the widest
     * input converted for the quantised kernels), a multiple of 4 (the prompt tiles' width) between 64 and 256.
     * Larger chunks let each unpacked weight block serve more tokens: SmolLM2-135M pp512 at 2 threads ran about
     * 1.06x faster with 256 or 512 tokens than with 64 (4 alternating pairs each; 256 as fast as 512 with 15 MiB
     * less resident), while on the Llama-3.2-1B shape 256 tokens added 55 MiB of resident memory, enough to break
     * the 1.15x memory target, for no measurable speed; this rule gives SmolLM2 256 and that shape 96.
     */
    public static int promptBatchFor(ModelSpec spec) {
        long tokens = AUTO_BATCH_BYTES / activationBytesPerToken(spec);
        return (int) Math.max(MIN_AUTO_BATCH, Math.min(MAX_AUTO_BATCH, tokens & ~3L));
    }

    /** What {@link #promptBatchFor} budgets per prompt token: float rows, plus the widest input converted to 8 bits. */
    static long activationBytesPerToken(ModelSpec spec) {
        long floats = 4L * spec.embeddingLength() + 2L * spec.queryDim() + 2L * spec.kvDim()
                + 2L * spec.feedForwardLength();
        return 4 * floats + 6L * Math.max(spec.feedForwardLength(), spec.embeddingLength());
    }

    public GenerationOptions withContextLength(int n) {
        return new GenerationOptions(n, kvCacheType, threads, batchSize, sampler, layerPlanner, skippedKvPolicy);
    }

    public GenerationOptions withKvCacheType(KvCacheType t) {
        return new GenerationOptions(contextLength, t, threads, batchSize, sampler, layerPlanner, skippedKvPolicy);
    }

    public GenerationOptions withThreads(int n) {
        return new GenerationOptions(contextLength, kvCacheType, n, batchSize, sampler, layerPlanner, skippedKvPolicy);
    }

    public GenerationOptions withBatchSize(int n) {
        return new GenerationOptions(contextLength, kvCacheType, threads, n, sampler, layerPlanner, skippedKvPolicy);
    }

    public GenerationOptions withSampler(SamplerConfig s) {
        return new GenerationOptions(contextLength, kvCacheType, threads, batchSize, s, layerPlanner, skippedKvPolicy);
    }

    public GenerationOptions withLayerPlanner(LayerPlanner planner, SkippedKvPolicy policy) {
        return new GenerationOptions(contextLength, kvCacheType, threads, batchSize, sampler, planner, policy);
    }
}

package dev.buddy.engine.generate;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.sampling.SamplerConfig;

/**
 * How a {@link Generator} runs a model. Start from {@link #defaults()} and adjust with the {@code with} methods.
 *
 * @param contextLength   KV cache size in tokens; 0 takes the model's training context, capped at
 *                        {@link #DEFAULT_CONTEXT_CAP} to keep memory modest
 * @param kvCacheType     KV cache storage (F16 like llama.cpp, or F32)
 * @param threads         worker threads for matrix products and attention
 * @param batchSize       most prompt tokens per forward call; longer prompts are processed in chunks
 * @param sampler         how tokens are chosen
 * @param layerPlanner    the router's hook; null runs every block without consulting a planner
 * @param skippedKvPolicy what blocks skipped by the planner leave in the KV cache
 */
public record GenerationOptions(int contextLength, KvCacheType kvCacheType, int threads, int batchSize,
        SamplerConfig sampler, LayerPlanner layerPlanner, SkippedKvPolicy skippedKvPolicy) {

    public static final int DEFAULT_CONTEXT_CAP = 4096;

    public GenerationOptions {
        if (contextLength < 0) {
            throw new IllegalArgumentException("context length must be >= 0 (0 = the model's), got " + contextLength);
        }
        if (threads <= 0) {
            throw new IllegalArgumentException("thread count must be positive, got " + threads);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        java.util.Objects.requireNonNull(kvCacheType, "kvCacheType");
        java.util.Objects.requireNonNull(sampler, "sampler");
        java.util.Objects.requireNonNull(skippedKvPolicy, "skippedKvPolicy");
    }

    /**
     * The model's context (capped at 4096), F16 KV cache, all available processors, prompt chunks of 64 tokens,
     * llama.cpp's default sampling with seed 42, every block run.
     */
    public static GenerationOptions defaults() {
        return new GenerationOptions(0, KvCacheType.F16, Runtime.getRuntime().availableProcessors(), 64,
                SamplerConfig.defaults(42), null, SkippedKvPolicy.ZEROS);
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

package dev.buddy.opencl;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.SkippedKvPolicy;

/**
 * How an {@link OpenClTransformer} is set up.
 *
 * @param contextLength   KV-cache positions kept on the device (the user's context size, not the model's maximum)
 * @param maxBatch        tokens per prefill chunk; longer prompts run as several forward calls
 * @param skippedKvPolicy what a block the planner skips leaves in its KV slot
 * @param exactInputs     convert each matrix's input as the CPU backend does (int8 blocks for quantised weights, halves
 *                        for F16) so device logits track the CPU's; false keeps float inputs and uses the tiled
 *                        matmul for prefill
 * @param kvType          device KV storage: F32, or F16 (half the memory and bandwidth; attention then rounds the
 *                        query and the softmax weights to half as the CPU backend's F16 cache does)
 */
public record OpenClModelOptions(int contextLength, int maxBatch, SkippedKvPolicy skippedKvPolicy,
        boolean exactInputs, KvCacheType kvType) {

    public OpenClModelOptions {
        if (contextLength <= 0) {
            throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        }
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("prefill batch must be positive, got " + maxBatch);
        }
        if (skippedKvPolicy == null) {
            throw new IllegalArgumentException("a skipped-KV policy is required");
        }
        if (kvType == null) {
            throw new IllegalArgumentException("a KV cache type is required");
        }
    }

    /** Exact inputs, 32-token prefill chunks, zeroed KV for skipped blocks (the BUDDY paper's choice), F32 KV. */
    public static OpenClModelOptions defaults(int contextLength) {
        return new OpenClModelOptions(contextLength, 32, SkippedKvPolicy.ZEROS, true, KvCacheType.F32);
    }

    public OpenClModelOptions withSkippedKvPolicy(SkippedKvPolicy policy) {
        return new OpenClModelOptions(contextLength, maxBatch, policy, exactInputs, kvType);
    }

    public OpenClModelOptions withExactInputs(boolean exact) {
        return new OpenClModelOptions(contextLength, maxBatch, skippedKvPolicy, exact, kvType);
    }

    public OpenClModelOptions withMaxBatch(int batch) {
        return new OpenClModelOptions(contextLength, batch, skippedKvPolicy, exactInputs, kvType);
    }

    public OpenClModelOptions withKvType(KvCacheType type) {
        return new OpenClModelOptions(contextLength, maxBatch, skippedKvPolicy, exactInputs, type);
    }

    /** Bytes per stored key or value element. */
    int kvElementBytes() {
        return kvType == KvCacheType.F16 ? 2 : 4;
    }
}

package dev.buddy.opencl;

import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.ModelSpec;
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

    /** Prompt tokens per forward call on a GPU when the user leaves the batch at auto. */
    public static final int GPU_PROMPT_BATCH = 512;

    /**
     * The automatic prompt chunk on {@code device}: {@value #GPU_PROMPT_BATCH} tokens on a GPU, whose memory holds a
     * 1B model's 512-token activations (about 85 MiB) with room to spare and whose prefill tile needs many tokens
     * per launch to fill the chip (Llama-3.2-1B Q4_0 pp512 on an H200: 987 t/s in 96-token chunks, 2,452 in one
     * 512-token pass with the 2x16 tile; BENCHMARKS.md, "OpenCL on an NVIDIA H200"); elsewhere the CPU backend's
     * choice, which keeps host memory near its target.
     */
    public static int autoPromptBatch(ClDevice device, ModelSpec spec) {
        return device.isGpu() ? GPU_PROMPT_BATCH : GenerationOptions.promptBatchFor(spec);
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

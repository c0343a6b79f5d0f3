/**
 * Optional LoRA adapters on the frozen base model, trained with the router ({@code train-router --lora R}) and
 * applied at load for inference ({@code generate/chat/eval/bench --lora FILE}).
 *
 * <p><b>What is adapted.</b> Every block's seven projections by default (q, k, v, o, gate, up, down;
 * {@code --lora-targets} picks a subset): {@code y = W·x + (α/r)·B·(A·x)}, A of {@code r × in} drawn as PEFT does
 * (U(±1/√in)), B of {@code out × r} starting at zero, so training starts from the unchanged model. α defaults to 2r
 * ({@code --lora-alpha}). Embeddings, norms, biases and the LM head are not adapted.
 *
 * <p><b>Training.</b> The training forward pass adds each adapter's output right after its projection (before the
 * bias, as at inference); the backward pass gives dA, dB and the adapter's share of dX as small GEMMs over all
 * positions of the sequence ({@link dev.buddy.router.lora.LoraLayer#backward}). The adapters' weight gradients are
 * scaled by the block's gate (0 for skipped blocks, which get none). AdamW updates them with the router (same
 * schedule; {@code --lora-lr} for a separate peak rate), one gradient-norm clip over both. With LoRA the backward pass
 * runs through every executed block, blocks 0 and 1 included. No gradient reaches block 0's adapters through the
 * router's layer-0 features: the router's own backward pass stops at its input, as it does without LoRA. Checkpoints
 * hold the adapters and their optimiser state; {@code --resume} restores them, and the LoRA settings are part of the
 * run identity a resume must match. Lanes are summed in a fixed order, so a fixed seed repeats bit for bit.
 *
 * <p><b>File.</b> {@code train-router --lora R -o NAME.gguf} writes the adapters to {@code NAME.lora.gguf} beside the
 * router, atomically, at every checkpoint. It is a small GGUF ({@link dev.buddy.router.lora.LoraFile}): architecture
 * {@code buddy-lora}, the base model's fingerprint as router files carry it, rank, alpha, targets, and F32 tensors
 * named after the base tensor ({@code blk.3.attn_q.weight.lora_a} [in, r], {@code ….lora_b} [r, out], llama.cpp's
 * names and shapes). An adapter for another model is refused
 * ({@link dev.buddy.router.lora.LoraFingerprintMismatchException}; one line, exit 2 on the command line).
 *
 * <p><b>Inference.</b> {@link dev.buddy.router.lora.LoraInference} decorates each adapted matrix through the engine's
 * {@link dev.buddy.engine.tensor.WeightMatrix#withAddend} extension point: the base product runs on the unchanged,
 * mapped quantised data, then the low-rank term is added in float from the unquantised input rows, for single-token
 * and batched products alike, with per-thread scratch (no allocation per token). CPU backend only
 * ({@code --device opencl} with {@code --lora} is refused).
 */
package dev.buddy.router.lora;

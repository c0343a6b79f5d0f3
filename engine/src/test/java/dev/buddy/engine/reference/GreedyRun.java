package dev.buddy.engine.reference;

import java.util.List;

/**
 * The result of one greedy generation by llama.cpp.
 *
 * @param promptTokens the prompt as it was fed to llama.cpp
 * @param generatedTokens the chosen token ids, in order
 * @param topKPerStep for each generated token, the k most probable candidates at that step (most probable first, so
 *     element 0 is the chosen token); empty lists when the run was asked for k = 0
 * @param timings llama.cpp's own timing counters for this run
 */
public record GreedyRun(int[] promptTokens, int[] generatedTokens, List<List<TokenProbability>> topKPerStep,
        LlamaTimings timings) {

    public GreedyRun {
        promptTokens = promptTokens.clone();
        generatedTokens = generatedTokens.clone();
        topKPerStep = List.copyOf(topKPerStep);
    }

    @Override
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    @Override
    public int[] generatedTokens() {
        return generatedTokens.clone();
    }
}

package dev.buddy.router.train;

import java.util.List;

/** In-memory training data for tests on models without a tokenizer. */
record ListData(String name, List<TrainingExample> examples) implements TrainingData {
    @Override
    public int size() {
        return examples.size();
    }

    @Override
    public TrainingExample example(int index) {
        return examples.get(index);
    }

    @Override
    public String describe() {
        return name + " (" + examples.size() + " examples)";
    }

    /** Random token sequences of 3..maxLength tokens; the first {@code promptLength} (capped) are not scored. */
    static ListData random(long seed, int count, int maxLength, int vocab, int promptLength) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        java.util.List<TrainingExample> list = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = 3 + random.nextInt(maxLength - 2);
            int[] tokens = new int[n];
            for (int t = 0; t < n; t++) {
                tokens[t] = random.nextInt(vocab);
            }
            list.add(new TrainingExample(tokens, Math.min(promptLength, n - 1), "random " + i));
        }
        return new ListData("random(seed=" + seed + ")", list);
    }
}

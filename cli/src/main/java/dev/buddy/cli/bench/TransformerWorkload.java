package dev.buddy.cli.bench;

import java.io.IOException;
import java.nio.file.Path;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;

/** Buddy's forward pass as a {@link BenchWorkload}: one model, one thread pool, one preallocated sequence state. */
final class TransformerWorkload implements BenchWorkload {
    private final Model model;
    private final Parallel pool;
    private final Transformer transformer;
    private final InferenceState state;
    private final LayerPlanner planner;
    private final int[] single = new int[1];

    /**
     * @param model a loaded model, owned by the caller
     * @param threads worker threads
     * @param contextLength KV cache positions (prompt plus generated tokens)
     * @param batchSize most tokens per forward chunk
     * @param kvType KV cache storage
     * @param planner the layer planner (null runs every block)
     */
    TransformerWorkload(Model model, int threads, int contextLength, int batchSize, KvCacheType kvType,
                        LayerPlanner planner) {
        this.model = model;
        this.pool = new Parallel(threads);
        this.transformer = new Transformer(model, pool);
        this.state = transformer.newState(contextLength, kvType, batchSize, SkippedKvPolicy.ZEROS);
        this.planner = planner;
    }

    static Model load(Path path) throws IOException {
        return Model.load(path);
    }

    @Override
    public int vocabularySize() {
        return model.spec().vocabSize();
    }

    @Override
    public int startToken() {
        int bos = model.tokenizer().vocabulary().bosId();
        return bos >= 0 ? bos : 0;
    }

    @Override
    public long promptNanos(int[] tokens) {
        state.reset();
        long start = System.nanoTime();
        transformer.forward(state, tokens, 0, tokens.length, planner, true);
        return System.nanoTime() - start;
    }

    @Override
    public long generationNanos(int first, int[] next, int count) {
        state.reset();
        long start = System.nanoTime();
        single[0] = first;
        for (int i = 0; i < count; i++) {
            transformer.forward(state, single, i, 1, planner, true);
            if (i + 1 < count) {
                single[0] = next[i];
            }
        }
        return System.nanoTime() - start;
    }

    @Override
    public void close() {
        pool.close();
    }
}

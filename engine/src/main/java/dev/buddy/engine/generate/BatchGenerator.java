package dev.buddy.engine.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import dev.buddy.engine.model.ContextOverflowException;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SequenceBatch;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tokenizer.StreamingDecoder;
import dev.buddy.engine.tokenizer.Tokenizer;

/**
 * Several prompts continued together: each prompt is a sequence with its own KV cache, sampler and
 * {@link LayerPlanner} (its own route), and every decode step advances all unfinished sequences in one
 * {@link Transformer#forward(SequenceBatch)} call, so each block's weights are read once per step for the sequences
 * that selected it instead of once per sequence. Each prompt's prefill runs on its own, in chunks of the options'
 * batch size, exactly as {@link Generator} runs it.
 *
 * <p>Each sequence generates what a {@link Generator} with the same options and planner generates for its prompt
 * alone: bit for bit for quantised weights (F32/F16/BF16 weights sum a product shared by several sequences in
 * tinyBLAS's order; see {@link SequenceBatch}). Buffers and caches for {@code maxSequences} sequences are allocated
 * when the generator opens. Not thread-safe: one run at a time.
 */
public final class BatchGenerator implements AutoCloseable {
    private final Model model;
    private final Tokenizer tokenizer;
    private final GenerationOptions options;
    private final Parallel pool;
    private final Transformer transformer;
    private final InferenceState[] states;
    private final Sampler[] samplers;
    private final SequenceBatch batch;

    private BatchGenerator(Model model, GenerationOptions options, int maxSequences) {
        if (maxSequences <= 0) {
            throw new IllegalArgumentException("a batch needs at least one sequence, got " + maxSequences);
        }
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.options = options;
        int context = Generator.contextLength(model, options);
        this.pool = new Parallel(options.threads());
        try {
            this.transformer = new Transformer(model, pool);
            this.states = new InferenceState[maxSequences];
            this.samplers = new Sampler[maxSequences];
            for (int i = 0; i < maxSequences; i++) {
                states[i] = transformer.newState(context, options.kvCacheType(), Math.min(options.batchSizeFor(
                        model.spec()), context), options.skippedKvPolicy());
                samplers[i] = new Sampler(options.sampler(), model.spec().vocabSize());
            }
            this.batch = new SequenceBatch(transformer, maxSequences, maxSequences, context,
                    options.skippedKvPolicy());
        } catch (RuntimeException | Error e) {
            pool.close();
            throw e;
        }
    }

    /**
     * A batch generator over an already loaded model, which stays open when the generator closes. The options'
     * layer planner is ignored: each run takes one planner per prompt.
     */
    public static BatchGenerator of(Model model, GenerationOptions options, int maxSequences) {
        return new BatchGenerator(Objects.requireNonNull(model), Objects.requireNonNull(options), maxSequences);
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Most prompts one run takes. */
    public int maxSequences() {
        return states.length;
    }

    /** KV cache size per sequence in tokens: each prompt plus its generated tokens must fit. */
    public int contextLength() {
        return states[0].contextLength();
    }

    /**
     * Continues plain-text prompts, each tokenized as a sequence start (BOS added when the vocabulary asks for it).
     *
     * @param planners one planner per prompt (null entries, or a null list, run every block)
     */
    public List<GenerationResult> generate(List<String> prompts, List<? extends LayerPlanner> planners,
            int maxTokens, BatchTokenListener listener) {
        List<int[]> tokens = new ArrayList<>(prompts.size());
        for (String prompt : prompts) {
            int[] encoded = tokenizer.encode(prompt, true, false);
            int bos = tokenizer.vocabulary().bosId();
            tokens.add(encoded.length > 0 || bos < 0 ? encoded : new int[] {bos});
        }
        boolean[] atTextStart = new boolean[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            atTextStart[i] = prompts.get(i).isEmpty();
        }
        return run(tokens, planners, maxTokens, listener, atTextStart);
    }

    /** Continues prompts given as token ids, used as they are (no BOS added). */
    public List<GenerationResult> generateTokens(List<int[]> prompts, List<? extends LayerPlanner> planners,
            int maxTokens, BatchTokenListener listener) {
        return run(prompts, planners, maxTokens, listener, new boolean[prompts.size()]);
    }

    private List<GenerationResult> run(List<int[]> prompts, List<? extends LayerPlanner> planners, int maxTokens,
            BatchTokenListener listener, boolean[] atTextStart) {
        int n = prompts.size();
        if (n == 0 || n > states.length) {
            throw new IllegalArgumentException("a run takes 1.." + states.length + " prompts, got " + n);
        }
        if (planners != null && planners.size() != n) {
            throw new IllegalArgumentException(n + " prompts need " + n + " planners, got " + planners.size());
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        Objects.requireNonNull(listener, "listener");
        int context = contextLength();
        for (int[] prompt : prompts) {
            if (prompt.length == 0) {
                throw new IllegalArgumentException("a prompt has no tokens and the model defines no BOS token");
            }
            if (prompt.length > context) {
                throw new ContextOverflowException(prompt.length, context);
            }
        }
        Sequence[] seqs = new Sequence[n];
        for (int i = 0; i < n; i++) {
            LayerPlanner planner = planners == null ? null : planners.get(i);
            seqs[i] = new Sequence(prompts.get(i), states[i], samplers[i], planner,
                    tokenizer.streamingDecoder(atTextStart[i]), Math.min(maxTokens, context - prompts.get(i).length
                    + 1));
        }

        for (Sequence s : seqs) {
            s.prefill(transformer);
        }
        long decodeStart = System.nanoTime();
        int[] slot = new int[n];
        while (true) {
            batch.clear();
            for (int i = 0; i < n; i++) {
                slot[i] = -1;
                Sequence s = seqs[i];
                if (s.reason == null && s.sampleNext(i, maxTokens, context, tokenizer, listener)) {
                    slot[i] = batch.add(s.state, s.next, 0, s.position++, 1, s.planner);
                }
                if (s.reason != null && s.endNanos == 0) {
                    s.endNanos = System.nanoTime();
                }
            }
            if (batch.size() == 0) {
                break;
            }
            transformer.forward(batch);
            for (int i = 0; i < n; i++) {
                if (slot[i] >= 0) {
                    seqs[i].logits = batch.logits(slot[i]);
                }
            }
        }
        List<GenerationResult> results = new ArrayList<>(n);
        for (Sequence s : seqs) {
            s.decoder.finish(s.text);
            results.add(new GenerationResult(s.prompt, Arrays.copyOf(s.generated, s.count), s.text.toString(),
                    s.reason, s.promptNanos, s.endNanos - decodeStart));
        }
        return results;
    }

    /** One prompt's progress through a run. */
    private static final class Sequence {
        final int[] prompt;
        final InferenceState state;
        final Sampler sampler;
        final LayerPlanner planner;
        final StreamingDecoder decoder;
        final StringBuilder text = new StringBuilder();
        final int[] generated;
        final int[] next = new int[1];
        int count;
        int position;
        float[] logits;
        StopReason reason;
        long promptNanos;
        long endNanos;

        Sequence(int[] prompt, InferenceState state, Sampler sampler, LayerPlanner planner, StreamingDecoder decoder,
                int capacity) {
            this.prompt = prompt;
            this.state = state;
            this.sampler = sampler;
            this.planner = planner;
            this.decoder = decoder;
            this.generated = new int[Math.max(0, capacity)];
        }

        void prefill(Transformer transformer) {
            state.reset();
            sampler.reset();
            for (int token : prompt) {
                sampler.accept(token);
            }
            long start = System.nanoTime();
            logits = transformer.forward(state, prompt, 0, prompt.length, planner, true);
            promptNanos = System.nanoTime() - start;
            position = prompt.length;
        }

        /**
         * Samples the next token from the current logits, as {@link Generator} does; true when the sequence needs a
         * forward call for it, false when it has finished (its {@link #reason} is then set).
         */
        boolean sampleNext(int index, int maxTokens, int context, Tokenizer tokenizer, BatchTokenListener listener) {
            if (count == maxTokens) {
                reason = StopReason.MAX_TOKENS;
                return false;
            }
            int token = sampler.sample(logits);
            if (tokenizer.isStopToken(token)) {
                reason = StopReason.END_OF_TEXT;
                return false;
            }
            generated[count++] = token;
            sampler.accept(token);
            int before = text.length();
            decoder.accept(token, text);
            listener.onToken(index, token, text.substring(before));
            if (count == maxTokens) {
                reason = StopReason.MAX_TOKENS; // nobody will read the next logits
                return false;
            }
            if (position == context) {
                reason = StopReason.CONTEXT_FULL;
                return false;
            }
            next[0] = token;
            return true;
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}

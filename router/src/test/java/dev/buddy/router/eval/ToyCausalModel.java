package dev.buddy.router.eval;

import dev.buddy.engine.model.LayerPlanContext;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.LogitsConsumer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small but genuinely causal {@link TokenModel} for testing the scorer without the engine. Like a transformer with a
 * KV cache it keeps, per position, what was computed there (the token, its layer-0 row and the blocks that ran), and
 * the logits after position p are a hash of everything stored at positions 0..p: a scorer that starts a continuation
 * at the wrong position, or leaves stale state below it, gets different numbers. Prompt chunks longer than
 * {@code maxBatch} are split into several planner calls, as the engine does.
 */
final class ToyCausalModel implements TokenModel {
    private final int vocab;
    private final int layers;
    private final int kvDim;
    private final int context;
    private final int maxBatch;
    private final int[] tokens;
    private final boolean[][] ran;
    private final float[][] values;
    private final float[] logits;
    private final boolean[] runBlock;
    private final boolean[] runBlocks;
    private final Call call = new Call();
    /** Every forward call as (start, count, mask); for assertions about routing. */
    final List<Object[]> calls = new ArrayList<>();
    int forwardTokens;
    /** forward / forwardEach invocations. */
    int invocations;
    /** The invocation that fails as a killed run would stop (a test of resuming sets it). */
    int failAtInvocation = Integer.MAX_VALUE;

    ToyCausalModel(int vocab, int layers, int kvDim, int context, int maxBatch) {
        this.vocab = vocab;
        this.layers = layers;
        this.kvDim = kvDim;
        this.context = context;
        this.maxBatch = maxBatch;
        this.tokens = new int[context];
        this.ran = new boolean[context][layers];
        this.values = new float[context][kvDim];
        this.logits = new float[vocab];
        this.runBlock = new boolean[layers];
        this.runBlocks = new boolean[maxBatch * layers];
        // Garbage where nothing was computed yet, so reading it by mistake shows.
        for (int p = 0; p < context; p++) {
            tokens[p] = (p * 7919) % vocab;
            Arrays.fill(ran[p], p % 2 == 0);
            Arrays.fill(values[p], 1e3f + p);
        }
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int contextLength() {
        return context;
    }

    @Override
    public int layerCount() {
        return layers;
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public float[] forward(int[] in, int offset, int startPos, int n, LayerPlanner planner) {
        run(in, offset, startPos, n, planner);
        return logitsAfter(startPos + n - 1);
    }

    @Override
    public void forwardEach(int[] in, int offset, int startPos, int n, LayerPlanner planner,
            LogitsConsumer consumer) {
        run(in, offset, startPos, n, planner);
        for (int p = startPos; p < startPos + n; p++) {
            consumer.accept(p, logitsAfter(p), 0);
        }
    }

    /**
     * Stores the tokens and what every block did at their positions. A per-token planner's rows are recorded per
     * position, and every call is logged once per token with that token's mask (as one-token calls would be).
     */
    private void run(int[] in, int offset, int startPos, int n, LayerPlanner planner) {
        if (n < 1 || startPos < 0 || startPos + n > context) {
            throw new IllegalArgumentException("bad call: start " + startPos + ", " + n + " tokens");
        }
        if (invocations + 1 >= failAtInvocation) {
            throw new IllegalStateException("stopped at invocation " + failAtInvocation);
        }
        boolean perToken = planner != null && planner.plansPerToken();
        for (int done = 0; done < n; ) {
            int chunk = Math.min(maxBatch, n - done);
            int start = startPos + done;
            for (int t = 0; t < chunk; t++) {
                int p = start + t;
                tokens[p] = in[offset + done + t];
                for (int d = 0; d < kvDim; d++) {
                    // Layer 0's value depends on the token and its position, as a real one does through RoPE'd
                    // attention over the prefix; kept simple and deterministic.
                    values[p][d] = (float) Math.sin(0.37 * tokens[p] + 0.11 * d + 0.05 * p) * (1 + d % 3);
                }
            }
            call.start = start;
            call.count = chunk;
            if (perToken) {
                Arrays.fill(runBlocks, true);
                planner.planTokens(call, runBlocks);
                for (int t = 0; t < chunk; t++) {
                    System.arraycopy(runBlocks, t * layers, ran[start + t], 0, layers);
                    ran[start + t][0] = true;
                    calls.add(new Object[] {start + t, 1, Arrays.copyOfRange(runBlocks, t * layers,
                            (t + 1) * layers)});
                }
            } else {
                Arrays.fill(runBlock, true);
                if (planner != null) {
                    planner.plan(call, runBlock);
                }
                calls.add(new Object[] {start, chunk, runBlock.clone()});
                for (int t = 0; t < chunk; t++) {
                    System.arraycopy(runBlock, 0, ran[start + t], 0, layers);
                    ran[start + t][0] = true;
                }
            }
            done += chunk;
        }
        forwardTokens += n;
        invocations++;
    }

    /** A hash of everything stored at positions 0..last (tokens and the blocks run there). */
    private float[] logitsAfter(int last) {
        long h = 0x9E3779B97F4A7C15L;
        for (int p = 0; p <= last; p++) {
            h = mix(h ^ tokens[p] * 31L ^ (long) p << 20);
            long bits = 0;
            for (int b = 0; b < layers; b++) {
                bits = bits << 1 | (ran[p][b] ? 1 : 0);
            }
            h = mix(h ^ bits);
        }
        for (int v = 0; v < vocab; v++) {
            long x = mix(h + v * 0x632BE59BD9B4E019L);
            logits[v] = (float) ((x >>> 11) * 0x1.0p-53 * 8 - 4);
        }
        return logits;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void layer0Value(int position, float[] dst, int dstOffset) {
        System.arraycopy(values[position], 0, dst, dstOffset, kvDim);
    }

    @Override
    public void layer0Key(int position, float[] dst, int dstOffset) {
        for (int d = 0; d < kvDim; d++) {
            dst[dstOffset + d] = -values[position][d];
        }
    }

    private final class Call implements LayerPlanContext {
        int start;
        int count;

        @Override
        public int layerCount() {
            return layers;
        }

        @Override
        public int startPosition() {
            return start;
        }

        @Override
        public int tokenCount() {
            return count;
        }

        @Override
        public int kvDim() {
            return kvDim;
        }

        @Override
        public void layer0Value(int position, float[] dst, int dstOffset) {
            if (position >= start + count) {
                throw new IndexOutOfBoundsException("position " + position + " not computed yet");
            }
            ToyCausalModel.this.layer0Value(position, dst, dstOffset);
        }

        @Override
        public void layer0Key(int position, float[] dst, int dstOffset) {
            if (position >= start + count) {
                throw new IndexOutOfBoundsException("position " + position + " not computed yet");
            }
            ToyCausalModel.this.layer0Key(position, dst, dstOffset);
        }
    }

    /**
     * A character-level encoder over the toy vocabulary that also merges "ab" into one token, so that the tokens of a
     * concatenation can differ from the concatenation of the tokens, as with real subword tokenizers.
     */
    static final class Encoder implements TextEncoder {
        static final int BOS = 1;
        static final int AB = 2;
        private final int vocab;

        Encoder(int vocab) {
            this.vocab = vocab;
        }

        @Override
        public int[] encode(String text) {
            int[] out = new int[text.length()];
            int n = 0;
            for (int i = 0; i < text.length(); i++) {
                if (text.startsWith("ab", i)) {
                    out[n++] = AB;
                    i++;
                } else {
                    out[n++] = 3 + text.charAt(i) % (vocab - 3);
                }
            }
            return Arrays.copyOf(out, n);
        }

        @Override
        public int bosToken() {
            return BOS;
        }

        @Override
        public boolean addsBos() {
            return true;
        }
    }
}

package dev.buddy.router.eval;

import dev.buddy.engine.model.LayerPlanContext;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.LogitsConsumer;
import dev.buddy.router.BuddyPlanner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * lm-evaluation-harness's {@code loglikelihood} over Buddy's engine, with the context computed once per request.
 *
 * <h2>Tokens (lm-eval's {@code _encode_pair})</h2>
 * Trailing whitespace of the context moves to the front of the continuation; the context is encoded alone, the
 * concatenation is encoded whole, and the continuation's tokens are the whole encoding past the context's length.
 * The model sees the context's own tokens followed by those. BOS is prepended to both only when asked: lm-eval's
 * HF backend encodes with {@code add_special_tokens=False}, so its default is no BOS. An empty context becomes BOS,
 * as lm-eval's {@code prefix_token_id}. When context and continuation exceed the model's positions, the context loses
 * tokens at the front, as lm-eval keeps the last {@code max_length + 1} tokens.
 *
 * <h2>Shared context</h2>
 * The context is prefilled once; its last logits score every continuation's first token, and each continuation then
 * runs as one batched call from the position after the context, the logits after each of its tokens scoring the next
 * ({@link TokenModel#forwardEach}). Running at a position overwrites the KV cache there and attention never reads past
 * the current position, so rewinding is only a matter of where the next continuation starts (see {@link TokenModel}).
 *
 * <h2>Routing ({@link RoutingMode})</h2>
 * The context prefill is routed as a prompt. In {@link RoutingMode#PER_TOKEN} every continuation token gets the route
 * a decode step would give it, exactly as generation would: the batched call plans per token
 * ({@link BuddyPlanner#perToken()}), token t's route pooling the positions up to its own. Each continuation after the
 * first gets a fresh planner that first replays the context's prefill calls, reading the layer-0 rows still in the
 * cache, so it is in exactly the state a sequence that had only seen the context would be in. A planner that can only
 * plan whole calls runs its continuation one decode call per token instead. In {@link RoutingMode#PREFILL} the route
 * of the last prefill call is held for every continuation token.
 *
 * <p>Not thread-safe: one scorer drives one sequence state.
 */
public final class LogLikelihoodScorer implements ContinuationScorer {
    private final TokenModel model;
    private final TextEncoder encoder;
    private final PlannerSource planners;
    private final RoutingMode mode;
    private final boolean addBos;
    private final int layerCount;
    private final BlockUsage usage;

    private final CallRecorder recorder;
    private final ReplayContext replay;
    private final FixedMaskPlanner held;
    private final CountingPlanner counting;
    private final boolean[] scratchMask;
    private final ContinuationScores continuation = new ContinuationScores();
    private final boolean oneCallPerToken;

    /**
     * @param planners the configuration's planners; {@link PlannerSource#DENSE} for the full model
     * @param mode     how continuation tokens are routed (ignored when dense)
     * @param addBos   prepend the vocabulary's BOS to every context (lm-eval's default is false)
     */
    public LogLikelihoodScorer(TokenModel model, TextEncoder encoder, PlannerSource planners, RoutingMode mode,
            boolean addBos) {
        this(model, encoder, planners, mode, addBos, false);
    }

    /**
     * @param oneCallPerToken run continuations one forward call per token, as decoding does, instead of one batched
     *                        call: the reference the batched scoring is tested against
     */
    LogLikelihoodScorer(TokenModel model, TextEncoder encoder, PlannerSource planners, RoutingMode mode,
            boolean addBos, boolean oneCallPerToken) {
        this.oneCallPerToken = oneCallPerToken;
        this.model = Objects.requireNonNull(model, "model");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.planners = Objects.requireNonNull(planners, "planners");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.addBos = addBos;
        if (addBos && encoder.bosToken() < 0) {
            throw new InvalidEvalOptionException("BOS was asked for but the vocabulary has no BOS token");
        }
        this.layerCount = model.layerCount();
        this.usage = new BlockUsage(layerCount);
        this.recorder = new CallRecorder(layerCount);
        this.replay = new ReplayContext(model);
        this.held = new FixedMaskPlanner(layerCount);
        this.counting = new CountingPlanner(usage);
        this.scratchMask = new boolean[layerCount];
    }

    /** Blocks run so far, over every token this scorer ran (context and continuation tokens alike). */
    public BlockUsage usage() {
        return usage;
    }

    @Override
    public double[] logLikelihoods(String context, List<String> continuations) {
        int moved = trailingWhitespace(context);
        String ctx = context.substring(0, context.length() - moved);
        String prefix = context.substring(context.length() - moved);
        int[] contextTokens = withBos(encoder.encode(ctx));
        int[][] continuationTokens = new int[continuations.size()][];
        for (int i = 0; i < continuations.size(); i++) {
            int[] whole = withBos(encoder.encode(ctx + prefix + continuations.get(i)));
            int from = Math.min(contextTokens.length, whole.length);
            continuationTokens[i] = Arrays.copyOfRange(whole, from, whole.length);
        }
        if (contextTokens.length == 0) {
            if (encoder.bosToken() < 0) {
                throw new InvalidEvalOptionException("empty context and no BOS token to condition on");
            }
            contextTokens = new int[] {encoder.bosToken()};
        }
        return logLikelihoods(contextTokens, continuationTokens);
    }

    /**
     * Token-level scoring: the summed log-probability of each continuation after {@code context}. Continuations
     * that need the same context truncation share one prefill.
     */
    public double[] logLikelihoods(int[] context, int[][] continuations) {
        if (context.length == 0) {
            throw new IllegalArgumentException("a context needs at least one token");
        }
        int positions = model.contextLength();
        Map<Integer, List<Integer>> byDrop = new LinkedHashMap<>();
        for (int i = 0; i < continuations.length; i++) {
            int length = continuations[i].length;
            if (length > positions) {
                throw new InvalidEvalOptionException("a continuation of " + length + " tokens does not fit the "
                        + positions + "-position context; raise the context size");
            }
            // Tokens the model must run: the context and all but the last continuation token.
            int drop = Math.max(0, context.length + length - 1 - positions);
            byDrop.computeIfAbsent(drop, d -> new ArrayList<>()).add(i);
        }
        double[] out = new double[continuations.length];
        for (Map.Entry<Integer, List<Integer>> group : byDrop.entrySet()) {
            List<Integer> members = group.getValue();
            int[][] subset = new int[members.size()][];
            for (int j = 0; j < subset.length; j++) {
                subset[j] = continuations[members.get(j)];
            }
            double[] scores = scoreGroup(context, group.getKey(), subset, null);
            for (int j = 0; j < subset.length; j++) {
                out[members.get(j)] = scores[j];
            }
        }
        return out;
    }

    /**
     * The log-probability of every token of {@code continuation} after {@code context} (which must fit the model
     * without truncation), for perplexity and per-token comparisons.
     *
     * @param perToken receives {@code log p(continuation[j] | …)} at index j; length ≥ continuation.length
     * @return their sum
     */
    public double scoreTokens(int[] context, int[] continuation, double[] perToken) {
        if (context.length == 0) {
            throw new IllegalArgumentException("a context needs at least one token");
        }
        if (context.length + continuation.length - 1 > model.contextLength()) {
            throw new InvalidEvalOptionException(context.length + " context and " + continuation.length
                    + " scored tokens exceed the " + model.contextLength() + "-position context");
        }
        return scoreGroup(context, 0, new int[][] {continuation}, perToken)[0];
    }

    /** Prefills {@code context[drop..]} once and scores every continuation after it. */
    private double[] scoreGroup(int[] context, int drop, int[][] continuations, double[] perToken) {
        int contextLength = context.length - drop;
        LayerPlanner first = planners.newSequence();
        usage.startSequence();
        float[] logits;
        if (first == null) {
            logits = model.forward(context, drop, 0, contextLength, null);
            usage.recordDense(contextLength);
        } else {
            recorder.start(first);
            counting.delegate = recorder;
            logits = model.forward(context, drop, 0, contextLength, counting);
        }
        double[] out = new double[continuations.length];
        double logNormalizer = logSumExp(logits);
        for (int i = 0; i < continuations.length; i++) {
            if (continuations[i].length > 0) {
                out[i] = logProbability(logits, 0, continuations[i][0], logNormalizer);
                if (perToken != null) {
                    perToken[0] = out[i];
                }
            }
        }
        if (first != null && mode == RoutingMode.PREFILL) {
            held.mask(recorder.lastMask);
        }
        boolean firstPlannerUsed = false;
        for (int i = 0; i < continuations.length; i++) {
            int[] tokens = continuations[i];
            if (tokens.length < 2) {
                continue;
            }
            LayerPlanner steps = null;
            if (first != null) {
                if (mode == RoutingMode.PREFILL) {
                    steps = held;
                } else if (!firstPlannerUsed) {
                    steps = first;
                    firstPlannerUsed = true;
                } else {
                    steps = planners.newSequence();
                    replayPrefill(steps);
                }
            }
            usage.startBranch();
            out[i] += scoreContinuation(tokens, contextLength, steps, perToken);
        }
        counting.delegate = null;
        return out;
    }

    /**
     * The log-probabilities of {@code tokens[1..]}, each given the tokens before it, with {@code tokens[0]} at
     * position {@code contextLength}: one batched call when the planner can route each token on its own (or need
     * not), else one call per token.
     */
    private double scoreContinuation(int[] tokens, int contextLength, LayerPlanner steps, double[] perToken) {
        int n = tokens.length - 1;
        LayerPlanner planner = steps;
        if (steps != null && mode == RoutingMode.PER_TOKEN) {
            planner = steps instanceof BuddyPlanner buddy ? buddy.perToken() : null;
        }
        if (!oneCallPerToken && (steps == null || planner != null)) {
            continuation.start(tokens, contextLength, perToken);
            if (planner == null) {
                model.forwardEach(tokens, 0, contextLength, n, null, continuation);
                usage.recordDense(n);
            } else {
                counting.delegate = planner;
                model.forwardEach(tokens, 0, contextLength, n, counting, continuation);
            }
            return continuation.sum;
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float[] logits;
            if (steps == null) {
                logits = model.forward(tokens, j, contextLength + j, 1, null);
                usage.recordDense(1);
            } else {
                counting.delegate = steps;
                logits = model.forward(tokens, j, contextLength + j, 1, counting);
            }
            double lp = logProbability(logits, 0, tokens[j + 1], logSumExp(logits));
            sum += lp;
            if (perToken != null) {
                perToken[j + 1] = lp;
            }
        }
        return sum;
    }

    /** Brings a fresh planner to the state it would have after planning the context's prefill calls. */
    private void replayPrefill(LayerPlanner planner) {
        for (int c = 0; c < recorder.calls; c++) {
            replay.call(recorder.starts[c], recorder.counts[c]);
            Arrays.fill(scratchMask, true);
            planner.plan(replay, scratchMask);
        }
    }

    private int[] withBos(int[] tokens) {
        if (!addBos) {
            return tokens;
        }
        int[] out = new int[tokens.length + 1];
        out[0] = encoder.bosToken();
        System.arraycopy(tokens, 0, out, 1, tokens.length);
        return out;
    }

    /** Length of the trailing whitespace Python's {@code str.rstrip()} would remove. */
    static int trailingWhitespace(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (!(Character.isWhitespace(cp) || Character.isSpaceChar(cp))) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.length() - end;
    }

    /** log Σ exp(logits), in double, shifted by the maximum. */
    static double logSumExp(float[] logits) {
        return logSumExp(logits, 0, logits.length);
    }

    /** log Σ exp over {@code logits[offset, offset + length)}. */
    static double logSumExp(float[] logits, int offset, int length) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = offset; i < offset + length; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = offset; i < offset + length; i++) {
            sum += Math.exp((double) logits[i] - max);
        }
        return max + Math.log(sum);
    }

    private double logProbability(float[] logits, int offset, int token, double logNormalizer) {
        if (token < 0 || token >= model.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of "
                    + model.vocabSize());
        }
        return logits[offset + token] - logNormalizer;
    }

    /** Sums a continuation's log-probabilities as the batched call hands over the logits after each token. */
    private final class ContinuationScores implements LogitsConsumer {
        private int[] tokens;
        private int contextLength;
        private double[] perToken;
        private double sum;

        void start(int[] continuationTokens, int firstPosition, double[] perTokenOut) {
            tokens = continuationTokens;
            contextLength = firstPosition;
            perToken = perTokenOut;
            sum = 0;
        }

        @Override
        public void accept(int position, float[] logits, int offset) {
            int j = position - contextLength;
            double lp = logProbability(logits, offset, tokens[j + 1],
                    logSumExp(logits, offset, model.vocabSize()));
            sum += lp;
            if (perToken != null) {
                perToken[j + 1] = lp;
            }
        }
    }

    // ---- planner plumbing ------------------------------------------------------------------------------------

    /** Records the prefill's forward calls (and the last route) while passing them to the real planner. */
    private static final class CallRecorder implements LayerPlanner {
        private LayerPlanner delegate;
        private int[] starts = new int[8];
        private int[] counts = new int[8];
        private int calls;
        private final boolean[] lastMask;

        CallRecorder(int layerCount) {
            this.lastMask = new boolean[layerCount];
        }

        void start(LayerPlanner planner) {
            delegate = planner;
            calls = 0;
            Arrays.fill(lastMask, true);
        }

        @Override
        public void plan(LayerPlanContext ctx, boolean[] runBlock) {
            delegate.plan(ctx, runBlock);
            if (calls == starts.length) {
                starts = Arrays.copyOf(starts, calls * 2);
                counts = Arrays.copyOf(counts, calls * 2);
            }
            starts[calls] = ctx.startPosition();
            counts[calls] = ctx.tokenCount();
            calls++;
            System.arraycopy(runBlock, 0, lastMask, 0, lastMask.length);
        }
    }

    /** Holds one route: clears the blocks the mask skips. */
    private static final class FixedMaskPlanner implements LayerPlanner {
        private final boolean[] mask;

        FixedMaskPlanner(int layerCount) {
            this.mask = new boolean[layerCount];
        }

        void mask(boolean[] route) {
            System.arraycopy(route, 0, mask, 0, mask.length);
        }

        @Override
        public void plan(LayerPlanContext ctx, boolean[] runBlock) {
            for (int b = 0; b < mask.length; b++) {
                if (!mask[b]) {
                    runBlock[b] = false;
                }
            }
        }
    }

    /** Counts the blocks each forward call runs, after the real planner has decided. */
    private static final class CountingPlanner implements LayerPlanner {
        private final BlockUsage usage;
        private LayerPlanner delegate;

        CountingPlanner(BlockUsage usage) {
            this.usage = usage;
        }

        @Override
        public void plan(LayerPlanContext ctx, boolean[] runBlock) {
            delegate.plan(ctx, runBlock);
            usage.record(ctx.tokenCount(), runBlock);
        }

        @Override
        public boolean plansPerToken() {
            return delegate.plansPerToken();
        }

        @Override
        public void planTokens(LayerPlanContext ctx, boolean[] runBlocks) {
            delegate.planTokens(ctx, runBlocks);
            int layers = ctx.layerCount();
            for (int t = 0; t < ctx.tokenCount(); t++) {
                usage.record(1, runBlocks, t * layers);
            }
        }
    }

    /** A planning context for a forward call that already happened: layer-0 rows come from the model's cache. */
    private static final class ReplayContext implements LayerPlanContext {
        private final TokenModel model;
        private int start;
        private int count;

        ReplayContext(TokenModel model) {
            this.model = model;
        }

        void call(int startPosition, int tokenCount) {
            this.start = startPosition;
            this.count = tokenCount;
        }

        @Override
        public int layerCount() {
            return model.layerCount();
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
            return model.kvDim();
        }

        @Override
        public void layer0Value(int position, float[] dst, int dstOffset) {
            checkPosition(position);
            model.layer0Value(position, dst, dstOffset);
        }

        @Override
        public void layer0Key(int position, float[] dst, int dstOffset) {
            checkPosition(position);
            model.layer0Key(position, dst, dstOffset);
        }

        private void checkPosition(int position) {
            if (position < 0 || position >= start + count) {
                throw new IndexOutOfBoundsException("position " + position + " is not computed in the replayed call"
                        + " (0.." + (start + count - 1) + ")");
            }
        }
    }
}

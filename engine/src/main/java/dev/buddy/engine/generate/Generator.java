package dev.buddy.engine.generate;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import dev.buddy.engine.model.ContextOverflowException;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.sampling.Sampler;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tokenizer.ChatMessage;
import dev.buddy.engine.tokenizer.ChatTemplate;
import dev.buddy.engine.tokenizer.StreamingDecoder;
import dev.buddy.engine.tokenizer.Tokenizer;

/**
 * Text generation with a GGUF model, the simplest way to use Buddy:
 *
 * <pre>{@code
 * try (Generator g = Generator.open(Path.of("model.gguf"), GenerationOptions.defaults())) {
 *     GenerationResult r = g.generate("Once upon a time", 64, (token, text) -> System.out.print(text));
 *     System.out.printf("%n%.1f tokens/s%n", r.generationTokensPerSecond());
 * }
 * }</pre>
 *
 * Each call to {@link #generate} or {@link #chat} starts a new sequence at position 0; the KV cache and all buffers
 * are allocated once when the generator opens. Not thread-safe: one generation at a time.
 */
public final class Generator implements AutoCloseable {
    private final Model model;
    private final boolean ownsModel;
    private final Tokenizer tokenizer;
    private final GenerationOptions options;
    private final ForwardBackend backend;
    private final Sampler sampler;
    private final int[] next = new int[1];

    private Generator(Model model, boolean ownsModel, GenerationOptions options, ForwardBackend backend) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.tokenizer = model.tokenizer();
        this.options = options;
        this.backend = backend != null ? backend : new CpuBackend(model, options);
        this.sampler = new Sampler(options.sampler(), model.spec().vocabSize());
    }

    /** KV positions a generator allocates for {@code options}: the user's, or the model's capped at 4096. */
    public static int contextLength(Model model, GenerationOptions options) {
        return options.contextLength() > 0 ? options.contextLength()
                : Math.min(model.spec().contextLength(), GenerationOptions.DEFAULT_CONTEXT_CAP);
    }

    /**
     * Loads a model and prepares to generate with it.
     *
     * @throws IOException if the file cannot be read
     * @throws dev.buddy.engine.model.ModelLoadException if the model is not supported
     */
    public static Generator open(Path modelPath, GenerationOptions options) throws IOException {
        Model model = Model.load(modelPath);
        try {
            return new Generator(model, true, options, null);
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    /** A generator over an already loaded model, which stays open when the generator closes. */
    public static Generator of(Model model, GenerationOptions options) {
        return new Generator(model, false, options, null);
    }

    /**
     * A generator over an already loaded model that runs its forward passes on {@code backend} (which it closes); the
     * model stays open. The options' sampler and layer planner apply; the backend was set up for the rest.
     */
    public static Generator of(Model model, GenerationOptions options, ForwardBackend backend) {
        return new Generator(model, false, options, java.util.Objects.requireNonNull(backend, "backend"));
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public GenerationOptions options() {
        return options;
    }

    /** KV cache size in tokens: prompt plus generated tokens must fit. */
    public int contextLength() {
        return backend.contextLength();
    }

    /**
     * Continues a plain-text prompt. The prompt is tokenized as a sequence start (BOS added when the vocabulary asks
     * for it); an empty prompt generates from BOS alone.
     *
     * @throws ContextOverflowException when the prompt alone does not fit the context
     */
    public GenerationResult generate(String prompt, int maxTokens, TokenListener listener) {
        int[] tokens = tokenizer.encode(prompt, true, false);
        return generate(withBos(tokens), maxTokens, listener, prompt.isEmpty());
    }

    /**
     * Answers a conversation, formatted with the model's chat template ({@code tokenizer.chat_template}), ending
     * at the model's end-of-turn token.
     *
     * @throws dev.buddy.engine.tokenizer.UnsupportedChatTemplateException when the model has no usable template
     */
    public GenerationResult chat(List<ChatMessage> messages, int maxTokens, TokenListener listener) {
        String prompt = ChatTemplate.forVocabulary(tokenizer.vocabulary()).render(messages, true);
        return generate(withBos(tokenizer.encode(prompt, true, true)), maxTokens, listener, false);
    }

    /** Continues a prompt given as token ids, used as they are (no BOS added). */
    public GenerationResult generate(int[] promptTokens, int maxTokens, TokenListener listener) {
        return generate(promptTokens, maxTokens, listener, false);
    }

    private GenerationResult generate(int[] prompt, int maxTokens, TokenListener listener, boolean atTextStart) {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens and the model defines no BOS token");
        }
        if (prompt.length > backend.contextLength()) {
            throw new ContextOverflowException(prompt.length, backend.contextLength());
        }
        backend.reset();
        sampler.reset();
        for (int token : prompt) {
            sampler.accept(token);
        }
        long start = System.nanoTime();
        float[] logits = backend.forward(prompt, 0, prompt.length, 0, options.layerPlanner());
        long prefillEnd = System.nanoTime();

        StreamingDecoder decoder = tokenizer.streamingDecoder(atTextStart);
        StringBuilder text = new StringBuilder();
        int[] generated = new int[Math.min(maxTokens, backend.contextLength() - prompt.length + 1)];
        int count = 0;
        int position = prompt.length;
        StopReason reason = StopReason.MAX_TOKENS;
        while (count < maxTokens) {
            int token = sampler.sample(logits);
            if (tokenizer.isStopToken(token)) {
                reason = StopReason.END_OF_TEXT;
                break;
            }
            generated[count++] = token;
            sampler.accept(token);
            int before = text.length();
            decoder.accept(token, text);
            listener.onToken(token, text.substring(before));
            if (count == maxTokens) {
                break; // nobody will read the next logits
            }
            if (position == backend.contextLength()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            next[0] = token;
            logits = backend.forward(next, 0, 1, position++, options.layerPlanner());
        }
        decoder.finish(text);
        long end = System.nanoTime();
        return new GenerationResult(prompt, Arrays.copyOf(generated, count), text.toString(), reason,
                prefillEnd - start, end - prefillEnd);
    }

    /** An empty encoding (empty prompt on a vocabulary that adds no BOS) becomes BOS alone, when there is one. */
    private int[] withBos(int[] tokens) {
        if (tokens.length > 0) {
            return tokens;
        }
        int bos = tokenizer.vocabulary().bosId();
        return bos >= 0 ? new int[] {bos} : tokens;
    }

    @Override
    public void close() {
        backend.close();
        if (ownsModel) {
            model.close();
        }
    }

    /** Buddy's CPU forward pass: one thread pool and one preallocated sequence state. */
    private static final class CpuBackend implements ForwardBackend {
        private final Parallel pool;
        private final Transformer transformer;
        private final InferenceState state;

        CpuBackend(Model model, GenerationOptions options) {
            int context = Generator.contextLength(model, options);
            this.pool = new Parallel(options.threads());
            try {
                this.transformer = new Transformer(model, pool);
                this.state = transformer.newState(context, options.kvCacheType(),
                        Math.min(options.batchSizeFor(model.spec()), context), options.skippedKvPolicy());
            } catch (RuntimeException | Error e) {
                pool.close();
                throw e;
            }
        }

        @Override
        public int contextLength() {
            return state.contextLength();
        }

        @Override
        public void reset() {
            state.reset();
        }

        @Override
        public float[] forward(int[] tokens, int offset, int count, int startPosition, LayerPlanner planner) {
            return transformer.forward(state, tokens, offset, startPosition, count, planner, true);
        }

        @Override
        public void close() {
            pool.close();
        }
    }
}

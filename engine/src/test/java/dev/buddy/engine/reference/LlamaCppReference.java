package dev.buddy.engine.reference;

import static dev.buddy.engine.reference.LlamaCppNative.BATCH;
import static dev.buddy.engine.reference.LlamaCppNative.CONTEXT_PARAMS;
import static dev.buddy.engine.reference.LlamaCppNative.MODEL_PARAMS;
import static dev.buddy.engine.reference.LlamaCppNative.PERF_CONTEXT;
import static dev.buddy.engine.reference.LlamaCppNative.offset;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp, in process, as the reference that Buddy's correctness tests and the side-by-side benchmark compare
 * against: exact token ids from its tokenizer, its greedy continuations, its logits for any token sequence (teacher
 * forcing) and its own timing counters.
 *
 * <h2>Where llama.cpp comes from</h2>
 * The native library bundled in {@code de.kherud:llama:4.2.0} (llama.cpp build b4916, commit c6af2161; see
 * {@link #llamaCppVersion()}), called through the FFM API ({@code java.lang.foreign}), not through de.kherud's Java API.
 * A module that uses this class needs {@code de.kherud:llama:4.2.0} on its test classpath (the engine test-jar does not
 * bring it along) and should run with {@code --enable-native-access=ALL-UNNAMED} (the parent pom's
 * {@code buddy.jvm.flags} does); without the flag the JVM only prints a warning. {@code -Djava.library.path} plays no
 * part: the library is copied from the jar to a private temporary directory, {@code dlopen}ed and deleted.
 *
 * <h2>What de.kherud 4.2.0's own Java API can and cannot do (investigated, and why it is bypassed)</h2>
 * <ul>
 *   <li>{@code LlamaModel.encode(text)} tokenizes with {@code add_special = false, parse_special = true}: never a BOS.
 *       A string prompt given to {@code complete}/{@code generate} is tokenized with {@code add_special = true}.</li>
 *   <li>{@code LlamaOutput} carries only {@code text} (the piece of one token when streaming) and a
 *       {@code Map<String, Float>} of probabilities keyed by piece text: no token ids anywhere. The server's
 *       {@code "tokens"}/{@code return_tokens} JSON never reaches Java.</li>
 *   <li>{@code InferenceParameters.setNProbs(k)} with k &gt; 0 aborts the whole JVM: its JNI code reads
 *       {@code completion_probabilities[i]["probs"]}, a field the bundled server no longer writes, and nlohmann-json's
 *       {@code GGML_ASSERT(it != end())} fires. So top-k is unavailable through that API.</li>
 *   <li>The server's {@code "timings"} JSON is dropped; the "prompt eval time" / "eval time" lines go to the process's
 *       stderr through llama.cpp's {@code common_log}, which {@code LlamaModel.setLogger} does not capture.</li>
 *   <li>A prompt of token ids is only possible by writing a JSON array into the package-private parameter map by
 *       reflection; teacher forcing (logits of a given sequence) is not possible at all.</li>
 *   <li>Its loader extracts the library to a fixed, shared {@code java.io.tmpdir/libjllama.so} and prints a line to
 *       stdout; and after a {@code LlamaModel} had been used, a plain {@code main} did not exit when it returned (its
 *       server thread stays attached to the JVM).</li>
 * </ul>
 * The bundled library exports llama.cpp's full C API, so this class calls {@code llama_tokenize},
 * {@code llama_decode}, {@code llama_get_logits_ith} and {@code llama_perf_context} directly, which answers every one
 * of those points exactly.
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>CPU only (the bundled build has no GPU backend; {@code n_gpu_layers} is 0), the given thread count for both
 *       single-token and batch decoding, one sequence, flash attention off, KV cache in F32 by default (llama.cpp's
 *       default F16 is available through {@link KvCacheType}) so that small differences against an F32 engine are not
 *       the reference's rounding.</li>
 *   <li>Greedy means the arg-max of llama.cpp's raw logits, lowest id winning ties, exactly what
 *       {@code llama_sampler_init_greedy} picks; no temperature, penalty or other sampler is involved, and no random
 *       number is ever drawn, so there is no seed to fix and runs are deterministic.</li>
 *   <li>Every call starts from an empty KV cache; the prompt is decoded as one batch, then one token per step.</li>
 *   <li>Probabilities are the softmax of llama.cpp's logits at temperature 1, computed here in double precision.</li>
 *   <li>llama.cpp's log is captured (warnings and errors feed exception messages) and never printed; run with
 *       {@code -Dbuddy.llamacpp.log=true} to see it. The one exception: for a malformed GGUF file, llama.cpp's gguf
 *       reader writes a line straight to stderr with {@code fprintf} before the load fails.</li>
 *   <li>llama.cpp rounds the context size up to a multiple of 32; {@link #contextSize()} is what it allocated.</li>
 *   <li>The build uses OpenMP, whose threads spin at barriers: more threads than idle cores makes decoding crawl
 *       (seconds per token on a busy two-core machine), so tests should keep the default of one thread.</li>
 *   <li>Several models may be opened one after another, or at once, in one JVM; each instance owns its model and
 *       context and frees both on {@link #close()}. Methods are synchronized, since a llama.cpp context is not
 *       thread-safe.</li>
 * </ul>
 */
public final class LlamaCppReference implements AutoCloseable {

    /** Element type of llama.cpp's KV cache. */
    public enum KvCacheType {
        /** Exact; the default here. */
        F32(LlamaCppNative.GGML_TYPE_F32),
        /** llama.cpp's own default (what llama-cli and llama-bench use unless told otherwise). */
        F16(LlamaCppNative.GGML_TYPE_F16);

        final int ggmlType;

        KvCacheType(int ggmlType) {
            this.ggmlType = ggmlType;
        }
    }

    /**
     * How to run llama.cpp.
     *
     * @param threads CPU threads for every decode
     * @param contextSize the context window in tokens; prompt plus generated tokens must fit
     * @param kvCacheType element type of the KV cache
     */
    public record Options(int threads, int contextSize, KvCacheType kvCacheType) {
        public Options {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            if (contextSize < 2) {
                throw new IllegalArgumentException("contextSize must be at least 2, got " + contextSize);
            }
            if (kvCacheType == null) {
                throw new IllegalArgumentException("kvCacheType must not be null");
            }
        }

        /** One thread (tests share a small machine), 512 tokens of context, F32 KV cache. */
        public static Options defaults() {
            return new Options(1, 512, KvCacheType.F32);
        }

        public Options withThreads(int newThreads) {
            return new Options(newThreads, contextSize, kvCacheType);
        }

        public Options withContextSize(int newContextSize) {
            return new Options(threads, newContextSize, kvCacheType);
        }

        public Options withKvCacheType(KvCacheType newKvCacheType) {
            return new Options(threads, contextSize, newKvCacheType);
        }
    }

    /** llama.cpp processes at most this many tokens per compute graph; its own default n_ubatch. */
    private static final int MAX_MICRO_BATCH = 512;

    private final Path modelPath;
    private final Options options;
    private final TensorTrace trace;
    private final Arena arena = Arena.ofShared();
    private MemorySegment model;
    private MemorySegment context;
    private final MemorySegment vocab;
    private final int vocabularySize;
    private final int contextSize;

    // struct llama_batch (owned, from llama_batch_init) and views of its arrays, sized for the whole context.
    private final MemorySegment batch;
    private final MemorySegment batchTokens;
    private final MemorySegment batchPositions;
    private final MemorySegment batchWantsLogits;

    private boolean closed;

    /** Loads a GGUF model with {@link Options#defaults()}. */
    public static LlamaCppReference open(Path gguf) {
        return open(gguf, Options.defaults());
    }

    /** Loads a GGUF model; throws {@link LlamaCppException} when llama.cpp rejects the file. */
    public static LlamaCppReference open(Path gguf, Options options) {
        if (!Files.isRegularFile(gguf)) {
            throw new LlamaCppException("model file not found: " + gguf);
        }
        return new LlamaCppReference(gguf, options, null);
    }

    /**
     * As {@link #open(Path, Options)}, with every decode's intermediate tensors captured into {@code trace} (cleared
     * at the start of each decode call), for locating the first op where Buddy parts from llama.cpp.
     */
    public static LlamaCppReference open(Path gguf, Options options, TensorTrace trace) {
        if (!Files.isRegularFile(gguf)) {
            throw new LlamaCppException("model file not found: " + gguf);
        }
        return new LlamaCppReference(gguf, options, trace);
    }

    private LlamaCppReference(Path gguf, Options options, TensorTrace trace) {
        this.modelPath = gguf;
        this.options = options;
        this.trace = trace;
        LlamaCppNative.ensureLoaded();
        LlamaCppNative.installQuietLogger();
        LlamaCppNative.clearRecentProblems();
        try (Arena call = Arena.ofConfined()) {
            model = loadModel(call, gguf);
            context = createContext(call, model, options, trace);
            vocab = (MemorySegment) LlamaCppNative.MODEL_GET_VOCAB.invokeExact(model);
            vocabularySize = (int) LlamaCppNative.VOCAB_N_TOKENS.invokeExact(vocab);
            contextSize = (int) LlamaCppNative.N_CTX.invokeExact(context);
            batch = (MemorySegment) LlamaCppNative.BATCH_INIT.invokeExact((SegmentAllocator) arena, contextSize, 0, 1);
        } catch (Throwable t) {
            freeNative();
            arena.close();
            throw rethrow("cannot set up llama.cpp for " + gguf, t);
        }
        batchTokens = batchArray("token", (long) contextSize * Integer.BYTES);
        batchPositions = batchArray("pos", (long) contextSize * Integer.BYTES);
        batchWantsLogits = batchArray("logits", contextSize);
        // One sequence (id 0) throughout: set once, never changes.
        MemorySegment seqCounts = batchArray("n_seq_id", (long) contextSize * Integer.BYTES);
        MemorySegment seqIds = batchArray("seq_id", (long) contextSize * ADDRESS.byteSize());
        for (int i = 0; i < contextSize; i++) {
            seqCounts.setAtIndex(JAVA_INT, i, 1);
            seqIds.getAtIndex(ADDRESS, i).reinterpret(Integer.BYTES).set(JAVA_INT, 0, 0);
        }
    }

    private static MemorySegment loadModel(Arena call, Path gguf) throws Throwable {
        MemorySegment params = (MemorySegment) LlamaCppNative.MODEL_DEFAULT_PARAMS.invokeExact((SegmentAllocator) call);
        params.set(JAVA_INT, offset(MODEL_PARAMS, "n_gpu_layers"), 0);
        MemorySegment path = call.allocateFrom(gguf.toAbsolutePath().toString());
        MemorySegment loaded = (MemorySegment) LlamaCppNative.MODEL_LOAD_FROM_FILE.invokeExact(path, params);
        if (loaded.equals(MemorySegment.NULL)) {
            throw new LlamaCppException("llama.cpp could not load " + gguf + ": " + LlamaCppNative.recentProblems());
        }
        return loaded;
    }

    private static MemorySegment createContext(Arena call, MemorySegment model, Options options, TensorTrace trace)
            throws Throwable {
        MemorySegment params = (MemorySegment) LlamaCppNative.CONTEXT_DEFAULT_PARAMS.invokeExact((SegmentAllocator) call);
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_ctx"), options.contextSize());
        // A whole prompt (or a whole teacher-forced sequence) always fits in one llama_decode call.
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_batch"), options.contextSize());
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_ubatch"), Math.min(MAX_MICRO_BATCH, options.contextSize()));
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_seq_max"), 1);
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_threads"), options.threads());
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_threads_batch"), options.threads());
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "type_k"), options.kvCacheType().ggmlType);
        params.set(JAVA_INT, offset(CONTEXT_PARAMS, "type_v"), options.kvCacheType().ggmlType);
        params.set(JAVA_BYTE, offset(CONTEXT_PARAMS, "logits_all"), (byte) 0);
        params.set(JAVA_BYTE, offset(CONTEXT_PARAMS, "flash_attn"), (byte) 0);
        // llama.cpp defaults no_perf to true, which would leave every timing counter at zero.
        params.set(JAVA_BYTE, offset(CONTEXT_PARAMS, "no_perf"), (byte) 0);
        if (trace != null) {
            params.set(ADDRESS, offset(CONTEXT_PARAMS, "cb_eval"), trace.attach());
        }
        MemorySegment created = (MemorySegment) LlamaCppNative.INIT_FROM_MODEL.invokeExact(model, params);
        if (created.equals(MemorySegment.NULL)) {
            throw new LlamaCppException("llama.cpp could not create a context (n_ctx " + options.contextSize() + "): "
                    + LlamaCppNative.recentProblems());
        }
        return created;
    }

    /** One of the arrays llama_batch_init allocated, as a segment of the given size. */
    private MemorySegment batchArray(String field, long bytes) {
        return batch.get(ADDRESS, offset(BATCH, field)).reinterpret(bytes);
    }

    /** llama.cpp's build, e.g. {@code "b4916 (c6af2161)"}, for benchmark reports. */
    public static String llamaCppVersion() {
        return LlamaCppNative.version();
    }

    /** llama.cpp's description of the CPU features it was built for and detected. */
    public static String llamaCppSystemInfo() {
        return LlamaCppNative.systemInfo();
    }

    public Path modelPath() {
        return modelPath;
    }

    public Options options() {
        return options;
    }

    public synchronized int vocabularySize() {
        ensureOpen();
        return vocabularySize;
    }

    /** The context size llama.cpp actually allocated. */
    public synchronized int contextSize() {
        ensureOpen();
        return contextSize;
    }

    public synchronized int bosToken() {
        ensureOpen();
        return call(() -> (int) LlamaCppNative.VOCAB_BOS.invokeExact(vocab));
    }

    public synchronized int eosToken() {
        ensureOpen();
        return call(() -> (int) LlamaCppNative.VOCAB_EOS.invokeExact(vocab));
    }

    /** Whether llama.cpp treats the token as an end of generation (EOS, EOT and similar). */
    public synchronized boolean isEndOfGeneration(int tokenId) {
        ensureOpen();
        checkToken(tokenId);
        return call(() -> (boolean) LlamaCppNative.VOCAB_IS_EOG.invokeExact(vocab, tokenId));
    }

    /**
     * llama.cpp's tokenization of plain text, the way its tokenizer tests do it: special-token text such as
     * {@code "</s>"} is not parsed as a special token.
     *
     * @param addBos llama.cpp's {@code add_special}: prepends BOS (and appends EOS) when the vocabulary asks for it,
     *     which SentencePiece-style "llama" vocabularies do unless {@code tokenizer.ggml.add_bos_token} is false
     */
    public int[] tokenize(String text, boolean addBos) {
        return tokenize(text, addBos, false);
    }

    /**
     * llama.cpp's {@code llama_tokenize}.
     *
     * @param addSpecial add BOS/EOS as the vocabulary prescribes
     * @param parseSpecial treat the text of special and control tokens (e.g. {@code "<|im_start|>"}) as those tokens,
     *     as llama-cli does for a prompt
     */
    public synchronized int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        ensureOpen();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment textSegment = call.allocate(Math.max(1, utf8.length));
            MemorySegment.copy(utf8, 0, textSegment, JAVA_BYTE, 0, utf8.length);
            int capacity = utf8.length + 2; // no tokenizer yields more than one token per byte, plus BOS and EOS
            MemorySegment out = call.allocate(JAVA_INT, capacity);
            int count = call(() -> (int) LlamaCppNative.TOKENIZE.invokeExact(vocab, textSegment, utf8.length, out,
                    capacity, addSpecial, parseSpecial));
            if (count < 0) {
                throw new LlamaCppException("llama_tokenize needs " + (-count) + " slots for a text of "
                        + utf8.length + " bytes, more than the " + capacity + " given");
            }
            return out.asSlice(0, (long) count * Integer.BYTES).toArray(JAVA_INT);
        }
    }

    /** The text of one token, control tokens shown as their text (e.g. {@code "</s>"}), for reports. */
    public synchronized String piece(int tokenId) {
        ensureOpen();
        checkToken(tokenId);
        return new String(pieceBytes(tokenId, true), StandardCharsets.UTF_8);
    }

    /**
     * The text of a token sequence as llama-cli prints it: pieces concatenated as bytes (so characters split over
     * byte tokens come out whole), control tokens such as BOS and EOS rendering as nothing.
     */
    public synchronized String detokenize(int[] tokenIds) {
        ensureOpen();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : tokenIds) {
            checkToken(id);
            bytes.writeBytes(pieceBytes(id, false));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private byte[] pieceBytes(int tokenId, boolean renderSpecial) {
        try (Arena call = Arena.ofConfined()) {
            int capacity = 64;
            while (true) {
                MemorySegment buffer = call.allocate(capacity);
                int size = capacity;
                int length = call(() -> (int) LlamaCppNative.TOKEN_TO_PIECE.invokeExact(vocab, tokenId, buffer, size,
                        0, renderSpecial));
                if (length >= 0) {
                    return buffer.asSlice(0, length).toArray(JAVA_BYTE);
                }
                capacity = -length; // llama.cpp reports the size it needs as a negative number
            }
        }
    }

    /** Greedy continuation of a text prompt tokenized with BOS ({@code tokenize(prompt, true)}): exactly n ids. */
    public int[] greedy(String prompt, int newTokens) {
        return greedy(tokenize(prompt, true), newTokens);
    }

    /**
     * Greedy continuation: exactly {@code newTokens} ids, not stopping at an end-of-generation token (as llama-cli with
     * {@code --ignore-eos}), so comparisons never depend on a stop rule. Use {@link #greedyRun} to stop at EOS.
     */
    public int[] greedy(int[] promptTokens, int newTokens) {
        return greedyRun(promptTokens, newTokens, 0, false).generatedTokens();
    }

    /**
     * Greedy generation with the top-k candidates at each step and llama.cpp's timings.
     *
     * @param promptTokens the prompt, fed as is (include BOS yourself, e.g. via {@link #tokenize(String, boolean)})
     * @param maxNewTokens how many tokens to generate at most
     * @param topK candidates to report per step (0 for none)
     * @param stopAtEndOfGeneration stop after the first end-of-generation token (which is included)
     */
    public synchronized GreedyRun greedyRun(int[] promptTokens, int maxNewTokens, int topK,
            boolean stopAtEndOfGeneration) {
        ensureOpen();
        checkSequence(promptTokens);
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        if (topK < 0 || topK > vocabularySize) {
            throw new IllegalArgumentException("topK must be within 0.." + vocabularySize + ", got " + topK);
        }
        if (promptTokens.length + maxNewTokens - 1 > contextSize) {
            throw new IllegalArgumentException("prompt of " + promptTokens.length + " tokens plus " + maxNewTokens
                    + " new tokens exceeds the context of " + contextSize + " tokens");
        }
        startFresh();
        decode(promptTokens, 0, false);
        int[] generated = new int[maxNewTokens];
        List<List<TokenProbability>> candidates = new ArrayList<>();
        int count = 0;
        while (true) {
            MemorySegment logits = logitsOf(-1);
            int next = argMax(logits);
            generated[count++] = next;
            candidates.add(topK == 0 ? List.of() : topK(logits.toArray(JAVA_FLOAT), topK));
            boolean stop = stopAtEndOfGeneration && isEndOfGenerationUnchecked(next);
            if (stop || count == maxNewTokens) {
                break;
            }
            decode(new int[] {next}, promptTokens.length + count - 1, false);
        }
        return new GreedyRun(promptTokens, Arrays.copyOf(generated, count), candidates, readTimings());
    }

    /** The logits llama.cpp gives for the token after {@code tokens}. */
    public synchronized float[] nextTokenLogits(int[] tokens) {
        ensureOpen();
        checkSequence(tokens);
        checkFits(tokens);
        startFresh();
        decode(tokens, 0, false);
        return logitsOf(-1).toArray(JAVA_FLOAT);
    }

    /** Empties the KV cache, so that the next {@link #decodeAt} starts a new sequence. */
    public synchronized void clearCache() {
        ensureOpen();
        startFresh();
    }

    /**
     * One llama_decode of {@code tokens} at positions {@code firstPosition...} on top of what the cache holds, the
     * way generation feeds a prompt batch and then single tokens; returns the logits after the last token. With a
     * {@link TensorTrace}, the trace then holds this call's intermediate tensors.
     */
    public synchronized float[] decodeAt(int[] tokens, int firstPosition) {
        ensureOpen();
        checkSequence(tokens);
        if (firstPosition < 0 || firstPosition + tokens.length > contextSize) {
            throw new IllegalArgumentException(tokens.length + " tokens at position " + firstPosition
                    + " exceed the context of " + contextSize + " tokens");
        }
        decode(tokens, firstPosition, false);
        return logitsOf(-1).toArray(JAVA_FLOAT);
    }

    /** The k most probable next tokens after {@code tokens}, most probable first. */
    public synchronized List<TokenProbability> nextTokenDistribution(int[] tokens, int k) {
        return topK(nextTokenLogits(tokens), k);
    }

    /**
     * Teacher forcing: llama.cpp's logits at every position of {@code tokens} in one causal pass; row i is the
     * prediction for the token after {@code tokens[i]}. Needs {@code tokens.length * vocabularySize} floats.
     */
    public synchronized float[][] logitsAtEveryPosition(int[] tokens) {
        ensureOpen();
        checkSequence(tokens);
        checkFits(tokens);
        startFresh();
        decode(tokens, 0, true);
        float[][] rows = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            rows[i] = logitsOf(i).toArray(JAVA_FLOAT);
        }
        return rows;
    }

    /**
     * Teacher forcing along the decode path, the way {@link #greedyRun} computes: {@code prompt} as one batch, then
     * each of {@code continuation}'s tokens alone. Row 0 is the prediction after the prompt (batch kernels), row i
     * the prediction after {@code continuation[i - 1]} (single-token kernels); {@code continuation.length + 1} rows.
     */
    public synchronized float[][] decodeLogits(int[] prompt, int[] continuation) {
        ensureOpen();
        checkSequence(prompt);
        for (int id : continuation) {
            checkToken(id);
        }
        if (prompt.length + continuation.length > contextSize) {
            throw new IllegalArgumentException(prompt.length + continuation.length + " tokens exceed the context of "
                    + contextSize + " tokens");
        }
        startFresh();
        decode(prompt, 0, false);
        float[][] rows = new float[continuation.length + 1][];
        rows[0] = logitsOf(-1).toArray(JAVA_FLOAT);
        for (int i = 0; i < continuation.length; i++) {
            decode(new int[] {continuation[i]}, prompt.length + i, false);
            rows[i + 1] = logitsOf(-1).toArray(JAVA_FLOAT);
        }
        return rows;
    }

    /**
     * The k largest logits as probabilities (softmax over the whole vocabulary at temperature 1), most probable first,
     * ties by lower id.
     */
    public synchronized List<TokenProbability> topK(float[] logits, int k) {
        ensureOpen();
        if (logits.length != vocabularySize) {
            throw new IllegalArgumentException("expected " + vocabularySize + " logits, got " + logits.length);
        }
        if (k < 0 || k > logits.length) {
            throw new IllegalArgumentException("k must be within 0.." + logits.length + ", got " + k);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp((double) logit - max);
        }
        // Selection by insertion into a sorted prefix: k is small, the vocabulary may be large.
        int[] best = new int[k];
        int filled = 0;
        for (int id = 0; id < logits.length; id++) {
            if (filled == k && !(logits[id] > logits[best[k - 1]])) {
                continue;
            }
            int slot = filled < k ? filled++ : k - 1;
            while (slot > 0 && logits[id] > logits[best[slot - 1]]) {
                best[slot] = best[slot - 1];
                slot--;
            }
            best[slot] = id;
        }
        List<TokenProbability> result = new ArrayList<>(k);
        for (int i = 0; i < filled; i++) {
            int id = best[i];
            result.add(new TokenProbability(id, piece(id), logits[id], Math.exp((double) logits[id] - max) / sum));
        }
        return result;
    }

    /** Frees llama.cpp's context and model. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            LlamaCppNative.BATCH_FREE.invokeExact(batch);
        } catch (Throwable t) {
            throw rethrow("llama_batch_free failed", t);
        } finally {
            freeNative();
            arena.close();
        }
    }

    private void freeNative() {
        try {
            if (context != null) {
                LlamaCppNative.FREE.invokeExact(context);
                context = null;
            }
            if (model != null) {
                LlamaCppNative.MODEL_FREE.invokeExact(model);
                model = null;
            }
        } catch (Throwable t) {
            throw rethrow("freeing llama.cpp state failed", t);
        }
    }

    private void startFresh() {
        call(() -> {
            LlamaCppNative.KV_SELF_CLEAR.invokeExact(context);
            LlamaCppNative.PERF_CONTEXT_RESET.invokeExact(context);
            return null;
        });
    }

    /** One llama_decode of {@code tokens} at positions {@code firstPosition...}; logits for the last, or for all. */
    private void decode(int[] tokens, int firstPosition, boolean logitsForAll) {
        for (int i = 0; i < tokens.length; i++) {
            batchTokens.setAtIndex(JAVA_INT, i, tokens[i]);
            batchPositions.setAtIndex(JAVA_INT, i, firstPosition + i);
            batchWantsLogits.set(JAVA_BYTE, i, (byte) (logitsForAll || i == tokens.length - 1 ? 1 : 0));
        }
        batch.set(JAVA_INT, offset(BATCH, "n_tokens"), tokens.length);
        if (trace != null) {
            trace.clear();
        }
        int status = call(() -> (int) LlamaCppNative.DECODE.invokeExact(context, batch));
        if (status != 0) {
            throw new LlamaCppException("llama_decode returned " + status + " for " + tokens.length
                    + " tokens at position " + firstPosition + ": " + LlamaCppNative.recentProblems());
        }
    }

    /** The logits of batch entry {@code index} (-1: the last one that asked for logits). */
    private MemorySegment logitsOf(int index) {
        MemorySegment logits = call(() -> (MemorySegment) LlamaCppNative.GET_LOGITS_ITH.invokeExact(context, index));
        if (logits.equals(MemorySegment.NULL)) {
            throw new LlamaCppException("llama.cpp has no logits for batch entry " + index);
        }
        return logits.reinterpret((long) vocabularySize * Float.BYTES);
    }

    /** Arg-max with the first maximum winning, as llama_sampler_init_greedy picks. */
    private int argMax(MemorySegment logits) {
        int best = 0;
        float bestLogit = logits.getAtIndex(JAVA_FLOAT, 0);
        for (int id = 1; id < vocabularySize; id++) {
            float logit = logits.getAtIndex(JAVA_FLOAT, id);
            if (logit > bestLogit) {
                best = id;
                bestLogit = logit;
            }
        }
        return best;
    }

    private boolean isEndOfGenerationUnchecked(int tokenId) {
        return call(() -> (boolean) LlamaCppNative.VOCAB_IS_EOG.invokeExact(vocab, tokenId));
    }

    private LlamaTimings readTimings() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment perf = call(() -> (MemorySegment) LlamaCppNative.PERF_CONTEXT_GET.invokeExact(
                    (SegmentAllocator) call, context));
            return new LlamaTimings(
                    perf.get(JAVA_INT, offset(PERF_CONTEXT, "n_p_eval")),
                    perf.get(JAVA_DOUBLE, offset(PERF_CONTEXT, "t_p_eval_ms")),
                    perf.get(JAVA_INT, offset(PERF_CONTEXT, "n_eval")),
                    perf.get(JAVA_DOUBLE, offset(PERF_CONTEXT, "t_eval_ms")));
        }
    }

    private void checkSequence(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("token sequence must not be empty");
        }
        for (int id : tokens) {
            checkToken(id);
        }
    }

    private void checkFits(int[] tokens) {
        if (tokens.length > contextSize) {
            throw new IllegalArgumentException(
                    tokens.length + " tokens exceed the context of " + contextSize + " tokens");
        }
    }

    /** llama.cpp aborts the process on an out-of-range id in some calls, so ids are checked here first. */
    private void checkToken(int tokenId) {
        if (tokenId < 0 || tokenId >= vocabularySize) {
            throw new IllegalArgumentException(
                    "token id " + tokenId + " outside the vocabulary 0.." + (vocabularySize - 1));
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("llama.cpp reference for " + modelPath + " is closed");
        }
    }

    @FunctionalInterface
    private interface NativeCall<T> {
        T run() throws Throwable;
    }

    private static <T> T call(NativeCall<T> nativeCall) {
        try {
            return nativeCall.run();
        } catch (Throwable t) {
            throw rethrow("llama.cpp call failed", t);
        }
    }

    private static RuntimeException rethrow(String message, Throwable t) {
        if (t instanceof RuntimeException e) {
            return e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new LlamaCppException(message + ": " + t, t);
    }
}

package dev.buddy.engine.reference;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;

/**
 * Foreign-function bindings to the llama.cpp C API inside the native library that {@code de.kherud:llama:4.2.0} bundles
 * (llama.cpp build 4916, commit c6af2161; the library exports the whole {@code llama_*} API).
 *
 * <p>WHY not de.kherud's Java API: it only returns text pieces (no token ids), its {@code n_probs} path aborts the JVM
 * (its JNI code reads a JSON field the bundled server no longer writes, tripping a GGML_ASSERT in json.hpp), it drops
 * the server's "timings", it cannot take token ids as a prompt without reflection, and its server logs go straight to
 * stderr. Calling llama.cpp's C API directly gives exact ids, full logits and its own perf counters.
 *
 * <p>The struct layouts below are the ones of that exact build. They were checked against the machine code of
 * {@code llama_model_default_params} (64 bytes, use_mmap at 57), {@code llama_context_default_params} (120 bytes, the
 * five bools at 96..100, no_perf defaulting to true), {@code llama_batch_init} (56 bytes) and {@code llama_perf_context}
 * (40 bytes). A different llama.cpp build needs them re-checked.
 *
 * <p>The library is copied out of the jar into a private temporary directory and opened with {@code dlopen}, not
 * through de.kherud's loader, so parallel JVMs never race on a shared extracted file and nothing is left in /tmp. The
 * JVM needs {@code --enable-native-access=ALL-UNNAMED} (the parent pom passes it) to run this without warnings.
 */
final class LlamaCppNative {
    private LlamaCppNative() {}

    // ggml_log_level values (ggml.h)
    static final int LOG_LEVEL_WARN = 3;
    static final int LOG_LEVEL_ERROR = 4;

    // ggml_type ids (ggml.h) used for the KV cache
    static final int GGML_TYPE_F32 = 0;
    static final int GGML_TYPE_F16 = 1;

    /** struct llama_model_params. */
    static final StructLayout MODEL_PARAMS = structLayout(
            ADDRESS.withName("devices"),
            JAVA_INT.withName("n_gpu_layers"),
            JAVA_INT.withName("split_mode"),
            JAVA_INT.withName("main_gpu"),
            paddingLayout(4),
            ADDRESS.withName("tensor_split"),
            ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"),
            ADDRESS.withName("kv_overrides"),
            JAVA_BYTE.withName("vocab_only"),
            JAVA_BYTE.withName("use_mmap"),
            JAVA_BYTE.withName("use_mlock"),
            JAVA_BYTE.withName("check_tensors"),
            paddingLayout(4));

    /** struct llama_context_params. */
    static final StructLayout CONTEXT_PARAMS = structLayout(
            JAVA_INT.withName("n_ctx"),
            JAVA_INT.withName("n_batch"),
            JAVA_INT.withName("n_ubatch"),
            JAVA_INT.withName("n_seq_max"),
            JAVA_INT.withName("n_threads"),
            JAVA_INT.withName("n_threads_batch"),
            JAVA_INT.withName("rope_scaling_type"),
            JAVA_INT.withName("pooling_type"),
            JAVA_INT.withName("attention_type"),
            JAVA_FLOAT.withName("rope_freq_base"),
            JAVA_FLOAT.withName("rope_freq_scale"),
            JAVA_FLOAT.withName("yarn_ext_factor"),
            JAVA_FLOAT.withName("yarn_attn_factor"),
            JAVA_FLOAT.withName("yarn_beta_fast"),
            JAVA_FLOAT.withName("yarn_beta_slow"),
            JAVA_INT.withName("yarn_orig_ctx"),
            JAVA_FLOAT.withName("defrag_thold"),
            paddingLayout(4),
            ADDRESS.withName("cb_eval"),
            ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("type_k"),
            JAVA_INT.withName("type_v"),
            JAVA_BYTE.withName("logits_all"),
            JAVA_BYTE.withName("embeddings"),
            JAVA_BYTE.withName("offload_kqv"),
            JAVA_BYTE.withName("flash_attn"),
            JAVA_BYTE.withName("no_perf"),
            paddingLayout(3),
            ADDRESS.withName("abort_callback"),
            ADDRESS.withName("abort_callback_data"));

    /** struct llama_batch. */
    static final StructLayout BATCH = structLayout(
            JAVA_INT.withName("n_tokens"),
            paddingLayout(4),
            ADDRESS.withName("token"),
            ADDRESS.withName("embd"),
            ADDRESS.withName("pos"),
            ADDRESS.withName("n_seq_id"),
            ADDRESS.withName("seq_id"),
            ADDRESS.withName("logits"));

    /** struct llama_perf_context_data. */
    static final StructLayout PERF_CONTEXT = structLayout(
            JAVA_DOUBLE.withName("t_start_ms"),
            JAVA_DOUBLE.withName("t_load_ms"),
            JAVA_DOUBLE.withName("t_p_eval_ms"),
            JAVA_DOUBLE.withName("t_eval_ms"),
            JAVA_INT.withName("n_p_eval"),
            JAVA_INT.withName("n_eval"));

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBRARY = openLibrary();

    static final MethodHandle BACKEND_INIT = bind("llama_backend_init", FunctionDescriptor.ofVoid());
    static final MethodHandle LOG_SET = bind("llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    static final MethodHandle MODEL_DEFAULT_PARAMS =
            bind("llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
    static final MethodHandle MODEL_LOAD_FROM_FILE =
            bind("llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
    static final MethodHandle MODEL_FREE = bind("llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle MODEL_GET_VOCAB = bind("llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle CONTEXT_DEFAULT_PARAMS =
            bind("llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
    static final MethodHandle INIT_FROM_MODEL =
            bind("llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS));
    static final MethodHandle FREE = bind("llama_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle N_CTX = bind("llama_n_ctx", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle VOCAB_N_TOKENS = bind("llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle VOCAB_BOS = bind("llama_vocab_bos", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle VOCAB_EOS = bind("llama_vocab_eos", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle VOCAB_IS_EOG =
            bind("llama_vocab_is_eog", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT));
    static final MethodHandle TOKENIZE = bind("llama_tokenize", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));
    static final MethodHandle TOKEN_TO_PIECE = bind("llama_token_to_piece", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_BOOLEAN));
    static final MethodHandle BATCH_INIT =
            bind("llama_batch_init", FunctionDescriptor.of(BATCH, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle BATCH_FREE = bind("llama_batch_free", FunctionDescriptor.ofVoid(BATCH));
    static final MethodHandle DECODE = bind("llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
    static final MethodHandle GET_LOGITS_ITH =
            bind("llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle KV_SELF_CLEAR = bind("llama_kv_self_clear", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle PERF_CONTEXT_GET = bind("llama_perf_context", FunctionDescriptor.of(PERF_CONTEXT, ADDRESS));
    static final MethodHandle PERF_CONTEXT_RESET = bind("llama_perf_context_reset", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle PRINT_SYSTEM_INFO = bind("llama_print_system_info", FunctionDescriptor.of(ADDRESS));

    /** The last lines llama.cpp logged, for error messages; llama.cpp's log is otherwise swallowed. */
    private static final int LOG_LINES_KEPT = 64;
    private static final ArrayDeque<String> RECENT_LOG = new ArrayDeque<>();
    /** Set -Dbuddy.llamacpp.log=true to see llama.cpp's own log on stderr while debugging. */
    private static final boolean ECHO_LOG = Boolean.getBoolean("buddy.llamacpp.log");
    private static final MemorySegment LOG_CALLBACK = logCallbackStub();

    static {
        try {
            BACKEND_INIT.invokeExact();
        } catch (Throwable t) {
            throw new LlamaCppException("llama_backend_init failed: " + t, t);
        }
        installQuietLogger();
    }

    /** Ensures the library is loaded, initialised and quiet. */
    static void ensureLoaded() {
        // Class initialisation does the work; this method only triggers it.
    }

    /**
     * (Re)installs the capturing log callback. Something else in the process (de.kherud's JNI API, for one) may have
     * replaced it since, so every model load reinstalls it.
     */
    static void installQuietLogger() {
        try {
            LOG_SET.invokeExact(LOG_CALLBACK, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new LlamaCppException("llama_log_set failed: " + t, t);
        }
    }

    /** The recent llama.cpp log lines at warning level or above, oldest first, joined by " | ". */
    static String recentProblems() {
        synchronized (RECENT_LOG) {
            return String.join(" | ", List.copyOf(RECENT_LOG));
        }
    }

    static void clearRecentProblems() {
        synchronized (RECENT_LOG) {
            RECENT_LOG.clear();
        }
    }

    static String systemInfo() {
        try {
            MemorySegment text = (MemorySegment) PRINT_SYSTEM_INFO.invokeExact();
            return text.reinterpret(Integer.MAX_VALUE).getString(0).strip();
        } catch (Throwable t) {
            throw new LlamaCppException("llama_print_system_info failed: " + t, t);
        }
    }

    /** llama.cpp's build number and commit, e.g. "b4916 (c6af2161)", from the library's exported build globals. */
    static String version() {
        // common/build-info.cpp: int LLAMA_BUILD_NUMBER; char const * LLAMA_COMMIT
        int build = LIBRARY.find("LLAMA_BUILD_NUMBER").orElseThrow().reinterpret(JAVA_INT.byteSize()).get(JAVA_INT, 0);
        MemorySegment commit = LIBRARY.find("LLAMA_COMMIT").orElseThrow().reinterpret(ADDRESS.byteSize())
                .get(ADDRESS, 0);
        return "b" + build + " (" + commit.reinterpret(Integer.MAX_VALUE).getString(0) + ")";
    }

    /** Called by llama.cpp (possibly on a native thread) for every log fragment. Must never throw. */
    @SuppressWarnings("unused") // bound through a method handle
    private static void onLog(int level, MemorySegment text, MemorySegment userData) {
        try {
            String line = text.reinterpret(Integer.MAX_VALUE).getString(0);
            if (ECHO_LOG) {
                System.err.print(line);
            }
            if (level == LOG_LEVEL_WARN || level == LOG_LEVEL_ERROR) {
                synchronized (RECENT_LOG) {
                    if (RECENT_LOG.size() == LOG_LINES_KEPT) {
                        RECENT_LOG.removeFirst();
                    }
                    RECENT_LOG.addLast(line.strip());
                }
            }
        } catch (Throwable ignored) {
            // An exception escaping an upcall would kill the JVM; losing a log line is harmless.
        }
    }

    private static MemorySegment logCallbackStub() {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(LlamaCppNative.class, "onLog",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            // Arena.global(): llama.cpp keeps the pointer in a process-wide variable for the life of the process.
            return LINKER.upcallStub(target, FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new LlamaCppException("cannot bind the llama.cpp log callback: " + e, e);
        }
    }

    static MethodHandle bind(String symbol, FunctionDescriptor descriptor) {
        MemorySegment address = LIBRARY.find(symbol).orElseThrow(
                () -> new LlamaCppException("llama.cpp library lacks symbol " + symbol + " (unexpected build)"));
        return LINKER.downcallHandle(address, descriptor);
    }

    private static SymbolLookup openLibrary() {
        String resource = nativeResourcePath();
        ClassLoader loader = LlamaCppNative.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new LlamaCppException("llama.cpp native library " + resource
                        + " not on the classpath (add de.kherud:llama:4.2.0 as a test dependency)");
            }
            Path dir = Files.createTempDirectory("buddy-llamacpp-");
            Path library = dir.resolve(resource.substring(resource.lastIndexOf('/') + 1));
            try {
                Files.copy(in, library, StandardCopyOption.REPLACE_EXISTING);
                return SymbolLookup.libraryLookup(library, Arena.global());
            } finally {
                // dlopen keeps its own mapping; the file is not needed once loaded.
                Files.deleteIfExists(library);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new LlamaCppException("cannot extract llama.cpp native library " + resource + ": " + e, e);
        }
    }

    /** The jar's layout: de/kherud/llama/{Linux,Mac}/{x86_64,aarch64}/lib jllama.{so,dylib}. */
    private static String nativeResourcePath() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String archDir = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> throw new LlamaCppException("llama.cpp reference unsupported on architecture " + arch);
        };
        if (os.contains("linux")) {
            return "de/kherud/llama/Linux/" + archDir + "/libjllama.so";
        }
        if (os.contains("mac")) {
            return "de/kherud/llama/Mac/" + archDir + "/libjllama.dylib";
        }
        throw new LlamaCppException("llama.cpp reference unsupported on operating system " + os);
    }
}

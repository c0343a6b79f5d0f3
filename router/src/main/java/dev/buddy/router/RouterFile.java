package dev.buddy.router;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufFormatException;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TensorInfo;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Router files: small GGUF files with {@code general.architecture = buddy-router}, holding either a Decision Module
 * (and optionally a Budget Predictor) as F32 tensors, or a static block plan. Every router records the fingerprint of
 * the base model it belongs to; {@link #load(Path, BaseModelInfo)} refuses any other model.
 *
 * <p>Keys (u32 for counts, f32 for reals, as llama.cpp's converter writes them):
 * <pre>
 * general.architecture          string  "buddy-router"
 * buddy.router.format_version   u32     1
 * buddy.router.kind             string  "dynamic" | "static"
 * buddy.router.method           string  "buddy", "random", "shortgpt", "dppl", "sleb", "prior", …
 * buddy.router.trained          bool    false for a random router
 * buddy.router.layer_count      u32     L
 * buddy.router.train_budgets    f32[]   budgets b used in training (may be empty)
 * buddy.router.prior_kind       string  "taylor", "dppl", "cosine", "none", …
 * buddy.base.fingerprint        string  SHA-256 hex, see {@link ModelFingerprint}
 * buddy.base.architecture       string  the base model's general.architecture
 * dynamic:
 * buddy.router.feature_source   string  "k" | "v" | "k+v"
 * buddy.router.pooling          string  "mean" | "last" | "max"
 * buddy.router.feature_dim      u32     d_in = n_kv_heads·head_dim
 * buddy.router.hidden_dim       u32     r (32)
 * buddy.router.omega            f32     ω
 * buddy.router.prior            f32[]   normalised prior p̃, L−2 values
 * buddy.predictor.hidden_dim    u32     present iff the predictor tensors are
 * tensors decision.fc1.weight [d_in, r], decision.fc1.bias [r], decision.fc2.weight [r, L−2], decision.fc2.bias [L−2],
 *         and the same four under predictor.* (F32; ne0 first, so each row of W is contiguous)
 * static:
 * buddy.static.ranking          i32[]   middle blocks, most important first (all L−2, or absent)
 * buddy.static.set_ks           i32[]   the k values that have an explicit block set
 * buddy.static.set.&lt;k&gt;         i32[]   the k middle blocks to run for that k
 * </pre>
 */
public final class RouterFile {
    public static final String ARCHITECTURE = "buddy-router";
    public static final int FORMAT_VERSION = 1;

    static final String KEY_ARCHITECTURE = "general.architecture";
    static final String KEY_NAME = "general.name";
    static final String KEY_FORMAT_VERSION = "buddy.router.format_version";
    static final String KEY_KIND = "buddy.router.kind";
    static final String KEY_METHOD = "buddy.router.method";
    static final String KEY_TRAINED = "buddy.router.trained";
    static final String KEY_LAYER_COUNT = "buddy.router.layer_count";
    static final String KEY_TRAIN_BUDGETS = "buddy.router.train_budgets";
    static final String KEY_PRIOR_KIND = "buddy.router.prior_kind";
    static final String KEY_BASE_FINGERPRINT = "buddy.base.fingerprint";
    static final String KEY_BASE_ARCHITECTURE = "buddy.base.architecture";
    static final String KEY_FEATURE_SOURCE = "buddy.router.feature_source";
    static final String KEY_POOLING = "buddy.router.pooling";
    static final String KEY_FEATURE_DIM = "buddy.router.feature_dim";
    static final String KEY_HIDDEN_DIM = "buddy.router.hidden_dim";
    static final String KEY_OMEGA = "buddy.router.omega";
    static final String KEY_PRIOR = "buddy.router.prior";
    static final String KEY_PREDICTOR_HIDDEN_DIM = "buddy.predictor.hidden_dim";
    static final String KEY_STATIC_RANKING = "buddy.static.ranking";
    static final String KEY_STATIC_SET_KS = "buddy.static.set_ks";
    static final String KEY_STATIC_SET_PREFIX = "buddy.static.set.";

    static final String KIND_DYNAMIC = "dynamic";
    static final String KIND_STATIC = "static";
    static final String DECISION_PREFIX = "decision";
    static final String PREDICTOR_PREFIX = "predictor";

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RouterFile() {}

    // ---- writing ----------------------------------------------------------------------------------------------

    /** Writes a router atomically (temporary file, then rename). */
    public static void write(Router router, Path path) throws IOException {
        write(router, path, w -> { });
    }

    /**
     * Writes a router atomically with extra metadata that {@code extra} adds (keys outside the ones above, e.g. a
     * prior file's raw indicator); readers of the router ignore them.
     */
    public static void write(Router router, Path path, java.util.function.Consumer<GgufWriter> extra)
            throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString(KEY_ARCHITECTURE, ARCHITECTURE);
        w.putString(KEY_NAME, router.name());
        w.putUInt32(KEY_FORMAT_VERSION, FORMAT_VERSION);
        Provenance p = router.provenance();
        w.putString(KEY_KIND, router instanceof DynamicRouter ? KIND_DYNAMIC : KIND_STATIC);
        w.putString(KEY_METHOD, p.method());
        w.putBool(KEY_TRAINED, p.trained());
        w.putUInt32(KEY_LAYER_COUNT, router.layerCount());
        w.putArray(KEY_TRAIN_BUDGETS, GgufValueType.FLOAT32, p.trainingBudgets());
        w.putString(KEY_PRIOR_KIND, p.priorKind());
        w.putString(KEY_BASE_FINGERPRINT, p.baseFingerprint());
        w.putString(KEY_BASE_ARCHITECTURE, p.baseArchitecture());
        switch (router) {
            case DynamicRouter d -> writeDynamic(w, d);
            case StaticPlan s -> writeStatic(w, s);
        }
        extra.accept(w);
        w.write(path);
    }

    private static void writeDynamic(GgufWriter w, DynamicRouter router) {
        DecisionModule dm = router.decision();
        w.putString(KEY_FEATURE_SOURCE, dm.featureSource().fileName());
        w.putString(KEY_POOLING, dm.pooling().fileName());
        w.putUInt32(KEY_FEATURE_DIM, dm.featureDim());
        w.putUInt32(KEY_HIDDEN_DIM, dm.mlp().hiddenDim());
        w.putFloat32(KEY_OMEGA, dm.omega());
        w.putArray(KEY_PRIOR, GgufValueType.FLOAT32, dm.prior());
        addMlp(w, DECISION_PREFIX, dm.mlp());
        router.predictor().ifPresent(bp -> {
            w.putUInt32(KEY_PREDICTOR_HIDDEN_DIM, bp.mlp().hiddenDim());
            addMlp(w, PREDICTOR_PREFIX, bp.mlp());
        });
    }

    private static void addMlp(GgufWriter w, String prefix, TwoLayerMlp mlp) {
        w.addTensor(prefix + ".fc1.weight", new long[] {mlp.inputDim(), mlp.hiddenDim()}, mlp.w1());
        w.addTensor(prefix + ".fc1.bias", new long[] {mlp.hiddenDim()}, mlp.b1());
        w.addTensor(prefix + ".fc2.weight", new long[] {mlp.hiddenDim(), mlp.outputDim()}, mlp.w2());
        w.addTensor(prefix + ".fc2.bias", new long[] {mlp.outputDim()}, mlp.b2());
    }

    private static void writeStatic(GgufWriter w, StaticPlan plan) {
        int[] ranking = plan.ranking();
        if (ranking.length > 0) {
            w.putArray(KEY_STATIC_RANKING, GgufValueType.INT32, ranking);
        }
        Map<Integer, int[]> sets = plan.setsByK();
        if (!sets.isEmpty()) {
            w.putArray(KEY_STATIC_SET_KS, GgufValueType.INT32, sets.keySet().stream().mapToInt(Integer::intValue)
                    .toArray());
            sets.forEach((k, blocks) -> w.putArray(KEY_STATIC_SET_PREFIX + k, GgufValueType.INT32, blocks));
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    /**
     * Reads a router and checks it against the model it will route: the fingerprint must match, and so must the
     * depth and feature width.
     *
     * @throws FingerprintMismatchException if the router belongs to a different base model
     * @throws IncompatibleRouterException  if depth or feature width differ
     * @throws RouterFormatException        if the file is not a valid router
     */
    public static Router load(Path path, BaseModelInfo model) throws IOException {
        Router router = read(path);
        router.requireCompatible(model);
        return router;
    }

    /** Reads a router without checking it against a model. */
    public static Router read(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            String arch = f.getString(KEY_ARCHITECTURE, "");
            if (!ARCHITECTURE.equals(arch)) {
                throw new RouterFormatException(path + " is not a router file: general.architecture is '" + arch
                        + "', expected '" + ARCHITECTURE + "'");
            }
            int version = f.getInt(KEY_FORMAT_VERSION);
            if (version != FORMAT_VERSION) {
                throw new RouterFormatException(path + ": router format version " + version + " is not supported"
                        + " (this build reads version " + FORMAT_VERSION + ")");
            }
            String name = f.getString(KEY_NAME, path.getFileName().toString());
            int layerCount = f.getInt(KEY_LAYER_COUNT);
            Provenance provenance = new Provenance(f.getString(KEY_BASE_FINGERPRINT),
                    f.getString(KEY_BASE_ARCHITECTURE, "unknown"), f.getBool(KEY_TRAINED),
                    f.has(KEY_TRAIN_BUDGETS) ? f.getFloatArray(KEY_TRAIN_BUDGETS) : new float[0],
                    f.getString(KEY_METHOD), f.getString(KEY_PRIOR_KIND, "none"));
            String kind = f.getString(KEY_KIND);
            return switch (kind) {
                case KIND_DYNAMIC -> readDynamic(f, name, layerCount, provenance);
                case KIND_STATIC -> readStatic(f, name, layerCount, provenance);
                default -> throw new RouterFormatException(path + ": unknown router kind '" + kind
                        + "', expected dynamic or static");
            };
        } catch (GgufFormatException | InvalidRouterOptionException | InvalidBudgetException
                 | IllegalArgumentException e) {
            // GGUF errors already name the file; others get it prefixed.
            String message = e.getMessage() != null && e.getMessage().contains(path.toString()) ? e.getMessage()
                    : path + ": " + e.getMessage();
            throw new RouterFormatException("invalid router file: " + message, e);
        }
    }

    private static DynamicRouter readDynamic(GgufFile f, String name, int layerCount, Provenance provenance) {
        Budget.requireRoutableDepth(layerCount);
        int middle = layerCount - 2;
        int featureDim = f.getInt(KEY_FEATURE_DIM);
        int hidden = f.getInt(KEY_HIDDEN_DIM);
        TwoLayerMlp mlp = readMlp(f, DECISION_PREFIX, featureDim, hidden, middle);
        DecisionModule dm = new DecisionModule(layerCount, mlp, f.getFloatArray(KEY_PRIOR), f.getFloat(KEY_OMEGA),
                FeatureSource.fromFileName(f.getString(KEY_FEATURE_SOURCE)),
                Pooling.fromFileName(f.getString(KEY_POOLING)));
        Optional<BudgetPredictor> predictor = Optional.empty();
        if (f.has(KEY_PREDICTOR_HIDDEN_DIM)) {
            int predictorHidden = f.getInt(KEY_PREDICTOR_HIDDEN_DIM);
            predictor = Optional.of(new BudgetPredictor(layerCount,
                    readMlp(f, PREDICTOR_PREFIX, featureDim, predictorHidden, middle)));
        } else if (f.findTensor(PREDICTOR_PREFIX + ".fc1.weight").isPresent()) {
            throw new RouterFormatException(f.path() + ": predictor tensors present but "
                    + KEY_PREDICTOR_HIDDEN_DIM + " is missing");
        }
        return new DynamicRouter(name, dm, predictor, provenance);
    }

    private static TwoLayerMlp readMlp(GgufFile f, String prefix, int in, int hidden, int out) {
        return new TwoLayerMlp(in, hidden, out,
                readF32(f, prefix + ".fc1.weight", in, hidden),
                readF32(f, prefix + ".fc1.bias", hidden),
                readF32(f, prefix + ".fc2.weight", hidden, out),
                readF32(f, prefix + ".fc2.bias", out));
    }

    private static float[] readF32(GgufFile f, String tensorName, long... expectedDims) {
        TensorInfo t = f.tensor(tensorName);
        if (t.type() != GgmlType.F32) {
            throw new RouterFormatException(f.path() + ": tensor '" + tensorName + "' is " + t.type()
                    + ", router weights must be F32");
        }
        if (!Arrays.equals(t.dims(), expectedDims)) {
            throw new RouterFormatException(f.path() + ": tensor '" + tensorName + "' has shape "
                    + Arrays.toString(t.dims()) + ", expected " + Arrays.toString(expectedDims));
        }
        return f.tensorData(t).toArray(F32_LE);
    }

    private static StaticPlan readStatic(GgufFile f, String name, int layerCount, Provenance provenance) {
        int[] ranking = f.has(KEY_STATIC_RANKING) ? f.getIntArray(KEY_STATIC_RANKING) : new int[0];
        Map<Integer, int[]> sets = new LinkedHashMap<>();
        if (f.has(KEY_STATIC_SET_KS)) {
            for (int k : f.getIntArray(KEY_STATIC_SET_KS)) {
                sets.put(k, f.getIntArray(KEY_STATIC_SET_PREFIX + k));
            }
        }
        return new StaticPlan(name, layerCount, ranking, sets, provenance);
    }
}

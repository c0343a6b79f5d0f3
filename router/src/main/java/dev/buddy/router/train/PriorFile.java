package dev.buddy.router.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.Provenance;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;
import dev.buddy.router.RouterFormatException;
import dev.buddy.router.StaticPlan;

/**
 * A prior file: a router-format GGUF (so it carries the base model's fingerprint and is refused for any other model)
 * that is at the same time
 * <ul>
 *   <li>a static plan, method {@code prior}: the middle blocks ranked by the raw indicator, so {@code eval --router}
 *       and {@code generate --router} run it as the prior-only baseline (the k highest-prior blocks for budget k);
 *       and</li>
 *   <li>the normalised prior p̃ under the key the dynamic router uses ({@code buddy.router.prior}), plus the raw
 *       indicator and what it was measured on, so {@code train-router --prior FILE} reuses it instead of measuring
 *       again.</li>
 * </ul>
 *
 * <pre>
 * (every static-plan key of {@link RouterFile}, method "prior", prior_kind = the indicator)
 * buddy.router.prior          f32[]   p̃, L−2 values
 * buddy.prior.raw             f32[]   the indicator per middle block after direction unification
 * buddy.prior.calibration     string  the calibration text and its size
 * buddy.prior.tokens          u64     scored calibration tokens
 * </pre>
 *
 * Written atomically by {@link RouterFile#write}. {@link #read} also accepts any BUDDY router file and returns the
 * prior it routes with.
 */
public final class PriorFile {
    /** The static-plan method a prior file records. */
    public static final String METHOD = "prior";
    static final String KEY_PRIOR = "buddy.router.prior";
    static final String KEY_RAW = "buddy.prior.raw";
    static final String KEY_CALIBRATION = "buddy.prior.calibration";
    static final String KEY_TOKENS = "buddy.prior.tokens";

    private PriorFile() {}

    /** Writes {@code estimate} for {@code base} to {@code path}. */
    public static void write(PriorEstimator.Estimate estimate, BaseModelInfo base, String calibration, Path path)
            throws IOException {
        String kind = estimate.kind().fileName();
        StaticPlan plan = new StaticPlan(kind + " prior (" + calibration + ")", base.layerCount(), estimate.ranking(),
                Map.of(), new Provenance(base.fingerprint(), base.architecture(), true, new float[0], METHOD, kind));
        float[] raw = new float[estimate.raw().length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (float) estimate.raw()[i];
        }
        RouterFile.write(plan, path, w -> {
            w.putArray(KEY_PRIOR, GgufValueType.FLOAT32, estimate.prior().values());
            w.putArray(KEY_RAW, GgufValueType.FLOAT32, raw);
            w.putString(KEY_CALIBRATION, calibration);
            w.putUInt64(KEY_TOKENS, estimate.tokens());
        });
    }

    /**
     * The prior in a prior file or a BUDDY router file, checked against the model it is for.
     *
     * @throws dev.buddy.router.FingerprintMismatchException if the file belongs to another model
     * @throws RouterFormatException if the file holds no prior
     */
    public static Prior read(Path path, BaseModelInfo model) throws IOException {
        Router router = RouterFile.load(path, model);
        if (router instanceof DynamicRouter dynamic) {
            return new Prior(router.provenance().priorKind(), dynamic.decision().prior());
        }
        try (GgufFile f = GgufFile.open(path)) {
            if (!f.has(KEY_PRIOR)) {
                throw new RouterFormatException(path + " is a static plan without a prior (" + KEY_PRIOR
                        + " missing); write one with buddy prior");
            }
            float[] values = f.getFloatArray(KEY_PRIOR);
            if (values.length != model.layerCount() - 2) {
                throw new RouterFormatException(path + ": prior has " + values.length + " values, the model has "
                        + (model.layerCount() - 2) + " middle blocks");
            }
            return new Prior(router.provenance().priorKind(), values);
        }
    }
}

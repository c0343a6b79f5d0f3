package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RouterFileTest {
    @TempDir
    Path dir;

    /** A tiny llama-shaped GGUF: 4 blocks, 8 heads of 4 with 2 KV heads, so KV rows are 8 wide. */
    private Path model(String name, GgmlType normType, int ffn, float fill, String displayName) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putString("general.name", displayName);
        w.putUInt32("llama.block_count", 4);
        w.putUInt32("llama.embedding_length", 32);
        w.putUInt32("llama.attention.head_count", 8);
        w.putUInt32("llama.attention.head_count_kv", 2);
        w.putUInt32("llama.feed_forward_length", ffn);
        float[] embd = new float[32 * 16];
        java.util.Arrays.fill(embd, fill);
        w.addTensor("token_embd.weight", new long[] {32, 16}, embd);
        for (int i = 0; i < 4; i++) {
            long[] normDims = {32};
            byte[] norm = new byte[(int) normType.byteSize(32)];
            w.addTensor("blk." + i + ".attn_norm.weight", normType, normDims, norm);
            w.addTensor("blk." + i + ".ffn_up.weight", new long[] {32, ffn}, new float[32 * ffn]);
        }
        Path p = dir.resolve(name);
        w.write(p);
        return p;
    }

    private static BaseModelInfo info(Path p) throws IOException {
        try (GgufFile f = GgufFile.open(p)) {
            return BaseModelInfo.of(f);
        }
    }

    @Test
    void baseModelInfoReadsDepthAndGqaWidth() throws IOException {
        BaseModelInfo m = info(model("m.gguf", GgmlType.F32, 64, 0f, "a"));
        assertEquals("llama", m.architecture());
        assertEquals(4, m.layerCount());
        assertEquals(2 * (32 / 8), m.valueDim());
        assertEquals(2 * (32 / 8), m.keyDim());
        assertEquals(64, m.fingerprint().length());
    }

    @Test
    void fingerprintCoversLayoutButNotValuesOrMetadata() throws IOException {
        String base = info(model("a.gguf", GgmlType.F32, 64, 0f, "a")).fingerprint();
        assertEquals(base, info(model("b.gguf", GgmlType.F32, 64, 1.5f, "renamed")).fingerprint(),
                "values and metadata do not change the fingerprint");
        assertNotEquals(base, info(model("c.gguf", GgmlType.F16, 64, 0f, "a")).fingerprint(), "a type change does");
        assertNotEquals(base, info(model("d.gguf", GgmlType.F32, 96, 0f, "a")).fingerprint(), "a shape change does");
        try (GgufFile f = GgufFile.open(dir.resolve("a.gguf"))) {
            assertEquals(base, ModelFingerprint.of(f.tensors()));
            java.util.List<dev.buddy.gguf.TensorInfo> reordered = new java.util.ArrayList<>(f.tensors());
            java.util.Collections.swap(reordered, 0, 1);
            assertNotEquals(base, ModelFingerprint.of(reordered), "file order is part of the layout");
        }
    }

    @Test
    void loadRefusesARouterBuiltForAnotherModel() throws IOException {
        BaseModelInfo a = info(model("a.gguf", GgmlType.F32, 64, 0f, "a"));
        BaseModelInfo d = info(model("d.gguf", GgmlType.F32, 96, 0f, "a"));
        Path routerPath = dir.resolve("r.gguf");
        RouterFile.write(RandomRouter.create(a, 7, FeatureSource.VALUE, Pooling.MEAN, false), routerPath);

        Router ok = RouterFile.load(routerPath, a);
        assertEquals(4, ok.layerCount());
        FingerprintMismatchException e = assertThrows(FingerprintMismatchException.class,
                () -> RouterFile.load(routerPath, d));
        assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
        assertEquals(a.fingerprint(), e.expected());
        assertEquals(d.fingerprint(), e.actual());
        assertFalse(e.getMessage().contains("\n"), "one-line message");
    }

    @Test
    void sameFingerprintButDifferentShapeIsStillRefused() throws IOException {
        BaseModelInfo a = info(model("a.gguf", GgmlType.F32, 64, 0f, "a"));
        DynamicRouter wrongWidth = RandomRouter.create(a.layerCount(), a.valueDim() + 1, a.fingerprint(), "llama", 1,
                FeatureSource.VALUE, Pooling.MEAN, false);
        assertThrows(IncompatibleRouterException.class, () -> wrongWidth.requireCompatible(a));
        DynamicRouter wrongDepth = RandomRouter.create(a.layerCount() + 1, a.valueDim(), a.fingerprint(), "llama", 1,
                FeatureSource.VALUE, Pooling.MEAN, false);
        assertThrows(IncompatibleRouterException.class, () -> wrongDepth.requireCompatible(a));
    }

    @Test
    void randomRouterIsMarkedUntrainedAndSeeded() throws IOException {
        BaseModelInfo a = info(model("a.gguf", GgmlType.F32, 64, 0f, "a"));
        Path p = dir.resolve("random.gguf");
        RouterFile.write(RandomRouter.create(a, 42, FeatureSource.KEY, Pooling.LAST, true), p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals("buddy-router", f.getString("general.architecture"));
            assertFalse(f.getBool("buddy.router.trained"));
            assertEquals("random", f.getString("buddy.router.method"));
        }
        DynamicRouter r = (DynamicRouter) RouterFile.load(p, a);
        assertFalse(r.provenance().trained());
        assertTrue(r.describe().startsWith("UNTRAINED random router"), r.describe());
        assertEquals(FeatureSource.KEY, r.decision().featureSource());
        assertEquals(Pooling.LAST, r.decision().pooling());
        assertTrue(r.predictor().isPresent());
        assertArrayEquals(r.decision().mlp().w1(),
                RandomRouter.create(a, 42, FeatureSource.KEY, Pooling.LAST, true).decision().mlp().w1());
        assertFalse(java.util.Arrays.equals(r.decision().mlp().w1(),
                RandomRouter.create(a, 43, FeatureSource.KEY, Pooling.LAST, true).decision().mlp().w1()));
    }

    @Test
    void aModelFileIsNotARouter() throws IOException {
        Path m = model("a.gguf", GgmlType.F32, 64, 0f, "a");
        RouterFormatException e = assertThrows(RouterFormatException.class, () -> RouterFile.read(m));
        assertTrue(e.getMessage().contains("buddy-router"), e.getMessage());
    }

    @Test
    void malformedRouterFilesAreTypedErrors() throws IOException {
        DynamicRouter good = TestRouters.router(6, 4, 3, Pooling.MEAN, false);
        Path p = dir.resolve("bad.gguf");

        GgufWriter w = routerHeader(good);
        w.addTensor("decision.fc1.weight", new long[] {4, 32}, new float[4 * 32]);
        w.addTensor("decision.fc1.bias", new long[] {32}, new float[32]);
        w.addTensor("decision.fc2.weight", new long[] {32, 4}, new float[32 * 4]);
        w.addTensor("decision.fc2.bias", new long[] {3}, new float[3]);
        w.write(p);
        RouterFormatException shape = assertThrows(RouterFormatException.class, () -> RouterFile.read(p));
        assertTrue(shape.getMessage().contains("decision.fc2.bias"), shape.getMessage());

        GgufWriter w2 = routerHeader(good);
        w2.putString("buddy.router.pooling", "median");
        w2.addTensor("decision.fc1.weight", new long[] {4, 32}, new float[4 * 32]);
        w2.addTensor("decision.fc1.bias", new long[] {32}, new float[32]);
        w2.addTensor("decision.fc2.weight", new long[] {32, 4}, new float[32 * 4]);
        w2.addTensor("decision.fc2.bias", new long[] {4}, new float[4]);
        w2.write(p);
        RouterFormatException pooling = assertThrows(RouterFormatException.class, () -> RouterFile.read(p));
        assertTrue(pooling.getMessage().contains("median"), pooling.getMessage());
    }

    private static GgufWriter routerHeader(DynamicRouter r) {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "buddy-router");
        w.putUInt32("buddy.router.format_version", 1);
        w.putString("buddy.router.kind", "dynamic");
        w.putString("buddy.router.method", "buddy");
        w.putBool("buddy.router.trained", true);
        w.putUInt32("buddy.router.layer_count", r.layerCount());
        w.putString("buddy.base.fingerprint", r.provenance().baseFingerprint());
        w.putString("buddy.router.feature_source", "v");
        w.putString("buddy.router.pooling", "mean");
        w.putUInt32("buddy.router.feature_dim", 4);
        w.putUInt32("buddy.router.hidden_dim", 32);
        w.putFloat32("buddy.router.omega", 0.1f);
        w.putArray("buddy.router.prior", dev.buddy.gguf.GgufValueType.FLOAT32, new float[r.layerCount() - 2]);
        return w;
    }

    @Test
    void staticPlanWithoutASetForKIsATypedError() {
        StaticPlan plan = new StaticPlan("sleb", 8, new int[0], java.util.Map.of(3, new int[] {1, 4, 6}),
                new Provenance(TestRouters.FINGERPRINT, "llama", true, new float[0], "sleb", "none"));
        assertArrayEquals(new boolean[] {true, true, false, false, true, false, true, true}, plan.maskFor(3));
        InvalidBudgetException e = assertThrows(InvalidBudgetException.class, () -> plan.maskFor(2));
        assertTrue(e.getMessage().contains("k = 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new StaticPlan("bad", 8, new int[] {1, 2}, java.util.Map.of(), plan.provenance()));
        assertThrows(IllegalArgumentException.class, () -> new StaticPlan("bad", 8, new int[0],
                java.util.Map.of(2, new int[] {0, 7}), plan.provenance()));
    }
}

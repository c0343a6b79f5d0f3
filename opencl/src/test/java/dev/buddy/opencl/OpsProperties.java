package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** RMSNorm, RoPE with the KV-cache write, attention, SwiGLU, residual add and argmax against scalar references. */
@AddLifecycleHook(RequiresOpenCl.class)
class OpsProperties {

    @Property(tries = 25)
    void rmsNorm(@ForAll @IntRange(min = 1, max = 700) int dim, @ForAll @IntRange(min = 1, max = 6) int n,
            @ForAll boolean inPlace, @ForAll long seed) {
        Random rnd = new Random(seed);
        float eps = rnd.nextBoolean() ? 1e-5f : 1e-6f;
        float[] x = scaled(WeightFixture.randomVector(n * dim, rnd), 1 + rnd.nextInt(20));
        float[] w = WeightFixture.randomVector(dim, rnd);
        float[] got = new float[n * dim];
        ClContext ctx = Device.context();
        try (ClBuffer xb = ctx.upload(x); ClBuffer wb = ctx.upload(w); ClBuffer ob = ctx.allocate(4L * n * dim)) {
            ClBuffer out = inPlace ? xb : ob;
            Device.kernels().rmsNorm(xb, wb, out, dim, n, eps);
            ctx.read(out, 0, got, 0, got.length);
        }
        for (int t = 0; t < n; t++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                ss += (double) x[t * dim + i] * x[t * dim + i];
            }
            double scale = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) {
                double want = x[t * dim + i] * scale * w[i];
                assertEquals(want, got[t * dim + i], 1e-5 * Math.abs(want) + 1e-6, "row " + t + " element " + i);
            }
        }
    }

    @Property(tries = 30)
    void ropeRotatesAndWritesTheCache(@ForAll @IntRange(min = 1, max = 4) int kvHeads,
            @ForAll @IntRange(min = 1, max = 4) int group, @ForAll @IntRange(min = 1, max = 48) int halfHeadDim,
            @ForAll @IntRange(min = 1, max = 48) int halfRopeDims, @ForAll boolean neox,
            @ForAll @IntRange(min = 1, max = 5) int n, @ForAll @IntRange(max = 12) int startPos,
            @ForAll @IntRange(max = 1) int layer, @ForAll boolean keysOnly, @ForAll long seed) {
        Random rnd = new Random(seed);
        AttentionShape s = new AttentionShape(kvHeads * group, kvHeads, 2 * halfHeadDim,
                2 * Math.min(halfRopeDims, halfHeadDim), neox);
        int ctxLen = startPos + n + 3;
        int kvDim = s.kvDim();
        float[] table = ropeTable(ctxLen, s.ropeDims(), 10000f);
        float[] q = WeightFixture.randomVector(n * s.qDim(), rnd);
        float[] k = WeightFixture.randomVector(n * kvDim, rnd);
        float[] v = WeightFixture.randomVector(n * kvDim, rnd);
        float[] cacheInit = WeightFixture.randomVector(2 * ctxLen * kvDim, rnd);
        float[] qGot = new float[q.length];
        float[] kGot = new float[cacheInit.length];
        float[] vGot = new float[cacheInit.length];
        long cacheOffset = (long) layer * ctxLen * kvDim;
        ClContext ctx = Device.context();
        try (ClBuffer qb = ctx.upload(q); ClBuffer kb = ctx.upload(k); ClBuffer vb = ctx.upload(v);
                ClBuffer kc = ctx.upload(cacheInit); ClBuffer vc = ctx.upload(cacheInit); ClBuffer tb = ctx.upload(table)) {
            if (keysOnly) {
                Device.kernels().storeKv(s, kb, vb, kc, vc, tb, startPos, n, cacheOffset);
            } else {
                Device.kernels().ropeKv(s, qb, kb, vb, kc, vc, tb, startPos, n, cacheOffset);
            }
            ctx.read(qb, 0, qGot, 0, q.length);
            ctx.read(kc, 0, kGot, 0, kGot.length);
            ctx.read(vc, 0, vGot, 0, vGot.length);
        }
        float[] qWant = q.clone();
        float[] kWant = cacheInit.clone();
        float[] vWant = cacheInit.clone();
        for (int t = 0; t < n; t++) {
            int pos = startPos + t;
            for (int h = 0; h < s.heads() && !keysOnly; h++) {
                rotate(qWant, t * s.qDim() + h * s.headDim(), s, table, pos);
            }
            float[] kRot = k.clone();
            for (int h = 0; h < kvHeads; h++) {
                rotate(kRot, t * kvDim + h * s.headDim(), s, table, pos);
            }
            int dst = (int) cacheOffset + pos * kvDim;
            System.arraycopy(kRot, t * kvDim, kWant, dst, kvDim);
            System.arraycopy(v, t * kvDim, vWant, dst, kvDim);
        }
        assertClose(qWant, qGot, 1e-6f, "q");
        assertClose(kWant, kGot, 1e-6f, "k cache");
        for (int i = 0; i < vWant.length; i++) {
            assertEquals(vWant[i], vGot[i], "v cache element " + i);
        }
    }

    @Property(tries = 25)
    void attentionMatchesSoftmaxReference(@ForAll @IntRange(min = 1, max = 3) int kvHeads,
            @ForAll @IntRange(min = 1, max = 4) int group, @ForAll @IntRange(min = 1, max = 40) int halfHeadDim,
            @ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(max = 150) int startPos,
            @ForAll @IntRange(max = 1) int layer, @ForAll boolean masked, @ForAll long seed) {
        Random rnd = new Random(seed);
        AttentionShape s = new AttentionShape(kvHeads * group, kvHeads, 2 * halfHeadDim, 2 * halfHeadDim, false);
        int ctxLen = startPos + n + 2;
        int kvDim = s.kvDim();
        float[] q = scaled(WeightFixture.randomVector(n * s.qDim(), rnd), 3);
        float[] kc = WeightFixture.randomVector(2 * ctxLen * kvDim, rnd);
        float[] vc = WeightFixture.randomVector(2 * ctxLen * kvDim, rnd);
        long cacheOffset = (long) layer * ctxLen * kvDim;
        int[] valid = new int[ctxLen];
        for (int p = 0; p < ctxLen; p++) { // positions a skipped block left out; the new tokens are always valid
            valid[p] = !masked || p >= startPos || rnd.nextInt(3) > 0 ? 1 : 0;
        }
        float[] got = new float[n * s.qDim()];
        ClContext ctx = Device.context();
        try (ClBuffer qb = ctx.upload(q); ClBuffer kb = ctx.upload(kc); ClBuffer vb = ctx.upload(vc);
                ClBuffer ob = ctx.allocate(4L * got.length); ClBuffer mb = ctx.allocate(4L * ctxLen)) {
            ctx.write(mb, 0, valid, 0, ctxLen);
            Device.kernels().attention(s, qb, kb, vb, masked ? mb : null, ob, startPos, n, cacheOffset);
            ctx.read(ob, 0, got, 0, got.length);
        }
        double scale = 1 / Math.sqrt(s.headDim());
        for (int t = 0; t < n; t++) {
            int nPos = startPos + t + 1;
            for (int h = 0; h < s.heads(); h++) {
                int kh = h / group;
                double[] score = new double[nPos];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < nPos; p++) {
                    double d = 0;
                    for (int e = 0; e < s.headDim(); e++) {
                        d += (double) q[t * s.qDim() + h * s.headDim() + e]
                                * kc[(int) cacheOffset + p * kvDim + kh * s.headDim() + e];
                    }
                    score[p] = d * scale;
                    max = Math.max(max, score[p]);
                }
                double sum = 0;
                for (int p = 0; p < nPos; p++) {
                    score[p] = valid[p] == 0 ? 0 : Math.exp(score[p] - max);
                    sum += score[p];
                }
                for (int e = 0; e < s.headDim(); e++) {
                    double o = 0;
                    for (int p = 0; p < nPos; p++) {
                        o += score[p] / sum * vc[(int) cacheOffset + p * kvDim + kh * s.headDim() + e];
                    }
                    assertEquals(o, got[t * s.qDim() + h * s.headDim() + e], 2e-5,
                            "token " + t + " head " + h + " dim " + e + " over " + nPos + " positions");
                }
            }
        }
    }

    @Property(tries = 20)
    void swigluAndAdd(@ForAll @IntRange(min = 1, max = 2000) int n, @ForAll @IntRange(min = 1, max = 5) int rows,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        float[] gate = scaled(WeightFixture.randomVector(n, rnd), 8);
        float[] up = WeightFixture.randomVector(n, rnd);
        float[] x = WeightFixture.randomVector(rows * n, rnd);
        float[] gotGate = new float[n];
        float[] gotX = new float[rows * n];
        ClContext ctx = Device.context();
        try (ClBuffer g = ctx.upload(gate); ClBuffer u = ctx.upload(up); ClBuffer xb = ctx.upload(x)) {
            Device.kernels().swiglu(g, u, n);
            Device.kernels().add(xb, g, n, rows * n); // the activated vector broadcast as a bias over rows
            ctx.read(g, 0, gotGate, 0, n);
            ctx.read(xb, 0, gotX, 0, gotX.length);
        }
        for (int i = 0; i < n; i++) {
            double want = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            assertEquals(want, gotGate[i], 1e-6 * Math.abs(want) + 1e-7, "swiglu " + i);
        }
        for (int i = 0; i < rows * n; i++) {
            assertEquals(x[i] + gotGate[i % n], gotX[i], "add " + i);
        }
    }

    @Property(tries = 25)
    void argmaxPicksTheFirstLargest(@ForAll @IntRange(min = 1, max = 5000) int n, @ForAll boolean tie,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        float[] x = WeightFixture.randomVector(n, rnd);
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        if (tie && best + 1 < n) { // a later equal value must not win
            x[best + 1 + rnd.nextInt(n - best - 1)] = x[best];
        }
        ClContext ctx = Device.context();
        try (ClBuffer xb = ctx.upload(x); ClBuffer r = ctx.allocate(4)) {
            Device.kernels().argmax(xb, n, r);
            assertEquals(best, ctx.readInt(r, 0));
        }
    }

    /** cos/sin per (position, pair) as (float) angles of pos * base^(-2i/d), interleaved. */
    static float[] ropeTable(int positions, int ropeDims, float base) {
        int pairs = ropeDims / 2;
        float[] t = new float[positions * pairs * 2];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < pairs; i++) {
                float angle = (float) (p * Math.pow(base, -2.0 * i / ropeDims));
                t[(p * pairs + i) * 2] = (float) Math.cos(angle);
                t[(p * pairs + i) * 2 + 1] = (float) Math.sin(angle);
            }
        }
        return t;
    }

    static void rotate(float[] x, int off, AttentionShape s, float[] table, int pos) {
        int pairs = s.ropeDims() / 2;
        for (int i = 0; i < pairs; i++) {
            float c = table[(pos * pairs + i) * 2];
            float sn = table[(pos * pairs + i) * 2 + 1];
            int a = off + (s.neox() ? i : 2 * i);
            int b = off + (s.neox() ? i + pairs : 2 * i + 1);
            float x0 = x[a];
            float x1 = x[b];
            x[a] = x0 * c - x1 * sn;
            x[b] = x0 * sn + x1 * c;
        }
    }

    private static void assertClose(float[] want, float[] got, float tol, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol, what + " element " + i);
        }
    }

    static float[] scaled(float[] v, float f) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= f;
        }
        return v;
    }
}

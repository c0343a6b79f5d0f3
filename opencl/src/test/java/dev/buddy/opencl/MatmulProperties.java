package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import dev.buddy.gguf.GgmlType;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** The tiled prefill matrix-matrix kernel against the scalar reference, every format, random (ragged) shapes. */
@AddLifecycleHook(RequiresOpenCl.class)
class MatmulProperties {

    @Provide
    Arbitrary<GgmlType> formats() {
        return Arbitraries.of(OpenClKernels.WEIGHT_TYPES);
    }

    @Property(tries = 12)
    void f32(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 300) int cols,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.F32, rows, cols, n, seed, accumulate, quantised);
    }

    @Property(tries = 12)
    void f16(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 300) int cols,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.F16, rows, cols, n, seed, accumulate, quantised);
    }

    @Property(tries = 12)
    void q8_0(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 12) int blocks,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.Q8_0, rows, blocks * 32, n, seed, accumulate, quantised);
    }

    @Property(tries = 12)
    void q4_0(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 12) int blocks,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.Q4_0, rows, blocks * 32, n, seed, accumulate, quantised);
    }

    @Property(tries = 12)
    void q4_1(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 12) int blocks,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.Q4_1, rows, blocks * 32, n, seed, accumulate, quantised);
    }

    @Property(tries = 12)
    void q4_K(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 2) int blocks,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.Q4_K, rows, blocks * 256, n, seed, accumulate, quantised);
    }

    @Property(tries = 12)
    void q6_K(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 2) int blocks,
            @ForAll @IntRange(min = 1, max = 37) int n, @ForAll long seed, @ForAll boolean accumulate,
            @ForAll boolean quantised) {
        check(GgmlType.Q6_K, rows, blocks * 256, n, seed, accumulate, quantised);
    }

    /** Prefill and decode agree: matmul row t equals matvec on token t (both within the reference tolerance). */
    @Property(tries = 10)
    void matmulRowsMatchMatvec(@ForAll("formats") GgmlType type, @ForAll @IntRange(min = 1, max = 20) int rows,
            @ForAll @IntRange(min = 1, max = 9) int n, @ForAll long seed) {
        Random rnd = new Random(seed);
        WeightFixture w = WeightFixture.random(type, rows, type.blockSize() == 256 ? 256 : 64, rnd);
        float[] x = WeightFixture.randomVector(n * w.cols, rnd);
        float[] mm = new float[n * rows];
        float[] mv = new float[n * rows];
        OpenClKernels k = Device.kernels();
        ClContext ctx = Device.context();
        try (DeviceMatrix m = w.upload(k); ClBuffer xb = ctx.upload(x); ClBuffer a = ctx.allocate(4L * n * rows);
                ClBuffer b = ctx.allocate(4L * n * rows)) {
            k.matmul(m, xb, n, a, false);
            for (int t = 0; t < n; t++) {
                k.matvec(m, xb, t * w.cols, b, t * rows, false);
            }
            ctx.read(a, 0, mm, 0, mm.length);
            ctx.read(b, 0, mv, 0, mv.length);
        }
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                double tol = 2 * w.tolerance(r, x, t * w.cols);
                assertEquals(mv[t * rows + r], mm[t * rows + r], tol, type + " token " + t + " row " + r);
            }
        }
    }

    private static void check(GgmlType type, int rows, int cols, int n, long seed, boolean accumulate,
            boolean quantised) {
        Random rnd = new Random(seed);
        WeightFixture w = WeightFixture.random(type, rows, cols, rnd, quantised);
        float[] x = WeightFixture.randomVector(n * cols, rnd);
        float[] before = WeightFixture.randomVector(n * rows, rnd);
        float[] got = new float[n * rows];
        OpenClKernels k = Device.kernels();
        ClContext ctx = Device.context();
        try (DeviceMatrix m = w.upload(k); ClBuffer xb = ctx.upload(x); ClBuffer ob = ctx.upload(before)) {
            k.matmul(m, xb, n, ob, accumulate);
            ctx.read(ob, 0, got, 0, got.length);
        }
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                int o = t * rows + r;
                double expected = w.dot(r, x, t * cols) + (accumulate ? before[o] : 0);
                // The tiled kernel sums each output sequentially over cols: allow cols epsilons, not sqrt(cols).
                double tol = Math.sqrt(cols) * w.tolerance(r, x, t * cols) + (accumulate ? Math.ulp(before[o]) : 0);
                assertEquals(expected, got[o], tol, type + " [" + rows + " x " + cols + "] x " + n + " token " + t
                        + " row " + r);
            }
        }
    }
}

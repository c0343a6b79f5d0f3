package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import dev.buddy.gguf.GgmlType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Every matrix-vector kernel against the reference codecs' dequantise-then-dot, on random shapes, with weights that are
 * either quantised from random floats by the reference quantiser or arbitrary valid blocks.
 */
@AddLifecycleHook(RequiresOpenCl.class)
class MatvecProperties {

    @Property(tries = 20)
    void f32(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 700) int cols,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.F32, rows, cols, seed, accumulate, offset, quantised);
    }

    @Property(tries = 20)
    void f16(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 700) int cols,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.F16, rows, cols, seed, accumulate, offset, quantised);
    }

    @Property(tries = 20)
    void q8_0(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 48) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.Q8_0, rows, blocks * 32, seed, accumulate, offset, quantised);
    }

    @Property(tries = 20)
    void q4_0(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 48) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.Q4_0, rows, blocks * 32, seed, accumulate, offset, quantised);
    }

    @Property(tries = 20)
    void q4_1(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 48) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.Q4_1, rows, blocks * 32, seed, accumulate, offset, quantised);
    }

    @Property(tries = 20)
    void q4_K(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 6) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.Q4_K, rows, blocks * 256, seed, accumulate, offset, quantised);
    }

    @Property(tries = 20)
    void q6_K(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 6) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset,
            @ForAll boolean quantised) {
        check(GgmlType.Q6_K, rows, blocks * 256, seed, accumulate, offset, quantised);
    }

    static void check(GgmlType type, int rows, int cols, long seed, boolean accumulate, int offset,
            boolean quantised) {
        Random rnd = new Random(seed);
        run(WeightFixture.random(type, rows, cols, rnd, quantised), rnd, accumulate, offset);
    }

    private static void run(WeightFixture w, Random rnd, boolean accumulate, int offset) {
        OpenClKernels k = Device.kernels();
        ClContext ctx = Device.context();
        float[] x = WeightFixture.randomVector(offset + w.cols, rnd);
        float[] before = WeightFixture.randomVector(offset + w.rows + 3, rnd);
        float[] got = new float[before.length];
        try (DeviceMatrix m = w.upload(k); ClBuffer xb = ctx.upload(x); ClBuffer ob = ctx.upload(before)) {
            k.matvec(m, xb, offset, ob, offset, accumulate);
            ctx.read(ob, 0, got, 0, got.length);
        }
        for (int i = 0; i < offset; i++) {
            assertEquals(before[i], got[i], "element before the output range was written");
        }
        for (int r = 0; r < w.rows; r++) {
            double expected = w.dot(r, x, offset) + (accumulate ? before[offset + r] : 0);
            double tol = w.tolerance(r, x, offset) + (accumulate ? Math.ulp(before[offset + r]) : 0);
            assertEquals(expected, got[offset + r], tol,
                    () -> w.type + " [" + w.rows + " x " + w.cols + "] row " + "differs");
        }
        for (int i = offset + w.rows; i < got.length; i++) {
            assertEquals(before[i], got[i], "element after the output range was written");
        }
    }
}

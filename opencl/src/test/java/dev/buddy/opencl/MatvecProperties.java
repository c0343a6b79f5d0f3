package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import dev.buddy.gguf.GgmlType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** Every matrix-vector kernel against the dequantise-then-dot scalar reference, on random shapes and blocks. */
@AddLifecycleHook(RequiresOpenCl.class)
class MatvecProperties {

    @Property(tries = 20)
    void f32(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 700) int cols,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.F32, rows, cols, seed, accumulate, offset);
    }

    @Property(tries = 20)
    void f16(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 700) int cols,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.F16, rows, cols, seed, accumulate, offset);
    }

    @Property(tries = 20)
    void q8_0(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 48) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.Q8_0, rows, blocks * 32, seed, accumulate, offset);
    }

    @Property(tries = 20)
    void q4_0(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 48) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.Q4_0, rows, blocks * 32, seed, accumulate, offset);
    }

    @Property(tries = 20)
    void q4_1(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 48) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.Q4_1, rows, blocks * 32, seed, accumulate, offset);
    }

    @Property(tries = 20)
    void q4_K(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 6) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.Q4_K, rows, blocks * 256, seed, accumulate, offset);
    }

    @Property(tries = 20)
    void q6_K(@ForAll @IntRange(min = 1, max = 40) int rows, @ForAll @IntRange(min = 1, max = 6) int blocks,
            @ForAll long seed, @ForAll boolean accumulate, @ForAll @IntRange(max = 5) int offset) {
        check(GgmlType.Q6_K, rows, blocks * 256, seed, accumulate, offset);
    }

    /** Blocks quantised from floats the way ggml's reference quantisers do, not just random bytes. */
    @Property(tries = 15)
    void quantisedFromFloats(@ForAll @IntRange(min = 1, max = 24) int rows,
            @ForAll @IntRange(min = 1, max = 24) int blocks, @ForAll long seed, @ForAll boolean q4) {
        Random rnd = new Random(seed);
        int cols = blocks * 32;
        GgmlType type = q4 ? GgmlType.Q4_0 : GgmlType.Q8_0;
        byte[][] rowBytes = new byte[rows][];
        for (int r = 0; r < rows; r++) {
            float[] src = WeightFixture.randomVector(cols, rnd);
            rowBytes[r] = q4 ? BlockReference.quantizeQ4_0(src) : BlockReference.quantizeQ8_0(src);
            float[] back = BlockReference.dequantize(type, rowBytes[r], cols);
            for (int i = 0; i < cols; i++) { // the builder itself is sane: within one quantisation step
                assertTrue(Math.abs(back[i] - src[i]) <= (q4 ? 0.15 : 0.005), "builder error at " + i);
            }
        }
        run(WeightFixture.of(type, rows, cols, rowBytes), new Random(seed + 1), false, 0);
    }

    static void check(GgmlType type, int rows, int cols, long seed, boolean accumulate, int offset) {
        Random rnd = new Random(seed);
        run(WeightFixture.random(type, rows, cols, rnd), rnd, accumulate, offset);
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

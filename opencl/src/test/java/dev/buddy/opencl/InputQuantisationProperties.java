package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import dev.buddy.gguf.GgmlType;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Activations converted on the device exactly as the CPU backend converts them (bit for bit), and the products with
 * converted input equal to the integer-block reference.
 */
@AddLifecycleHook(RequiresOpenCl.class)
class InputQuantisationProperties {

    @Provide
    Arbitrary<InputFormat> converted() {
        return Arbitraries.of(InputFormat.HALF, InputFormat.Q8_0, InputFormat.Q8_1, InputFormat.Q8_K);
    }

    @Provide
    Arbitrary<GgmlType> formats() {
        return Arbitraries.of(OpenClKernels.WEIGHT_TYPES);
    }

    @Property(tries = 40)
    void conversionIsBitExact(@ForAll("converted") InputFormat format, @ForAll @IntRange(min = 1, max = 4) int n,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(max = 2) int zeroBlock,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = blocks * Math.max(32, format.blockSize());
        float[] x = WeightFixture.randomVector(n * cols + 3, rnd);
        float magnitude = (float) Math.pow(10, rnd.nextInt(7) - 3);
        for (int i = 0; i < x.length; i++) {
            x[i] *= magnitude;
        }
        int block = Math.max(32, format.blockSize());
        if (zeroBlock == 1) { // an all-zero block takes the amax == 0 branch
            java.util.Arrays.fill(x, 3, 3 + block, 0f);
        }
        float[] input = java.util.Arrays.copyOfRange(x, 3, x.length);
        InputReference want = InputReference.of(format, input);
        ClContext ctx = Device.context();
        int total = n * cols;
        byte[] q = new byte[total];
        float[] d = new float[total / 32];
        float[] s = new float[total / 32];
        int[] bsums = new int[total / 16];
        float[] halves = new float[total];
        try (ClBuffer xb = ctx.upload(x); DeviceInput in = Device.kernels().allocateInput(total)) {
            Device.kernels().prepareInput(format, xb, 3, n, cols, in);
            ctx.read(in.quants, 0, MemorySegment.ofArray(q));
            ctx.read(in.scales, 0, d, 0, d.length);
            ctx.read(in.sums, 0, s, 0, s.length);
            byte[] raw = new byte[bsums.length * 4];
            ctx.read(in.blockSums, 0, MemorySegment.ofArray(raw));
            ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder()).asIntBuffer().get(bsums);
            ctx.read(in.halves, 0, halves, 0, total);
        }
        switch (format) {
            case HALF -> assertArrayEquals(want.halves, halves);
            case Q8_0, Q8_1 -> {
                assertArrayEquals(want.q, q, "quants");
                assertArrayEquals(java.util.Arrays.copyOf(want.d, total / 32), d, "scales");
                if (format == InputFormat.Q8_1) {
                    assertArrayEquals(java.util.Arrays.copyOf(want.s, total / 32), s, "block sums");
                }
            }
            case Q8_K -> {
                assertArrayEquals(want.q, q, "quants");
                assertArrayEquals(java.util.Arrays.copyOf(want.d, total / 256), java.util.Arrays.copyOf(d, total / 256),
                        "scales");
                assertArrayEquals(want.bsums, bsums, "sums of 16");
            }
            default -> throw new AssertionError(format);
        }
    }

    @Property(tries = 40)
    void productWithConvertedInputMatchesTheBlockReference(@ForAll("formats") GgmlType type,
            @ForAll @IntRange(min = 1, max = 24) int rows, @ForAll @IntRange(min = 1, max = 4) int blocks,
            @ForAll @IntRange(min = 1, max = 3) int n, @ForAll boolean quantised, @ForAll boolean accumulate,
            @ForAll long seed) {
        checkProduct(Device.kernels(), type, rows, blocks, n, quantised, accumulate, seed);
    }

    @Provide
    Arbitrary<PrefillTile> prefillTiles() {
        return Arbitraries.of(PrefillTile.DEFAULT, new PrefillTile(3, 5), new PrefillTile(1, 2), PrefillTile.OFF);
    }

    /** Prompts through the tiled kernel: rows and tokens that are not multiples of the tile, and batches below it. */
    @Property(tries = 40)
    void promptProductMatchesTheBlockReferenceForEveryTileShape(@ForAll("prefillTiles") PrefillTile tile,
            @ForAll("quantisedFormats") GgmlType type, @ForAll @IntRange(min = 1, max = 24) int rows,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(min = 1, max = 20) int n,
            @ForAll boolean accumulate, @ForAll long seed) {
        checkProduct(Device.kernels(tile), type, rows, blocks, n, true, accumulate, seed);
    }

    @Provide
    Arbitrary<DecodeRows> decodeRows() {
        return Arbitraries.of(DecodeRows.DEFAULT, new DecodeRows(2), new DecodeRows(4), DecodeRows.CPU_DEVICE,
                new DecodeRows(64));
    }

    /** Single tokens through work-groups of one or several rows, row counts not multiples of the group's rows. */
    @Property(tries = 30)
    void decodeProductMatchesTheBlockReferenceForSeveralRowsPerGroup(@ForAll("decodeRows") DecodeRows perGroup,
            @ForAll("quantisedFormats") GgmlType type, @ForAll @IntRange(min = 1, max = 40) int rows,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(min = 1, max = 3) int n,
            @ForAll boolean accumulate, @ForAll long seed) {
        checkProduct(Device.kernels(PrefillTile.DEFAULT, perGroup), type, rows, blocks, n, true, accumulate, seed);
    }

    @Provide
    Arbitrary<GgmlType> quantisedFormats() {
        return Arbitraries.of(OpenClKernels.WEIGHT_TYPES).filter(t -> InputFormat.forWeight(t).blockSize() >= 32);
    }

    private static void checkProduct(OpenClKernels k, GgmlType type, int rows, int blocks, int n, boolean quantised,
            boolean accumulate, long seed) {
        Random rnd = new Random(seed);
        int cols = type.blockSize() == 256 ? blocks * 256 : blocks * 64;
        WeightFixture w = WeightFixture.random(type, rows, cols, rnd, quantised);
        InputFormat format = InputFormat.forWeight(type);
        float[] x = WeightFixture.randomVector(n * cols, rnd);
        int stride = rows + 2;
        float[] before = WeightFixture.randomVector(n * stride, rnd);
        float[] got = new float[before.length];
        ClContext ctx = Device.context();
        try (DeviceMatrix m = w.upload(k); ClBuffer xb = ctx.upload(x); ClBuffer ob = ctx.upload(before);
                DeviceInput in = k.allocateInput(n * cols)) {
            k.prepareInput(format, xb, 0, n, cols, in);
            k.matvec(m, in, ob, 1, stride, accumulate);
            ctx.read(ob, 0, got, 0, got.length);
        }
        for (int t = 0; t < n; t++) {
            float[] xt = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            InputReference ref = format == InputFormat.FLOAT ? null : InputReference.of(format, xt);
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                double magnitude = 0;
                for (int i = 0; i < cols; i++) {
                    double xi = ref == null ? xt[i] : ref.value(i);
                    sum += w.dequantized[r][i] * xi;
                    magnitude += w.magnitude[r][i] * Math.abs(xi);
                }
                if (type == GgmlType.Q4_1) { // the offset term uses the stored half sum s, not d * sum(q)
                    sum += q41OffsetCorrection(w, r, ref);
                }
                int o = 1 + t * stride + r;
                double expected = sum + (accumulate ? before[o] : 0);
                double tol = 16 * Math.sqrt(cols) * 0x1p-24 * magnitude + (accumulate ? Math.ulp(before[o]) : 0) + 1e-30;
                assertEquals(expected, got[o], tol, type + " token " + t + " row " + r);
            }
            if (t + 1 < n) { // the two gap slots between tokens' outputs stay untouched
                assertEquals(before[t * stride + rows + 1], got[t * stride + rows + 1], "gap after token " + t);
                assertEquals(before[t * stride + rows + 2], got[t * stride + rows + 2], "gap after token " + t);
            }
        }
        assertEquals(before[0], got[0], "element before the output was written");
    }

    /** m_w (s_x - d_x sum(q)) per block: what replacing the exact block sum by the stored half s changes. */
    private static double q41OffsetCorrection(WeightFixture w, int r, InputReference ref) {
        ByteBuffer b = ByteBuffer.wrap(w.bytes).order(ByteOrder.LITTLE_ENDIAN);
        int rowBytes = w.cols / 32 * 20;
        double c = 0;
        for (int blk = 0; blk < w.cols / 32; blk++) {
            double m = Float.float16ToFloat(b.getShort(r * rowBytes + blk * 20 + 2));
            long qsum = 0;
            for (int j = 0; j < 32; j++) {
                qsum += ref.q[blk * 32 + j];
            }
            c += m * (ref.s[blk] - (double) ref.d[blk] * qsum);
        }
        return c;
    }
}

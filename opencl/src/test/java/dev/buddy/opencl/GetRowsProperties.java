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

/** The embedding lookup dequantises exactly the rows the token ids name, element for element. */
@AddLifecycleHook(RequiresOpenCl.class)
class GetRowsProperties {

    @Provide
    Arbitrary<GgmlType> formats() {
        return Arbitraries.of(OpenClKernels.WEIGHT_TYPES);
    }

    @Property(tries = 40)
    void lookupMatchesDequantisedRows(@ForAll("formats") GgmlType type, @ForAll @IntRange(min = 1, max = 30) int rows,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(min = 1, max = 12) int n,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = type.blockSize() == 1 ? blocks * 37 : blocks * type.blockSize();
        WeightFixture w = WeightFixture.random(type, rows, cols, rnd);
        int[] tokens = new int[n];
        for (int t = 0; t < n; t++) {
            tokens[t] = rnd.nextInt(rows);
        }
        float[] got = new float[n * cols];
        OpenClKernels k = Device.kernels();
        ClContext ctx = Device.context();
        try (DeviceMatrix m = w.upload(k); ClBuffer tb = ctx.allocate(4L * n); ClBuffer out = ctx.allocate(4L * n * cols)) {
            ctx.write(tb, 0, tokens, 0, n);
            k.getRows(m, tb, n, out);
            ctx.read(out, 0, got, 0, got.length);
        }
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < cols; i++) {
                // Only a fused multiply-add may round differently: one part in 2^22 of the element's magnitude.
                float want = w.dequantized[tokens[t]][i];
                assertEquals(want, got[t * cols + i], 0x1p-22 * w.magnitude[tokens[t]][i],
                        type + " token " + t + " (row " + tokens[t] + ") element " + i);
            }
        }
    }
}

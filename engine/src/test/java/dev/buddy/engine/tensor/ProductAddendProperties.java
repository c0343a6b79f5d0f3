package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import dev.buddy.gguf.GgmlType;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link WeightMatrix#withAddend}: every product entry point the forward pass uses (single-token matvec from floats
 * and from a shared converted input, batched matmul from floats and from a shared input at an output offset, below
 * and above the float-GEMM threshold) gives exactly the plain matrix's product plus the addend's term, computed from
 * the full-precision input rows; {@link WeightMatrix#row} stays the base row.
 */
class ProductAddendProperties {

    @Provide
    Arbitrary<GgmlType> formats() {
        return Arbitraries.of(TestTensors.FORMATS);
    }

    /** A term that depends on every input element and every output index: out[t][r] += (r+1)·Σ x_t + x_t[r % cols]. */
    private static final class Probe implements ProductAddend {
        private final int rows;
        private final int cols;

        Probe(int rows, int cols) {
            this.rows = rows;
            this.cols = cols;
        }

        @Override
        public void addTo(float[] x, int xOffset, int tokens, float[] out, int outOffset, Parallel pool) {
            for (int t = 0; t < tokens; t++) {
                float sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += x[xOffset + t * cols + c];
                }
                for (int r = 0; r < rows; r++) {
                    out[outOffset + t * rows + r] += (r + 1) * sum + x[xOffset + t * cols + r % cols];
                }
            }
        }

        void expect(float[] x, int xOffset, int tokens, float[] out, int outOffset) {
            addTo(x, xOffset, tokens, out, outOffset, null);
        }
    }

    @Property(tries = 22)
    void everyEntryPointAddsTheTermToTheBaseProduct(@ForAll("formats") GgmlType type, @ForAll long seed,
                                                    @ForAll @IntRange(min = 1, max = 12) int tokens) {
        Random rnd = new Random(seed);
        int cols = type.blockSize() == 256 ? 256 : 64;
        int rows = 1 + rnd.nextInt(40);
        try (Arena arena = Arena.ofShared(); Parallel pool = new Parallel(2)) {
            MemorySegment data = TestTensors.quantizedTensor(type, rows, cols, 0, rnd, arena);
            WeightMatrix base = WeightMatrix.of("m", type, new long[] {cols, rows}, data);
            Probe probe = new Probe(rows, cols);
            WeightMatrix decorated = base.withAddend(probe);
            assertNull(base.addend());
            assertSame(probe, decorated.addend());
            float[] x = TestTensors.randomInput(tokens * cols, rnd);

            // Single token, from floats at an offset.
            int xo = (tokens - 1) * cols;
            float[] expected = new float[rows];
            base.matvec(x, xo, expected, 0, pool);
            probe.expect(x, xo, 1, expected, 0);
            float[] actual = new float[rows];
            decorated.matvec(x, xo, actual, 0, pool);
            assertArrayEquals(expected, actual, 0f, "matvec(float[])");

            // Batched, from floats.
            expected = new float[tokens * rows];
            base.matmul(x, tokens, expected, pool);
            probe.expect(x, 0, tokens, expected, 0);
            actual = new float[tokens * rows];
            decorated.matmul(x, tokens, actual, pool);
            assertArrayEquals(expected, actual, 0f, "matmul(float[])");

            // A converted input shared by several matrices, written at an output offset.
            QuantizedInput in = new QuantizedInput(base.activationFormat());
            in.quantize(x, 0, tokens, cols, pool);
            int offset = 5;
            expected = new float[offset + tokens * rows];
            base.matmul(in, expected, offset, pool);
            probe.expect(x, 0, tokens, expected, offset);
            actual = new float[offset + tokens * rows];
            decorated.matmul(in, actual, offset, pool);
            assertArrayEquals(expected, actual, 0f, "matmul(QuantizedInput)");
            if (tokens == 1) {
                actual = new float[rows];
                decorated.matvec(in, actual, 0, pool);
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, offset, offset + rows), actual, 0f,
                        "matvec(QuantizedInput)");
            }

            // Rows (embedding lookups, transposed products) are the base rows.
            float[] baseRow = new float[cols];
            float[] decoratedRow = new float[cols];
            base.row(rows - 1, baseRow, 0);
            decorated.row(rows - 1, decoratedRow, 0);
            assertArrayEquals(baseRow, decoratedRow, 0f);
            assertEquals(base.byteSize(), decorated.byteSize());
        }
    }
}

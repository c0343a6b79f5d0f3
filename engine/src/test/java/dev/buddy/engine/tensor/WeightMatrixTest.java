package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Construction and argument checks of {@link WeightMatrix}, and the shared-input path. */
class WeightMatrixTest {

    @Test
    void unsupportedTypesAreRejectedByName() {
        MemorySegment data = MemorySegment.ofArray(new byte[4096]);
        for (GgmlType type : new GgmlType[] {GgmlType.Q2_K, GgmlType.IQ4_NL, GgmlType.Q8_1, GgmlType.I32}) {
            UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                    () -> WeightMatrix.of("blk.3.ffn_up.weight", type, new long[] {256, 2}, data));
            assertTrue(e.getMessage().contains("blk.3.ffn_up.weight"), e.getMessage());
            assertTrue(e.getMessage().contains(type.name()), e.getMessage());
            assertEquals(type, e.type());
            assertEquals("blk.3.ffn_up.weight", e.tensorName());
        }
    }

    @Test
    void rowsMustBeWholeBlocks() {
        MemorySegment data = MemorySegment.ofArray(new byte[4096]);
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                () -> WeightMatrix.of("odd", GgmlType.Q4_K, new long[] {128, 2}, data));
        assertTrue(e.getMessage().contains("256"), e.getMessage());
    }

    @Test
    void shapeAndSizeAreChecked() {
        MemorySegment small = MemorySegment.ofArray(new byte[100]);
        assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of("short", GgmlType.Q8_0, new long[] {32, 3}, small));
        assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of("empty", GgmlType.F32, new long[0], small));
        assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of("zero", GgmlType.F32, new long[] {0, 4}, small));
    }

    @Test
    void shapeComesFromTheDims() {
        MemorySegment data = MemorySegment.ofArray(new byte[4 * 6 * 5]);
        WeightMatrix m = WeightMatrix.of("w", GgmlType.F32, new long[] {6, 5, 1}, data, VectorWidth.SCALAR);
        assertEquals(6, m.cols());
        assertEquals(5, m.rows());
        assertEquals(GgmlType.F32, m.type());
        assertEquals("w", m.name());
        assertEquals(120, m.byteSize());
        assertEquals(ActivationFormat.F32, m.activationFormat());
    }

    @Test
    void callsWithMismatchedInputsOrOutputsFail() {
        try (Arena arena = Arena.ofShared(); Parallel pool = new Parallel(1)) {
            MemorySegment t = TestTensors.randomTensor(GgmlType.Q4_0, 4, 64, 0, new Random(1), arena);
            WeightMatrix m = WeightMatrix.of("w", GgmlType.Q4_0, new long[] {64, 4}, t);
            QuantizedInput wrongFormat = new QuantizedInput(ActivationFormat.Q8_K);
            wrongFormat.quantize(new float[256], 0, 1, 256);
            assertThrows(IllegalArgumentException.class, () -> m.matvec(wrongFormat, new float[4], 0, pool));
            QuantizedInput wrongCols = new QuantizedInput(ActivationFormat.Q8_0);
            wrongCols.quantize(new float[96], 0, 1, 96);
            assertThrows(IllegalArgumentException.class, () -> m.matvec(wrongCols, new float[4], 0, pool));
            QuantizedInput twoTokens = new QuantizedInput(ActivationFormat.Q8_0);
            twoTokens.quantize(new float[128], 0, 2, 64);
            assertThrows(IllegalArgumentException.class, () -> m.matvec(twoTokens, new float[8], 0, pool));
            assertThrows(IndexOutOfBoundsException.class, () -> m.matmul(twoTokens, new float[7], 0, pool));
            assertThrows(IndexOutOfBoundsException.class, () -> m.matvec(new float[64], 0, new float[4], 1, pool));
        }
    }

    /** One quantised input shared by several matrices gives the same result as quantising per call. */
    @Test
    void sharedInputMatchesPerCallQuantisation() {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofShared(); Parallel pool = new Parallel(2)) {
            int cols = 512;
            WeightMatrix q4k = WeightMatrix.of("a", GgmlType.Q4_K, new long[] {cols, 9},
                    TestTensors.randomTensor(GgmlType.Q4_K, 9, cols, 1, rnd, arena));
            WeightMatrix q6k = WeightMatrix.of("b", GgmlType.Q6_K, new long[] {cols, 5},
                    TestTensors.randomTensor(GgmlType.Q6_K, 5, cols, 3, rnd, arena));
            float[] x = TestTensors.randomInput(3 * cols, rnd);
            QuantizedInput shared = new QuantizedInput(ActivationFormat.Q8_K);
            shared.quantize(x, 0, 3, cols);
            for (WeightMatrix m : new WeightMatrix[] {q4k, q6k}) {
                float[] viaShared = new float[3 * m.rows()];
                float[] direct = new float[3 * m.rows()];
                m.matmul(shared, viaShared, 0, pool);
                m.matmul(x, 3, direct, pool);
                assertEquals(java.util.Arrays.toString(direct), java.util.Arrays.toString(viaShared), m.name());
            }
        }
    }

    /**
     * Warm-up of every format on a matrix large enough for its row groups (32 rows) prepares each input form its
     * kernels read (it runs them through the same {@code prepareInput} as a matmul), and the matrix still gives the
     * scalar kernel's bits afterwards.
     */
    @Test
    void warmUpRunsEveryFormatsGroupKernels() {
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofShared(); Parallel pool = new Parallel(1)) {
            for (GgmlType type : TestTensors.FORMATS) {
                int cols = 4 * type.blockSize() * (type.blockSize() == 1 ? 32 : 1);
                MemorySegment t = TestTensors.randomTensor(type, 32, cols, 0, rnd, arena);
                WeightMatrix simd = WeightMatrix.of("w", type, new long[] {cols, 32}, t);
                WeightMatrix scalar = WeightMatrix.of("w", type, new long[] {cols, 32}, t, VectorWidth.SCALAR);
                simd.warmUp(200);
                float[] x = TestTensors.randomInput(cols, rnd);
                float[] a = new float[32];
                float[] b = new float[32];
                simd.matvec(x, 0, a, 0, pool);
                scalar.matvec(x, 0, b, 0, pool);
                for (int r = 0; r < 32; r++) {
                    assertEquals(Float.floatToRawIntBits(b[r]), Float.floatToRawIntBits(a[r]),
                            type + " row " + r + " after warm-up: scalar " + b[r] + " simd " + a[r]);
                }
            }
        }
    }

    /** Warm-up runs the kernels on the matrix's own first blocks and leaves the matrix computing as before. */
    @Test
    void warmUpLeavesResultsUnchanged() {
        Random rnd = new Random(3);
        try (Arena arena = Arena.ofShared(); Parallel pool = new Parallel(1)) {
            int cols = 40;
            MemorySegment t = TestTensors.randomTensor(GgmlType.F32, 3, cols, 1, rnd, arena);
            WeightMatrix simd = WeightMatrix.of("w", GgmlType.F32, new long[] {cols, 3}, t);
            WeightMatrix scalar = WeightMatrix.of("w", GgmlType.F32, new long[] {cols, 3}, t, VectorWidth.SCALAR);
            simd.warmUp(300);
            scalar.warmUp();
            float[] x = TestTensors.randomInput(cols, rnd);
            float[] a = new float[3];
            float[] b = new float[3];
            simd.matvec(x, 0, a, 0, pool);
            scalar.matvec(x, 0, b, 0, pool);
            for (int r = 0; r < 3; r++) {
                assertEquals(b[r], a[r], 1e-4 * Math.max(1, Math.abs(b[r])));
            }
        }
    }

    @Test
    void vectorWidthsParseAndListWhatTheMachineRuns() {
        assertEquals(VectorWidth.SCALAR, VectorWidth.fromBits(0));
        assertEquals(VectorWidth.W512, VectorWidth.fromBits(512));
        assertThrows(IllegalArgumentException.class, () -> VectorWidth.fromBits(64));
        assertTrue(VectorWidth.available().contains(VectorWidth.SCALAR));
        assertTrue(VectorWidth.available().contains(VectorWidth.hardware()));
    }
}

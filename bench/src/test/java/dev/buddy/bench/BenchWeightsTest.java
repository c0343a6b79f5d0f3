package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.gguf.GgmlType;

/** Benchmark matrices: a quantised tile repeated at distinct addresses, readable by the engine's kernels. */
class BenchWeightsTest {
    @Test
    void matrixRepeatsItsTileAndLoadsAsAWeightMatrix() {
        int rows = 150;
        int cols = 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = BenchWeights.matrix(arena, GgmlType.Q8_0, rows, cols, 9);
            long rowBytes = GgmlType.Q8_0.byteSize(cols);
            assertEquals(rows * rowBytes, data.byteSize());
            WeightMatrix m = WeightMatrix.of("t", GgmlType.Q8_0, new long[] {cols, rows}, data);
            float[] tileRow = new float[cols];
            float[] repeated = new float[cols];
            for (int r = BenchWeights.TILE_ROWS; r < rows; r++) {
                m.row(r % BenchWeights.TILE_ROWS, tileRow, 0);
                m.row(r, repeated, 0);
                assertArrayEquals(tileRow, repeated, "row " + r);
            }
            m.row(0, tileRow, 0);
            m.row(1, repeated, 0);
            assertFalse(Arrays.equals(tileRow, repeated), "rows within a tile differ");
        }
    }
}

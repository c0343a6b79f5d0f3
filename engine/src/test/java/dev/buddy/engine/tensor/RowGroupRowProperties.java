package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Rows read back from the row groups ({@link WeightMatrix#row} of a Q4_0, Q4_1, Q4_K, Q8_0 or Q6_K matrix that a SIMD
 * width packed: Q4_0 in eight-row groups at 256 bits; on CPUs with 512-bit vectors Q4_K in eight-row groups and Q4_0,
 * Q4_1, Q8_0 and Q6_K in sixteen-row ones) are the rows the scalar width dequantises from the file layout, bit for
 * bit, for every row of every group.
 */
class RowGroupRowProperties {
    @Property(tries = 120)
    void rowsFromTheGroupsAreTheFileRows(@ForAll @IntRange(min = 0, max = 4) int format,
            @ForAll @IntRange(min = 1, max = 4) int groups,
            @ForAll boolean wholeGroups, @ForAll @IntRange(min = 1, max = 12) int blocks,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        GgmlType type =
                new GgmlType[] {GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q4_K, GgmlType.Q8_0, GgmlType.Q6_K}[format];
        int groupRows = type == GgmlType.Q4_K ? 8 : 16;
        int rows = wholeGroups ? groupRows * groups : groupRows * groups - 1 - rnd.nextInt(groupRows - 1);
        int cols = type.blockSize() * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = switch (type) {
                case Q4_1 -> Q4_1RowGroupProperties.q4_1Tensor(rows, cols, 0, misalign, rnd, arena);
                case Q4_K -> Q4_KRowGroupProperties.q4_KTensor(rows, cols, 0, misalign, rnd, arena);
                case Q8_0 -> Q8_0RowGroupProperties.q8_0Tensor(rows, cols, 0, misalign, rnd, arena);
                case Q6_K -> Q6_KRowGroupProperties.q6_KTensor(rows, cols, 0, misalign, rnd, arena);
                default -> TestTensors.q4_0Tensor(rows, cols, 0, misalign, rnd, arena);
            };
            long[] dims = {cols, rows};
            float[] expected = new float[cols];
            float[] actual = new float[cols];
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            for (VectorWidth width : VectorWidth.available()) {
                WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
                for (int r = 0; r < rows; r++) {
                    scalar.row(r, expected, 0);
                    simd.row(r, actual, 0);
                    for (int c = 0; c < cols; c++) {
                        assertEquals(Float.floatToRawIntBits(expected[c]), Float.floatToRawIntBits(actual[c]),
                                type + " " + width + ", row " + r + " of " + rows + ", column " + c);
                    }
                }
            }
        }
    }
}

package dev.buddy.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.buddy.engine.synth.RandomRows;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * Weight matrices of any format for kernel benchmarks, built without a model file: a tile of random rows
 * (N(0, 1/cols), like {@code buddy synth}) quantised with the reference codecs and repeated down the matrix.
 * Repeating keeps set-up fast for the slow reference K-quant quantisers; every row still lives at its own address,
 * so the kernel streams the whole matrix from memory exactly as with distinct rows.
 */
final class BenchWeights {
    static final int TILE_ROWS = 64;

    private BenchWeights() {}

    /** A {@code rows x cols} matrix of {@code type} in {@code arena}, rows back to back as in a GGUF file. */
    static MemorySegment matrix(Arena arena, GgmlType type, int rows, int cols, long seed) {
        long rowBytes = type.byteSize(cols);
        int tileRows = Math.min(rows, TILE_ROWS);
        float[] values = new float[tileRows * cols];
        for (int r = 0; r < tileRows; r++) {
            RandomRows.gaussian(RandomRows.streamSeed(seed, type.name(), r), 0, 1 / Math.sqrt(cols), values,
                    r * cols, cols);
        }
        MemorySegment tile = MemorySegment.ofArray(BlockCodecs.quantize(type, values));
        MemorySegment matrix = arena.allocate(rowBytes * rows, 64);
        for (int r = 0; r < rows; r += tileRows) {
            int n = Math.min(tileRows, rows - r);
            MemorySegment.copy(tile, 0, matrix, r * rowBytes, n * rowBytes);
        }
        return matrix;
    }

    /** Random activations in [-1, 1). */
    static float[] activations(int length, long seed) {
        float[] x = new float[length];
        RandomRows.gaussian(RandomRows.streamSeed(seed, "activations", 0), 0, 0.5, x, 0, length);
        return x;
    }
}

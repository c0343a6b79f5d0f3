package dev.buddy.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small GGUF files written by {@link GgufWriter} for tests that must not depend on the shared models. */
final class SyntheticGguf {
    private SyntheticGguf() {}

    /**
     * A writer holding one value of every metadata type, arrays of every element type (empty, strings, nested), and
     * tensors of plain, block-quantised and zero-sized shapes, at alignment 64.
     */
    static GgufWriter everyType() {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("general.alignment", 64)
                .putUInt8("test.u8", 200)
                .putInt8("test.i8", -5)
                .putUInt16("test.u16", 60000)
                .putInt16("test.i16", -300)
                .putUInt32("test.u32", 0xFFFF_FFF0)
                .putInt32("test.i32", -70000)
                .putUInt64("test.u64", -2L)
                .putInt64("test.i64", Long.MIN_VALUE + 1)
                .putFloat32("test.f32", 0.25f)
                .putFloat64("test.f64", -1.5e300)
                .putBool("test.bool", true)
                .putString("test.unicode", "naïve ☃ 𝄞")
                .putString("test.empty", "")
                .putUInt32("llama.block_count", 2)
                .putFloat32("llama.rope.freq_base", 10000f)
                .putStringArray("tokenizer.ggml.tokens", new String[] {"<unk>", "<s>", "▁hi", ""})
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, new float[] {0f, -1f, -2.5f, Float.NaN})
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, new int[] {2, 3, 1, 1})
                .putArray("test.a.u8", GgufValueType.UINT8, new byte[] {1, (byte) 255})
                .putArray("test.a.i16", GgufValueType.INT16, new short[] {-1, 2})
                .putArray("test.a.u64", GgufValueType.UINT64, new long[] {-1L, 7})
                .putArray("test.a.f64", GgufValueType.FLOAT64, new double[] {1e-300})
                .putArray("test.a.bool", GgufValueType.BOOL, new boolean[] {true, false, true})
                .putArray("test.a.empty", GgufValueType.UINT32, new int[0])
                .putArray("test.a.nested", GgufValueType.ARRAY, new GgufValue.GgufArray[] {
                        new GgufValue.GgufArray(GgufValueType.STRING, new String[] {"x", "yz"}),
                        new GgufValue.GgufArray(GgufValueType.ARRAY, new GgufValue.GgufArray[] {
                                new GgufValue.GgufArray(GgufValueType.INT8, new byte[] {-1})}),
                        new GgufValue.GgufArray(GgufValueType.FLOAT32, new float[0])});
        w.addTensor("f32", new long[] {8, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        w.addTensor("q8", GgmlType.Q8_0, new long[] {32, 2}, pattern(2 * 34, 3));
        w.addTensor("q4k", GgmlType.Q4_K, new long[] {256}, pattern(144, 7));
        w.addTensor("empty", GgmlType.F16, new long[] {0, 4}, new byte[0]);
        w.addTensor("f16", GgmlType.F16, new long[] {3}, pattern(6, 11));
        return w;
    }

    /** Writes {@code w} through a temporary file and returns the bytes. */
    static byte[] bytes(GgufWriter w) {
        try {
            Path tmp = Files.createTempFile("synthetic", ".gguf");
            try {
                w.write(tmp);
                return Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deterministic non-constant bytes, so that misplaced data cannot compare equal by accident. */
    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }
}

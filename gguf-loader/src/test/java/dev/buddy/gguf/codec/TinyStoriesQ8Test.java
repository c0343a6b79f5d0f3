package dev.buddy.gguf.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.TestData;

/**
 * The Q8_0 codec against a real llama.cpp-made file, {@code TinyStories-656K-Q8_0.gguf}, and against the original F32
 * weights of the same model ({@code tinystories-656k-hf/model.safetensors}, see models/SOURCES.md).
 */
class TinyStoriesQ8Test {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** GGUF tensor -> safetensors tensor, for the matrices llama.cpp's converter stores without permuting rows. */
    private static final Map<String, String> SAME_LAYOUT = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "blk.0.ffn_gate.weight", "model.layers.0.mlp.gate_proj.weight",
            "blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight",
            "blk.1.ffn_up.weight", "model.layers.1.mlp.up_proj.weight",
            "blk.1.attn_v.weight", "model.layers.1.self_attn.v_proj.weight",
            "blk.1.attn_output.weight", "model.layers.1.self_attn.o_proj.weight");

    private static GgufFile gguf;
    private static Safetensors safetensors;

    @BeforeAll
    static void open() throws IOException {
        gguf = GgufFile.open(TestData.require("models/TinyStories-656K-Q8_0.gguf"));
        safetensors = Safetensors.open(TestData.require("models/tinystories-656k-hf/model.safetensors"));
    }

    @AfterAll
    static void close() {
        if (gguf != null) {
            gguf.close();
        }
    }

    @Test
    void everyQ8_0TensorDecodesAsScaleTimesInt8ByHand() {
        int tensors = 0;
        for (TensorInfo t : gguf.tensors()) {
            if (t.type() != GgmlType.Q8_0) {
                continue;
            }
            tensors++;
            MemorySegment data = gguf.tensorData(t);
            int n = Math.toIntExact(t.elementCount());
            float[] decoded = BlockCodecs.dequantize(GgmlType.Q8_0, data, n);
            for (int block = 0; block < n / 32; block++) {
                long at = block * 34L;
                float d = Float.float16ToFloat(data.get(LE_SHORT, at)); // the JDK's fp16, not the codec's
                for (int j = 0; j < 32; j++) {
                    float expected = data.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
                    int index = block * 32 + j;
                    assertEquals(expected, decoded[index], () -> t.name() + " element " + index);
                }
            }
        }
        assertEquals(15, tensors, "SOURCES.md: 15 Q8_0 tensors");
    }

    @Test
    void dequantisedTensorsStayWithinHalfAStepOfTheOriginalF32Weights() {
        for (var entry : SAME_LAYOUT.entrySet()) {
            TensorInfo t = gguf.tensor(entry.getKey());
            float[] original = safetensors.floats(entry.getValue());
            assertEquals(t.elementCount(), original.length, entry.getKey());
            float[] decoded = BlockCodecs.dequantize(GgmlType.Q8_0, gguf.tensorData(t), original.length);
            double maxDiff = 0;
            for (int block = 0; block < original.length / 32; block++) {
                double amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(original[block * 32 + j]));
                }
                double d = amax / 127;
                double bound = d / 2 + 127 * ErrorBoundsTest.halfError(d) + amax * 0x1p-20;
                for (int i = block * 32; i < block * 32 + 32; i++) {
                    double diff = Math.abs(decoded[i] - original[i]);
                    if (!(diff <= bound)) {
                        fail(entry.getKey() + " element " + i + ": diff " + diff + " > " + bound);
                    }
                    maxDiff = Math.max(maxDiff, diff);
                }
            }
            if (!entry.getKey().contains("attn_output")) {
                // SOURCES.md measured token_embd, the FFN and attn_v (not attn_output, whose blocks reach 0.0156).
                assertTrue(maxDiff <= 0.014, entry.getKey() + ": max abs diff " + maxDiff + " (SOURCES.md: <= 0.014)");
            }
        }
    }

    @Test
    void token_embdRowsMatchTheOriginalEmbeddingRowByRow() {
        TensorInfo t = gguf.tensor("token_embd.weight");
        assertArrayEquals(new long[] {128, 2048}, t.dims());
        float[] original = safetensors.floats("model.embed_tokens.weight");
        float[] row = new float[128];
        BlockCodec codec = BlockCodecs.of(GgmlType.Q8_0);
        for (int token : new int[] {0, 1, 2, 100, 1023, 2047}) {
            // Rows are 128 elements = 4 blocks = 136 bytes; decode one row in place, at an offset into the tensor.
            codec.dequantize(gguf.tensorData(t), token * 136L, row, 0, 128);
            for (int i = 0; i < 128; i++) {
                assertEquals(original[token * 128 + i], row[i], 0.014, "token " + token + " dim " + i);
            }
        }
    }

    /**
     * Quantising the original F32 weights with our Q8_0 gives back llama.cpp's bytes exactly: the file was made by
     * the same reference algorithm, so this pins the quantiser (rounding of the scale and of each quant) to it.
     */
    @Test
    void quantisingTheOriginalWeightsReproducesLlamaCppsBytes() {
        for (var entry : SAME_LAYOUT.entrySet()) {
            byte[] ours = BlockCodecs.quantize(GgmlType.Q8_0, safetensors.floats(entry.getValue()));
            byte[] theirs = gguf.tensorData(entry.getKey()).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(theirs, ours, entry.getKey());
        }
    }

    /** Just enough of the safetensors format: an 8-byte little-endian header length, a JSON header, raw data. */
    private record Safetensors(String header, MemorySegment data) {
        private static final Pattern ALIAS = Pattern.compile("\"__metadata__\"\\s*:\\s*\\{[^}]*\\}");

        static Safetensors open(Path path) throws IOException {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(),
                        java.lang.foreign.Arena.ofAuto());
                long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
                byte[] json = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
                return new Safetensors(new String(json, StandardCharsets.UTF_8), file.asSlice(8 + headerLength));
            }
        }

        /** An F32 tensor's values; follows the {@code __metadata__} alias that ties embed_tokens to lm_head. */
        float[] floats(String name) {
            Matcher alias = ALIAS.matcher(header);
            if (alias.find()) {
                Matcher target = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]+)\"")
                        .matcher(alias.group());
                if (target.find()) {
                    name = target.group(1);
                }
            }
            Matcher m = Pattern.compile("\"" + Pattern.quote(name)
                    + "\"\\s*:\\s*\\{\\s*\"dtype\"\\s*:\\s*\"F32\"[^}]*\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)\\s*,\\s*(\\d+)")
                    .matcher(header);
            assertTrue(m.find(), "no F32 tensor " + name + " in the safetensors header");
            long start = Long.parseLong(m.group(1));
            long end = Long.parseLong(m.group(2));
            float[] values = new float[Math.toIntExact((end - start) / 4)];
            for (int i = 0; i < values.length; i++) {
                values[i] = data.get(LE_FLOAT, start + 4L * i);
            }
            return values;
        }
    }
}

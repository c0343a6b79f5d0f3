package dev.buddy.cli.info;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.cli.Cli;
import dev.buddy.cli.CliRun;
import dev.buddy.cli.TinyJson;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.TestData;

/** {@code buddy info} on the shared models, on synthetic files, and on every kind of bad input. */
class InfoCommandTest {
    @TempDir
    Path tmp;

    // ---- stories260K: the facts models/SOURCES.md states for it ------------------------------------------------

    @Test
    void stories260kText() {
        Path model = TestData.require("models/stories260K.gguf");
        CliRun r = CliRun.run("info", model.toString()).assertOk();
        InfoOutput info = InfoOutput.parse(r.out());
        assertEquals(List.of("File", "Model", "RoPE", "Tokenizer", "Tensor types"), List.copyOf(info.fields().keySet()));
        assertEquals("3", info.get("File", "GGUF version"));
        assertEquals("llama", info.get("Model", "Architecture"));
        assertEquals("5", info.get("Model", "Blocks"));
        assertEquals("64", info.get("Model", "Embedding width"));
        assertEquals("172", info.get("Model", "FFN width"));
        assertEquals("8", info.get("Model", "Attention heads"));
        assertEquals("4", info.get("Model", "KV heads"));
        assertEquals("8 (embedding / heads)", info.get("Model", "Head dim"));
        assertEquals("2048", info.get("Model", "Context length"));
        assertEquals("8", info.get("RoPE", "Dimensions"));
        assertEquals("llama", info.get("Tokenizer", "Model"));
        assertEquals("512", info.get("Tokenizer", "Vocab size"));
        assertEquals("1 '<s>'", info.get("Tokenizer", "BOS token"));
        List<String> table = info.lines().get("Tensor types");
        assertEquals(2, table.size(), "header and one row: " + table);
        assertTrue(table.get(1).matches("^  F32 +48 +292800 +1\\.12 MiB +100\\.00%$"), table.get(1));
    }

    @Test
    void stories260kJsonParsesBackAndMatchesTheFile() throws Exception {
        Path model = TestData.require("models/stories260K.gguf");
        CliRun r = CliRun.run("info", "--json", model.toString()).assertOk();
        Map<?, ?> json = (Map<?, ?>) TinyJson.parse(r.out());
        Map<?, ?> file = (Map<?, ?>) json.get("file");
        Map<?, ?> m = (Map<?, ?>) json.get("model");
        Map<?, ?> rope = (Map<?, ?>) json.get("rope");
        Map<?, ?> tok = (Map<?, ?>) json.get("tokenizer");
        assertEquals(5L, m.get("block_count"));
        assertEquals(64L, m.get("embedding_length"));
        assertEquals(8L, m.get("head_count"));
        assertEquals(4L, m.get("head_count_kv"));
        assertEquals(8L, m.get("head_dim"));
        assertEquals(512L, tok.get("vocab_size"));
        assertEquals("llama", tok.get("model"));
        assertEquals(10000.0, rope.get("freq_base"));
        try (GgufFile g = GgufFile.open(model)) {
            assertEquals((long) g.version(), file.get("gguf_version"));
            assertEquals(Files.size(model), file.get("size_bytes"));
            assertEquals((long) g.tensors().size(), file.get("tensor_count"));
            assertEquals((long) g.getInt("llama.feed_forward_length"), m.get("feed_forward_length"));
            assertEquals((long) g.getInt("llama.context_length"), m.get("context_length"));
            assertEquals((double) g.getFloat("llama.attention.layer_norm_rms_epsilon"),
                    ((Double) m.get("rms_norm_eps")).floatValue(), 0.0);
            long elements = g.tensors().stream().mapToLong(TensorInfo::elementCount).sum();
            long bytes = g.tensors().stream().mapToLong(TensorInfo::byteSize).sum();
            assertEquals(List.of(Map.of("type", "F32", "tensors", 48L, "elements", elements, "bytes", bytes,
                    "percent", 100.0)), json.get("tensor_types"));
        }
    }

    @Test
    void theSharedVocabOnlyFileWorks() {
        Path vocab = TestData.require("models/tokenizer-tests/ggml-vocab-llama-spm.gguf");
        InfoOutput info = InfoOutput.parse(CliRun.run("info", vocab.toString()).assertOk().out());
        assertEquals("32000", info.get("Tokenizer", "Vocab size"));
        assertEquals("0 (vocab-only file)", info.get("File", "Tensors"));
        assertEquals(List.of("  none (vocab-only file)"), info.lines().get("Tensor types"));
    }

    // ---- errors: exit 2, one line naming the file ---------------------------------------------------------------

    @Test
    void missingFile() {
        Path missing = tmp.resolve("nope.gguf");
        CliRun.run("info", missing.toString()).assertUserError("buddy info: no such file: " + missing);
    }

    @Test
    void directory() {
        CliRun.run("info", tmp.toString()).assertUserError(tmp + " is a directory");
    }

    @Test
    void notAGgufFile() throws Exception {
        Path text = Files.writeString(tmp.resolve("notes.gguf"), "These are not the weights you are looking for.\n");
        CliRun.run("info", text.toString()).assertUserError(text.toString(), "not a GGUF file");
        Path empty = Files.write(tmp.resolve("empty.gguf"), new byte[0]);
        CliRun.run("info", empty.toString()).assertUserError(empty.toString(), "too short");
    }

    @Test
    void truncatedFiles() throws Exception {
        byte[] whole = Files.readAllBytes(TestData.require("models/stories260K.gguf"));
        Path header = Files.write(tmp.resolve("header-cut.gguf"), Arrays.copyOf(whole, 1000));
        CliRun.run("info", header.toString()).assertUserError(header.toString(), "bytes left in the file");
        Path data = Files.write(tmp.resolve("data-cut.gguf"), Arrays.copyOf(whole, whole.length - 100));
        CliRun.run("info", data.toString()).assertUserError(data.toString(), "past the end of the file");
    }

    @Test
    void ggufV1IsRejectedByName() {
        Path v1 = TestData.require("models/tinyllamas-stories-260k-f32.v1.gguf");
        CliRun.run("info", v1.toString()).assertUserError(v1.toString(), "GGUF v1 is not supported");
    }

    @Test
    void argumentMistakes() {
        CliRun.run("info").assertUserError("missing MODEL.gguf", "buddy info --help");
        CliRun.run("info", "-m", "a.gguf", "b.gguf").assertUserError("give the model once");
        CliRun.run("info", "a.gguf", "b.gguf").assertUserError("unexpected argument 'b.gguf'");
        CliRun.run("info", "-m").assertUserError("option -m needs a value (FILE)");
    }

    @Test
    void modelOptionWorksLikeTheArgument() {
        Path model = TestData.require("models/stories260K.gguf");
        assertEquals(CliRun.run("info", model.toString()).out(), CliRun.run("info", "-m", model.toString()).out());
    }

    // ---- synthetic files ------------------------------------------------------------------------------------

    @Test
    void vocabOnlyFileWithoutHyperParameters() throws Exception {
        Path file = tmp.resolve("vocab.gguf");
        new GgufWriter()
                .putString("general.architecture", "qwen2")
                .putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "qwen2")
                .putStringArray("tokenizer.ggml.tokens", new String[] {"a", "b", "ab", "<|endoftext|>", "Ġx"})
                .putStringArray("tokenizer.ggml.merges", new String[] {"a b", "Ġ x"})
                .putUInt32("tokenizer.ggml.eos_token_id", 3)
                .putUInt32("tokenizer.ggml.padding_token_id", -1)
                .write(file);
        CliRun text = CliRun.run("info", file.toString()).assertOk();
        InfoOutput info = InfoOutput.parse(text.out());
        assertEquals(List.of("File", "Model", "Tokenizer", "Tensor types"), List.copyOf(info.fields().keySet()),
                "no RoPE section without hyper-parameters");
        assertEquals("3 '<|endoftext|>'", info.get("Tokenizer", "EOS token"));
        assertEquals("none (4294967295)", info.get("Tokenizer", "Padding token"));

        Map<?, ?> json = (Map<?, ?>) TinyJson.parse(CliRun.run("info", "--json", file.toString()).assertOk().out());
        assertEquals(List.of(), json.get("tensor_types"));
        assertEquals(0L, ((Map<?, ?>) json.get("file")).get("tensor_count"));
        Map<?, ?> tok = (Map<?, ?>) json.get("tokenizer");
        assertEquals(5L, tok.get("vocab_size"));
        assertEquals(2L, tok.get("merges"));
        assertEquals("qwen2", tok.get("pre"));
        assertEquals(Map.of("architecture", "qwen2"), json.get("model"));
        assertNull(json.get("rope"));
    }

    /** A Qwen3-like file: explicit head dim, YaRN scaling, an unknown key, several tensor types, a hostile name. */
    private static final String NAME = "Tiny \"quoted\" \\ name\nline two\t\u0001 – ünïcödé 🦙 \u2028";

    private Path qwenLike() throws Exception {
        Path file = tmp.resolve("qwen.gguf");
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "qwen3")
                .putString("general.name", NAME)
                .putUInt32("general.alignment", 64)
                .putUInt32("general.file_type", 7)
                .putUInt32("qwen3.block_count", 2)
                .putUInt32("qwen3.context_length", 131072)
                .putUInt32("qwen3.embedding_length", 64)
                .putUInt32("qwen3.feed_forward_length", 128)
                .putUInt32("qwen3.attention.head_count", 4)
                .putUInt32("qwen3.attention.head_count_kv", 2)
                .putUInt32("qwen3.attention.key_length", 32)
                .putUInt32("qwen3.attention.value_length", 32)
                .putFloat32("qwen3.attention.layer_norm_rms_epsilon", 1e-6f)
                .putFloat32("qwen3.rope.freq_base", 1_000_000f)
                .putString("qwen3.rope.scaling.type", "yarn")
                .putFloat32("qwen3.rope.scaling.factor", 4f)
                .putUInt32("qwen3.rope.scaling.original_context_length", 32768)
                .putUInt32("qwen3.attention.sliding_window", 4096)
                .putString("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}");
        for (Object[] t : TENSORS) {
            GgmlType type = (GgmlType) t[1];
            long[] dims = (long[]) t[2];
            w.addTensor((String) t[0], type, dims, new byte[(int) type.byteSize(dims[0] * dims[1])]);
        }
        w.write(file);
        return file;
    }

    private static final Object[][] TENSORS = {
            {"token_embd.weight", GgmlType.Q8_0, new long[] {64, 32}},
            {"blk.0.attn_q.weight", GgmlType.F16, new long[] {64, 128}},
            {"blk.0.ffn_down.weight", GgmlType.Q4_K, new long[] {256, 4}},
            {"blk.1.ffn_down.weight", GgmlType.Q4_K, new long[] {256, 4}},
            {"output_norm.weight", GgmlType.F32, new long[] {64, 1}},
    };

    @Test
    void syntheticQwenJson() throws Exception {
        Path file = qwenLike();
        CliRun r = CliRun.run("info", "--json", file.toString()).assertOk();
        assertTrue(r.out().chars().allMatch(c -> c < 0x7f), "JSON output is ASCII");
        Map<?, ?> json = (Map<?, ?>) TinyJson.parse(r.out());
        Map<?, ?> f = (Map<?, ?>) json.get("file");
        assertEquals(NAME, f.get("name"), "string survives escaping");
        assertEquals(64L, f.get("alignment"));
        assertEquals("Q8_0", f.get("file_type"));
        Map<?, ?> m = (Map<?, ?>) json.get("model");
        assertEquals(32L, m.get("head_dim"), "attention.key_length wins over embedding / heads");
        assertFalse(m.containsKey("value_head_dim"), "equal to head_dim, so not repeated");
        assertEquals(4096L, m.get("qwen3.attention.sliding_window"), "unknown keys are shown under their own name");
        assertEquals("tied", m.get("output"));
        Map<?, ?> rope = (Map<?, ?>) json.get("rope");
        assertEquals(1e6, rope.get("freq_base"));
        assertEquals("yarn", rope.get("scaling_type"));
        assertEquals(4.0, rope.get("scaling_factor"));
        assertEquals(32768L, rope.get("scaling_original_context_length"));
        assertEquals(32L, rope.get("dimension_count"), "defaults to the head dim");
        assertEquals(Boolean.TRUE, ((Map<?, ?>) json.get("tokenizer")).get("has_chat_template"));

        // The type table, computed independently from the tensors written and GgmlType's block sizes.
        long total = 0;
        for (Object[] t : TENSORS) {
            long[] d = (long[]) t[2];
            total += ((GgmlType) t[1]).byteSize(d[0] * d[1]);
        }
        List<?> types = (List<?>) json.get("tensor_types");
        assertEquals(4, types.size());
        long previousBytes = Long.MAX_VALUE;
        for (Object o : types) {
            Map<?, ?> row = (Map<?, ?>) o;
            GgmlType type = GgmlType.valueOf((String) row.get("type"));
            long count = 0;
            long elements = 0;
            for (Object[] t : TENSORS) {
                if (t[1] == type) {
                    count++;
                    elements += ((long[]) t[2])[0] * ((long[]) t[2])[1];
                }
            }
            assertEquals(count, row.get("tensors"), type.name());
            assertEquals(elements, row.get("elements"), type.name());
            assertEquals(type.byteSize(elements), row.get("bytes"), type.name());
            assertEquals(100.0 * type.byteSize(elements) / total, (Double) row.get("percent"), 0.005, type.name());
            assertTrue(type.byteSize(elements) <= previousBytes, "largest first");
            previousBytes = type.byteSize(elements);
        }
    }

    @Test
    void syntheticQwenTextKeepsOneFieldPerLine() throws Exception {
        CliRun r = CliRun.run("info", qwenLike().toString()).assertOk();
        InfoOutput info = InfoOutput.parse(r.out());
        String name = info.get("File", "Name");
        assertTrue(name.contains("\\n") && name.contains("\\t") && name.contains("\\x01") && name.contains("\\u2028"),
                name);
        assertEquals("1000000", info.get("RoPE", "Frequency base"));
        assertEquals("yarn", info.get("RoPE", "Scaling type"));
        assertEquals("4", info.get("RoPE", "Scaling factor"));
        assertEquals("4096", info.get("Model", "attention.sliding_window"));
        assertEquals("Q8_0 (7)", info.get("File", "File type"));
        List<String> table = info.lines().get("Tensor types");
        assertTrue(table.getLast().matches("^  total +5 +.*100\\.00%$"), table.getLast());
    }

    /** Another architecture (the router, later) plugs its own sections in ahead of the transformer fallback. */
    @Test
    void architecturesPlugIn() throws Exception {
        ArchitectureInfo router = new ArchitectureInfo() {
            @Override
            public boolean handles(String architecture) {
                return architecture.equals("buddy-router");
            }

            @Override
            public List<InfoSection> sections(GgufFile file, String architecture) {
                return List.of(InfoSection.ofFields("Router", "router", List.of(new InfoField("Budget levels",
                        "budget_levels", (long) file.getIntArray("buddy-router.budget_levels").length))));
            }
        };
        Path file = tmp.resolve("router.gguf");
        new GgufWriter().putString("general.architecture", "buddy-router")
                .putArray("buddy-router.budget_levels", GgufValueType.UINT32, new int[] {25, 50, 75})
                .write(file);
        Cli cli = new Cli(List.of(new InfoCommand(new ModelInfo(List.of(router, new TransformerInfo())))), false);
        Map<?, ?> json = (Map<?, ?>) TinyJson.parse(CliRun.run(cli, "info", "--json", file.toString()).assertOk().out());
        assertEquals(Map.of("budget_levels", 3L), json.get("router"));
        assertNull(json.get("model"), "the first plug-in that handles the architecture wins");
        // Without the plug-in the transformer fallback still shows the file, unknown keys included.
        Map<?, ?> plain = (Map<?, ?>) TinyJson.parse(CliRun.run("info", "--json", file.toString()).assertOk().out());
        assertEquals(List.of(25L, 50L, 75L), ((Map<?, ?>) plain.get("model")).get("buddy-router.budget_levels"));
    }
}

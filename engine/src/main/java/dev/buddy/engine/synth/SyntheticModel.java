package dev.buddy.engine.synth;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.codec.BlockCodec;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * A random-weight GGUF with the exact tensor layout and metadata of a real Llama or Qwen2 model, for benchmarks and
 * for tests that need a model of a given size and format without downloading one.
 *
 * <h2>Values</h2>
 * Weight matrices are N(0, 1/ne0) (standard deviation 1/sqrt(fan-in)), so every projection keeps activations near
 * unit scale and logits differ from token to token; norm weights are 1 + N(0, 0.05²); biases N(0, 0.1²);
 * {@code rope_freqs.weight} holds the real Llama 3 frequency factors. Each row has its own random stream
 * ({@link RandomRows}), so the file depends only on shape, type and seed, never on thread count.
 *
 * <h2>Writing</h2>
 * Tensors are streamed to disk ({@link GgufWriter}'s lazy {@code TensorSource}) in chunks of rows that are
 * generated and quantised in parallel, so a 1B model never sits in the heap; the file appears atomically when done.
 * Quantisation uses the reference codecs ({@link BlockCodecs}), bit-exact with ggml's {@code quantize_row_*_ref},
 * so the data equals what llama-quantize makes from the same F32 values.
 */
public final class SyntheticModel {
    private static final int QUANTIZATION_VERSION = 2; // GGML_QNT_VERSION
    private static final int CHUNK_BYTES = 4 << 20;
    private static final double NORM_STD = 0.05;
    private static final double BIAS_STD = 0.1;

    private final SynthesisOptions options;
    private final SyntheticVocabulary vocabulary;
    private final List<PlannedTensor> tensors;
    private final ThreadLocal<float[]> rowScratch;

    private SyntheticModel(SynthesisOptions options, SyntheticVocabulary vocabulary, List<PlannedTensor> tensors) {
        this.options = options;
        this.vocabulary = vocabulary;
        this.tensors = Collections.unmodifiableList(tensors);
        int longestRow = tensors.stream().mapToInt(PlannedTensor::rowLength).max().orElse(1);
        this.rowScratch = ThreadLocal.withInitial(() -> new float[longestRow]);
    }

    /**
     * Plans the model: every tensor's name, type and dims.
     *
     * @throws SyntheticModelException when the vocabulary does not have the shape's size
     */
    public static SyntheticModel plan(SynthesisOptions options, SyntheticVocabulary vocabulary) {
        ModelShape shape = options.shape();
        if (vocabulary.size() != shape.vocabSize()) {
            throw new SyntheticModelException("vocabulary has " + vocabulary.size() + " tokens, shape "
                    + shape.name() + " needs " + shape.vocabSize());
        }
        return new SyntheticModel(options, vocabulary, planTensors(options));
    }

    private static List<PlannedTensor> planTensors(SynthesisOptions options) {
        ModelShape s = options.shape();
        long dim = s.embeddingLength();
        long kv = s.kvWidth();
        long ffn = s.feedForwardLength();
        List<PlannedTensor> out = new ArrayList<>();
        Planner p = new Planner(options, out);
        p.add(TensorRole.TOKEN_EMBEDDING, -1, dim, s.vocabSize());
        if (s.llama3RopeScaling() != null) {
            p.add(TensorRole.ROPE_FREQUENCIES, -1, s.headDim() / 2);
        }
        for (int layer = 0; layer < s.blockCount(); layer++) {
            p.add(TensorRole.ATTENTION_NORM, layer, dim);
            p.add(TensorRole.ATTENTION_Q, layer, dim, dim);
            if (s.qkvBias()) {
                p.add(TensorRole.ATTENTION_Q_BIAS, layer, dim);
            }
            p.add(TensorRole.ATTENTION_K, layer, dim, kv);
            if (s.qkvBias()) {
                p.add(TensorRole.ATTENTION_K_BIAS, layer, kv);
            }
            p.add(TensorRole.ATTENTION_V, layer, dim, kv);
            if (s.qkvBias()) {
                p.add(TensorRole.ATTENTION_V_BIAS, layer, kv);
            }
            p.add(TensorRole.ATTENTION_OUTPUT, layer, dim, dim);
            p.add(TensorRole.FFN_NORM, layer, dim);
            p.add(TensorRole.FFN_GATE, layer, dim, ffn);
            p.add(TensorRole.FFN_UP, layer, dim, ffn);
            p.add(TensorRole.FFN_DOWN, layer, ffn, dim);
        }
        p.add(TensorRole.OUTPUT_NORM, -1, dim);
        if (!s.tiedEmbeddings()) {
            p.add(TensorRole.OUTPUT, -1, dim, s.vocabSize());
        }
        return out;
    }

    private record Planner(SynthesisOptions options, List<PlannedTensor> out) {
        void add(TensorRole role, int layer, long... dims) {
            ModelShape s = options.shape();
            GgmlType type = QuantizationMix.typeOf(options.fileType(), role, layer, s.blockCount(), (int) dims[0],
                    !s.tiedEmbeddings(), options.pure());
            out.add(new PlannedTensor(role.tensorName(layer), role, layer, type, dims));
        }
    }

    public SynthesisOptions options() {
        return options;
    }

    public List<PlannedTensor> tensors() {
        return tensors;
    }

    /** The planned tensor with this name. */
    public PlannedTensor tensor(String name) {
        for (PlannedTensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("no tensor " + name + " in a " + options.shape().name() + " model");
    }

    /** Bytes of tensor data the file will hold (without header and alignment padding). */
    public long tensorBytes() {
        long total = 0;
        for (PlannedTensor t : tensors) {
            total += t.byteSize();
        }
        return total;
    }

    /**
     * The float values of one row before they are converted to the tensor's type: the file holds exactly these for
     * F32, and their quantisation otherwise.
     */
    public void fillRow(PlannedTensor tensor, int row, float[] dst) {
        int n = tensor.rowLength();
        long seed = RandomRows.streamSeed(options.seed(), tensor.name(), row);
        ModelShape s = options.shape();
        switch (tensor.role()) {
            case ROPE_FREQUENCIES -> System.arraycopy(
                    s.llama3RopeScaling().frequencyFactors(s.headDim(), s.ropeFreqBase()), 0, dst, 0, n);
            case ATTENTION_NORM, FFN_NORM, OUTPUT_NORM -> RandomRows.gaussian(seed, 1.0, NORM_STD, dst, 0, n);
            case ATTENTION_Q_BIAS, ATTENTION_K_BIAS, ATTENTION_V_BIAS ->
                    RandomRows.gaussian(seed, 0, BIAS_STD, dst, 0, n);
            default -> RandomRows.gaussian(seed, 0, 1 / Math.sqrt(n), dst, 0, n);
        }
    }

    /** Writes the GGUF atomically, reporting progress after every chunk of tensor data. */
    public void write(Path target, SynthesisProgress progress) throws IOException {
        GgufWriter writer = new GgufWriter();
        putMetadata(writer);
        long total = tensorBytes();
        long[] done = {0};
        for (PlannedTensor t : tensors) {
            writer.addTensor(t.name(), t.type(), t.dims(), t.byteSize(), out -> {
                streamTensor(t, out, bytes -> {
                    done[0] += bytes;
                    progress.advanced(done[0], total);
                });
            });
        }
        writer.write(target);
    }

    private void streamTensor(PlannedTensor t, FileChannel out, LongConsumer written) throws IOException {
        BlockCodec codec = BlockCodecs.of(t.type());
        int rowLength = t.rowLength();
        int rowBytes = Math.toIntExact(t.type().byteSize(rowLength));
        int rows = t.rowCount();
        int rowsPerChunk = Math.max(1, Math.min(rows, CHUNK_BYTES / rowBytes));
        byte[] chunk = new byte[rowsPerChunk * rowBytes];
        MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
        for (int first = 0; first < rows; first += rowsPerChunk) {
            int count = Math.min(rowsPerChunk, rows - first);
            int base = first;
            IntStream.range(0, count).parallel().forEach(i -> {
                float[] values = rowScratch.get();
                fillRow(t, base + i, values);
                codec.quantize(values, 0, rowLength, chunkSegment, (long) i * rowBytes);
            });
            ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, count * rowBytes);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            written.accept((long) count * rowBytes);
        }
    }

    private void putMetadata(GgufWriter w) {
        ModelShape s = options.shape();
        String arch = s.architecture();
        w.putString("general.architecture", arch);
        w.putString("general.type", "model");
        w.putString("general.name", "synthetic " + s.name());
        w.putString("general.description", "Random weights with the shape of " + s.name() + ", written by buddy synth"
                + " (type " + options.fileType().cliName() + (options.pure() ? ", pure" : "") + ", seed "
                + options.seed() + "). Not a trained model: its text is noise.");
        w.putUInt32("general.file_type", options.fileType().llamaFileType());
        w.putUInt32("general.quantization_version", QUANTIZATION_VERSION);
        w.putUInt32(arch + ".block_count", s.blockCount());
        w.putUInt32(arch + ".context_length", s.contextLength());
        w.putUInt32(arch + ".embedding_length", s.embeddingLength());
        w.putUInt32(arch + ".feed_forward_length", s.feedForwardLength());
        w.putUInt32(arch + ".attention.head_count", s.headCount());
        w.putUInt32(arch + ".attention.head_count_kv", s.headCountKv());
        w.putFloat32(arch + ".rope.freq_base", s.ropeFreqBase());
        w.putFloat32(arch + ".attention.layer_norm_rms_epsilon", s.rmsNormEps());
        if (s.explicitHeadDim()) {
            w.putUInt32(arch + ".attention.key_length", s.headDim());
            w.putUInt32(arch + ".attention.value_length", s.headDim());
        }
        if (arch.equals("llama")) {
            // What convert_hf_to_gguf.py's LlamaModel adds on top of the common keys.
            w.putUInt32(arch + ".vocab_size", s.vocabSize());
            w.putUInt32(arch + ".rope.dimension_count", s.headDim());
        }
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", "gpt-2");
        w.putStringArray("tokenizer.ggml.tokens", vocabulary.tokens());
        w.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, vocabulary.tokenTypes());
        w.putStringArray("tokenizer.ggml.merges", vocabulary.merges());
        w.putUInt32("tokenizer.ggml.bos_token_id", vocabulary.endOfTextId());
        w.putUInt32("tokenizer.ggml.eos_token_id", vocabulary.endOfTextId());
        w.putBool("tokenizer.ggml.add_bos_token", s.addBos());
    }
}

package dev.buddy.cli.info;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.buddy.gguf.GgufFile;

/**
 * Hyper-parameters of a decoder-only transformer as llama.cpp's converter writes them under
 * {@code <arch>.*}: a "Model" section and a "RoPE" section. Handles any architecture, so it is the fallback; keys
 * it does not know are listed at the end of their section under their own names, so nothing in the file is hidden.
 */
public final class TransformerInfo implements ArchitectureInfo {
    /** llama.cpp's default when {@code <arch>.rope.freq_base} is absent (llama-model.cpp, rope_freq_base_train). */
    static final float DEFAULT_ROPE_FREQ_BASE = 10000f;

    @Override
    public boolean handles(String architecture) {
        return true;
    }

    @Override
    public List<InfoSection> sections(GgufFile file, String arch) {
        Metadata md = new Metadata(file);
        String p = arch + ".";
        Set<String> shown = new HashSet<>();
        List<InfoSection> sections = new ArrayList<>();

        SectionBuilder model = new SectionBuilder("Model", "model");
        model.add("Architecture", "architecture", arch);
        model.add("Blocks", "block_count", take(md, shown, p + "block_count"));
        Long embedding = md.integer(p + "embedding_length");
        model.add("Embedding width", "embedding_length", take(md, shown, p + "embedding_length"));
        model.add("FFN width", "feed_forward_length", take(md, shown, p + "feed_forward_length"));
        Object heads = take(md, shown, p + "attention.head_count");
        model.add("Attention heads", "head_count", heads);
        Object kvHeads = take(md, shown, p + "attention.head_count_kv");
        // llama.cpp: n_head_kv defaults to n_head (no grouped-query attention) when the key is absent.
        model.add("KV heads", "head_count_kv", kvHeads != null ? kvHeads : heads,
                kvHeads == null && heads != null ? Formats.value(heads) + " (default: = heads)" : null);
        Long keyLength = md.integer(p + "attention.key_length");
        Long valueLength = md.integer(p + "attention.value_length");
        shown.add(p + "attention.key_length");
        shown.add(p + "attention.value_length");
        Long headDim = keyLength;
        String headDimDisplay = null;
        if (headDim == null && embedding != null && heads instanceof Long h && h > 0) {
            // llama.cpp: n_embd_head_k = n_embd / n_head when attention.key_length is absent.
            headDim = embedding / h;
            headDimDisplay = headDim + " (embedding / heads)";
        }
        model.add("Head dim", "head_dim", headDim, headDimDisplay);
        if (valueLength != null && !valueLength.equals(headDim)) {
            model.add("Value head dim", "value_head_dim", valueLength);
        }
        model.add("Context length", "context_length", take(md, shown, p + "context_length"));
        model.add("RMS norm eps", "rms_norm_eps", take(md, shown, p + "attention.layer_norm_rms_epsilon"));
        model.add("Layer norm eps", "layer_norm_eps", take(md, shown, p + "attention.layer_norm_epsilon"));
        model.add("Experts", "expert_count", take(md, shown, p + "expert_count"));
        model.add("Experts used", "expert_used_count", take(md, shown, p + "expert_used_count"));
        model.add("Vocab size", "vocab_size", take(md, shown, p + "vocab_size"));
        if (file.findTensor("token_embd.weight").isPresent()) {
            boolean tied = file.findTensor("output.weight").isEmpty();
            model.add("Output matrix", "output", tied ? "tied" : "separate",
                    tied ? "tied to token_embd.weight" : "output.weight (separate)");
        }

        SectionBuilder rope = new SectionBuilder("RoPE", "rope");
        boolean isModel = md.has(p + "block_count");
        Float base = md.number(p + "rope.freq_base");
        shown.add(p + "rope.freq_base");
        if (base != null || isModel) {
            rope.add("Frequency base", "freq_base", base != null ? base : DEFAULT_ROPE_FREQ_BASE,
                    base != null ? null : Formats.value(DEFAULT_ROPE_FREQ_BASE) + " (default)");
        }
        Long ropeDims = md.integer(p + "rope.dimension_count");
        shown.add(p + "rope.dimension_count");
        if (ropeDims != null) {
            rope.add("Dimensions", "dimension_count", ropeDims, headDim != null && ropeDims < headDim
                    ? ropeDims + " of " + headDim + " (partial rotary)" : null);
        } else if (isModel && headDim != null) {
            // llama.cpp: n_rot defaults to the head dimension.
            rope.add("Dimensions", "dimension_count", headDim, headDim + " (default: head dim)");
        }
        rope.add("Scaling type", "scaling_type", take(md, shown, p + "rope.scaling.type"));
        rope.add("Scaling factor", "scaling_factor", take(md, shown, p + "rope.scaling.factor"));
        rope.add("Original context", "scaling_original_context_length",
                take(md, shown, p + "rope.scaling.original_context_length"));
        // Older converters wrote linear scaling as one key (llama.cpp still reads it).
        rope.add("Linear scale", "scale_linear", take(md, shown, p + "rope.scale_linear"));
        file.findTensor("rope_freqs.weight").ifPresent(t -> rope.add("Frequency factors", "freq_factors",
                t.elementCount(), "rope_freqs.weight (" + t.elementCount() + " values)"));

        // Whatever else the file states about this architecture, labelled by its own name and keyed in JSON by the
        // full metadata key (hand-picked keys have no dots, so the two can never collide).
        for (String key : file.metadata().keySet()) {
            if (key.startsWith(p) && !shown.contains(key)) {
                String suffix = key.substring(p.length());
                (suffix.startsWith("rope.") ? rope : model).add(suffix, key, md.value(key));
            }
        }
        sections.add(model.build());
        if (!rope.isEmpty()) {
            sections.add(rope.build());
        }
        return sections;
    }

    private static Object take(Metadata md, Set<String> shown, String key) {
        shown.add(key);
        return md.value(key);
    }
}

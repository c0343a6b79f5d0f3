package dev.buddy.cli.info;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.TensorInfo;

/**
 * Builds the {@code buddy info} report of an open GGUF file: a file section, the architecture's sections (from the
 * first {@link ArchitectureInfo} that handles it), the tokenizer, and a table of tensor types. Reads only metadata
 * and tensor infos, never tensor data, so it is instant even for large files and works for vocab-only files.
 */
public final class ModelInfo {
    /** {@code general.architecture}. */
    static final String KEY_ARCHITECTURE = "general.architecture";
    /** A u32 token id of -1: no token. */
    static final long NO_TOKEN = 0xFFFF_FFFFL;

    private final List<ArchitectureInfo> architectures;

    /** @param architectures plug-ins in priority order; the last should handle every architecture */
    public ModelInfo(List<ArchitectureInfo> architectures) {
        this.architectures = List.copyOf(architectures);
    }

    /** The plug-ins Buddy ships. */
    public static ModelInfo standard() {
        return new ModelInfo(List.of(new TransformerInfo()));
    }

    public InfoReport describe(GgufFile file) {
        List<InfoSection> sections = new ArrayList<>();
        sections.add(fileSection(file));
        String arch = file.getString(KEY_ARCHITECTURE, null);
        if (arch != null) {
            for (ArchitectureInfo a : architectures) {
                if (a.handles(arch)) {
                    sections.addAll(a.sections(file, arch));
                    break;
                }
            }
        }
        InfoSection tokenizer = tokenizerSection(file);
        if (tokenizer != null) {
            sections.add(tokenizer);
        }
        sections.add(tensorTypes(file));
        return new InfoReport(sections);
    }

    private static InfoSection fileSection(GgufFile file) {
        Metadata md = new Metadata(file);
        long parameters = 0;
        long tensorBytes = 0;
        for (TensorInfo t : file.tensors()) {
            parameters += t.elementCount();
            tensorBytes += t.byteSize();
        }
        SectionBuilder s = new SectionBuilder("File", "file");
        s.add("Path", "path", file.path().toString());
        s.add("Size", "size_bytes", file.fileSize(), Formats.bytes(file.fileSize()));
        s.add("GGUF version", "gguf_version", (long) file.version());
        s.add("Alignment", "alignment", (long) file.alignment(),
                file.has(GgufFile.KEY_ALIGNMENT) ? null : file.alignment() + " (default)");
        s.add("Metadata keys", "metadata_keys", (long) file.metadata().size());
        s.add("Tensors", "tensor_count", (long) file.tensors().size(),
                file.tensors().isEmpty() ? "0 (vocab-only file)" : null);
        s.add("Parameters", "parameters", parameters, Formats.count(parameters));
        s.add("Tensor data", "tensor_bytes", tensorBytes, Formats.bytes(tensorBytes));
        s.add("Name", "name", md.value("general.name"));
        Long fileType = md.integer("general.file_type");
        if (fileType != null) {
            s.add("File type", "file_type", FileTypes.name(fileType), FileTypes.name(fileType) + " (" + fileType + ")");
        }
        s.add("Quantization version", "quantization_version", md.value("general.quantization_version"));
        return s.build();
    }

    /** Null when the file has no tokenizer metadata. */
    private static InfoSection tokenizerSection(GgufFile file) {
        Metadata md = new Metadata(file);
        SectionBuilder s = new SectionBuilder("Tokenizer", "tokenizer");
        s.add("Model", "model", md.value("tokenizer.ggml.model"));
        s.add("Pre-tokenizer", "pre", md.value("tokenizer.ggml.pre"));
        Integer vocab = md.arrayLength("tokenizer.ggml.tokens");
        s.add("Vocab size", "vocab_size", vocab == null ? null : (long) vocab);
        Integer merges = md.arrayLength("tokenizer.ggml.merges");
        s.add("Merges", "merges", merges == null ? null : (long) merges);
        s.add("Scores", "has_scores", md.has("tokenizer.ggml.scores") ? Boolean.TRUE : null);
        String[][] special = {{"BOS", "bos"}, {"EOS", "eos"}, {"EOT", "eot"}, {"Unknown", "unknown"},
                {"Padding", "padding"}, {"Separator", "separator"}};
        for (String[] sp : special) {
            // tokenizer.ggml.<kind>_token_id
            Long id = md.integer("tokenizer.ggml." + sp[1] + "_token_id");
            if (id != null) {
                String text = tokenText(file, id);
                // Converters write u32 0xFFFFFFFF (llama.cpp's LLAMA_TOKEN_NULL, -1) for "no such token".
                String display = text != null ? id + " '" + Formats.printable(text) + "'"
                        : id == NO_TOKEN || id == -1 ? "none (" + id + ")" : id + " (not in the vocabulary)";
                s.add(sp[0] + " token", sp[1] + "_token_id", id, display);
            }
        }
        s.add("Add BOS", "add_bos_token", md.value("tokenizer.ggml.add_bos_token"));
        s.add("Add EOS", "add_eos_token", md.value("tokenizer.ggml.add_eos_token"));
        s.add("Add space prefix", "add_space_prefix", md.value("tokenizer.ggml.add_space_prefix"));
        String template = md.string("tokenizer.chat_template");
        if (!s.isEmpty() || template != null) {
            s.add("Chat template", "has_chat_template", template != null,
                    template != null ? "yes (" + template.length() + " characters)" : "no");
        }
        return s.isEmpty() ? null : s.build();
    }

    private static String tokenText(GgufFile file, long id) {
        if (!file.has("tokenizer.ggml.tokens")) {
            return null;
        }
        GgufValue.GgufArray tokens = file.array("tokenizer.ggml.tokens");
        return id >= 0 && id < tokens.length() && tokens.elementType() == GgufValueType.STRING
                ? (String) tokens.get((int) id) : null;
    }

    private static InfoSection tensorTypes(GgufFile file) {
        record Totals(long count, long elements, long bytes) {}
        Map<GgmlType, Totals> byType = new EnumMap<>(GgmlType.class);
        long allBytes = 0;
        for (TensorInfo t : file.tensors()) {
            byType.merge(t.type(), new Totals(1, t.elementCount(), t.byteSize()),
                    (a, b) -> new Totals(a.count + b.count, a.elements + b.elements, a.bytes + b.bytes));
            allBytes += t.byteSize();
        }
        List<Map.Entry<GgmlType, Totals>> entries = new ArrayList<>(byType.entrySet());
        entries.sort(Comparator.comparingLong((Map.Entry<GgmlType, Totals> e) -> e.getValue().bytes).reversed()
                .thenComparing(e -> e.getKey().name()));
        List<List<Object>> rows = new ArrayList<>();
        for (Map.Entry<GgmlType, Totals> e : entries) {
            Totals t = e.getValue();
            // Percent with two decimals, as a number so JSON consumers need not parse "12.5%".
            double percent = allBytes == 0 ? 0 : Math.round(t.bytes * 10000.0 / allBytes) / 100.0;
            rows.add(List.of(e.getKey().name(), t.count, t.elements, t.bytes, percent));
        }
        long allCount = file.tensors().size();
        long allElements = byType.values().stream().mapToLong(Totals::elements).sum();
        InfoTable table = new InfoTable(List.of(
                new InfoTable.Column("type", "type", InfoTable.Format.TEXT),
                new InfoTable.Column("tensors", "tensors", InfoTable.Format.INTEGER),
                new InfoTable.Column("elements", "elements", InfoTable.Format.INTEGER),
                new InfoTable.Column("bytes", "bytes", InfoTable.Format.BYTES),
                new InfoTable.Column("share", "percent", InfoTable.Format.PERCENT)),
                rows, rows.size() > 1 ? List.of("total", allCount, allElements, allBytes, 100.0) : null,
                "none (vocab-only file)");
        return InfoSection.ofTable("Tensor types", "tensor_types", table);
    }
}

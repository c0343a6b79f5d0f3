package dev.buddy.router.lora;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import dev.buddy.engine.model.ModelSpec;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufFormatException;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TensorInfo;

/**
 * A set of LoRA adapters as its own small GGUF file, written atomically (temporary file, then rename). The base
 * model is identified exactly as router files identify it ({@link dev.buddy.router.ModelFingerprint}), and an
 * adapter for another model is refused. Tensors are named after the base tensor they adapt, with llama.cpp's
 * suffixes and shapes: A is {@code rank} rows of {@code in}, B is {@code out} rows of {@code rank}.
 *
 * <pre>
 * general.architecture      "buddy-lora"
 * buddy.lora.format_version u32
 * buddy.base.fingerprint    string  SHA-256 hex of the base model's tensor layout
 * buddy.base.architecture   string  e.g. "llama"
 * buddy.lora.block_count    u32
 * buddy.lora.rank           u32
 * buddy.lora.alpha          f32     the update is scaled by alpha/rank
 * buddy.lora.targets        string  e.g. "q,k,v,o,gate,up,down"
 * tensors, F32, per block and target: blk.N.attn_q.weight.lora_a [in, rank], blk.N.attn_q.weight.lora_b [rank, out]
 * </pre>
 */
public final class LoraFile {
    public static final String ARCHITECTURE = "buddy-lora";
    static final int FORMAT_VERSION = 1;

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LoraFile() {}

    /** Where {@code train-router --lora} puts the adapters of router file {@code R.gguf}: {@code R.lora.gguf}. */
    public static Path besideRouter(Path routerFile) {
        String name = routerFile.getFileName().toString();
        String stem = name.endsWith(".gguf") ? name.substring(0, name.length() - ".gguf".length()) : name;
        return routerFile.resolveSibling(stem + ".lora.gguf");
    }

    public static void write(LoraAdapters adapters, String baseFingerprint, Path target) throws IOException {
        LoraConfig c = adapters.config();
        ModelSpec spec = adapters.spec();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", ARCHITECTURE);
        w.putUInt32("buddy.lora.format_version", FORMAT_VERSION);
        w.putString("buddy.base.fingerprint", baseFingerprint);
        w.putString("buddy.base.architecture", spec.architecture().ggufName());
        w.putUInt32("buddy.lora.block_count", spec.blockCount());
        w.putUInt32("buddy.lora.rank", c.rank());
        w.putFloat32("buddy.lora.alpha", c.alpha());
        w.putString("buddy.lora.targets", c.targetList());
        float[] p = adapters.params();
        for (int b = 0; b < spec.blockCount(); b++) {
            for (LoraTarget t : c.targets()) {
                LoraLayer l = adapters.layer(b, t);
                int r = l.rank();
                float[] a = new float[r * l.inputs()];
                System.arraycopy(p, l.aOffset(), a, 0, a.length);
                // Bᵀ (rank × out) in memory; B (out × rank) in the file.
                float[] bMatrix = new float[l.outputs() * r];
                for (int j = 0; j < r; j++) {
                    for (int o = 0; o < l.outputs(); o++) {
                        bMatrix[o * r + j] = p[l.bOffset() + j * l.outputs() + o];
                    }
                }
                String base = t.tensorName(b);
                w.addTensor(base + ".lora_a", new long[] {l.inputs(), r}, a);
                w.addTensor(base + ".lora_b", new long[] {r, l.outputs()}, bMatrix);
            }
        }
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        w.write(target);
    }

    /**
     * Reads adapters for the model described by {@code spec} and {@code baseFingerprint}.
     *
     * @throws LoraFingerprintMismatchException when the file was made for another base model
     * @throws LoraFormatException              when the file is not a Buddy LoRA file or does not fit the model
     */
    public static LoraAdapters read(Path path, ModelSpec spec, String baseFingerprint) throws IOException {
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        try (GgufFile f = GgufFile.open(path)) {
            String arch = f.getString("general.architecture", "");
            if (!ARCHITECTURE.equals(arch)) {
                throw new LoraFormatException(path + " is not a Buddy LoRA adapter (general.architecture '" + arch
                        + "', expected '" + ARCHITECTURE + "')");
            }
            int version = f.getInt("buddy.lora.format_version");
            if (version != FORMAT_VERSION) {
                throw new LoraFormatException(path + ": LoRA format version " + version
                        + " is not supported (this build reads " + FORMAT_VERSION + ")");
            }
            String fingerprint = f.getString("buddy.base.fingerprint");
            if (!fingerprint.equals(baseFingerprint)) {
                throw new LoraFingerprintMismatchException(path + " was trained for a different base model "
                        + "(fingerprint " + abbreviate(fingerprint) + ", this model " + abbreviate(baseFingerprint)
                        + ")");
            }
            int blocks = f.getInt("buddy.lora.block_count");
            if (blocks != spec.blockCount()) {
                throw new LoraFormatException(path + " has adapters for " + blocks + " blocks, the model has "
                        + spec.blockCount());
            }
            Set<LoraTarget> targets = LoraTarget.parse(f.getString("buddy.lora.targets"));
            LoraConfig config = new LoraConfig(f.getInt("buddy.lora.rank"), f.getFloat("buddy.lora.alpha"), targets,
                    Double.NaN);
            LoraAdapters adapters = LoraAdapters.of(spec, config, new float[LoraAdapters.parameterCount(spec,
                    config)]);
            float[] p = adapters.params();
            for (int b = 0; b < blocks; b++) {
                for (LoraTarget t : targets) {
                    LoraLayer l = adapters.layer(b, t);
                    int r = l.rank();
                    String base = t.tensorName(b);
                    float[] a = tensor(f, base + ".lora_a", l.inputs(), r);
                    System.arraycopy(a, 0, p, l.aOffset(), a.length);
                    float[] bMatrix = tensor(f, base + ".lora_b", r, l.outputs());
                    for (int o = 0; o < l.outputs(); o++) {
                        for (int j = 0; j < r; j++) {
                            p[l.bOffset() + j * l.outputs() + o] = bMatrix[o * r + j];
                        }
                    }
                }
            }
            return adapters;
        } catch (GgufFormatException e) {
            throw new LoraFormatException(path + ": unreadable LoRA file: " + e.getMessage(), e);
        }
    }

    private static float[] tensor(GgufFile f, String name, long cols, long rows) {
        TensorInfo t = f.findTensor(name).orElseThrow(() -> new LoraFormatException(f.path()
                + ": missing tensor '" + name + "'"));
        if (t.type() != GgmlType.F32 || t.dims().length != 2 || t.dim(0) != cols || t.dim(1) != rows) {
            throw new LoraFormatException(f.path() + ": tensor '" + name + "' is " + t.type() + " "
                    + java.util.Arrays.toString(t.dims()) + ", expected F32 [" + cols + ", " + rows + "]");
        }
        return f.tensorData(t).toArray(F32_LE);
    }

    private static String abbreviate(String fingerprint) {
        return fingerprint.length() > 12 ? fingerprint.substring(0, 12) + "…" : fingerprint;
    }
}

package dev.buddy.router.train;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufFormatException;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TensorInfo;

/**
 * The complete state of a router training run after some steps, as a small GGUF file written atomically (temporary
 * file, then rename) next to the router file: the router weights, AdamW's moments, the step count and the loss
 * history. Data order and budget draws are pure functions of (seed, step), so these are all a resumed run needs to
 * continue bit for bit. The identity of the run (settings that change the result, data set, base model, prior) is
 * stored too, and a resume with different settings is refused with the differing fields named.
 *
 * <pre>
 * general.architecture           "buddy-router-checkpoint"
 * buddy.checkpoint.format_version u32
 * buddy.checkpoint.step          u32     optimiser steps completed
 * buddy.checkpoint.tokens        u64     positions processed
 * buddy.checkpoint.run           string  the settings that determine the result
 * buddy.checkpoint.data          string  the training data
 * buddy.base.fingerprint         string  base model fingerprint
 * buddy.checkpoint.prior_kind    string
 * buddy.checkpoint.prior         f32[]
 * tensors: router.params, adam.first_moment, adam.second_moment [P] (F32); loss.history [steps] (F64)
 * with --lora also: lora.params, lora.adam.first_moment, lora.adam.second_moment [LoRA weights] (F32)
 * </pre>
 */
final class TrainingCheckpoint {
    static final String ARCHITECTURE = "buddy-router-checkpoint";
    static final int FORMAT_VERSION = 1;

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * @param run         {@link #runIdentity} of the settings
     * @param lossHistory mean training loss of each completed step
     */
    record State(int step, long tokens, String run, String data, String baseFingerprint, Prior prior,
                 float[] params, float[] firstMoment, float[] secondMoment, double[] lossHistory) {}

    private TrainingCheckpoint() {}

    /** The checkpoint file that belongs to a router output file. */
    static Path pathFor(Path routerOutput) {
        return routerOutput.resolveSibling(routerOutput.getFileName() + ".ckpt");
    }

    /**
     * The settings that change what a run computes, as one comparable line. Threads and the checkpoint interval are
     * left out: results do not depend on them, so a run may resume with different ones.
     */
    static String runIdentity(TrainConfig c) {
        return "budgets=" + Arrays.toString(c.budgets()) + ", steps=" + c.steps() + ", lr=" + c.learningRate()
                + ", warmup=" + c.warmupSteps() + ", batch=" + c.batchSize() + ", seed=" + c.seed() + ", maxTokens="
                + c.maxTokens() + ", weightDecay=" + c.weightDecay() + ", maxGradNorm=" + c.maxGradNorm()
                + ", relaxation=" + c.relaxation().cliName() + ", probeSkipped=" + c.probeSkipped()
                + ", features=" + c.featureSource().fileName()
                + ", pooling=" + c.pooling().fileName() + ", hidden=" + c.hiddenDim() + ", omega=" + c.omega()
                + (c.init() == RouterInit.RANDOM ? "" : ", init=" + c.init().cliName())
                + (c.secantBlocks() == 0 ? "" : ", secant=" + c.secantBlocks());
    }

    static void write(Path path, State s) throws IOException {
        write(path, s, null);
    }

    /** As {@link #write(Path, State)}, with the LoRA adapters' state too when {@code lora} is not null. */
    static void write(Path path, State s, LoraState lora) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", ARCHITECTURE);
        w.putUInt32("buddy.checkpoint.format_version", FORMAT_VERSION);
        w.putUInt32("buddy.checkpoint.step", s.step());
        w.putUInt64("buddy.checkpoint.tokens", s.tokens());
        w.putString("buddy.checkpoint.run", s.run());
        w.putString("buddy.checkpoint.data", s.data());
        w.putString("buddy.base.fingerprint", s.baseFingerprint());
        w.putString("buddy.checkpoint.prior_kind", s.prior().kind());
        w.putArray("buddy.checkpoint.prior", GgufValueType.FLOAT32, s.prior().values());
        w.addTensor("router.params", new long[] {s.params().length}, s.params());
        w.addTensor("adam.first_moment", new long[] {s.firstMoment().length}, s.firstMoment());
        w.addTensor("adam.second_moment", new long[] {s.secondMoment().length}, s.secondMoment());
        // F64 so a resumed run reports the earlier steps' losses exactly; a zero-length tensor is not valid GGUF.
        double[] history = s.lossHistory().length == 0 ? new double[1] : s.lossHistory();
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(history.length * Double.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (double v : history) {
            bytes.putDouble(v);
        }
        w.addTensor("loss.history", GgmlType.F64, new long[] {history.length}, bytes.array());
        if (lora != null) {
            w.addTensor(LORA_PARAMS, new long[] {lora.params().length}, lora.params());
            w.addTensor(LORA_FIRST_MOMENT, new long[] {lora.firstMoment().length}, lora.firstMoment());
            w.addTensor(LORA_SECOND_MOMENT, new long[] {lora.secondMoment().length}, lora.secondMoment());
        }
        w.write(path);
    }

    static State read(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new CheckpointException("no checkpoint to resume from at " + path);
        }
        try (GgufFile f = GgufFile.open(path)) {
            String arch = f.getString("general.architecture", "");
            if (!ARCHITECTURE.equals(arch)) {
                throw new CheckpointException(path + " is not a router training checkpoint (general.architecture '"
                        + arch + "')");
            }
            int version = f.getInt("buddy.checkpoint.format_version");
            if (version != FORMAT_VERSION) {
                throw new CheckpointException(path + ": checkpoint format version " + version
                        + " is not supported (this build reads " + FORMAT_VERSION + ")");
            }
            int step = f.getInt("buddy.checkpoint.step");
            return new State(step, f.getLong("buddy.checkpoint.tokens"), f.getString("buddy.checkpoint.run"),
                    f.getString("buddy.checkpoint.data"), f.getString("buddy.base.fingerprint"),
                    new Prior(f.getString("buddy.checkpoint.prior_kind"), f.getFloatArray("buddy.checkpoint.prior")),
                    floats(f, "router.params"), floats(f, "adam.first_moment"), floats(f, "adam.second_moment"),
                    Arrays.copyOf(doubles(f, "loss.history"), step));
        } catch (GgufFormatException e) {
            throw new CheckpointException("unreadable checkpoint: " + e.getMessage(), e);
        }
    }

    // ---- LoRA (train-router --lora) -----------------------------------------------------------------------------
    // The adapters' weights and AdamW moments ride along as three more F32 tensors; the LoRA settings are part of the
    // run identity (RouterTrainer appends them), so a resume with other LoRA settings, or without LoRA, is refused.

    private static final String LORA_PARAMS = "lora.params";
    private static final String LORA_FIRST_MOMENT = "lora.adam.first_moment";
    private static final String LORA_SECOND_MOMENT = "lora.adam.second_moment";

    /** The LoRA adapters' part of a checkpoint, flat in {@link dev.buddy.router.lora.LoraAdapters}' layout. */
    record LoraState(float[] params, float[] firstMoment, float[] secondMoment) {}

    /**
     * The LoRA state of a checkpoint.
     *
     * @throws CheckpointException when the checkpoint has none
     */
    static LoraState readLora(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            if (f.findTensor(LORA_PARAMS).isEmpty()) {
                throw new CheckpointException(path + " holds no LoRA adapters");
            }
            return new LoraState(floats(f, LORA_PARAMS), floats(f, LORA_FIRST_MOMENT), floats(f, LORA_SECOND_MOMENT));
        } catch (GgufFormatException e) {
            throw new CheckpointException("unreadable checkpoint: " + e.getMessage(), e);
        }
    }

    private static float[] floats(GgufFile f, String name) {
        TensorInfo t = f.tensor(name);
        if (t.type() != GgmlType.F32) {
            throw new CheckpointException(f.path() + ": tensor '" + name + "' is " + t.type() + ", expected F32");
        }
        return f.tensorData(t).toArray(F32_LE);
    }

    private static double[] doubles(GgufFile f, String name) {
        TensorInfo t = f.tensor(name);
        if (t.type() != GgmlType.F64) {
            throw new CheckpointException(f.path() + ": tensor '" + name + "' is " + t.type() + ", expected F64");
        }
        return f.tensorData(t).toArray(F64_LE);
    }

    /** The fields of two {@link #runIdentity} lines that differ, as "name: saved → requested". */
    static String differences(String saved, String requested) {
        List<String> out = new ArrayList<>();
        String[] a = saved.split(", (?=[a-zA-Z]+=)");
        String[] b = requested.split(", (?=[a-zA-Z]+=)");
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            String x = i < a.length ? a[i] : "";
            String y = i < b.length ? b[i] : "";
            if (!x.equals(y)) {
                String name = (x.isEmpty() ? y : x).split("=", 2)[0];
                out.add(name + ": " + value(x) + " in the checkpoint, " + value(y) + " now");
            }
        }
        return String.join("; ", out);
    }

    private static String value(String field) {
        int eq = field.indexOf('=');
        return eq < 0 ? "(absent)" : field.substring(eq + 1);
    }
}

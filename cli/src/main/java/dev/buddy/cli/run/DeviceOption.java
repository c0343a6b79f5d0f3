package dev.buddy.cli.run;

import java.io.PrintStream;

import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.generate.ForwardBackend;
import dev.buddy.engine.generate.GenerationOptions;
import dev.buddy.engine.generate.Generator;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.opencl.BackendChoice;
import dev.buddy.opencl.ClDevice;
import dev.buddy.opencl.OpenClBackend;
import dev.buddy.opencl.OpenClModelOptions;
import dev.buddy.opencl.OpenClUnavailableException;

/**
 * {@code --device cpu|opencl[:N]}: which backend runs the forward pass. OpenCL is used only when asked for; when it is
 * asked for and missing, the command stops with one line (exit 2) instead of quietly running on the CPU.
 */
public final class DeviceOption {
    private DeviceOption() {}

    public static final String NAME = "--device";

    public static OptionSpec spec() {
        return OptionSpec.value(null, NAME, "DEV",
                "cpu (the Vector API backend), or opencl, opencl:N (device N of 'buddy devices'), opencl:P:D or"
                        + " opencl:NAME", "cpu");
    }

    /** The parsed choice. */
    public static BackendChoice choice(ParsedArgs args) {
        try {
            return BackendChoice.parse(args.string(NAME));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * The OpenCL device the user asked for.
     *
     * @throws UsageException with OpenCL's one-line reason when it is missing or nothing matches
     */
    public static ClDevice device(BackendChoice choice) {
        try {
            return choice.select();
        } catch (OpenClUnavailableException e) {
            throw new UsageException("--device " + choice + ": " + e.getMessage() + " (use --device cpu)");
        }
    }

    /**
     * {@code options} with an automatic prompt batch resolved for the chosen device: on an OpenCL GPU,
     * {@link OpenClModelOptions#autoPromptBatch}'s longer chunks; otherwise unchanged.
     */
    public static GenerationOptions forDevice(BackendChoice choice, Model model, GenerationOptions options) {
        if (!choice.openCl() || options.batchSize() != GenerationOptions.AUTO) {
            return options;
        }
        return options.withBatchSize(autoPromptBatch(choice, model));
    }

    /** The automatic prompt chunk on the chosen device: the CPU rule, or {@link OpenClModelOptions#autoPromptBatch}. */
    public static int autoPromptBatch(BackendChoice choice, Model model) {
        return choice.openCl() ? OpenClModelOptions.autoPromptBatch(device(choice), model.spec())
                : GenerationOptions.promptBatchFor(model.spec());
    }

    /**
     * The forward backend for a generator: null for the CPU (the generator builds its own), else the model uploaded
     * to the chosen OpenCL device with the generator's context, batch, skipped-KV policy and KV type. One line on
     * {@code err} says which device and how much was uploaded.
     */
    public static ForwardBackend open(BackendChoice choice, Model model, GenerationOptions options, PrintStream err) {
        if (!choice.openCl()) {
            return null;
        }
        OpenClBackend backend = openCl(choice, model, Generator.contextLength(model, options),
                options.batchSizeFor(model.spec()),
                options.skippedKvPolicy(), options.kvCacheType());
        err.println(backend.describe());
        return backend;
    }

    /** The model on the chosen OpenCL device with a KV cache of {@code context} positions. */
    public static OpenClBackend openCl(BackendChoice choice, Model model, int context, int batchSize,
            SkippedKvPolicy policy, KvCacheType kvType) {
        return openCl(choice, model, context, batchSize, policy, kvType, false);
    }

    /** {@link #openCl(BackendChoice, Model, int, int, SkippedKvPolicy, KvCacheType)}, timing kernels when asked. */
    public static OpenClBackend openCl(BackendChoice choice, Model model, int context, int batchSize,
            SkippedKvPolicy policy, KvCacheType kvType, boolean profiling) {
        ClDevice device = device(choice);
        OpenClModelOptions options = OpenClModelOptions.defaults(context)
                .withMaxBatch(Math.max(1, Math.min(batchSize, context)))
                .withSkippedKvPolicy(policy)
                .withKvType(kvType);
        return OpenClBackend.open(device, model.gguf(), model.spec(), options, profiling);
    }
}

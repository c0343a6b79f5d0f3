package dev.buddy.cli.run;

import java.io.IOException;

import dev.buddy.cli.OptionSpec;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.cli.UsageException;
import dev.buddy.engine.model.Model;
import dev.buddy.opencl.BackendChoice;
import dev.buddy.router.lora.LoraInference;

/**
 * {@code --lora FILE}: LoRA adapters (from {@code train-router --lora}) applied to the model at load. The quantised
 * weights stay mapped as they are; each adapted projection adds its low-rank term on the CPU. An adapter made for
 * another base model is refused (exit 2).
 */
public final class LoraOption {
    public static final String NAME = "--lora";

    private LoraOption() {}

    public static OptionSpec spec() {
        return OptionSpec.value(null, NAME, "FILE",
                "LoRA adapters from train-router --lora (NAME.lora.gguf), applied at load (CPU backend)", null);
    }

    /**
     * The model with the adapters of {@code --lora} applied, or {@code model} itself without the option. The result
     * shares {@code model}'s file, so closing {@code model} closes both.
     */
    public static Model apply(ParsedArgs args, Model model, BackendChoice device) throws IOException {
        String file = args.string(NAME);
        if (file == null) {
            return model;
        }
        if (device != null && device.openCl()) {
            throw new UsageException("--lora runs on the CPU backend only; drop --device or --lora");
        }
        return LoraInference.apply(model, args.path("LoRA adapter", file));
    }
}

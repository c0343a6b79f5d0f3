package dev.buddy.router.lora;

import java.io.IOException;
import java.nio.file.Path;

import dev.buddy.engine.model.Model;
import dev.buddy.router.ModelFingerprint;

/**
 * Applies an adapter file to a loaded model for inference ({@code generate/chat/eval/bench --lora FILE}). The
 * quantised base weights stay mapped and untouched; each adapted projection adds its low-rank term after the base
 * product, so the engine's forward pass runs unchanged.
 */
public final class LoraInference {
    private LoraInference() {}

    /**
     * The model with the adapters of {@code adapterFile} applied. The result shares {@code model}'s file: close the
     * result (not both).
     *
     * @throws LoraFingerprintMismatchException when the adapter was trained for another base model
     */
    public static Model apply(Model model, Path adapterFile) throws IOException {
        LoraAdapters adapters = LoraFile.read(adapterFile, model.spec(), ModelFingerprint.of(model.gguf()));
        return model.withWeights(adapters.applyTo(model.weights()));
    }
}

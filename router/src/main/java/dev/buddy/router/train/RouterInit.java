package dev.buddy.router.train;

/**
 * How a training run initialises the Decision Module (the paper does not say).
 *
 * <ul>
 *   <li>{@link #RANDOM}: both layers drawn as PyTorch's {@code nn.Linear} default, U(±1/√fan_in). The untrained
 *       router's scores are random, and at ω = 0.1 they outweigh the prior, so training starts from a random
 *       route.</li>
 *   <li>{@link #PRIOR}: the first layer as above, the output layer (W2, b2) zero. The untrained router then scores
 *       every block 0, so s' = ω·p̃ and it routes exactly as the prior-only baseline; training only has to learn the
 *       input-dependent corrections. Gradients still reach W2 at step 0 (∂L/∂W2 = ∂L/∂s · SiLU(W1·v + b1)ᵀ),
 *       and W1 starts moving once W2 is non-zero, as with a zero-initialised LoRA B.</li>
 * </ul>
 */
public enum RouterInit {
    RANDOM("random"),
    PRIOR("prior");

    private final String cliName;

    RouterInit(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static RouterInit fromName(String name) {
        for (RouterInit i : values()) {
            if (i.cliName.equalsIgnoreCase(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown router initialisation '" + name + "': expected random or prior");
    }
}

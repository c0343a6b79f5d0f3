package dev.buddy.router.baseline;

import java.util.Locale;

/**
 * The static block-removal baselines of the paper's App. D.1, each turned into a {@link dev.buddy.router.StaticPlan}.
 */
public enum BaselineMethod {
    /** ShortGPT (Men 2024): rank blocks by Block Influence, 1 − cos(input, output). */
    SHORTGPT("shortgpt", "shortgpt", "cosine"),
    /** Shortened LLaMA (Kim 2024): rank blocks by the perplexity increase when each alone is removed. */
    PPL("ppl", "dppl", "dppl"),
    /** SLEB (Song 2024): remove blocks one at a time, each time the one whose removal hurts perplexity least. */
    SLEB("sleb", "sleb", "dppl"),
    /** BUDDY with no Decision Module (s = 0): top-k of the normalised prior p̃ alone. */
    PRIOR("prior", "prior", "dppl");

    private final String cliName;
    private final String fileMethod;
    private final String defaultPriorKind;

    BaselineMethod(String cliName, String fileMethod, String defaultPriorKind) {
        this.cliName = cliName;
        this.fileMethod = fileMethod;
        this.defaultPriorKind = defaultPriorKind;
    }

    /** The name {@code buddy prune --method} takes. */
    public String cliName() {
        return cliName;
    }

    /** The {@code buddy.router.method} value written to the plan file. */
    public String fileMethod() {
        return fileMethod;
    }

    /** The indicator behind the ranking, for {@code buddy.router.prior_kind}. */
    public String defaultPriorKind() {
        return defaultPriorKind;
    }

    public static BaselineMethod fromCliName(String name) {
        for (BaselineMethod m : values()) {
            if (m.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown pruning method '" + name + "' (expected shortgpt, ppl, sleb or"
                + " prior)");
    }
}

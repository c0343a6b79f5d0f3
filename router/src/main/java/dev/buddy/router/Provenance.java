package dev.buddy.router;

import java.util.Objects;

/**
 * Where a router comes from and what it is valid for.
 *
 * @param baseFingerprint  {@link ModelFingerprint} of the base model it was built for
 * @param baseArchitecture the base model's {@code general.architecture}, for messages
 * @param trained          false for a random (untrained) router, which the CLI must say plainly
 * @param trainingBudgets  the budgets b it was trained with (empty if none or unknown)
 * @param method           how it was made: {@code buddy} for a Decision Module, or a static method such as
 *                         {@code shortgpt}, {@code dppl}, {@code sleb}, {@code prior}
 * @param priorKind        the importance indicator behind the prior ({@code taylor}, {@code dppl}, {@code cosine},
 *                         {@code none})
 */
public record Provenance(String baseFingerprint, String baseArchitecture, boolean trained, float[] trainingBudgets,
                         String method, String priorKind) {
    public Provenance {
        Objects.requireNonNull(baseFingerprint, "baseFingerprint");
        Objects.requireNonNull(baseArchitecture, "baseArchitecture");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(priorKind, "priorKind");
        trainingBudgets = trainingBudgets.clone();
        for (float b : trainingBudgets) {
            if (!(b > 0f && b <= 1f)) {
                throw new IllegalArgumentException("training budget " + b + " is outside (0, 1]");
            }
        }
    }

    @Override
    public float[] trainingBudgets() {
        return trainingBudgets.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Provenance p && p.baseFingerprint.equals(baseFingerprint)
                && p.baseArchitecture.equals(baseArchitecture) && p.trained == trained
                && java.util.Arrays.equals(p.trainingBudgets, trainingBudgets) && p.method.equals(method)
                && p.priorKind.equals(priorKind);
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseFingerprint, method, trained) * 31 + java.util.Arrays.hashCode(trainingBudgets);
    }
}

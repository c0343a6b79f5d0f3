package dev.buddy.router;

/** The router file was built for a base model whose tensor layout fingerprint differs from the loaded model's. */
public final class FingerprintMismatchException extends IncompatibleRouterException {
    private final String expected;
    private final String actual;

    public FingerprintMismatchException(String routerName, String expected, String actual) {
        super("router " + routerName + " was built for base model fingerprint " + abbreviate(expected)
                + " but the loaded model's fingerprint is " + abbreviate(actual)
                + "; a router is only valid for the model it was trained on");
        this.expected = expected;
        this.actual = actual;
    }

    /** The fingerprint recorded in the router file. */
    public String expected() {
        return expected;
    }

    /** The fingerprint of the model the router was applied to. */
    public String actual() {
        return actual;
    }

    private static String abbreviate(String hex) {
        return hex.length() > 16 ? hex.substring(0, 16) + "…" : hex;
    }
}

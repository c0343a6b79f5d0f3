package dev.buddy.router;

/**
 * How per-token router outputs are pooled over all positions so far. The paper says only "Token-Pooling"; mean is the
 * default here. Each kind has an O(1) running update per new token, which is what makes per-step rerouting cheap.
 */
public enum Pooling {
    /** Mean over all positions: a running sum divided by the count. */
    MEAN("mean"),
    /** The newest position's output alone. */
    LAST("last"),
    /** Element-wise maximum over all positions. */
    MAX("max");

    private final String fileName;

    Pooling(String fileName) {
        this.fileName = fileName;
    }

    /** The value stored under {@code buddy.router.pooling}. */
    public String fileName() {
        return fileName;
    }

    /** Parses the file or command-line name ({@code mean}, {@code last}, {@code max}), case-insensitively. */
    public static Pooling fromFileName(String name) {
        for (Pooling p : values()) {
            if (p.fileName.equalsIgnoreCase(name)) {
                return p;
            }
        }
        throw new InvalidRouterOptionException("unknown pooling '" + name + "': expected mean, last or max");
    }
}

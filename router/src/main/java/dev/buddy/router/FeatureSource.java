package dev.buddy.router;

/**
 * Which layer-0 cache entry feeds the router (paper §4.3, Table 5): keys, values (the paper's default), or their
 * element-wise sum. Each feature is one position's cache row flattened over KV heads, {@code [kvHead][headDim]}, so its
 * width is {@code n_kv_heads·head_dim}; for GQA models that is narrower than the hidden size. Keys are taken as the
 * cache holds them, after RoPE.
 */
public enum FeatureSource {
    KEY("k"),
    VALUE("v"),
    KEY_PLUS_VALUE("k+v");

    private final String fileName;

    FeatureSource(String fileName) {
        this.fileName = fileName;
    }

    /** The value stored under {@code buddy.router.feature_source}. */
    public String fileName() {
        return fileName;
    }

    public boolean needsKey() {
        return this != VALUE;
    }

    public boolean needsValue() {
        return this != KEY;
    }

    /**
     * Reads one position's feature into {@code dst[0..width)}. K+V adds the two rows element-wise, using
     * {@code scratch} (same width) for the values. Allocation-free.
     */
    public void read(Layer0Features cache, int position, float[] dst, float[] scratch, int width) {
        switch (this) {
            case KEY -> cache.key(position, dst, 0);
            case VALUE -> cache.value(position, dst, 0);
            case KEY_PLUS_VALUE -> {
                cache.key(position, dst, 0);
                cache.value(position, scratch, 0);
                for (int i = 0; i < width; i++) {
                    dst[i] += scratch[i];
                }
            }
        }
    }

    /** Parses the file or command-line name ({@code k}, {@code v}, {@code k+v}), case-insensitively. */
    public static FeatureSource fromFileName(String name) {
        for (FeatureSource s : values()) {
            if (s.fileName.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new InvalidRouterOptionException("unknown feature source '" + name + "': expected k, v or k+v");
    }
}

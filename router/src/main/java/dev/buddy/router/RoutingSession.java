package dev.buddy.router;

/**
 * Routing state for one sequence. The caller feeds every new position's layer-0 feature ({@link #observe} or
 * {@link #append}) and then asks for the route ({@link #route}); the mask is read with {@link #runs} or
 * {@link #copyMaskTo}. Not thread-safe; one session per sequence.
 */
public sealed interface RoutingSession permits DynamicRoutingSession, StaticRoutingSession {
    /** Whether a forward call is a prompt chunk or a single generated token. */
    enum Phase { PREFILL, DECODE }

    int layerCount();

    /** False for static plans: the caller can skip reading cache rows entirely. */
    boolean needsFeatures();

    /** Width of the layer-0 feature this session reads; 0 when it reads none. */
    int featureDim();

    /** Forgets all positions: the next position observed is position 0 of a new sequence. */
    void reset();

    /** Positions observed since the last reset. */
    int positions();

    /** Observes the next position, reading its feature from the layer-0 cache. */
    void observe(Layer0Features cache, int position);

    /** Observes the next position from a feature vector ({@code featureDim} values from {@code offset}). */
    void append(float[] feature, int offset);

    /**
     * Recomputes the route (or keeps it, as the reroute policy says) after the newest positions were observed.
     *
     * @return true if the mask differs from the previous one (always true for the first route)
     */
    boolean route(Phase phase);

    /** Whether block {@code block} runs under the current route. */
    boolean runs(int block);

    /** Copies the current mask into {@code dst[0..L)}. */
    void copyMaskTo(boolean[] dst);

    /** k: the number of middle blocks the current route runs. */
    int middleBlocks();
}

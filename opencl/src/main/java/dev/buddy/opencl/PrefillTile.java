package dev.buddy.opencl;

/**
 * The shape of the prompt kernels with quantised input ({@code matmul_q_*} in input.cl): each work-item computes
 * {@code rows} output rows for {@code tokens} tokens, so a weight unit is read once per {@code tokens} tokens instead
 * of once per token. Batches of fewer than {@code tokens} tokens (decoding) keep the one-work-group-per-row kernel,
 * which spreads a single token's dot products over a whole group. {@code tokens == 0} turns the tiled kernel off.
 *
 * <p>The default, 2 rows x 16 tokens, was the fastest of nine shapes on an NVIDIA H200 (Llama-3.2-1B pp512 in one
 * pass: Q4_0 2,452 t/s against 637 untiled and 1,319 at 4 x 4; Q8_0 1,829 against 571; BENCHMARKS.md, "OpenCL on
 * an NVIDIA H200"). To try another shape on new hardware: {@code
 * BUDDY_JAVA_OPTS="-Dbuddy.opencl.prefill.rows=2 -Dbuddy.opencl.prefill.tokens=8" ./buddy bench --device opencl ...}.
 *
 * @param rows   output rows per work-item, 1 to 8
 * @param tokens tokens per work-item, 1 to 16, or 0 for no tiled kernel
 */
public record PrefillTile(int rows, int tokens) {
    public static final PrefillTile DEFAULT = new PrefillTile(2, 16);
    /** Every batch through the one-work-group-per-row kernel. */
    public static final PrefillTile OFF = new PrefillTile(1, 0);

    public PrefillTile {
        if (rows < 1 || rows > 8 || tokens < 0 || tokens > 16) {
            throw new IllegalArgumentException("prefill tile must be 1-8 rows by 0-16 tokens, got " + rows + " x "
                    + tokens);
        }
    }

    /** The default, or the shape {@code buddy.opencl.prefill.rows} and {@code buddy.opencl.prefill.tokens} name. */
    static PrefillTile fromSystemProperties() {
        int rows = TuningException.intProperty("buddy.opencl.prefill.rows", DEFAULT.rows);
        int tokens = TuningException.intProperty("buddy.opencl.prefill.tokens", DEFAULT.tokens);
        return TuningException.checked("-Dbuddy.opencl.prefill.rows/.tokens", () -> new PrefillTile(rows, tokens));
    }

    /** Whether a batch of {@code n} tokens goes through the tiled kernel. */
    boolean covers(int n) {
        return tokens > 0 && n >= tokens;
    }

    @Override
    public String toString() {
        return tokens == 0 ? "prefill untiled" : "prefill tile " + rows + "x" + tokens;
    }
}

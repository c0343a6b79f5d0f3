package dev.buddy.engine.tensor;

/**
 * Input activations (one or more tokens) converted to the {@link ActivationFormat} a weight format consumes, exactly
 * as llama.cpp's CPU backend converts them before its dot products. Quantise once, then hand the same input to every
 * matrix that reads it (Q/K/V, or gate/up), and to every thread of a parallel matvec.
 *
 * <p>The arrays grow on demand and are reused, so steady-state decode allocates nothing. An instance is not
 * thread-safe while {@link #quantize} runs; once quantised, any number of threads may read it.
 *
 * <p>Quantisation semantics (so the int8 values, and hence the integer block dots, match llama.cpp bit for bit):
 * <ul>
 *   <li>Q8_0 / Q8_1: ggml-cpu's x86 {@code quantize_row_q8_0}/{@code quantize_row_q8_1} (AVX2 build, as in the
 *       llama.cpp binary Buddy tests against): {@code d = amax/127}, stored as fp16; {@code q = round-half-even(x *
 *       (127/amax))}; Q8_1 adds {@code s = fp16(d * sum(q))}. (The portable {@code _ref} versions use
 *       {@code 1/d} and {@code roundf}; they differ only when a product lands within an ulp of a half-integer.)</li>
 *   <li>Q8_K: {@code quantize_row_q8_K_ref} (what x86 calls too): scale from the signed element of largest magnitude,
 *       {@code iscale = -127/max}, {@code q = min(127, nearest_int(iscale*x))}, float {@code d = 1/iscale}, and
 *       sums per 16 quants.</li>
 *   <li>F16 / BF16: each value rounded to the nearest 16-bit float (ties to even), as {@code from_float} does.</li>
 *   <li>F32: the caller's array is referenced, not copied; keep it unchanged while this input is in use.</li>
 * </ul>
 */
public final class QuantizedInput {
    private final ActivationFormat format;
    private int cols;
    private int tokens;

    /** F32/F16/BF16 values; for F32 the caller's own array. Token t starts at valuesOffset + t*cols. */
    float[] values = new float[0];
    int valuesOffset;
    /** Q8 quants widened to shorts (the SIMD kernels multiply in 16-bit lanes); token t starts at t*cols. */
    short[] qs = new short[0];
    /** Q8 block scales (Q8_0/Q8_1: the fp16 value as a float); token t starts at t*(cols/blockSize). */
    float[] d = new float[0];
    /** Q8_1 only: fp16 {@code d * sum(q)} per block. */
    float[] s = new float[0];
    /** Q8_K only: sums of 16 consecutive quants; token t starts at t*(cols/16). */
    int[] bsums = new int[0];
    /**
     * Q8_K only, for the K-quant kernels: the quants as floats, each 32-quant chunk transposed so that
     * {@code lanes[32c + 8k + j] = qs[32c + 4j + k]}; token t starts at t*cols. Float lane j of row k then holds one
     * element of the 4-byte group that ggml's AVX2 {@code maddubs}+{@code madd} sum into 32-bit lane j, and the
     * weight kernels can take byte k of every 32-bit weight lane with one shift (see {@link Q4_KMatrix}).
     */
    float[] lanes = new float[0];
    /**
     * Q8_K only, for the single-token K-quant kernels: each 32-quant run's even elements, then its odd ones,
     * {@code pairs[32c + i] = qs[32c + 2i]}, {@code pairs[32c + 16 + i] = qs[32c + 2i + 1]}; token t starts at
     * t*cols. A weight run read as 16-bit lanes holds elements 2i and 2i+1 in lane i, so two 16-bit multiplies give
     * pair sums whose neighbours add up to ggml's 4-byte groups (see {@link Q4_KMatrix}).
     */
    short[] pairs = new short[0];
    /**
     * Q8_K only, for the single-token Q6_K kernel: 32 times the sum of each 4-quant group,
     * {@code offsets32[8c + j] = 32 * (qs[32c + 4j] + .. + qs[32c + 4j + 3])}, token t starting at t*cols/4; what
     * the centring {@code q - 32} of Q6_K's quants takes off ggml's 32-bit lane j (see {@link Q6_KMatrix}).
     */
    int[] offsets32 = new int[0];
    /**
     * Q8_0/Q8_1, for the legacy 4/5-bit kernels ({@link LegacyQuantKernels}): the quants as floats, permuted within
     * each 32-block so that position {@code 8t + j} holds element {@code 4j + t} (sub-vector t, lane j), made by
     * {@link #preparePermuted()}; token t starts at t*cols.
     */
    float[] permuted = new float[0];
    private boolean permutedReady;
    /**
     * With {@link #permuted}, for the 4-token prompt tiles: the block scales of each group of four tokens
     * (tokens 4g..4g+3) side by side, {@code groupD[8(g*blocks + b) + i] = groupD[8(g*blocks + b) + 4 + i] = d} of
     * token 4g+i at block b (twice, so one 256-bit load carries all four), and for Q8_1 the block sums likewise in
     * {@code groupS[4(g*blocks + b) + i]}. A tile then forms its four products {@code d_w * d_x} with one vector
     * multiply instead of four scalar ones and broadcasts.
     */
    float[] groupD = new float[0];
    float[] groupS = new float[0];
    /**
     * Q8_0/Q8_1, for the 8-row Q4_0 kernel ({@link Q4_0RowGroups}): the sum of each 32-quant block's quants, made by
     * {@link #prepareBlockSums()}; token t starts at t*(cols/32). The kernel multiplies the unbiased nibbles and
     * takes {@code 8 * sum} off afterwards, once per block for eight rows instead of once per row. Q8_K, for the
     * Q4_K/Q5_K min terms ({@link Q4_KMatrix}): the same sums of each 32-quant run, ggml's {@code hadd} of
     * {@link #bsums}, so that one vector of eight of them meets the eight mins of a super-block.
     */
    int[] blockSums = new int[0];
    private boolean blockSumsReady;
    /**
     * Q8_0, for the 512-bit Q4_0 row groups ({@link Q4_0RowGroups#dot16}): per 32-quant block the
     * {@value Q4_0RowGroups#PAIRS} 32-bit input pairs its chunks meet ({@link Q4_0RowGroups#pairs}), token t at
     * {@code t * cols / 2}; made by {@link #prepareQ4Pairs()}.
     */
    int[] q4Pairs = new int[0];
    private boolean q4PairsReady;
    /**
     * Q8_0 or Q8_1, for the 512-bit Q8_0 and Q4_1 row groups ({@link Q8_0RowGroups#dot16},
     * {@link Q4_1RowGroups#dot16}): quants 2i and 2i+1 as one 32-bit pair
     * (low and high half), token t at {@code t * cols / 2}; made by {@link #prepareQ8Pairs()}.
     */
    int[] q8Pairs = new int[0];
    private boolean q8PairsReady;
    /**
     * Q8_K, for the 512-bit Q6_K row groups ({@link Q6_KRowGroups#dot16}): per super-block the quants paired as its
     * quad pairs meet them and the pairs' centring sums ({@link Q6_KRowGroups#pairs}, {@value Q6_KRowGroups#PAIRS}
     * ints, token t at {@code t * (cols / 256) * PAIRS}); made by {@link #prepareQ6KPairs()}.
     */
    int[] q6kPairs = new int[0];
    private boolean q6kPairsReady;
    /**
     * Q8_K, for the 512-bit Q4_K row groups ({@link Q4_KRowGroups}): each token's quants spread to the lanes of the
     * group chunks ({@link Q4_KRowGroups#spread}, {@value Q4_KRowGroups#SPREAD} longs per super-block, token t at
     * {@code t * (cols / 256) * SPREAD}), and its 32-quant sums as the min lanes meet them
     * ({@link Q4_KRowGroups#minSums}, {@value Q4_KRowGroups#MIN_SUMS} floats per super-block); made by
     * {@link #prepareQ4KGroups()}.
     */
    long[] q4kSpread = new long[0];
    float[] q4kMinSums = new float[0];
    private boolean q4kGroupsReady;

    /** Elements per parallel chunk of a conversion: below this, handing work to other threads costs more. */
    private static final int ELEMENTS_PER_CHUNK = 1 << 14;

    /**
     * The float rows of the last {@link #quantize} call (the caller's array, not a copy), for terms a matrix adds to
     * its base product in full precision ({@link ProductAddend}); the caller keeps them unchanged while this input
     * is in use, as the F32 format already requires.
     */
    private float[] origin;
    private int originOffset;

    /** Source of the conversion in progress, read by the block task on every thread of the pool. */
    private float[] source;
    private int sourceOffset;
    /** Created once, so a parallel conversion allocates nothing. */
    private final Parallel.RangeTask blockTask = this::convertBlocks;

    public QuantizedInput(ActivationFormat format) {
        this.format = format;
    }

    public ActivationFormat format() {
        return format;
    }

    /** The float rows the last {@link #quantize} converted (token t at {@link #originOffset()} + t·cols). */
    float[] origin() {
        return origin;
    }

    int originOffset() {
        return originOffset;
    }

    /** Elements per token of the last {@link #quantize} call. */
    public int cols() {
        return cols;
    }

    /** Tokens of the last {@link #quantize} call. */
    public int tokens() {
        return tokens;
    }

    /**
     * Converts {@code tokens} rows of {@code cols} floats, stored contiguously from {@code x[xOffset]}.
     *
     * @throws IllegalArgumentException when {@code cols} is not a multiple of the format's block size
     */
    public void quantize(float[] x, int xOffset, int tokens, int cols) {
        quantize(x, xOffset, tokens, cols, null);
    }

    /**
     * {@link #quantize(float[], int, int, int)}, with the blocks split across {@code pool}'s threads when there are
     * enough of them (a prefill chunk); {@code pool} may be null.
     */
    public void quantize(float[] x, int xOffset, int tokens, int cols, Parallel pool) {
        if (tokens < 1 || cols < 1) {
            throw new IllegalArgumentException("need at least one token and one column, got " + tokens + "x" + cols);
        }
        int blockSize = format.blockSize();
        if (cols % blockSize != 0) {
            throw new IllegalArgumentException(
                    format + " activations need a multiple of " + blockSize + " columns, got " + cols);
        }
        long total = (long) tokens * cols;
        if (xOffset < 0 || xOffset + total > x.length) {
            throw new IndexOutOfBoundsException("input of " + tokens + "x" + cols + " at offset " + xOffset
                    + " does not fit an array of " + x.length);
        }
        this.cols = cols;
        this.tokens = tokens;
        this.permutedReady = false;
        this.blockSumsReady = false;
        this.q4PairsReady = false;
        this.q8PairsReady = false;
        this.q6kPairsReady = false;
        this.q4kGroupsReady = false;
        this.origin = x;
        this.originOffset = xOffset;
        int n = Math.toIntExact(total);
        int blocks = n / blockSize;
        switch (format) {
            case F32 -> {
                values = x;
                valuesOffset = xOffset;
                return;
            }
            case F16, BF16 -> {
                if (values.length < n) {
                    values = new float[n];
                }
                valuesOffset = 0;
            }
            case Q8_0, Q8_1, Q8_K -> {
                if (qs.length < n) {
                    qs = new short[n];
                }
                if (d.length < blocks) {
                    d = new float[blocks];
                }
                if (format == ActivationFormat.Q8_1 && s.length < blocks) {
                    s = new float[blocks];
                }
                if (format == ActivationFormat.Q8_K && bsums.length < n / 16) {
                    bsums = new int[n / 16];
                }
                if (format == ActivationFormat.Q8_K && lanes.length < n) {
                    lanes = new float[n];
                    pairs = new short[n];
                    offsets32 = new int[n / 4];
                }
            }
        }
        source = x;
        sourceOffset = xOffset;
        try {
            if (pool == null) {
                convertBlocks(0, blocks);
            } else {
                pool.forRange(blocks, Math.max(1, ELEMENTS_PER_CHUNK / blockSize), blockTask);
            }
        } finally {
            source = null;
        }
    }

    /**
     * Fills {@link #permuted} from the quants of the last {@link #quantize} call, once per call however many matrices
     * read it. Call from the thread that quantised, before handing the input to other threads.
     */
    void preparePermuted() {
        if (permutedReady) {
            return;
        }
        if (format != ActivationFormat.Q8_0 && format != ActivationFormat.Q8_1) {
            throw new IllegalStateException(format + " input has no 32-quant blocks to permute");
        }
        int n = tokens * cols;
        if (permuted.length < n) {
            permuted = new float[n];
        }
        short[] q = qs;
        float[] p = permuted;
        for (int base = 0; base < n; base += 32) {
            for (int t = 0; t < 4; t++) {
                for (int j = 0; j < 8; j++) {
                    p[base + 8 * t + j] = q[base + 4 * j + t];
                }
            }
        }
        int blocks = cols / 32;
        int groups = tokens / 4;
        if (groupD.length < groups * blocks * 8) {
            groupD = new float[groups * blocks * 8];
            groupS = new float[groups * blocks * 4];
        }
        boolean sums = format == ActivationFormat.Q8_1;
        for (int g = 0; g < groups; g++) {
            for (int b = 0; b < blocks; b++) {
                int at = g * blocks + b;
                for (int i = 0; i < 4; i++) {
                    int src = (4 * g + i) * blocks + b;
                    groupD[8 * at + i] = d[src];
                    groupD[8 * at + 4 + i] = d[src];
                    if (sums) {
                        groupS[4 * at + i] = s[src];
                    }
                }
            }
        }
        permutedReady = true;
    }

    /**
     * Fills {@link #blockSums} from the quants of the last {@link #quantize} call, once per call however many
     * matrices read it. Call from the thread that quantised, before handing the input to other threads.
     */
    void prepareBlockSums() {
        if (blockSumsReady) {
            return;
        }
        if (format != ActivationFormat.Q8_0 && format != ActivationFormat.Q8_1 && format != ActivationFormat.Q8_K) {
            throw new IllegalStateException(format + " input has no 32-quant blocks to sum");
        }
        int blocks = tokens * cols / 32;
        if (blockSums.length < blocks) {
            blockSums = new int[blocks];
        }
        short[] q = qs;
        for (int b = 0; b < blocks; b++) {
            int sum = 0;
            for (int j = b * 32; j < b * 32 + 32; j++) {
                sum += q[j];
            }
            blockSums[b] = sum;
        }
        blockSumsReady = true;
    }

    /**
     * Fills {@link #q4Pairs} from the quants of the last {@link #quantize} call, once per call however many matrices
     * read them. Call from the thread that quantised, before handing the input to other threads.
     */
    void prepareQ4Pairs() {
        if (q4PairsReady) {
            return;
        }
        if (format != ActivationFormat.Q8_0) {
            throw new IllegalStateException(format + " input is not the Q8_0 the Q4_0 row groups read");
        }
        int blocks = tokens * cols / 32;
        if (q4Pairs.length < blocks * Q4_0RowGroups.PAIRS) {
            q4Pairs = new int[blocks * Q4_0RowGroups.PAIRS];
        }
        Q4_0RowGroups.pairs(qs, 0, blocks, q4Pairs, 0);
        q4PairsReady = true;
    }

    /**
     * Fills {@link #q8Pairs} from the quants of the last {@link #quantize} call, once per call however many matrices
     * read them. Call from the thread that quantised, before handing the input to other threads.
     */
    void prepareQ8Pairs() {
        if (q8PairsReady) {
            return;
        }
        if (format != ActivationFormat.Q8_0 && format != ActivationFormat.Q8_1) {
            throw new IllegalStateException(format + " input is not the Q8_0 or Q8_1 the Q8_0 and Q4_1 groups read");
        }
        int blocks = tokens * cols / 32;
        if (q8Pairs.length < blocks * Q8_0RowGroups.PAIRS) {
            q8Pairs = new int[blocks * Q8_0RowGroups.PAIRS];
        }
        Q8_0RowGroups.pairs(qs, 0, blocks, q8Pairs, 0);
        q8PairsReady = true;
    }

    /**
     * Fills {@link #q6kPairs} from the quants of the last {@link #quantize} call, once per call however many matrices
     * read them. Call from the thread that quantised, before handing the input to other threads.
     */
    void prepareQ6KPairs() {
        if (q6kPairsReady) {
            return;
        }
        if (format != ActivationFormat.Q8_K) {
            throw new IllegalStateException(format + " input is not the Q8_K the Q6_K row groups read");
        }
        int blocks = tokens * cols / 256;
        if (q6kPairs.length < blocks * Q6_KRowGroups.PAIRS) {
            q6kPairs = new int[blocks * Q6_KRowGroups.PAIRS];
        }
        Q6_KRowGroups.pairs(qs, 0, blocks, q6kPairs, 0);
        q6kPairsReady = true;
    }

    /**
     * Fills {@link #q4kSpread} and {@link #q4kMinSums} from the quants of the last {@link #quantize} call, once per
     * call however many matrices read them. Call from the thread that quantised, before handing the input to other
     * threads.
     */
    void prepareQ4KGroups() {
        if (q4kGroupsReady) {
            return;
        }
        if (format != ActivationFormat.Q8_K) {
            throw new IllegalStateException(format + " input is not the Q8_K the Q4_K row groups read");
        }
        prepareBlockSums();
        int blocks = tokens * cols / 256;
        if (q4kSpread.length < blocks * Q4_KRowGroups.SPREAD) {
            q4kSpread = new long[blocks * Q4_KRowGroups.SPREAD];
            q4kMinSums = new float[blocks * Q4_KRowGroups.MIN_SUMS];
        }
        Q4_KRowGroups.spread(qs, 0, blocks, q4kSpread, 0);
        Q4_KRowGroups.minSums(blockSums, 0, blocks, q4kMinSums, 0);
        q4kGroupsReady = true;
    }

    /** Converts blocks {@code [from, to)} of the current source (one element per block for F16/BF16). */
    private void convertBlocks(int from, int to) {
        float[] x = source;
        int xOffset = sourceOffset;
        switch (format) {
            case F16 -> {
                for (int i = from; i < to; i++) {
                    values[i] = Halfs.roundToF16(x[xOffset + i]);
                }
            }
            case BF16 -> {
                for (int i = from; i < to; i++) {
                    values[i] = Halfs.roundToBf16(x[xOffset + i]);
                }
            }
            case Q8_0, Q8_1 -> quantizeQ8(x, xOffset, from, to, format == ActivationFormat.Q8_1);
            case Q8_K -> quantizeQ8K(x, xOffset, from, to);
            case F32 -> throw new IllegalStateException("F32 input is referenced, not converted");
        }
    }

    private void quantizeQ8(float[] x, int xOffset, int from, int to, boolean withSums) {
        short[] q = qs;
        for (int b = from; b < to; b++) {
            int base = xOffset + b * 32;
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[base + j]));
            }
            float scale = amax / 127f;
            float inverse = amax != 0f ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int v = clampToByte((int) Math.rint(x[base + j] * inverse));
                q[b * 32 + j] = (short) v;
                sum += v;
            }
            d[b] = Halfs.roundToF16(scale);
            if (withSums) {
                s[b] = Halfs.roundToF16(scale * sum);
            }
        }
    }

    private void quantizeQ8K(float[] x, int xOffset, int from, int to) {
        short[] q = qs;
        for (int b = from; b < to; b++) {
            int base = xOffset + b * 256;
            float max = 0f;
            float amax = 0f;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[base + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[base + j];
                }
            }
            if (amax == 0f) {
                d[b] = 0f;
                java.util.Arrays.fill(q, b * 256, b * 256 + 256, (short) 0);
                java.util.Arrays.fill(bsums, b * 16, b * 16 + 16, 0);
                java.util.Arrays.fill(lanes, b * 256, b * 256 + 256, 0f);
                java.util.Arrays.fill(pairs, b * 256, b * 256 + 256, (short) 0);
                java.util.Arrays.fill(offsets32, b * 64, b * 64 + 64, 0);
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) {
                // nearest_int in ggml rounds half to even via the 1.5*2^23 trick, which is Math.rint here
                q[b * 256 + j] = (short) Math.min(127, (int) Math.rint(iscale * x[base + j]));
            }
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) {
                    sum += q[b * 256 + g * 16 + j];
                }
                bsums[b * 16 + g] = sum;
            }
            d[b] = 1f / iscale;
            transposeLanes(b);
        }
    }

    /** Fills {@link #lanes}, {@link #pairs} and {@link #offsets32} for Q8_K block {@code b} from its quants. */
    private void transposeLanes(int b) {
        short[] q = qs;
        float[] l = lanes;
        for (int c = b * 256; c < b * 256 + 256; c += 32) {
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < 8; j++) {
                    l[c + 8 * k + j] = q[c + 4 * j + k];
                }
            }
            for (int i = 0; i < 16; i++) {
                pairs[c + i] = q[c + 2 * i];
                pairs[c + 16 + i] = q[c + 2 * i + 1];
            }
            for (int j = 0; j < 8; j++) {
                offsets32[c / 4 + j] = 32 * (q[c + 4 * j] + q[c + 4 * j + 1] + q[c + 4 * j + 2] + q[c + 4 * j + 3]);
            }
        }
    }

    private static int clampToByte(int v) {
        return Math.max(-128, Math.min(127, v));
    }
}

// Element-wise and attention kernels. Activations are row-major float arrays of n tokens.

// RMSNorm of row group_id: out = x * w / sqrt(mean(x^2) + eps). One work-group per row; in place is allowed.
__kernel void rms_norm(__global const float* x, __global const float* w, __global float* out, int dim, float eps,
        __local float* red) {
    const size_t base = (size_t) get_group_id(0) * dim;
    float ss = 0.0f;
    for (int i = get_local_id(0); i < dim; i += get_local_size(0)) {
        const float v = x[base + i];
        ss += v * v;
    }
    ss = wg_sum(ss, red);
    const float scale = 1.0f / sqrt(ss / (float) dim + eps);
    for (int i = get_local_id(0); i < dim; i += get_local_size(0)) {
        out[base + i] = x[base + i] * scale * w[i];
    }
}

// RoPE on queries and keys, and the KV-cache write, for n tokens at positions startPos.. (global size:
// (qHeads + nKvHeads) * headDim / 2, n). qHeads is nHeads, or 0 to only store keys and values (a skipped block
// under COMPUTE_KV). Work-item (h, i) owns two elements of head h: pair i of the rotated part
// (NORMAL: 2i, 2i+1; NEOX: i, i + ropeDims/2), or for i >= ropeDims/2 two elements of the unrotated tail. Key work-items
// also copy the same two value elements into the cache. rope holds (cos, sin) per position and pair, computed on the
// host exactly as the CPU backend does. Cache layout: [layer][position][kvHead][headDim], cacheOff = the layer's start
// (in elements). With kvHalf the caches hold halves, rounded to nearest even as the CPU's F16 cache stores them.
__kernel void rope_kv(__global float* q, __global const float* k, __global const float* v, __global float* kCache,
        __global float* vCache, __global const float2* rope, int startPos, int nHeads, int qHeads, int nKvHeads,
        int headDim, int ropeDims, int neox, long cacheOff, int kvHalf) {
    const int gid = get_global_id(0);
    const int t = get_global_id(1);
    const int halfDim = headDim / 2;
    const int h = gid / halfDim;
    const int i = gid - h * halfDim;
    const int pairs = ropeDims / 2;
    const int pos = startPos + t;
    int a;
    int b;
    if (i < pairs) {
        a = neox ? i : 2 * i;
        b = neox ? i + pairs : 2 * i + 1;
    } else {
        a = ropeDims + 2 * (i - pairs);
        b = a + 1;
    }
    const int kvDim = nKvHeads * headDim;
    if (h < qHeads) {
        __global float* head = q + (size_t) t * nHeads * headDim + h * headDim;
        if (i < pairs) {
            const float2 cs = rope[(size_t) pos * pairs + i];
            const float x0 = head[a];
            const float x1 = head[b];
            head[a] = x0 * cs.x - x1 * cs.y;
            head[b] = x0 * cs.y + x1 * cs.x;
        }
    } else if (h < qHeads + nKvHeads) {
        const int kh = h - qHeads;
        const size_t src = (size_t) t * kvDim + kh * headDim;
        const size_t dst = (size_t) cacheOff + (size_t) pos * kvDim + kh * headDim;
        float x0 = k[src + a];
        float x1 = k[src + b];
        if (i < pairs) {
            const float2 cs = rope[(size_t) pos * pairs + i];
            const float r0 = x0 * cs.x - x1 * cs.y;
            x1 = x0 * cs.y + x1 * cs.x;
            x0 = r0;
        }
        if (kvHalf) {
            vstore_half_rte(x0, dst + a, (__global half*) kCache);
            vstore_half_rte(x1, dst + b, (__global half*) kCache);
            vstore_half_rte(v[src + a], dst + a, (__global half*) vCache);
            vstore_half_rte(v[src + b], dst + b, (__global half*) vCache);
        } else {
            kCache[dst + a] = x0;
            kCache[dst + b] = x1;
            vCache[dst + a] = v[src + a];
            vCache[dst + b] = v[src + b];
        }
    }
}

// Causal attention for n query tokens at positions startPos..: work-group (head, token) attends to cache positions
// [0, startPos + t] of its KV head (grouped-query: nHeads / nKvHeads query heads share one). With useMask, positions
// whose valid[] entry is 0 are left out of the softmax (the router's MASK policy for skipped blocks). Online softmax
// over chunks of get_local_size(0) positions keeps no per-position scratch in global memory; work-item j owns output
// dimensions j, j + WG, ... (at most MAX_DPT of them).
__kernel void attention(__global const float* q, __global const float* kCache, __global const float* vCache,
        __global float* out, int startPos, int nHeads, int nKvHeads, int headDim, float scale, long cacheOff,
        __global const int* valid, int useMask, __local float* red, __local float* p) {
    const int h = get_group_id(0);
    const int t = get_group_id(1);
    const int lid = get_local_id(0);
    const int wg = get_local_size(0);
    const int kvDim = nKvHeads * headDim;
    const int kh = h / (nHeads / nKvHeads);
    const int nPos = startPos + t + 1;
    __global const float* qh = q + (size_t) t * nHeads * headDim + h * headDim;
    __global const float* kBase = kCache + cacheOff + kh * headDim;
    __global const float* vBase = vCache + cacheOff + kh * headDim;
    float acc[MAX_DPT];
    for (int j = 0; j < MAX_DPT; j++) {
        acc[j] = 0.0f;
    }
    float m = -INFINITY;
    float l = 0.0f;
    for (int c0 = 0; c0 < nPos; c0 += wg) {
        const int pos = c0 + lid;
        float s = -INFINITY;
        if (pos < nPos && (!useMask || valid[pos] != 0)) {
            __global const float* kr = kBase + (size_t) pos * kvDim;
            float d = 0.0f;
            for (int e = 0; e < headDim; e++) {
                d += qh[e] * kr[e];
            }
            s = d * scale;
        }
        const float mNew = fmax(m, wg_max(s, red));
        // Masked positions have s = -INFINITY; a chunk with every position masked keeps mNew = -INFINITY and must
        // add nothing (exp(-inf - -inf) would be NaN).
        const float e = s == -INFINITY ? 0.0f : exp(s - mNew);
        p[lid] = e;
        const float correction = mNew == -INFINITY ? 1.0f : exp(m - mNew);
        l = l * correction + wg_sum(e, red); // wg_sum's barriers also publish p[]
        const int len = min(wg, nPos - c0);
        for (int j = 0; j < MAX_DPT; j++) {
            const int d = lid + j * wg;
            if (d < headDim) {
                float sum = 0.0f;
                for (int c = 0; c < len; c++) {
                    sum += p[c] * vBase[(size_t) (c0 + c) * kvDim + d];
                }
                acc[j] = acc[j] * correction + sum;
            }
        }
        m = mNew;
        barrier(CLK_LOCAL_MEM_FENCE); // p[] is rewritten by the next chunk
    }
    __global float* o = out + (size_t) t * nHeads * headDim + h * headDim;
    for (int j = 0; j < MAX_DPT; j++) {
        const int d = lid + j * wg;
        if (d < headDim) {
            o[d] = acc[j] / l;
        }
    }
}

// attention over a half cache, computed as the CPU backend's F16 cache does (after llama.cpp's CPU path): the query
// rounded to half, scores = q.k * scale, softmax = exp(s - max) / sum, each weight rounded to half before it scales
// the value rows. Two passes over the positions: the max and the sum (online, rescaled per chunk), then the weights
// and the weighted values. Same work-group layout and masking as attention.
__kernel void attention_f16(__global const float* q, __global const half* kCache, __global const half* vCache,
        __global float* out, int startPos, int nHeads, int nKvHeads, int headDim, float scale, long cacheOff,
        __global const int* valid, int useMask, __local float* red, __local float* p) {
    const int h = get_group_id(0);
    const int t = get_group_id(1);
    const int lid = get_local_id(0);
    const int wg = get_local_size(0);
    const int kvDim = nKvHeads * headDim;
    const int kh = h / (nHeads / nKvHeads);
    const int nPos = startPos + t + 1;
    __global const float* qh = q + (size_t) t * nHeads * headDim + h * headDim;
    __global const half* kBase = kCache + cacheOff + kh * headDim;
    __global const half* vBase = vCache + cacheOff + kh * headDim;
    float m = -INFINITY;
    float l = 0.0f;
    for (int c0 = 0; c0 < nPos; c0 += wg) {
        const int pos = c0 + lid;
        float s = -INFINITY;
        if (pos < nPos && (!useMask || valid[pos] != 0)) {
            __global const half* kr = kBase + (size_t) pos * kvDim;
            float d = 0.0f;
            for (int e = 0; e < headDim; e++) {
                d += round_to_half(qh[e]) * vload_half(e, kr);
            }
            s = d * scale;
        }
        const float mNew = fmax(m, wg_max(s, red));
        const float e = s == -INFINITY ? 0.0f : exp(s - mNew);
        const float correction = mNew == -INFINITY ? 1.0f : exp(m - mNew);
        l = l * correction + wg_sum(e, red);
        m = mNew;
    }
    const float inverse = 1.0f / l;
    float acc[MAX_DPT];
    for (int j = 0; j < MAX_DPT; j++) {
        acc[j] = 0.0f;
    }
    for (int c0 = 0; c0 < nPos; c0 += wg) {
        const int pos = c0 + lid;
        float w = 0.0f;
        if (pos < nPos && (!useMask || valid[pos] != 0)) {
            __global const half* kr = kBase + (size_t) pos * kvDim;
            float d = 0.0f;
            for (int e = 0; e < headDim; e++) {
                d += round_to_half(qh[e]) * vload_half(e, kr);
            }
            w = round_to_half(exp(d * scale - m) * inverse);
        }
        p[lid] = w;
        barrier(CLK_LOCAL_MEM_FENCE);
        const int len = min(wg, nPos - c0);
        for (int j = 0; j < MAX_DPT; j++) {
            const int dd = lid + j * wg;
            if (dd < headDim) {
                float sum = 0.0f;
                for (int c = 0; c < len; c++) {
                    sum += p[c] * vload_half((size_t) (c0 + c) * kvDim + dd, vBase);
                }
                acc[j] += sum;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE); // p[] is rewritten by the next chunk
    }
    __global float* o = out + (size_t) t * nHeads * headDim + h * headDim;
    for (int j = 0; j < MAX_DPT; j++) {
        const int dd = lid + j * wg;
        if (dd < headDim) {
            o[dd] = acc[j];
        }
    }
}

// gate = silu(gate) * up, the SwiGLU feed-forward activation, in place over n elements.
__kernel void swiglu(__global float* gate, __global const float* up, int n) {
    const int i = get_global_id(0);
    if (i < n) {
        const float g = gate[i];
        gate[i] = g / (1.0f + exp(-g)) * up[i];
    }
}

// x[i] += y[i % yLen] for i < n: a residual add (yLen == n) or a bias broadcast over tokens (yLen == row length).
__kernel void add(__global float* x, __global const float* y, int yLen, int n) {
    const int i = get_global_id(0);
    if (i < n) {
        x[i] += y[i % yLen];
    }
}

// Index of the largest of n values (the first one on ties, as the CPU sampler's greedy pick), in one work-group.
__kernel void argmax(__global const float* x, int n, __global int* result, __local float* red, __local int* idx) {
    const int lid = get_local_id(0);
    float best = -INFINITY;
    int bestIdx = 0x7fffffff;
    for (int i = lid; i < n; i += get_local_size(0)) {
        const float v = x[i];
        if (v > best) {
            best = v;
            bestIdx = i;
        }
    }
    red[lid] = best;
    idx[lid] = bestIdx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) >> 1; s > 0; s >>= 1) {
        if (lid < s) {
            const float o = red[lid + s];
            const int oi = idx[lid + s];
            if (o > red[lid] || (o == red[lid] && oi < idx[lid])) {
                red[lid] = o;
                idx[lid] = oi;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        result[0] = idx[0] == 0x7fffffff ? 0 : idx[0];
    }
}

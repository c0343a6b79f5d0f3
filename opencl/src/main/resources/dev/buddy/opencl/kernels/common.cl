// Shared helpers. Work-group sizes are powers of two chosen by the host; reductions go through a __local array of
// get_local_size(0) floats passed as the last kernel argument.

// Sum of v over the work-item's slice of `lanes` consecutive work-items (a power of two dividing the group size);
// every work-item gets its slice's sum. Every work-item of the group must call it (it has barriers).
inline float slice_sum(float v, __local float* red, int lanes) {
    const int lid = get_local_id(0);
    const int lane = lid & (lanes - 1);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = lanes >> 1; s > 0; s >>= 1) {
        if (lane < s) {
            red[lid] += red[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = red[lid - lane];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// Sum of v over the work-group; every work-item gets the result. The trailing barrier lets the caller reuse red[].
inline float wg_sum(float v, __local float* red) {
    return slice_sum(v, red, get_local_size(0));
}

inline float wg_max(float v, __local float* red) {
    const int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) >> 1; s > 0; s >>= 1) {
        if (lid < s) {
            red[lid] = fmax(red[lid], red[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// GGUF stores half scales at even byte offsets inside blocks; vload_half needs only 2-byte alignment.
inline float half_at(__global const uchar* p) {
    return vload_half(0, (__global const half*) p);
}

inline float sum16(float16 v) {
    float4 a = v.lo.lo + v.lo.hi + v.hi.lo + v.hi.hi;
    return (a.x + a.y) + (a.z + a.w);
}

// Q4_K/Q5_K 6-bit scale and min of sub-block j from the 12 packed bytes (ggml's get_scale_min_k4).
inline void scale_min_k4(int j, __global const uchar* q, float* sc, float* m) {
    if (j < 4) {
        *sc = (float) (q[j] & 63);
        *m = (float) (q[j + 4] & 63);
    } else {
        *sc = (float) ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (float) ((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

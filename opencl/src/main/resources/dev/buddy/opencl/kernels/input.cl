// Activations converted the way llama.cpp's CPU backend converts them before its dot products (ggml's vec_dot_type),
// so that device logits track the CPU backend's: Q8_0 for Q8_0/Q4_0 weights, Q8_1 for Q4_1, Q8_K for K-quants, values
// rounded to half for F16. The x86 quantisers are mirrored (d = amax/127 rounded to half, q = rint(x * 127/amax));
// the build uses -cl-fp32-correctly-rounded-divide-sqrt so the divisions round like the CPU's.

inline float round_to_half(float f) {
    ushort h;
    vstore_half_rte(f, 0, (__private half*) &h);
    return vload_half(0, (__private const half*) &h);
}

// One work-item per 32-element block of n tokens x cols (blocks = n * cols / 32). Q8_1 also stores
// s = half(d * sum(q)) per block.
__kernel void quantize_q8(__global const float* x, int xOff, __global char* q, __global float* d, __global float* s,
        int blocks, int withSums) {
    const int b = get_global_id(0);
    if (b >= blocks) {
        return;
    }
    __global const float* xb = x + xOff + (size_t) b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        amax = fmax(amax, fabs(xb[j]));
    }
    const float scale = amax / 127.0f;
    const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; j++) {
        const int v = clamp((int) rint(xb[j] * inverse), -128, 127);
        q[(size_t) b * 32 + j] = (char) v;
        sum += v;
    }
    d[b] = round_to_half(scale);
    if (withSums) {
        s[b] = round_to_half(scale * (float) sum);
    }
}

// One work-item per 256-element block: ggml's quantize_row_q8_K_ref (scale from the signed element of largest
// magnitude, q = min(127, nearest_int(-127/max * x)), float d = 1/iscale, and sums of each 16 quants).
__kernel void quantize_q8_k(__global const float* x, int xOff, __global char* q, __global float* d,
        __global int* bsums, int blocks) {
    const int b = get_global_id(0);
    if (b >= blocks) {
        return;
    }
    __global const float* xb = x + xOff + (size_t) b * 256;
    __global char* qb = q + (size_t) b * 256;
    float max = 0.0f;
    float amax = 0.0f;
    for (int j = 0; j < 256; j++) {
        const float ax = fabs(xb[j]);
        if (ax > amax) {
            amax = ax;
            max = xb[j];
        }
    }
    if (amax == 0.0f) {
        d[b] = 0.0f;
        for (int j = 0; j < 256; j++) {
            qb[j] = 0;
        }
        for (int g = 0; g < 16; g++) {
            bsums[b * 16 + g] = 0;
        }
        return;
    }
    const float iscale = -127.0f / max;
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int j = g * 16; j < g * 16 + 16; j++) {
            const int v = min(127, (int) rint(iscale * xb[j]));
            qb[j] = (char) v;
            sum += v;
        }
        bsums[b * 16 + g] = sum;
    }
    d[b] = 1.0f / iscale;
}

// Each value rounded to the nearest half (ties to even), as ggml's F16 from_float.
__kernel void round_half(__global const float* x, int xOff, __global float* out, int n) {
    const int i = get_global_id(0);
    if (i < n) {
        out[i] = round_to_half(x[xOff + i]);
    }
}

// ---- dot products of one weight unit with quantised input (integer sums are exact; one float scale per unit) ----

// Q8_0 weights x Q8_0 input, unit = one block.
inline float QDOT_Q8_0(__global const uchar* row, __global const char* q, __global const float* d,
        __global const float* s, __global const int* bsums, int u) {
    __global const uchar* b = row + u * 34;
    const int16 w0 = convert_int16(vload16(0, (__global const char*) (b + 2)));
    const int16 w1 = convert_int16(vload16(1, (__global const char*) (b + 2)));
    const int16 p = w0 * convert_int16(vload16(0, q + u * 32)) + w1 * convert_int16(vload16(1, q + u * 32));
    const int8 p8 = p.lo + p.hi;
    const int4 p4 = p8.lo + p8.hi;
    const int isum = (p4.x + p4.y) + (p4.z + p4.w);
    return (half_at(b) * d[u]) * (float) isum;
}

// Q4_0 weights x Q8_0 input.
inline float QDOT_Q4_0(__global const uchar* row, __global const char* q, __global const float* d,
        __global const float* s, __global const int* bsums, int u) {
    __global const uchar* b = row + u * 18;
    const uchar16 raw = vload16(0, b + 2);
    const int16 lo = convert_int16(raw & (uchar) 0xF) - 8;
    const int16 hi = convert_int16(raw >> (uchar) 4) - 8;
    const int16 p = lo * convert_int16(vload16(0, q + u * 32)) + hi * convert_int16(vload16(1, q + u * 32));
    const int8 p8 = p.lo + p.hi;
    const int4 p4 = p8.lo + p8.hi;
    const int isum = (p4.x + p4.y) + (p4.z + p4.w);
    return (half_at(b) * d[u]) * (float) isum;
}

// Q4_1 weights x Q8_1 input: d_w d_x sum(nibble q) + m_w s_x.
inline float QDOT_Q4_1(__global const uchar* row, __global const char* q, __global const float* d,
        __global const float* s, __global const int* bsums, int u) {
    __global const uchar* b = row + u * 20;
    const uchar16 raw = vload16(0, b + 4);
    const int16 lo = convert_int16(raw & (uchar) 0xF);
    const int16 hi = convert_int16(raw >> (uchar) 4);
    const int16 p = lo * convert_int16(vload16(0, q + u * 32)) + hi * convert_int16(vload16(1, q + u * 32));
    const int8 p8 = p.lo + p.hi;
    const int4 p4 = p8.lo + p8.hi;
    const int isum = (p4.x + p4.y) + (p4.z + p4.w);
    return (half_at(b) * d[u]) * (float) isum + half_at(b + 2) * s[u];
}

// Q4_K weights x Q8_K input, unit = one 32-element sub-block: d_w d_x sc sum(nibble q) - dmin_w d_x m sum(q).
inline float QDOT_Q4_K(__global const uchar* row, __global const char* q, __global const float* d,
        __global const float* s, __global const int* bsums, int u) {
    const int blk = u >> 3;
    const int sb = u & 7;
    __global const uchar* b = row + blk * 144;
    float sc;
    float mn;
    scale_min_k4(sb, b + 4, &sc, &mn);
    __global const uchar* w = b + 16 + 32 * (sb >> 1);
    const uchar16 r0 = vload16(0, w);
    const uchar16 r1 = vload16(1, w);
    const int16 n0 = convert_int16((sb & 1) ? (r0 >> (uchar) 4) : (r0 & (uchar) 0xF));
    const int16 n1 = convert_int16((sb & 1) ? (r1 >> (uchar) 4) : (r1 & (uchar) 0xF));
    const int16 p = n0 * convert_int16(vload16(0, q + u * 32)) + n1 * convert_int16(vload16(1, q + u * 32));
    const int8 p8 = p.lo + p.hi;
    const int4 p4 = p8.lo + p8.hi;
    const int isum = (p4.x + p4.y) + (p4.z + p4.w);
    const int qsum = bsums[2 * u] + bsums[2 * u + 1];
    const float dx = d[blk];
    return (half_at(b) * dx) * (float) ((int) sc * isum) - (half_at(b + 2) * dx) * (float) ((int) mn * qsum);
}

// Q6_K weights x Q8_K input, unit = one 16-element group: d_w d_x sc sum((q6 - 32) q).
inline float QDOT_Q6_K(__global const uchar* row, __global const char* q, __global const float* d,
        __global const float* s, __global const int* bsums, int u) {
    const int blk = u >> 4;
    __global const uchar* b = row + blk * 210;
    const int sg = u & 15;
    const int n = sg >> 3;
    const int g = (sg & 7) >> 1;
    const int l0 = (sg & 1) * 16;
    const uchar16 ql = vload16(0, b + n * 64 + (g & 1) * 32 + l0);
    const uchar16 qh = vload16(0, b + 128 + n * 32 + l0);
    const uchar16 lo = (ql >> (uchar) ((g >> 1) * 4)) & (uchar) 0xF;
    const uchar16 hi = (qh >> (uchar) (2 * g)) & (uchar) 3;
    const int16 w = convert_int16(lo | (hi << (uchar) 4)) - 32;
    const int e0 = blk * 256 + n * 128 + g * 32 + l0;
    const int16 p = w * convert_int16(vload16(0, q + e0));
    const int8 p8 = p.lo + p.hi;
    const int4 p4 = p8.lo + p8.hi;
    const int isum = (p4.x + p4.y) + (p4.z + p4.w);
    const int sc = ((__global const char*) (b + 192))[n * 8 + (sg & 1) + 2 * g];
    return (half_at(b + 208) * d[blk]) * (float) (sc * isum);
}

#define UNITS_Q_Q8_0(cols) ((cols) / 32)
#define UNITS_Q_Q4_0(cols) ((cols) / 32)
#define UNITS_Q_Q4_1(cols) ((cols) / 32)
#define UNITS_Q_Q4_K(cols) ((cols) / 32)
#define UNITS_Q_Q6_K(cols) ((cols) / 16)
// Scales per token: one per 32 elements (Q8_0/Q8_1) or per 256 (Q8_K); bsums one per 16.
#define DBLK_Q8_0 32
#define DBLK_Q4_0 32
#define DBLK_Q4_1 32
#define DBLK_Q4_K 256
#define DBLK_Q6_K 256

// Matrix-vector product with quantised input, for n tokens (group id 1): out[outOff + t*outStride + row] (+)= ...
// A work-group takes DR rows (host: -DDR, a power of two): each row gets get_local_size(0)/DR work-items striding its
// units, then a tree reduction inside that slice of the group's local memory. DR = 1 gives the whole group to a row.
#define MATVEC_Q(FMT) \
__kernel void matvec_q_##FMT(__global const uchar* w, ulong rowBytes, __global const char* q, \
        __global const float* d, __global const float* s, __global const int* bsums, __global float* out, \
        int outOff, int outStride, int rows, int cols, int accumulate, __local float* red) { \
    const int lanes = get_local_size(0) / DR; \
    const int slot = get_local_id(0) / lanes; \
    const int lane = get_local_id(0) - slot * lanes; \
    const int row = get_group_id(0) * DR + slot; \
    const int t = get_group_id(1); \
    float acc = 0.0f; \
    if (row < rows) { \
        __global const uchar* rowp = w + (size_t) row * rowBytes; \
        __global const char* qt = q + (size_t) t * cols; \
        __global const float* dt = d + (size_t) t * (cols / DBLK_##FMT); \
        __global const float* st = s + (size_t) t * (cols / 32); \
        __global const int* bt = bsums + (size_t) t * (cols / 16); \
        const int units = UNITS_Q_##FMT(cols); \
        for (int u = lane; u < units; u += lanes) { \
            acc += QDOT_##FMT(rowp, qt, dt, st, bt, u); \
        } \
    } \
    const float sum = slice_sum(acc, red, lanes); \
    if (lane == 0 && row < rows) { \
        const size_t o = (size_t) outOff + (size_t) t * outStride + row; \
        out[o] = accumulate ? out[o] + sum : sum; \
    } \
}

// The same product for a prompt's tokens: each work-item computes RT rows x TT tokens, walking K one unit at a time,
// so one weight unit serves TT tokens and one input block RT rows (the cache serves the repeats), and no work-group
// reduction is needed. matvec_q instead gives every (row, token) pair a work-group and re-reads the row per token.
// Rows and tokens past the end are clamped to the last one and their sums dropped.
#define MATMUL_Q(FMT) \
__kernel void matmul_q_##FMT(__global const uchar* w, ulong rowBytes, __global const char* q, \
        __global const float* d, __global const float* s, __global const int* bsums, __global float* out, \
        int outOff, int outStride, int rows, int cols, int n, int accumulate) { \
    const int r0 = get_global_id(0) * RT; \
    const int t0 = get_global_id(1) * TT; \
    if (r0 >= rows || t0 >= n) { \
        return; \
    } \
    __global const uchar* rowp[RT]; \
    for (int i = 0; i < RT; i++) { \
        rowp[i] = w + (size_t) min(r0 + i, rows - 1) * rowBytes; \
    } \
    float acc[RT][TT]; \
    for (int i = 0; i < RT; i++) { \
        for (int j = 0; j < TT; j++) { \
            acc[i][j] = 0.0f; \
        } \
    } \
    const int units = UNITS_Q_##FMT(cols); \
    for (int u = 0; u < units; u++) { \
        for (int j = 0; j < TT; j++) { \
            const size_t t = (size_t) min(t0 + j, n - 1); \
            __global const char* qt = q + t * cols; \
            __global const float* dt = d + t * (cols / DBLK_##FMT); \
            __global const float* st = s + t * (cols / 32); \
            __global const int* bt = bsums + t * (cols / 16); \
            for (int i = 0; i < RT; i++) { \
                acc[i][j] += QDOT_##FMT(rowp[i], qt, dt, st, bt, u); \
            } \
        } \
    } \
    for (int j = 0; j < TT && t0 + j < n; j++) { \
        for (int i = 0; i < RT && r0 + i < rows; i++) { \
            const size_t o = (size_t) outOff + (size_t) (t0 + j) * outStride + r0 + i; \
            out[o] = accumulate ? out[o] + acc[i][j] : acc[i][j]; \
        } \
    } \
}

#define QUANTISED_INPUT(FMT) MATVEC_Q(FMT) MATMUL_Q(FMT)
QUANTISED_INPUT(Q8_0)
QUANTISED_INPUT(Q4_0)
QUANTISED_INPUT(Q4_1)
QUANTISED_INPUT(Q4_K)
QUANTISED_INPUT(Q6_K)

// Weight formats, read in GGUF's block layout exactly as stored in the file (the host uploads the tensor bytes
// unchanged). For each format: DQ_<fmt>(row, k) dequantises element k of a row, and UNITS_<fmt>/DOT_<fmt> split a row
// into units (16 or 32 elements, or one for plain floats) that one work-item dots with x.
//   Q8_0  34 B / 32: half d, int8 qs[32]                       w = d*q
//   Q4_0  18 B / 32: half d, uint8 qs[16]                      w = d*(nibble-8); low nibbles are 0..15, high 16..31
//   Q4_1  20 B / 32: half d, half m, uint8 qs[16]              w = d*nibble + m
//   Q4_K 144 B / 256: half d, half dmin, scales[12], qs[128]   w = d*sc*nibble - dmin*mn (8 sub-blocks of 32)
//   Q6_K 210 B / 256: ql[128], qh[64], int8 scales[16], half d w = d*sc*(q6-32) (16 groups of 16)

// ---- F32 ----
#define UNITS_F32(cols) (cols)
inline float DQ_F32(__global const uchar* row, int k) {
    return ((__global const float*) row)[k];
}
inline float DOT_F32(__global const uchar* row, __global const float* x, int u) {
    return ((__global const float*) row)[u] * x[u];
}

// ---- F16 ----
#define UNITS_F16(cols) (cols)
inline float DQ_F16(__global const uchar* row, int k) {
    return vload_half(k, (__global const half*) row);
}
inline float DOT_F16(__global const uchar* row, __global const float* x, int u) {
    return vload_half(u, (__global const half*) row) * x[u];
}

// ---- Q8_0 ---- (unit: half a block, 16 elements)
#define UNITS_Q8_0(cols) ((cols) / 16)
inline float DQ_Q8_0(__global const uchar* row, int k) {
    __global const uchar* b = row + (k >> 5) * 34;
    return half_at(b) * (float) ((__global const char*) (b + 2))[k & 31];
}
inline float DOT_Q8_0(__global const uchar* row, __global const float* x, int u) {
    __global const uchar* b = row + (u >> 1) * 34;
    const int h = (u & 1) * 16;
    const float16 q = convert_float16(vload16(0, (__global const char*) (b + 2 + h)));
    return half_at(b) * sum16(q * vload16(0, x + u * 16));
}

// ---- Q4_0 ---- (unit: the 16 low or the 16 high nibbles of a block)
#define UNITS_Q4_0(cols) ((cols) / 16)
inline float DQ_Q4_0(__global const uchar* row, int k) {
    __global const uchar* b = row + (k >> 5) * 18;
    const int j = k & 31;
    const int q = j < 16 ? (b[2 + j] & 0xF) : (b[2 + j - 16] >> 4);
    return half_at(b) * (float) (q - 8);
}
inline float DOT_Q4_0(__global const uchar* row, __global const float* x, int u) {
    __global const uchar* b = row + (u >> 1) * 18;
    const uchar16 raw = vload16(0, b + 2);
    const uchar16 nib = (u & 1) ? (raw >> (uchar) 4) : (raw & (uchar) 0xF);
    const float16 q = convert_float16(convert_int16(nib) - 8);
    return half_at(b) * sum16(q * vload16(0, x + u * 16));
}

// ---- Q4_1 ----
#define UNITS_Q4_1(cols) ((cols) / 16)
inline float DQ_Q4_1(__global const uchar* row, int k) {
    __global const uchar* b = row + (k >> 5) * 20;
    const int j = k & 31;
    const int q = j < 16 ? (b[4 + j] & 0xF) : (b[4 + j - 16] >> 4);
    return half_at(b) * (float) q + half_at(b + 2);
}
inline float DOT_Q4_1(__global const uchar* row, __global const float* x, int u) {
    __global const uchar* b = row + (u >> 1) * 20;
    const uchar16 raw = vload16(0, b + 4);
    const uchar16 nib = (u & 1) ? (raw >> (uchar) 4) : (raw & (uchar) 0xF);
    const float16 xv = vload16(0, x + u * 16);
    return half_at(b) * sum16(convert_float16(nib) * xv) + half_at(b + 2) * sum16(xv);
}

// ---- Q4_K ---- (unit: one 32-element sub-block)
#define UNITS_Q4_K(cols) ((cols) / 32)
inline float DQ_Q4_K(__global const uchar* row, int k) {
    __global const uchar* b = row + (k >> 8) * 144;
    const int e = k & 255;
    const int s = e >> 5;
    float sc, mn;
    scale_min_k4(s, b + 4, &sc, &mn);
    const uchar q = b[16 + 32 * (s >> 1) + (e & 31)];
    const int nib = (s & 1) ? (q >> 4) : (q & 0xF);
    return half_at(b) * sc * (float) nib - half_at(b + 2) * mn;
}
inline float DOT_Q4_K(__global const uchar* row, __global const float* x, int u) {
    __global const uchar* b = row + (u >> 3) * 144;
    const int s = u & 7;
    float sc, mn;
    scale_min_k4(s, b + 4, &sc, &mn);
    __global const uchar* q = b + 16 + 32 * (s >> 1);
    const uchar16 r0 = vload16(0, q);
    const uchar16 r1 = vload16(1, q);
    const uchar16 n0 = (s & 1) ? (r0 >> (uchar) 4) : (r0 & (uchar) 0xF);
    const uchar16 n1 = (s & 1) ? (r1 >> (uchar) 4) : (r1 & (uchar) 0xF);
    const float16 x0 = vload16(0, x + u * 32);
    const float16 x1 = vload16(0, x + u * 32 + 16);
    const float qx = sum16(convert_float16(n0) * x0) + sum16(convert_float16(n1) * x1);
    return half_at(b) * sc * qx - half_at(b + 2) * mn * (sum16(x0) + sum16(x1));
}

// ---- Q6_K ---- (unit: one 16-element group sharing a scale)
#define UNITS_Q6_K(cols) ((cols) / 16)
inline float DQ_Q6_K(__global const uchar* row, int k) {
    __global const uchar* b = row + (k >> 8) * 210;
    const int e = k & 255;
    const int n = e >> 7;
    const int g = (e & 127) >> 5;
    const int l = e & 31;
    const int lo = (b[n * 64 + l + (g & 1) * 32] >> ((g >> 1) * 4)) & 0xF;
    const int hi = (b[128 + n * 32 + l] >> (2 * g)) & 3;
    const float sc = (float) ((__global const char*) (b + 192))[n * 8 + (l >> 4) + 2 * g];
    return half_at(b + 208) * sc * (float) ((lo | (hi << 4)) - 32);
}
inline float DOT_Q6_K(__global const uchar* row, __global const float* x, int u) {
    __global const uchar* b = row + (u >> 4) * 210;
    const int s = u & 15;
    const int n = s >> 3;
    const int g = (s & 7) >> 1;
    const int l0 = (s & 1) * 16;
    const uchar16 ql = vload16(0, b + n * 64 + (g & 1) * 32 + l0);
    const uchar16 qh = vload16(0, b + 128 + n * 32 + l0);
    const uchar16 lo = (ql >> (uchar) ((g >> 1) * 4)) & (uchar) 0xF;
    const uchar16 hi = (qh >> (uchar) (2 * g)) & (uchar) 3;
    const float16 q = convert_float16(convert_int16(lo | (hi << (uchar) 4)) - 32);
    const float sc = (float) ((__global const char*) (b + 192))[n * 8 + (s & 1) + 2 * g];
    const int e0 = (u >> 4) * 256 + n * 128 + g * 32 + l0;
    return half_at(b + 208) * sc * sum16(q * vload16(0, x + e0));
}

// out[outOff + t*outStride + row] (+)= row · x[xOff + t*cols ..] for token t = group id 1: one work-group per row
// and token, units strided over the work-items, then a tree reduction in local memory. accumulate != 0 adds to out
// (the residual connection fused into the projection).
#define MATVEC(FMT) \
__kernel void matvec_##FMT(__global const uchar* w, ulong rowBytes, __global const float* x, int xOff, \
        __global float* out, int outOff, int outStride, int cols, int accumulate, __local float* red) { \
    const int row = get_group_id(0); \
    const int t = get_group_id(1); \
    __global const uchar* rowp = w + (size_t) row * rowBytes; \
    __global const float* xv = x + xOff + (size_t) t * cols; \
    float acc = 0.0f; \
    const int units = UNITS_##FMT(cols); \
    for (int u = get_local_id(0); u < units; u += get_local_size(0)) { \
        acc += DOT_##FMT(rowp, xv, u); \
    } \
    const float s = wg_sum(acc, red); \
    if (get_local_id(0) == 0) { \
        const size_t o = (size_t) outOff + (size_t) t * outStride + row; \
        out[o] = accumulate ? out[o] + s : s; \
    } \
}

// out[t*rows + r] (+)= row_r · x[t*cols ..] for n tokens: TS x TS tiles of (rows x tokens), K in steps of TK;
// each step dequantises a TS x TK weight tile and loads a TS x TK activation tile into local memory once.
#define MATMUL(FMT) \
__kernel void matmul_##FMT(__global const uchar* w, ulong rowBytes, __global const float* x, __global float* out, \
        int rows, int cols, int n, int accumulate) { \
    __local float wt[TS][TK + 1]; \
    __local float xt[TS][TK + 1]; \
    const int lr = get_local_id(0); \
    const int lt = get_local_id(1); \
    const int row0 = get_group_id(0) * TS; \
    const int tok0 = get_group_id(1) * TS; \
    const int lin = lt * TS + lr; \
    float acc = 0.0f; \
    for (int k0 = 0; k0 < cols; k0 += TK) { \
        for (int e = lin; e < TS * TK; e += TS * TS) { \
            const int i = e / TK; \
            const int kk = e - i * TK; \
            const int k = k0 + kk; \
            const int row = row0 + i; \
            const int tok = tok0 + i; \
            wt[i][kk] = (row < rows && k < cols) ? DQ_##FMT(w + (size_t) row * rowBytes, k) : 0.0f; \
            xt[i][kk] = (tok < n && k < cols) ? x[(size_t) tok * cols + k] : 0.0f; \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
        for (int kk = 0; kk < TK; kk++) { \
            acc += wt[lr][kk] * xt[lt][kk]; \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    const int r = row0 + lr; \
    const int t = tok0 + lt; \
    if (r < rows && t < n) { \
        const size_t o = (size_t) t * rows + r; \
        out[o] = accumulate ? out[o] + acc : acc; \
    } \
}

// Embedding lookup: out[t*cols + k] = row tokens[t], element k, dequantised. Global size (cols, n).
#define GET_ROWS(FMT) \
__kernel void get_rows_##FMT(__global const uchar* w, ulong rowBytes, __global const int* tokens, \
        __global float* out, int cols) { \
    const int k = get_global_id(0); \
    const int t = get_global_id(1); \
    if (k < cols) { \
        out[(size_t) t * cols + k] = DQ_##FMT(w + (size_t) tokens[t] * rowBytes, k); \
    } \
}

#define FORMAT(FMT) MATVEC(FMT) MATMUL(FMT) GET_ROWS(FMT)
FORMAT(F32)
FORMAT(F16)
FORMAT(Q8_0)
FORMAT(Q4_0)
FORMAT(Q4_1)
FORMAT(Q4_K)
FORMAT(Q6_K)

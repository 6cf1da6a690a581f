/* kernels/sgemm.cl - C = alpha*A*B + beta*C, row-major, packed (2-D range:
 * N columns x M rows, split by rows of C; work-groups of 16 x 16).
 * Arguments: M, N, K, alpha, beta, A (split, read: K floats per row), B
 * (whole, read: K x N), C (split, read-write: N floats per row).
 *
 * A plain tiled kernel, so that SGEMM also runs through weft_parallel_for on
 * any device. weft_k_sgemm() does not use it: it calls CLBlast on devices
 * (see kernels/sgemm.c). With beta == 0, C is not read (BLAS convention). */
#define WEFT_SGEMM_TS 16

__kernel __attribute__((reqd_work_group_size(WEFT_SGEMM_TS, WEFT_SGEMM_TS, 1)))
void weft_sgemm(uint M, uint N, uint K, float alpha, float beta, __global const float *A,
                __global const float *B, __global float *C)
{
    __local float As[WEFT_SGEMM_TS][WEFT_SGEMM_TS];
    __local float Bs[WEFT_SGEMM_TS][WEFT_SGEMM_TS];
    size_t col = get_global_id(0), row = get_global_id(1);
    size_t lc = get_local_id(0), lr = get_local_id(1);
    float acc = 0.0f;
    for (size_t t = 0; t < K; t += WEFT_SGEMM_TS) {
        As[lr][lc] = row < M && t + lc < K ? A[row * K + t + lc] : 0.0f;
        Bs[lr][lc] = t + lr < K && col < N ? B[(t + lr) * N + col] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (size_t k = 0; k < WEFT_SGEMM_TS; k++) acc += As[lr][k] * Bs[k][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < M && col < N) {
        size_t i = row * N + col;
        C[i] = beta == 0.0f ? alpha * acc : alpha * acc + beta * C[i];
    }
}

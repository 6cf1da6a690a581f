/* kernels/nbody.c — CPU twin of kernels/nbody.cl, its arguments and the
 * stepping helper.
 * argv: 0 n (u32), 1 dt, 2 eps2 (f32), 3 pos, 4 vel, 5 pos_out, 6 __local (NULL). */
#include <math.h>
#include <stdlib.h>

#include "kernels_internal.h"

#define NBODY_LANES 8

/* Positions are copied into separate x, y, z, m arrays (O(n) per piece, the
 * work is O(piece * n)); the inner loop keeps NBODY_LANES independent sums so
 * that it vectorises without reassociating (no -ffast-math needed). */
static void nbody_cpu(size_t begin, size_t end, void *const *argv)
{
    const size_t n = WEFT_K_U32(argv, 0);
    const float dt = WEFT_K_F32(argv, 1), eps2 = WEFT_K_F32(argv, 2);
    const float *restrict pos = argv[3];
    float *restrict vel = argv[4];
    float *restrict out = argv[5];
    float *soa = malloc(4 * n * sizeof(float));
    if (!soa) weft_panic("weft_nbody: no memory for %zu bodies", n);
    float *restrict px = soa, *restrict py = soa + n, *restrict pz = soa + 2 * n, *restrict pm = soa + 3 * n;
    for (size_t j = 0; j < n; j++) {
        px[j] = pos[4 * j];
        py[j] = pos[4 * j + 1];
        pz[j] = pos[4 * j + 2];
        pm[j] = pos[4 * j + 3];
    }
    const size_t nv = n / NBODY_LANES * NBODY_LANES;
    for (size_t i = begin; i < end; i++) {
        const float xi = pos[4 * i], yi = pos[4 * i + 1], zi = pos[4 * i + 2];
        float ax[NBODY_LANES] = {0}, ay[NBODY_LANES] = {0}, az[NBODY_LANES] = {0};
        for (size_t j = 0; j < nv; j += NBODY_LANES) {
            for (int l = 0; l < NBODY_LANES; l++) {
                float dx = px[j + l] - xi, dy = py[j + l] - yi, dz = pz[j + l] - zi;
                float r2 = dx * dx + dy * dy + dz * dz + eps2;
                float inv = 1.0f / sqrtf(r2);
                float s = pm[j + l] * (inv * inv * inv);
                ax[l] += s * dx;
                ay[l] += s * dy;
                az[l] += s * dz;
            }
        }
        float sx = 0.0f, sy = 0.0f, sz = 0.0f;
        for (int l = 0; l < NBODY_LANES; l++) {
            sx += ax[l];
            sy += ay[l];
            sz += az[l];
        }
        for (size_t j = nv; j < n; j++) {
            float dx = px[j] - xi, dy = py[j] - yi, dz = pz[j] - zi;
            float r2 = dx * dx + dy * dy + dz * dz + eps2;
            float inv = 1.0f / sqrtf(r2);
            float s = pm[j] * (inv * inv * inv);
            sx += s * dx;
            sy += s * dy;
            sz += s * dz;
        }
        float *v = vel + 4 * i, *o = out + 4 * i;
        v[0] += sx * dt;
        v[1] += sy * dt;
        v[2] += sz * dt;
        o[0] = xi + v[0] * dt;
        o[1] = yi + v[1] * dt;
        o[2] = zi + v[2] * dt;
        o[3] = pos[4 * i + 3];
    }
    free(soa);
}

const weft_kernel_t weft_k_nbody_kernel = {
    .name = "weft_nbody",
    .cpu = nbody_cpu,
    .cl_source = (const char *)weft__cl_nbody,
    .cl_entry = "weft_nbody",
};

#define NBODY_GROUP 64

int weft_k_nbody_args(weft_k_args_t *args, size_t n, float dt, float eps2, const float *pos, float *vel,
                      float *pos_out)
{
    const char *c = "weft_k_nbody_args";
    if (!args || !pos || !vel || !pos_out)
        return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c,
                          !args ? "args" : !pos ? "pos" : !vel ? "vel" : "pos_out");
    if (!n || n > UINT32_MAX) return weft_error_set(WEFT_EINVAL, "%s: n = %zu must be 1 to 2^32-1", c, n);
    if (pos == pos_out) return weft_error_set(WEFT_EINVAL, "%s: pos and pos_out are the same array", c);
    if (!(eps2 > 0.0f)) return weft_error_set(WEFT_EINVAL, "%s: eps2 must be > 0 (a body meets itself)", c);
    size_t bytes;
    if (weft__k_mul(n, 4 * sizeof(float), &bytes)) return weft_error_set(WEFT_EINVAL, "%s: n = %zu overflows", c, n);
    weft__k_begin(args, &weft_k_nbody_kernel, weft_range_1d(n, NBODY_GROUP));
    weft__k_u32(args, (uint32_t)n);
    weft__k_f32(args, dt);
    weft__k_f32(args, eps2);
    weft__k_push(args, weft_arg_whole(pos, bytes));
    weft__k_push(args, weft_arg_split(vel, bytes, 4 * sizeof(float), WEFT_READ_WRITE));
    weft__k_push(args, weft_arg_split(pos_out, bytes, 4 * sizeof(float), WEFT_WRITE));
    weft__k_push(args, weft_arg_local(NBODY_GROUP * 4 * sizeof(float)));
    return 0;
}

typedef struct nbody_step {
    size_t n;
    float dt, eps2;
    float *vel;
} nbody_step;

static int nbody_fill(weft_k_args_t *a, const void *ctx, float *src, float *dst)
{
    const nbody_step *st = ctx;
    return weft_k_nbody_args(a, st->n, st->dt, st->eps2, src, st->vel, dst);
}

int weft_k_nbody_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t n, float dt,
                    float eps2, float *pos, float *pos_tmp, float *vel, unsigned steps, float **result,
                    weft_panic_t **panic)
{
    nbody_step st = {.n = n, .dt = dt, .eps2 = eps2, .vel = vel};
    return weft__k_ping_pong(file, line, rt, pol, steps, pos, pos_tmp, nbody_fill, &st, result, panic);
}

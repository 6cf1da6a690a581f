/* bench/workloads/op_nbody.c — workload "nbody": one all-pairs N-body step,
 * compute-bound (weft_k_nbody), and its OpenMP baseline, in the CPU twin's
 * form (8 lanes over a structure of arrays). Checked within float tolerance
 * of a double-precision reference. Flags: see op_saxpy.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "workloads.h"


#define NB_DT 0.01f
#define NB_EPS2 0.01f
#define NB_LANES 8

typedef struct nbody_st {
    size_t n;
    float *pos, *vel, *out;
    float *soa;                 /* OpenMP: x, y, z, m arrays */
    double *acc;                /* reference: ax, ay, az, and the sum of |terms| per body */
} nbody_st;

static int nbody_setup(bench_op *w)
{
    const size_t n = w->size;
    nbody_st *s = w->state = bench_op_alloc(w, sizeof *s);
    const size_t bytes = 4 * n * sizeof(float);
    if (!s || !(s->pos = bench_op_alloc(w, bytes)) || !(s->vel = bench_op_alloc(w, bytes)) ||
        !(s->out = bench_op_alloc(w, bytes)) || !(s->soa = bench_op_alloc(w, bytes)) ||
        !(s->acc = bench_op_alloc(w, 4 * n * sizeof(double))))
        return -1;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++)
            s->pos[4 * i + (size_t)c] = -1.0f + 2.0f * (float)(bench_hash32((uint32_t)(4 * i) + (uint32_t)c) >> 8) / 16777216.0f;
        s->pos[4 * i + 3] = (0.5f + (float)(bench_hash32((uint32_t)(4 * i + 3)) >> 8) / 16777216.0f) / (float)n;
    }
    memset(s->vel, 0, 4 * n * sizeof(float));
    memset(s->out, 0xff, 4 * n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        double ax = 0, ay = 0, az = 0, mag = 0;
        const double xi = s->pos[4 * i], yi = s->pos[4 * i + 1], zi = s->pos[4 * i + 2];
        for (size_t j = 0; j < n; j++) {
            double dx = s->pos[4 * j] - xi, dy = s->pos[4 * j + 1] - yi, dz = s->pos[4 * j + 2] - zi;
            double r2 = dx * dx + dy * dy + dz * dz + (double)NB_EPS2;
            double inv = 1.0 / sqrt(r2);
            double f = (double)s->pos[4 * j + 3] * inv * inv * inv;
            ax += f * dx;
            ay += f * dy;
            az += f * dz;
            mag += (double)s->pos[4 * j + 3] / r2;
        }
        s->acc[4 * i] = ax;
        s->acc[4 * i + 1] = ay;
        s->acc[4 * i + 2] = az;
        s->acc[4 * i + 3] = mag;
    }
    return weft_k_nbody_args(&w->args, n, NB_DT, NB_EPS2, s->pos, s->vel, s->out);
}

static void nbody_omp(bench_op *w)
{
    nbody_st *s = w->state;
    const size_t n = s->n, nv = n / NB_LANES * NB_LANES;
    const float dt = NB_DT, eps2 = NB_EPS2;
    const float *restrict pos = s->pos;
    float *restrict vel = s->vel, *restrict out = s->out;
    float *restrict px = s->soa, *restrict py = s->soa + n, *restrict pz = s->soa + 2 * n, *restrict pm = s->soa + 3 * n;
#pragma omp parallel num_threads(w->threads)
    {
#pragma omp for schedule(static)
        for (size_t j = 0; j < n; j++) {
            px[j] = pos[4 * j];
            py[j] = pos[4 * j + 1];
            pz[j] = pos[4 * j + 2];
            pm[j] = pos[4 * j + 3];
        }
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float xi = pos[4 * i], yi = pos[4 * i + 1], zi = pos[4 * i + 2];
            float ax[NB_LANES] = {0}, ay[NB_LANES] = {0}, az[NB_LANES] = {0};
            for (size_t j = 0; j < nv; j += NB_LANES)
                for (int l = 0; l < NB_LANES; l++) {
                    float dx = px[j + l] - xi, dy = py[j + l] - yi, dz = pz[j + l] - zi;
                    float r2 = dx * dx + dy * dy + dz * dz + eps2;
                    float inv = 1.0f / sqrtf(r2);
                    float f = pm[j + l] * (inv * inv * inv);
                    ax[l] += f * dx;
                    ay[l] += f * dy;
                    az[l] += f * dz;
                }
            float sx = 0.0f, sy = 0.0f, sz = 0.0f;
            for (int l = 0; l < NB_LANES; l++) {
                sx += ax[l];
                sy += ay[l];
                sz += az[l];
            }
            for (size_t j = nv; j < n; j++) {
                float dx = px[j] - xi, dy = py[j] - yi, dz = pz[j] - zi;
                float r2 = dx * dx + dy * dy + dz * dz + eps2;
                float inv = 1.0f / sqrtf(r2);
                float f = pm[j] * (inv * inv * inv);
                sx += f * dx;
                sy += f * dy;
                sz += f * dz;
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
    }
}

/* After k steps from v = 0 with fixed positions: v = k*a*dt, out = p + v*dt,
 * within float tolerance of the double-precision accelerations (relative to
 * the sum of the terms' magnitudes, so cancellation cannot hide an error). */
static int nbody_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    nbody_st *s = w->state;
    int ok = 1;
    const double k = (double)ops, dt = NB_DT;
    for (size_t i = 0; i < s->n && ok; i++) {
        double tol_v = k * dt * (2e-3 * s->acc[4 * i + 3]) + 1e-7;
        for (int c = 0; c < 3 && ok; c++) {
            double v = s->vel[4 * i + (size_t)c], want_v = k * dt * s->acc[4 * i + (size_t)c];
            double p = s->pos[4 * i + (size_t)c], o = s->out[4 * i + (size_t)c];
            double want_o = p + want_v * dt, tol_o = dt * tol_v + 1e-6 * (fabs(p) + 1e-3);
            if (!(fabs(v - want_v) <= tol_v)) {
                snprintf(why, cap, "body %zu: v[%d] = %.9g after %llu steps, expected %.9g", i, c, v,
                         (unsigned long long)ops, want_v);
                ok = 0;
            } else if (!(fabs(o - want_o) <= tol_o)) {
                snprintf(why, cap, "body %zu: position[%d] = %.9g, expected %.9g", i, c, o, want_o);
                ok = 0;
            }
        }
        if (ok && memcmp(&s->out[4 * i + 3], &s->pos[4 * i + 3], sizeof(float)) != 0) {
            snprintf(why, cap, "body %zu: mass %.9g, expected %.9g", i, (double)s->out[4 * i + 3],
                     (double)s->pos[4 * i + 3]);
            ok = 0;
        }
    }
    memset(s->vel, 0, 4 * s->n * sizeof(float));
    memset(s->out, 0xff, 4 * s->n * sizeof(float));
    return ok ? 0 : -1;
}

static double nbody_work(const bench_op *w) { return (double)w->size * (double)w->size / 1e9; }

static void nbody_describe(const bench_op *w, char *buf, size_t cap) { snprintf(buf, cap, "%zu bodies, one step", w->size); }

const bench_op_def bench_op_nbody = {
    .name = "nbody",
    .description = "one all-pairs N-body step, compute-bound (weft_k_nbody): CPU, each device, split; vs OpenMP "
                   "and raw OpenCL",
    .size_help = "bodies (default 8192, quick 4096)",
    .unit = "Gpairs/s",
    .size_full = 8192, .size_quick = 4096, .size_smoke = 197, .size_max = (size_t)1 << 20,
    .setup = nbody_setup, .check = nbody_check, .work = nbody_work, .describe = nbody_describe,
    .cpu_base = nbody_omp,
    .cpu_note = "omp parallel for schedule(static) over bodies, the CPU twin's 8 lanes over a structure of "
                "arrays; Gpairs/s = n^2 body pairs per second; checked within float tolerance",
    .cpu_goal = BENCH_OMP_GOAL, .cpu_target = BENCH_OMP_TARGET,
};

/* bench/workloads/op_stencil5.c — workload "stencil5": one step of a
 * 5-point stencil, rows split with a halo (weft_k_stencil5), and its OpenMP
 * baseline; and its separate-memory rows: 100 steps, one operation each, on
 * the two grids registered as arrays (weft/array.h), against raw OpenCL
 * making the same copies and the same waits (both grids up once, 100
 * launches each waited for, as each operation is joined, the result back
 * once), and against the same 100 operations on plain host arrays. Checked
 * bit for bit. Flags: see op_saxpy.c. */
#include <stdio.h>
#include <string.h>

#include "workloads.h"

#define ST_C0 0.5f
#define ST_C1 0.125f

typedef struct stencil_st {
    float *in, *out, *ref;
} stencil_st;

static void fill_grid(float *g, size_t n)
{
    for (size_t i = 0; i < n; i++) g[i] = (float)(bench_hash32((uint32_t)i) >> 8) / 16777216.0f;
}

/* One step, serially: the reference. */
static void ref_step(const float *in, float *out, size_t W, size_t H)
{
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            size_t i = y * W + x;
            if (x == 0 || y == 0 || x == W - 1 || y == H - 1) out[i] = in[i];
            else out[i] = ST_C0 * in[i] + ST_C1 * ((in[i - W] + in[i + W]) + (in[i - 1] + in[i + 1]));
        }
}

static int stencil_setup(bench_op *w)
{
    const size_t W = w->size, H = w->size, n = W * H;
    stencil_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->in = bench_op_alloc(w, n * sizeof(float))) || !(s->out = bench_op_alloc(w, n * sizeof(float))) ||
        !(s->ref = bench_op_alloc(w, n * sizeof(float))))
        return -1;
    fill_grid(s->in, n);
    ref_step(s->in, s->ref, W, H);
    memset(s->out, 0xff, n * sizeof(float));
    return weft_k_stencil5_args(&w->args, W, H, ST_C0, ST_C1, s->in, s->out);
}

static void stencil_omp(bench_op *w)
{
    const stencil_st *s = w->state;
    const size_t W = w->size, H = w->size;
    const float *in = s->in;
    float *out = s->out;
#pragma omp parallel for num_threads(w->threads) schedule(static)
    for (size_t y = 0; y < H; y++) {
        const float *restrict r = in + y * W;
        float *restrict o = out + y * W;
        if (y == 0 || y == H - 1 || W <= 2) {
            memcpy(o, r, W * sizeof *o);
            continue;
        }
        const float *restrict up = r - W, *restrict down = r + W;
        o[0] = r[0];
        for (size_t x = 1; x < W - 1; x++) o[x] = ST_C0 * r[x] + ST_C1 * ((up[x] + down[x]) + (r[x - 1] + r[x + 1]));
        o[W - 1] = r[W - 1];
    }
}

static int stencil_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    stencil_st *s = w->state;
    size_t n = w->size * w->size, i = bench_first_diff(s->out, s->ref, n, sizeof(float));
    if (i < n)
        snprintf(why, cap, "cell (%zu, %zu) = %.9g, expected %.9g", i % w->size, i / w->size, (double)s->out[i],
                 (double)s->ref[i]);
    memset(s->out, 0xff, n * sizeof(float));
    return i < n ? -1 : 0;
}

static double stencil_work(const bench_op *w) { return 8.0 * (double)(w->size * w->size) / 1e9; }

static void stencil_describe(const bench_op *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%zux%zu grid, one step", w->size, w->size);
}

/* ---- the separate-memory rows: 100 steps, one operation each ------------------ */

#define ST_STEPS 100u
_Static_assert(ST_STEPS % 2 == 0, "the result is in a, where the check looks");
#define ST_IN 4  /* weft_k_stencil5_args' arguments: in (split with a halo), */
#define ST_OUT 5 /* out (split, write-only) */

typedef struct steps_st {
    float *a, *b, *init, *ref; /* a: the grid (then the result: ST_STEPS is even), b: scratch */
} steps_st;

static int steps_setup(bench_op *w)
{
    const size_t W = w->size, H = w->size, n = W * H;
    steps_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->a = bench_op_alloc(w, n * sizeof(float))) || !(s->b = bench_op_alloc(w, n * sizeof(float))) ||
        !(s->init = bench_op_alloc(w, n * sizeof(float))) || !(s->ref = bench_op_alloc(w, n * sizeof(float))))
        return -1;
    fill_grid(s->init, n);
    memcpy(s->ref, s->init, n * sizeof(float));
    for (unsigned k = 0; k < ST_STEPS; k += 2) {
        ref_step(s->ref, s->b, W, H);
        ref_step(s->b, s->ref, W, H);
    }
    memset(s->b, 0xff, n * sizeof(float));
    /* One step from a to b: what the raw baseline builds its kernel and buffers for. */
    return weft_k_stencil5_args(&w->args, W, H, ST_C0, ST_C1, s->a, s->b);
}

/* Each op starts from the same grid (a copy, on every side, inside the time). */
static void steps_start(bench_op *w)
{
    steps_st *s = w->state;
    memcpy(s->a, s->init, w->size * w->size * sizeof(float));
}

/* ST_STEPS steps from a, one weft_k_run each, the grids swapping roles. On
 * registered arrays (arr): a and b are registered for the op, so the device
 * copies stay on the device from one step to the next (both go up at the
 * first step, out too: bytes a kernel leaves alone keep the array's values);
 * at the end the result grid comes back (weft_array_to_host), the scratch
 * grid's device copy is dropped unread (weft_array_host_changed: its host
 * bytes count, nothing reads them) and both are destroyed. Unregistered,
 * each step uploads both grids and reads the result back. */
static int steps_loop(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic, int arr)
{
    steps_st *s = w->state;
    const size_t bytes = w->size * w->size * sizeof(float);
    float *grid[2] = {s->a, s->b};
    weft_array_t *reg[2] = {NULL, NULL};
    weft_k_args_t args;
    int rc = 0;
    steps_start(w);
    for (int g = 0; arr && g < 2 && !rc; g++) rc = weft_array_create(rt, grid[g], bytes, &reg[g]);
    for (unsigned k = 0; k < ST_STEPS && !rc; k++) {
        int src = k % 2, dst = 1 - src;
        if ((rc = weft_k_stencil5_args(&args, w->size, w->size, ST_C0, ST_C1, grid[src], grid[dst]))) break;
        if (arr) {
            args.args[ST_IN] = weft_arg_on(args.args[ST_IN], reg[src]);
            args.args[ST_OUT] = weft_arg_on(args.args[ST_OUT], reg[dst]);
        }
        rc = weft_k_run(rt, &args, pol, panic);
    }
    if (!rc && arr) rc = weft_array_to_host(reg[0], 0, bytes);
    if (!rc && arr) rc = weft_array_host_changed(reg[1], 0, bytes);
    for (int g = 0; g < 2; g++) {
        int rd = weft_array_destroy(reg[g]);
        if (!rc) rc = rd;
    }
    return rc;
}

static int steps_registered(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic)
{
    return steps_loop(w, rt, pol, panic, 1);
}

static int steps_unregistered(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic)
{
    return steps_loop(w, rt, pol, panic, 0);
}

/* The registered loop's copies in raw OpenCL, on the device's own buffers
 * (both read-write: they swap roles; a unified device has no copies to
 * compare): both grids up once, ST_STEPS launches, the result back once,
 * clFinish. */
static int steps_raw_init(bench_devbase *d, bench_op *w)
{
    if (d->unified) {
        snprintf(d->err, sizeof d->err, "device %d: the 100-step baseline makes copies: separate memory only",
                 d->dev);
        return -1;
    }
    d->read_write = 1;
    return bench_rawcl_init(d, w);
}

static int steps_raw(bench_devbase *d, bench_op *w)
{
    steps_st *s = w->state;
    const size_t bytes = w->size * w->size * sizeof(float);
    cl_mem mem[2] = {d->mem[ST_IN], d->mem[ST_OUT]}; /* a's buffer, b's */
    steps_start(w);
    cl_int err = clEnqueueWriteBuffer(d->q, mem[0], CL_FALSE, 0, bytes, s->a, 0, NULL, NULL);
    if (err == CL_SUCCESS) err = clEnqueueWriteBuffer(d->q, mem[1], CL_FALSE, 0, bytes, s->b, 0, NULL, NULL);
    if (err != CL_SUCCESS) return bench_devbase_fail(d, "clEnqueueWriteBuffer", err);
    for (unsigned k = 0; k < ST_STEPS; k++) {
        int src = k % 2, dst = 1 - src;
        err = clSetKernelArg(d->k, ST_IN, sizeof(cl_mem), &mem[src]);
        if (err == CL_SUCCESS) err = clSetKernelArg(d->k, ST_OUT, sizeof(cl_mem), &mem[dst]);
        if (err != CL_SUCCESS) return bench_devbase_fail(d, "clSetKernelArg", err);
        err = clEnqueueNDRangeKernel(d->q, d->k, w->args.range.dims, NULL, d->global, d->local, 0, NULL, NULL);
        if (err != CL_SUCCESS) return bench_devbase_fail(d, "clEnqueueNDRangeKernel", err);
        /* Each weft operation is joined before the next starts: so is each launch. */
        if ((err = clFinish(d->q)) != CL_SUCCESS) return bench_devbase_fail(d, "clFinish", err);
    }
    err = clEnqueueReadBuffer(d->q, mem[0], CL_FALSE, 0, bytes, s->a, 0, NULL, NULL);
    if (err != CL_SUCCESS) return bench_devbase_fail(d, "clEnqueueReadBuffer", err);
    if ((err = clFinish(d->q)) != CL_SUCCESS) return bench_devbase_fail(d, "clFinish", err);
    return 0;
}

static int steps_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    steps_st *s = w->state;
    size_t n = w->size * w->size, i = bench_first_diff(s->a, s->ref, n, sizeof(float));
    if (i < n)
        snprintf(why, cap, "cell (%zu, %zu) = %.9g after %u steps, expected %.9g", i % w->size, i / w->size,
                 (double)s->a[i], ST_STEPS, (double)s->ref[i]);
    memset(s->a, 0xff, n * sizeof(float));
    memset(s->b, 0xff, n * sizeof(float));
    return i < n ? -1 : 0;
}

static double steps_work(const bench_op *w) { return ST_STEPS * stencil_work(w); }

static void steps_describe(const bench_op *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%zux%zu grid, %u steps", w->size, w->size, ST_STEPS);
}

static const bench_op_def stencil5_steps = {
    .name = "stencil5",
    .description = "100 steps of the 5-point stencil, one operation each, on registered arrays",
    .size_help = "grid width = height (default 1024, quick 512)",
    .unit = "GB/s",
    .size_full = 1024, .size_quick = 512, .size_smoke = 37, .size_max = 32768,
    .setup = steps_setup, .check = steps_check, .work = steps_work, .describe = steps_describe,
    .run = steps_registered,
    .dev_init = steps_raw_init, .dev_run = steps_raw,
    .dev_note = "100 steps, one weft_k_run each (joined), on the two grids registered as arrays (both up at the "
                "first step, the result back at the end, the scratch grid dropped unread) vs raw OpenCL making the "
                "same copies and waits: both grids up once, 100 launches swapping the buffers, each waited for "
                "(clFinish), the result back once",
    .unregistered = steps_unregistered,
    .unregistered_note = "100 steps on registered arrays (the sepmem row's weft case: both grids up once, the "
                         "result back once) vs the same 100 weft_k_run on plain host arrays, each uploading both "
                         "grids and reading the result back",
};

const bench_op_def bench_op_stencil5 = {
    .name = "stencil5",
    .description = "one step of a 5-point stencil, split rows with a halo (weft_k_stencil5): CPU, each device, "
                   "split; vs OpenMP and raw OpenCL",
    .size_help = "grid width = height (default 4096, quick 2048; the 100-step separate-memory rows: 1024, quick 512)",
    .unit = "GB/s",
    .size_full = 4096, .size_quick = 2048, .size_smoke = 37, .size_max = 32768,
    .setup = stencil_setup, .check = stencil_check, .work = stencil_work, .describe = stencil_describe,
    .cpu_base = stencil_omp,
    .cpu_note = "omp parallel for schedule(static) over rows; GB/s counts 8 B per cell (read once, written once); "
                "checked bit for bit",
    .cpu_goal = BENCH_OMP_GOAL, .cpu_target = BENCH_OMP_TARGET,
    .sepmem = &stencil5_steps,
};

/* test_mpi_kernels.c — every bundled kernel across MPI ranks (run under
 * mpirun with 1 to 4 ranks): the replicated result on every rank, and a
 * root's with options.root, are the same bits as the one-process run;
 * reductions included. The kernels whose CPU and device bodies agree bit
 * for bit (saxpy, sdot, mandelbrot, stencil5, histogram) run on the CPU and
 * every device of each rank; nbody and sgemm, which agree only within float
 * tolerance across places, run on the CPU in both runs.
 *
 * Every check is made on every rank and then reduced: a failure fails the
 * program on every rank, and no rank is left in a collective. */
#include "mpi_test.h"

#include <weft/kernels.h>

static weft_runtime_t *rt;
static weft_policy_t everywhere, cpu_only;

/* 1 when ok holds on every rank; a rank where it does not says why. */
/* Run a (kernel, range, arguments) across the ranks, replicated. */
static int mpi_run(const weft_k_args_t *a, const weft_policy_t *pol, const weft_mpi_options_t *o)
{
    weft_mpi_plan_t *p;
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, a->kernel, a->range, pol, 0, &p);
    if (rc) return rc;
    weft_panic_t *pn = NULL;
    rc = weft_mpi_run(p, a->kernel, a->args, a->nargs, pol, o, &pn);
    if (pn) print_message("rank %d: %s\n", wt_mpi_rank, weft_panic_message(pn));
    weft_panic_destroy(pn);
    weft_mpi_plan_destroy(p);
    return rc;
}

static float *floats(size_t n, unsigned seed)
{
    float *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = (float)((i * 2654435761u + seed) % 2001) / 1000.0f - 1.0f;
    return v;
}

static void saxpy(void **state)
{
    (void)state;
    size_t n = 100003; /* not a multiple of the group, nor of any rank count */
    float *x = floats(n, 1), *y = floats(n, 2), *ref = malloc(n * sizeof *ref);
    memcpy(ref, y, n * sizeof *y);
    WT_CHECK(weft_k_saxpy(rt, &everywhere, n, 1.5f, x, ref, WT_PANIC));
    weft_k_args_t a;
    WT_CHECK(weft_k_saxpy_args(&a, n, 1.5f, x, y));
    int rc = mpi_run(&a, &everywhere, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "saxpy across ranks"));
    assert_true(wt_mpi_all_ok(memcmp(y, ref, n * sizeof *y) == 0, "saxpy: y differs from one process"));
    free(x);
    free(y);
    free(ref);
}

static void sdot(void **state)
{
    (void)state;
    size_t n = 250000;
    float *x = floats(n, 3), *y = floats(n, 4), ref = 0.0f, got = -1.0f;
    WT_CHECK(weft_k_sdot(rt, &everywhere, n, x, y, &ref, WT_PANIC));
    weft_k_args_t a;
    WT_CHECK(weft_k_sdot_args(&a, n, x, y, &got, 256));
    int rc = mpi_run(&a, &everywhere, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "sdot across ranks"));
    /* The same bits on every rank, and as one process. */
    assert_true(wt_mpi_all_ok(memcmp(&got, &ref, sizeof got) == 0, "sdot: the result differs from one process"));
    free(x);
    free(y);
}

static void mandelbrot(void **state)
{
    (void)state;
    size_t w = 203, h = 157;
    uint32_t *ref = calloc(w * h, sizeof *ref), *img = calloc(w * h, sizeof *img);
    WT_CHECK(weft_k_mandelbrot(rt, &everywhere, w, h, -2.0f, -1.2f, 3.0f / (float)w, 2.4f / (float)h, 300, ref,
                               WT_PANIC));
    weft_k_args_t a;
    WT_CHECK(weft_k_mandelbrot_args(&a, w, h, -2.0f, -1.2f, 3.0f / (float)w, 2.4f / (float)h, 300, img));
    int rc = mpi_run(&a, &everywhere, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "mandelbrot across ranks"));
    assert_true(wt_mpi_all_ok(memcmp(img, ref, w * h * sizeof *img) == 0, "mandelbrot: the image differs"));

    /* To a root only: rank 0 has the whole image; every rank its own rows. */
    memset(img, 0, w * h * sizeof *img);
    weft_mpi_options_t o;
    weft_mpi_options_init(&o);
    o.root = 0;
    weft_mpi_plan_t *p;
    rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, a.kernel, a.range, &everywhere, 0, &p);
    assert_true(wt_mpi_all_ok(rc == 0, "plan"));
    rc = weft_mpi_run(p, a.kernel, a.args, a.nargs, &everywhere, &o, NULL);
    weft_mpi_rows_t r;
    weft_mpi_plan_rows(p, wt_mpi_rank, &r);
    int ok = rc == 0 && memcmp(img + r.begin * w, ref + r.begin * w, (r.end - r.begin) * w * sizeof *img) == 0;
    if (wt_mpi_rank == 0) ok = ok && memcmp(img, ref, w * h * sizeof *img) == 0;
    weft_mpi_stats_t st;
    weft_mpi_plan_stats(p, &st);
    /* A rank sends its rows to the root only. */
    uint64_t want = wt_mpi_rank == 0 ? 0 : (uint64_t)(r.end - r.begin) * w * sizeof *img;
    ok = ok && st.bytes_sent == want;
    weft_mpi_plan_destroy(p);
    assert_true(wt_mpi_all_ok(ok, "mandelbrot to root 0"));
    free(ref);
    free(img);
}

static void stencil5_step(void **state)
{
    (void)state;
    size_t w = 131, h = 97;
    float *in = floats(w * h, 5), *out = calloc(w * h, sizeof *out), *ref = calloc(w * h, sizeof *ref);
    weft_k_args_t a;
    WT_CHECK(weft_k_stencil5_args(&a, w, h, 0.6f, 0.1f, in, ref));
    WT_CHECK(weft_k_run(rt, &a, &everywhere, WT_PANIC));
    WT_CHECK(weft_k_stencil5_args(&a, w, h, 0.6f, 0.1f, in, out));
    int rc = mpi_run(&a, &everywhere, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "stencil5 across ranks"));
    assert_true(wt_mpi_all_ok(memcmp(out, ref, w * h * sizeof *out) == 0, "stencil5: the grid differs"));
    free(in);
    free(out);
    free(ref);
}

static void histogram(void **state)
{
    (void)state;
    size_t n = 300007; /* with a tail past the last whole segment */
    float *data = floats(n, 6);
    uint32_t ref[WEFT_K_HIST_BINS], got[WEFT_K_HIST_BINS];
    WT_CHECK(weft_k_histogram(rt, &everywhere, n, data, -1.0f, 1.0f, ref, WT_PANIC));
    weft_k_args_t a;
    WT_CHECK(weft_k_histogram_args(&a, n, data, -1.0f, 1.0f, got));
    int rc = mpi_run(&a, &everywhere, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "histogram across ranks"));
    uint64_t total = 0, inside = 0;
    for (int b = 0; b < WEFT_K_HIST_BINS; b++) total += got[b];
    for (size_t i = 0; i < n; i++) inside += data[i] >= -1.0f && data[i] < 1.0f;
    assert_true(wt_mpi_all_ok(memcmp(got, ref, sizeof got) == 0 && total == inside, "histogram: the counts differ"));
    free(data);
}

static void nbody_step(void **state)
{
    (void)state;
    size_t n = 1000;
    float *pos = floats(4 * n, 7), *vel = floats(4 * n, 8), *vel_ref = malloc(4 * n * sizeof(float));
    float *out = calloc(4 * n, sizeof(float)), *out_ref = calloc(4 * n, sizeof(float));
    for (size_t i = 0; i < n; i++) pos[4 * i + 3] = 1.0f + (float)(i % 5); /* masses */
    memcpy(vel_ref, vel, 4 * n * sizeof(float));
    weft_k_args_t a;
    WT_CHECK(weft_k_nbody_args(&a, n, 0.01f, 0.05f, pos, vel_ref, out_ref));
    WT_CHECK(weft_k_run(rt, &a, &cpu_only, WT_PANIC));
    WT_CHECK(weft_k_nbody_args(&a, n, 0.01f, 0.05f, pos, vel, out));
    int rc = mpi_run(&a, &cpu_only, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "nbody across ranks"));
    int ok = memcmp(out, out_ref, 4 * n * sizeof(float)) == 0 && memcmp(vel, vel_ref, 4 * n * sizeof(float)) == 0;
    assert_true(wt_mpi_all_ok(ok, "nbody: positions or velocities differ"));
    free(pos);
    free(vel);
    free(vel_ref);
    free(out);
    free(out_ref);
}

static void sgemm(void **state)
{
    (void)state;
    size_t M = 150, N = 70, K = 90;
    float *A = floats(M * K, 9), *B = floats(K * N, 10), *C = floats(M * N, 11), *C_ref = malloc(M * N * sizeof(float));
    memcpy(C_ref, C, M * N * sizeof(float));
    weft_k_args_t a;
    WT_CHECK(weft_k_sgemm_args(&a, M, N, K, 0.5f, A, B, 2.0f, C_ref)); /* beta != 0: C is read too */
    WT_CHECK(weft_k_run(rt, &a, &cpu_only, WT_PANIC));
    WT_CHECK(weft_k_sgemm_args(&a, M, N, K, 0.5f, A, B, 2.0f, C));
    int rc = mpi_run(&a, &cpu_only, NULL);
    assert_true(wt_mpi_all_ok(rc == 0, "sgemm across ranks"));
    size_t bad = 0;
    for (size_t i = 0; i < M * N; i++) bad += memcmp(&C[i], &C_ref[i], sizeof(float)) != 0;
    if (bad) print_message("rank %d: sgemm: %zu of %zu elements differ\n", wt_mpi_rank, bad, M * N);
    assert_true(wt_mpi_all_ok(bad == 0, "sgemm: C differs"));
    free(A);
    free(B);
    free(C);
    free(C_ref);
}

static void before(void)
{
    rt = wt_mpi_runtime();
    weft_policy_init(&everywhere);
    everywhere.devices = weft_device_mask(rt, 0); /* every device, CPU ones too */
    weft_policy_init(&cpu_only);
    cpu_only.devices = 0;
}

static void after(void) { weft_runtime_destroy(rt); }

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saxpy),      cmocka_unit_test(sdot),       cmocka_unit_test(mandelbrot),
        cmocka_unit_test(stencil5_step), cmocka_unit_test(histogram), cmocka_unit_test(nbody_step),
        cmocka_unit_test(sgemm),
    };
    return WT_MPI_MAIN(tests, before, after);
}

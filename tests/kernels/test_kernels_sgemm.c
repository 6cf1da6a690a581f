/* test_kernels_sgemm.c — SGEMM, both ways in:
 *   - weft_k_sgemm(): OpenBLAS on the CPU workers and CLBlast on the devices
 *     at once (a parallel operation whose device body calls CLBlast);
 *   - weft_k_sgemm_kernel through weft_parallel_for (OpenBLAS + kernels/sgemm.cl);
 * each on the CPU, the devices and both, against a double-precision
 * reference within float tolerance, for sizes that are not multiples of
 * anything (67 x 45 x 31), degenerate ones and a medium one (256); beta 0
 * with NaN in C; K = 0; the devices' copying path (as on discrete GPUs) as
 * well as PoCL's in-place one; failover and propagation of CLBlast-side
 * faults; and weft_k_sgemm as an ordinary operation: its write borrow of C,
 * its speed model under STATIC, its trace. */
#define _GNU_SOURCE /* mkdtemp, setenv, strdup */
#include <stdatomic.h>
#include <unistd.h>

#include "weft_test.h"
#include <weft/testing.h>
#include <weft/kernels.h>

#include "test_kernels_common.h"

#include <math.h>

typedef struct problem {
    size_t M, N, K;
    float alpha, beta;
    float *A, *B, *C0, *C;
    double *want, *bound;
} problem;

static void problem_init(problem *p, size_t M, size_t N, size_t K, float alpha, float beta, int nan_c)
{
    *p = (problem){.M = M, .N = N, .K = K, .alpha = alpha, .beta = beta};
    p->A = kt_alloc(M * K * sizeof(float));
    p->B = kt_alloc(K * N * sizeof(float));
    p->C0 = kt_alloc(M * N * sizeof(float));
    p->C = kt_alloc(M * N * sizeof(float));
    p->want = kt_alloc(M * N * sizeof(double));
    p->bound = kt_alloc(M * N * sizeof(double));
    kt_fill(p->A, M * K, 51, -1.0f, 1.0f);
    kt_fill(p->B, K * N, 52, -1.0f, 1.0f);
    kt_fill(p->C0, M * N, 53, -1.0f, 1.0f);
    if (nan_c)
        for (size_t i = 0; i < M * N; i++) p->C0[i] = NAN;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0, mag = 0;
            for (size_t k = 0; k < K; k++) {
                s += (double)p->A[i * K + k] * p->B[k * N + j];
                mag += fabs((double)p->A[i * K + k] * p->B[k * N + j]);
            }
            double c = beta == 0.0f ? 0.0 : (double)beta * p->C0[i * N + j];
            p->want[i * N + j] = (double)alpha * s + c;
            /* Float GEMM in any summation order: within about (K + 2) u of
             * the magnitudes involved (u = 2^-24); twice that for margin. */
            p->bound[i * N + j] = 2.0 * (double)(K + 2) * 0x1p-24 * (fabs(alpha) * mag + fabs(c)) + 1e-30;
        }
}

static void problem_free(problem *p)
{
    free(p->A);
    free(p->B);
    free(p->C0);
    free(p->C);
    free(p->want);
    free(p->bound);
}

static void problem_check(const problem *p, const char *what)
{
    for (size_t i = 0; i < p->M * p->N; i++) {
        double err = fabs((double)p->C[i] - p->want[i]);
        if (!(err <= p->bound[i]))
            fail_msg("%s: C[%zu][%zu] = %.9g, expected %.9g (error %.3g > %.3g)", what, i / p->N, i % p->N,
                     (double)p->C[i], p->want[i], err, p->bound[i]);
    }
}

static const struct {
    weft_policy_kind_t kind;
    size_t chunk;
} POLS[] = {{WEFT_POLICY_STATIC, 0}, {WEFT_POLICY_DYNAMIC, 16}, {WEFT_POLICY_GUIDED, 0}};

/* Both ways in, every mix and policy. */
static void check(weft_runtime_t *rt, size_t M, size_t N, size_t K, float alpha, float beta, int nan_c)
{
    problem p;
    problem_init(&p, M, N, K, alpha, beta, nan_c);
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    for (int way = 0; way < 2; way++) {
        for (int m = 0; m < nm; m++) {
            for (size_t q = 0; q < sizeof POLS / sizeof POLS[0]; q++) {
                weft_policy_t pol = wt_mix_policy(POLS[q].kind, &mixes[m], POLS[q].chunk);
                char what[200];
                snprintf(what, sizeof what, "%s %zux%zux%zu alpha=%g beta=%g%s %s %s",
                         way ? "parallel_for" : "weft_k_sgemm", M, N, K, (double)alpha, (double)beta,
                         nan_c ? " (C NaN)" : "", mixes[m].name, wt_policy_name(POLS[q].kind));
                memcpy(p.C, p.C0, M * N * sizeof(float));
                if (way == 0) {
                    WT_CHECK(weft_k_sgemm(rt, &pol, M, N, K, alpha, p.A, p.B, beta, p.C, WT_PANIC));
                } else {
                    weft_k_args_t a;
                    WT_CHECK(weft_k_sgemm_args(&a, M, N, K, alpha, p.A, p.B, beta, p.C));
                    WT_CHECK(weft_k_run(rt, &a, &pol, WT_PANIC));
                }
                problem_check(&p, what);
                wt_check_stats(rt, M, &pol, what);
            }
        }
    }
    problem_free(&p);
}

static void test_sgemm_small_and_odd(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check(rt, 67, 45, 31, 1.0f, 0.0f, 0);
    check(rt, 67, 45, 31, 0.5f, 2.0f, 0);
    check(rt, 1, 1, 1, 1.5f, -1.0f, 0);
    check(rt, 33, 65, 1, 1.0f, 0.0f, 1);
    check(rt, 100, 3, 200, -1.0f, 0.25f, 0);
    weft_runtime_destroy(rt);
}

/* Devices copy rows as discrete GPUs do (weft/testing.h), instead of
 * working in the host arrays as PoCL's unified memory allows: both ways in,
 * as the hook applies to every parallel operation of the runtime. */
static void test_sgemm_copy_path(void **state)
{
    (void)state;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.separate_memory = 1; /* every device copies, as a discrete GPU does */
    weft_runtime_t *rt = NULL;
    WT_CHECK(weft_runtime_create(&o, &rt));
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        assert_int_equal(info.unified_memory, 0);
    }
    check(rt, 67, 45, 31, 0.5f, 2.0f, 0);
    check(rt, 33, 65, 7, 1.0f, 0.0f, 1); /* beta 0: C only written, NaN there must not leak */
    check(rt, 150, 20, 40, 1.0f, 1.0f, 0);
    if (weft_device_count(rt) > 0) { /* the rows really moved */
        problem p;
        problem_init(&p, 64, 32, 16, 1.0f, 1.0f, 0);
        memcpy(p.C, p.C0, p.M * p.N * sizeof(float));
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
        pol.use_cpu = 0;
        WT_CHECK(weft_k_sgemm(rt, &pol, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, p.C, WT_PANIC));
        problem_check(&p, "copy path, devices only");
        weft_run_stats_t st;
        WT_CHECK(weft_runtime_last_run_stats(rt, &st));
        assert_true(st.bytes_moved >= (p.M * p.K + 2 * p.M * p.N) * sizeof(float));
        problem_free(&p);
    }
    weft_runtime_destroy(rt);
}

static void test_sgemm_medium(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check(rt, 256, 256, 256, 1.0f, 1.0f, 0);
    weft_runtime_destroy(rt);
}

/* Every CLBlast call on device 0 fails: failover gives its blocks to the
 * others (same answer), propagate returns the failure with its status,
 * device and rows. */
static void test_sgemm_device_faults(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    problem p;
    problem_init(&p, 200, 40, 30, 1.0f, 0.5f, 0);
    wt_capture_install(); /* the failures are on purpose */
    WT_CHECK(weft_fault_inject(rt, 0, -1, CL_OUT_OF_RESOURCES, "weft_sgemm_clblast"));
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 16;
    pol.on_fault = WEFT_FAULT_FAILOVER;
    /* Devices only when there are two: device 0 then surely takes a chunk
     * (the CPU, started first, could take them all before it). */
    pol.use_cpu = weft_device_count(rt) < 2;
    memcpy(p.C, p.C0, p.M * p.N * sizeof(float));
    WT_CHECK(weft_k_sgemm(rt, &pol, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, p.C, WT_PANIC));
    problem_check(&p, "failover");
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    assert_true(st.failed_chunks >= 1);
    assert_int_equal(st.items[1], 0); /* device 0 did nothing */
    assert_int_equal(st.items[0] + st.items[1] + st.items[2], p.M);

    /* Devices only, device 0 failing, propagate: the failure comes back. */
    weft_fault_clear(rt);
    WT_CHECK(weft_fault_inject(rt, 0, 0, CL_OUT_OF_RESOURCES, "weft_sgemm_clblast"));
    pol.on_fault = WEFT_FAULT_PROPAGATE;
    pol.use_cpu = 0;
    pol.devices = 1;
    weft_panic_t *why = NULL;
    int rc = weft_k_sgemm(rt, &pol, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, p.C, &why);
    assert_int_equal(rc, WEFT_EPANIC);
    assert_non_null(why);
    assert_int_equal(weft_panic_cl_status(why), CL_OUT_OF_RESOURCES);
    assert_string_equal(weft_panic_cl_status_name(why), "CL_OUT_OF_RESOURCES");
    assert_non_null(weft_panic_device(why));
    /* weft_k_sgemm is a macro: the panic names this file, not the library's. */
    wt_assert_contains(weft_panic_file(why), "test_kernels_sgemm.c");
    size_t b = 1, e = 0;
    assert_int_equal(weft_panic_range(why, &b, &e), 1);
    assert_int_equal(b, 0);
    assert_int_equal(e, 16);
    weft_panic_destroy(why);

    /* Every place failing under failover: still a failure, not a hang. */
    weft_fault_clear(rt);
    WT_CHECK(weft_fault_inject(rt, -1, -1, CL_OUT_OF_RESOURCES, "weft_sgemm_clblast"));
    pol.on_fault = WEFT_FAULT_FAILOVER;
    pol.devices = weft_device_mask(rt, 0);
    why = NULL;
    rc = weft_k_sgemm(rt, &pol, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, p.C, &why);
    assert_int_equal(rc, WEFT_EPANIC);
    assert_non_null(why);
    weft_panic_destroy(why);
    weft_fault_clear(rt);
    wt_capture_restore();
    problem_free(&p);
    weft_runtime_destroy(rt);
}

static void test_sgemm_edges_and_bad_arguments(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4] = {1, 2, 3, NAN};
    /* K = 0: C = beta*C, and 0 when beta is 0 (NaN included). */
    WT_CHECK(weft_k_sgemm(rt, NULL, 2, 2, 0, 1.0f, NULL, NULL, 0.0f, C, WT_PANIC));
    for (int i = 0; i < 4; i++) assert_true(C[i] == 0.0f);
    float C2[4] = {1, 2, 3, 4};
    WT_CHECK(weft_k_sgemm(rt, NULL, 2, 2, 0, 1.0f, NULL, NULL, 2.0f, C2, WT_PANIC));
    assert_true(C2[3] == 8.0f);
    /* M = 0 or N = 0: nothing to do. */
    WT_CHECK(weft_k_sgemm(rt, NULL, 0, 2, 3, 1.0f, NULL, B, 0.0f, NULL, WT_PANIC));
    weft_policy_t none;
    weft_policy_init(&none);
    none.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    none.use_cpu = 0;
    none.devices = 0;
    assert_int_equal(weft_k_sgemm(rt, &none, 2, 2, 3, 1.0f, A, B, 0.0f, C, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_sgemm(rt, NULL, 2, 2, 3, 1.0f, NULL, B, 0.0f, C, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_sgemm(NULL, NULL, 2, 2, 3, 1.0f, A, B, 0.0f, C, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_sgemm(rt, NULL, (size_t)INT32_MAX + 1, 2, 3, 1.0f, A, B, 0.0f, C, NULL), WEFT_EINVAL);
    weft_k_args_t a;
    assert_int_equal(weft_k_sgemm_args(&a, 2, 2, 0, 1.0f, A, B, 0.0f, C), WEFT_EINVAL);
    assert_int_equal(weft_k_sgemm_args(&a, 2, 2, 3, 1.0f, A, B, 0.0f, A), WEFT_EINVAL); /* C overlaps A */
    assert_int_equal(weft_k_sgemm_args(&a, 2, 2, 3, 1.0f, A, B, 0.0f, C), 0);
    /* 2 x 3 times 3 x 2 */
    WT_CHECK(weft_k_sgemm(rt, NULL, 2, 2, 3, 1.0f, A, B, 0.0f, C, WT_PANIC));
    assert_true(C[0] == 4.0f && C[1] == 5.0f && C[2] == 10.0f && C[3] == 11.0f);
    weft_runtime_destroy(rt);
}

/* weft_k_sgemm is an ordinary parallel operation: C is borrowed for
 * writing (an operation writing C meanwhile refuses it, and the other way
 * round), STATIC keeps its speed model on disk, chunks are traced. */
static atomic_int gate;

static void wait_for_gate(size_t begin, size_t end, void *const *argv)
{
    (void)begin, (void)end, (void)argv;
    wt_gate_hold(&gate);
}

static void test_sgemm_is_an_operation(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    problem p;
    problem_init(&p, 40, 24, 8, 1.0f, 0.0f, 0);

    /* A running operation writes the second row of C: weft_k_sgemm on C is refused. */
    atomic_store(&gate, 0);
    const weft_kernel_t blocker = {.name = "blocker", .cpu = wait_for_gate};
    weft_arg_t row = weft_arg_split(p.C + p.N, p.N * sizeof(float), p.N * sizeof(float), WEFT_WRITE);
    weft_policy_t cpu;
    weft_policy_init(&cpu);
    cpu.devices = 0;
    weft_handle_t *h;
    WT_CHECK(weft_parallel_for(rt, &blocker, weft_range_1d(1, 1), &row, 1, &cpu, &h));
    assert_int_equal(weft_k_sgemm(rt, NULL, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, p.C, NULL), WEFT_EBORROW);
    assert_non_null(strstr(weft_last_error_message(), "blocker"));
    /* Not C: fine meanwhile. */
    float *C2 = kt_alloc(p.M * p.N * sizeof(float));
    WT_CHECK(weft_k_sgemm(rt, NULL, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, C2, WT_PANIC));
    memcpy(p.C, C2, p.M * p.N * sizeof(float));
    problem_check(&p, "beside a borrow");
    atomic_store(&gate, 1);
    WT_CHECK(weft_join(h, NULL, NULL));
    free(C2);

    /* STATIC stores the measured speeds under the operation's name. */
    char dir[] = "/tmp/weft-sgemm-model-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *old = getenv("WEFT_CACHE_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("WEFT_CACHE_DIR", dir, 1);
    WT_CHECK(weft_trace_start(rt, "trace-sgemm.json"));
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = WEFT_POLICY_STATIC;
    WT_CHECK(weft_k_sgemm(rt, &pol, p.M, p.N, p.K, p.alpha, p.A, p.B, p.beta, p.C, WT_PANIC));
    problem_check(&p, "static");
    char model[sizeof dir + 32];
    snprintf(model, sizeof model, "%s/weft_k_sgemm.model", dir);
    assert_int_equal(access(model, R_OK), 0);
    unlink(model);
    rmdir(dir);
    if (saved) setenv("WEFT_CACHE_DIR", saved, 1);
    else unsetenv("WEFT_CACHE_DIR");
    free(saved);

    /* Its chunks are in the trace, under its name, covering every row. */
    weft_trace_chunk_t chunks[64];
    size_t n = 0, rows = 0;
    WT_CHECK(weft_trace_chunks(rt, chunks, 64, &n));
    assert_true(n > 0 && n <= 64);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(chunks[i].kernel, "weft_k_sgemm");
        rows += chunks[i].end - chunks[i].begin;
    }
    assert_int_equal(rows, p.M);
    problem_free(&p);
    weft_runtime_destroy(rt);
    remove("trace-sgemm.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_small_and_odd),
        cmocka_unit_test(test_sgemm_copy_path),
        cmocka_unit_test(test_sgemm_medium),
        cmocka_unit_test(test_sgemm_device_faults),
        cmocka_unit_test(test_sgemm_edges_and_bad_arguments),
        cmocka_unit_test(test_sgemm_is_an_operation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

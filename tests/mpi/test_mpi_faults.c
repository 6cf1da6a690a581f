/* test_mpi_faults.c — failures across MPI ranks (run under mpirun with 1 to
 * 4 ranks; the cases about rank 2 need 3): a panic on one rank is a panic on
 * every rank, naming the rank, place, kernel and rows; failures on several
 * ranks are counted; failover runs a failed rank's rows on the others; wrong
 * use (ranks disagreeing, a local array too small, refused arguments) is
 * WEFT_EINVAL on every rank. Nothing hangs: every case returns on every
 * rank (the test's timeout would catch one that did not). */
#include "mpi_test.h"

#include <weft/testing.h>

static weft_runtime_t *rt;

/* Which ranks' CPU bodies panic (bit q: rank q). */
static unsigned failing;

static void fill(size_t begin, size_t end, void *const *argv)
{
    int *v = argv[0];
    if (failing >> wt_mpi_rank & 1) weft_panic("rank %d refuses rows [%zu, %zu)", wt_mpi_rank, begin, end);
    for (size_t i = begin; i < end; i++) v[i] = (int)(3 * i + 1);
}

static const char fill_cl[] =
    "__kernel void fill(__global int *v, const ulong n)\n"
    "{ size_t i = get_global_id(0); if (i < n) v[i] = (int)(3 * i + 1); }\n";

static const weft_kernel_t fill_k = {.name = "fill", .cpu = fill, .cl_source = fill_cl, .cl_entry = "fill"};

#define N 4000

static int run_fill(int *v, const weft_policy_t *pol, weft_panic_t **pn)
{
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(v, N * sizeof *v, sizeof *v, WEFT_WRITE), weft_arg_scalar(&n, sizeof n)};
    return weft_mpi_parallel_run(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), args, 2, pol, pn);
}

static int filled(const int *v)
{
    for (size_t i = 0; i < N; i++)
        if (v[i] != (int)(3 * i + 1)) return 0;
    return 1;
}

static weft_policy_t cpu_policy(void)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.devices = 0;
    return p;
}

/* Rank 2's CPU body panics: WEFT_EPANIC on every rank, naming rank 2. */
static void panic_on_rank_2(void **state)
{
    (void)state;
    if (wt_mpi_size < 3) skip();
    failing = 1u << 2;
    int *v = calloc(N, sizeof *v);
    weft_policy_t pol = cpu_policy();
    weft_panic_t *pn = NULL;
    int rc = run_fill(v, &pol, &pn);
    failing = 0;
    size_t b = 0, e = 0;
    int ok = rc == WEFT_EPANIC && pn && strstr(weft_panic_message(pn), "rank 2 of ") &&
             strstr(weft_panic_message(pn), "failed first, on the CPU, kernel 'fill'") &&
             strstr(weft_panic_message(pn), "rank 2 refuses rows") && weft_panic_kernel(pn) &&
             strcmp(weft_panic_kernel(pn), "fill") == 0 && weft_panic_range(pn, &b, &e) == 1 &&
             weft_panic_suppressed(pn) == 0;
    if (pn) print_message("rank %d: %s\n", wt_mpi_rank, weft_panic_message(pn));
    /* The rows named are rank 2's. */
    weft_mpi_plan_t *p;
    int prc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), &pol, 0, &p);
    weft_mpi_rows_t r = {0};
    if (prc == 0) weft_mpi_plan_rows(p, 2, &r);
    ok = ok && prc == 0 && b >= r.begin && e <= r.end && b < e;
    if (prc == 0) weft_mpi_plan_destroy(p);
    weft_panic_destroy(pn);
    assert_true(wt_mpi_all_ok(ok, "a panic on rank 2 reaches every rank"));
    /* And the next call runs normally. */
    rc = run_fill(v, &pol, NULL);
    assert_true(wt_mpi_all_ok(rc == 0 && filled(v), "the call after a panic"));
    free(v);
}

/* Two ranks fail: the first is named, the other counted. */
static void failures_counted(void **state)
{
    (void)state;
    if (wt_mpi_size < 3) skip();
    failing = (1u << 1) | (1u << 2);
    int *v = calloc(N, sizeof *v);
    weft_policy_t pol = cpu_policy();
    weft_panic_t *pn = NULL;
    int rc = run_fill(v, &pol, &pn);
    failing = 0;
    int ok = rc == WEFT_EPANIC && pn && weft_panic_suppressed(pn) == 1 &&
             strstr(weft_panic_message(pn), "(1 other failure on other ranks)") &&
             (strstr(weft_panic_message(pn), "rank 1 of") || strstr(weft_panic_message(pn), "rank 2 of"));
    weft_panic_destroy(pn);
    assert_true(wt_mpi_all_ok(ok, "two failing ranks"));
    free(v);
}

/* A device fault injected on rank 2 only. */
static void device_fault_on_rank_2(void **state)
{
    (void)state;
    int ndev = weft_device_count(rt), min_dev = 0;
    MPI_Allreduce(&ndev, &min_dev, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (wt_mpi_size < 3 || min_dev == 0) skip();
    if (wt_mpi_rank == 2) WT_CHECK(weft_fault_inject(rt, -1, -1, -5 /* CL_OUT_OF_RESOURCES */, "fill"));
    int *v = calloc(N, sizeof *v);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = weft_device_mask(rt, 0);
    weft_panic_t *pn = NULL;
    int rc = run_fill(v, &pol, &pn);
    if (wt_mpi_rank == 2) weft_fault_clear(rt);
    int ok = rc == WEFT_EPANIC && pn && strstr(weft_panic_message(pn), "rank 2 of ") &&
             weft_panic_device(pn) != NULL && weft_panic_cl_status(pn) == -5 &&
             weft_panic_cl_status_name(pn) && strcmp(weft_panic_cl_status_name(pn), "CL_OUT_OF_RESOURCES") == 0;
    if (pn) print_message("rank %d: %s\n", wt_mpi_rank, weft_panic_message(pn));
    weft_panic_destroy(pn);
    assert_true(wt_mpi_all_ok(ok, "a device fault on rank 2 reaches every rank"));
    free(v);
}

static int recovered_calls;
static void on_recovered(const weft_panic_t *p, void *data)
{
    (void)data;
    if (strstr(weft_panic_message(p), "its rows ran again on the other ranks")) recovered_calls++;
}

/* Failover: rank 2's rows run on the others; every rank has them all. */
static void failover_across_ranks(void **state)
{
    (void)state;
    if (wt_mpi_size < 3) skip();
    failing = 1u << 2;
    int *v = calloc(N, sizeof *v);
    weft_policy_t pol = cpu_policy();
    pol.on_fault = WEFT_FAULT_FAILOVER;
    pol.on_recovered = on_recovered;
    recovered_calls = 0;
    weft_mpi_plan_t *p;
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), &pol, 0, &p);
    assert_true(wt_mpi_all_ok(rc == 0, "plan"));
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(v, N * sizeof *v, sizeof *v, WEFT_WRITE), weft_arg_scalar(&n, sizeof n)};
    rc = weft_mpi_run(p, &fill_k, args, 2, &pol, NULL, NULL);
    failing = 0;
    weft_mpi_stats_t st;
    weft_mpi_plan_stats(p, &st);
    weft_mpi_plan_destroy(p);
    assert_true(wt_mpi_all_ok(rc == 0 && filled(v) && recovered_calls == 1 && st.rounds == 2, "failover"));
    /* Every rank failing: nothing left to fail over to. */
    failing = ~0u;
    rc = run_fill(v, &pol, NULL);
    failing = 0;
    assert_true(wt_mpi_all_ok(rc == WEFT_EPANIC, "every rank failing panics"));
    free(v);
}

/* Ranks giving different ranges to a plan: WEFT_EINVAL everywhere. */
static void ranges_disagree(void **state)
{
    (void)state;
    if (wt_mpi_size < 2) skip();
    weft_mpi_plan_t *p = NULL;
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(wt_mpi_rank == 1 ? N + 64 : N, 64), NULL, 0, &p);
    int ok = rc == WEFT_EINVAL && p == NULL && strstr(weft_last_error_message(), "the ranks disagree") &&
             strstr(weft_last_error_message(), "rank 0 gives kernel 'fill', range 4000") &&
             strstr(weft_last_error_message(), "rank 1 gives kernel 'fill', range 4064");
    assert_true(wt_mpi_all_ok(ok, "different ranges"));
}

/* Ranks giving different argument shapes: WEFT_EINVAL naming the argument. */
static void arguments_disagree(void **state)
{
    (void)state;
    if (wt_mpi_size < 2) skip();
    int *v = calloc(2 * N, sizeof *v);
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(v, (wt_mpi_rank == wt_mpi_size - 1 ? 2 : 1) * N * sizeof *v, sizeof *v, WEFT_WRITE),
                         weft_arg_scalar(&n, sizeof n)};
    weft_policy_t pol = cpu_policy();
    int rc = weft_mpi_parallel_run(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), args, 2, &pol, NULL);
    int ok = rc == WEFT_EINVAL && strstr(weft_last_error_message(), "the ranks disagree on argument 0") &&
             strstr(weft_last_error_message(), "16000 bytes") && strstr(weft_last_error_message(), "32000 bytes");
    /* A different number of arguments. */
    rc = weft_mpi_parallel_run(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), args, wt_mpi_rank == 0 ? 1 : 2, &pol, NULL);
    ok = ok && rc == WEFT_EINVAL && strstr(weft_last_error_message(), "with 1 arguments") &&
         strstr(weft_last_error_message(), "with 2");
    assert_true(wt_mpi_all_ok(ok, "different arguments"));
    free(v);
}

/* One rank's local array too small for its rows: every rank hears which. */
static void local_array_too_small(void **state)
{
    (void)state;
    weft_mpi_plan_t *p;
    weft_policy_t pol = cpu_policy();
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), &pol, 0, &p);
    assert_true(wt_mpi_all_ok(rc == 0, "plan"));
    weft_mpi_rows_t r;
    weft_mpi_plan_rows(p, wt_mpi_rank, &r);
    size_t rows = r.last - r.first, bad = (size_t)wt_mpi_size - 1;
    int *v = calloc(rows + 1, sizeof *v);
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(v, (rows - ((size_t)wt_mpi_rank == bad)) * sizeof *v, sizeof *v, WEFT_WRITE),
                         weft_arg_scalar(&n, sizeof n)};
    weft_mpi_options_t o;
    weft_mpi_options_init(&o);
    o.layout = WEFT_MPI_DISTRIBUTED;
    rc = weft_mpi_run(p, &fill_k, args, 2, &pol, &o, NULL);
    char want[64];
    snprintf(want, sizeof want, "rank %zu of %d: ", bad, wt_mpi_size);
    int ok = rc == WEFT_EINVAL && strstr(weft_last_error_message(), "the local array of") &&
             ((size_t)wt_mpi_rank == bad || strstr(weft_last_error_message(), want));
    assert_true(wt_mpi_all_ok(ok, "a local array too small"));
    weft_mpi_plan_destroy(p);
    free(v);
}

/* Arguments weft_mpi cannot spread over ranks are refused on every rank. */
static void refused_arguments(void **state)
{
    (void)state;
    int *v = calloc(N, sizeof *v);
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_scattered(v, N * sizeof *v, WEFT_WRITE), weft_arg_scalar(&n, sizeof n)};
    weft_policy_t pol = cpu_policy();
    int rc = weft_mpi_parallel_run(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), args, 2, &pol, NULL);
    int ok = rc == WEFT_EINVAL && strstr(weft_last_error_message(), "is scattered");
    /* A policy naming a part: the ranks' blocks are the parts. */
    args[0] = weft_arg_split(v, N * sizeof *v, sizeof *v, WEFT_WRITE);
    pol.part_end = 64;
    rc = weft_mpi_parallel_run(rt, MPI_COMM_WORLD, &fill_k, weft_range_1d(N, 64), args, 2, &pol, NULL);
    ok = ok && rc == WEFT_EINVAL && strstr(weft_last_error_message(), "names a part of the range");
    assert_true(wt_mpi_all_ok(ok, "refused arguments"));
    free(v);
}

static void before(void)
{
    rt = wt_mpi_runtime();
    wt_capture_install(); /* the panics are expected: keep them off stderr */
}

static void after(void) { weft_runtime_destroy(rt); }

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(panic_on_rank_2),
        cmocka_unit_test(failures_counted),
        cmocka_unit_test(device_fault_on_rank_2),
        cmocka_unit_test(failover_across_ranks),
        cmocka_unit_test(ranges_disagree),
        cmocka_unit_test(arguments_disagree),
        cmocka_unit_test(local_array_too_small),
        cmocka_unit_test(refused_arguments),
    };
    return WT_MPI_MAIN(tests, before, after);
}

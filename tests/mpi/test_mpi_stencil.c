/* test_mpi_stencil.c — a 50-step 5-point stencil on rows distributed over
 * MPI ranks (run under mpirun with 1 to 4 ranks): each rank holds only its
 * rows and a halo row each side; every step exchanges exactly the halo rows
 * with the neighbours, and after 50 steps every rank's rows are the same
 * bits as the one-process run. On the CPU and every device of each rank,
 * and on devices alone (their buffers then reach the local arrays through
 * absolute row indices). Checks are reduced over the ranks. */
#include "mpi_test.h"

#include <weft/kernels.h>

#define W 83
#define H 161
#define STEPS 50

static weft_runtime_t *rt;

static float cell(size_t i) { return (float)((i * 2654435761u) % 1000) / 1000.0f; }

/* Bytes this rank sends per step: its own rows that a neighbour's block,
 * widened by the halo, reaches. */
static uint64_t halo_bytes_expected(const weft_mpi_plan_t *p, size_t halo)
{
    weft_mpi_rows_t mine;
    weft_mpi_plan_rows(p, wt_mpi_rank, &mine);
    uint64_t bytes = 0;
    for (int q = 0; q < wt_mpi_size; q++) {
        weft_mpi_rows_t r;
        weft_mpi_plan_rows(p, q, &r);
        if (q == wt_mpi_rank || r.end == r.begin) continue;
        size_t lo = r.begin > halo ? r.begin - halo : 0, hi = r.end + halo;
        lo = lo > mine.begin ? lo : mine.begin;
        hi = hi < mine.end ? hi : mine.end;
        if (lo < hi) bytes += (uint64_t)(hi - lo) * W * sizeof(float);
    }
    return bytes;
}

static void run_distributed(const weft_policy_t *pol)
{
    /* One process: the whole grid. */
    float *a = malloc(W * H * sizeof *a), *b = malloc(W * H * sizeof *b), *ref = NULL;
    for (size_t i = 0; i < W * H; i++) a[i] = cell(i);
    WT_CHECK(weft_k_stencil5(rt, pol, W, H, 0.5f, 0.125f, a, b, STEPS, &ref, WT_PANIC));

    /* Across ranks: rows [first, last) of each grid. */
    weft_k_args_t s;
    WT_CHECK(weft_k_stencil5_args(&s, W, H, 0.5f, 0.125f, a, b));
    weft_mpi_plan_t *p;
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, s.kernel, s.range, pol, 1, &p);
    assert_true(wt_mpi_all_ok(rc == 0, "plan"));
    weft_mpi_rows_t r;
    weft_mpi_plan_rows(p, wt_mpi_rank, &r);
    size_t rows = r.last - r.first;
    float *la = malloc((rows ? rows : 1) * W * sizeof *la), *lb = malloc((rows ? rows : 1) * W * sizeof *lb);
    for (size_t y = r.first; y < r.last; y++)
        for (size_t x = 0; x < W; x++) la[(y - r.first) * W + x] = lb[(y - r.first) * W + x] = cell(y * W + x);
    /* Halo rows start wrong: only the exchange can make them right. */
    for (size_t y = r.first; y < r.last; y++)
        if (y < r.begin || y >= r.end)
            for (size_t x = 0; x < W; x++) la[(y - r.first) * W + x] = -1.0f;
    weft_mpi_options_t o;
    weft_mpi_options_init(&o);
    o.layout = WEFT_MPI_DISTRIBUTED;
    uint64_t want = halo_bytes_expected(p, 1);
    int ok = 1;
    for (int step = 0; step < STEPS && ok; step++) {
        float *in = step % 2 ? lb : la, *out = step % 2 ? la : lb;
        weft_k_args_t t;
        WT_CHECK(weft_k_stencil5_args(&t, W, H, 0.5f, 0.125f, in, out));
        t.args[4].data = in; /* the local arrays: their rows [first, last) */
        t.args[4].bytes = rows * W * sizeof(float);
        t.args[5].data = out;
        t.args[5].bytes = rows * W * sizeof(float);
        weft_panic_t *pn = NULL;
        rc = weft_mpi_run(p, t.kernel, t.args, t.nargs, pol, &o, &pn);
        if (pn) print_message("rank %d: %s\n", wt_mpi_rank, weft_panic_message(pn));
        weft_panic_destroy(pn);
        weft_mpi_stats_t st;
        weft_mpi_plan_stats(p, &st);
        ok = rc == 0 && st.halo_bytes_sent == want && st.bytes_sent == want;
        if (!ok)
            print_message("rank %d step %d: rc %d, halo bytes %llu, bytes %llu, expected %llu\n", wt_mpi_rank, step, rc,
                          (unsigned long long)st.halo_bytes_sent, (unsigned long long)st.bytes_sent,
                          (unsigned long long)want);
    }
    assert_true(wt_mpi_all_ok(ok, "50 steps with exactly the halo rows sent"));
    /* STEPS is even: the state is back in la (and the one-process one in a). */
    size_t own = (r.end - r.begin) * W;
    ok = ref == a && (own == 0 || memcmp(la + (r.begin - r.first) * W, a + r.begin * W, own * sizeof *la) == 0);
    assert_true(wt_mpi_all_ok(ok, "the rows differ from the one-process run"));
    weft_mpi_plan_destroy(p);
    free(la);
    free(lb);
    free(a);
    free(b);
}

static void cpu_and_devices(void **state)
{
    (void)state;
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0);
    run_distributed(&pol);
}

static void devices_only(void **state)
{
    (void)state;
    if (weft_device_count(rt) == 0) skip();
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = weft_device_mask(rt, 0);
    run_distributed(&pol);
}

/* The same 50 steps replicated: every rank ends with the whole grid. */
static void replicated(void **state)
{
    (void)state;
    float *a = malloc(W * H * sizeof *a), *b = malloc(W * H * sizeof *b);
    float *c = malloc(W * H * sizeof *c), *d = malloc(W * H * sizeof *d), *ref = NULL;
    for (size_t i = 0; i < W * H; i++) a[i] = c[i] = cell(i);
    memset(b, 0, W * H * sizeof *b);
    memset(d, 0, W * H * sizeof *d);
    WT_CHECK(weft_k_stencil5(rt, NULL, W, H, 0.5f, 0.125f, a, b, STEPS, &ref, WT_PANIC));
    weft_k_args_t s;
    WT_CHECK(weft_k_stencil5_args(&s, W, H, 0.5f, 0.125f, c, d));
    weft_mpi_plan_t *p;
    assert_true(wt_mpi_all_ok(weft_mpi_plan_create(rt, MPI_COMM_WORLD, s.kernel, s.range, NULL, 0, &p) == 0, "plan"));
    int ok = 1;
    for (int step = 0; step < STEPS && ok; step++) {
        weft_k_args_t t;
        WT_CHECK(weft_k_stencil5_args(&t, W, H, 0.5f, 0.125f, step % 2 ? d : c, step % 2 ? c : d));
        ok = weft_mpi_run(p, t.kernel, t.args, t.nargs, NULL, NULL, NULL) == 0;
    }
    assert_true(wt_mpi_all_ok(ok && memcmp(c, a, W * H * sizeof *c) == 0, "replicated stencil differs"));
    weft_mpi_plan_destroy(p);
    free(a);
    free(b);
    free(c);
    free(d);
}

static void before(void)
{
    rt = wt_mpi_runtime();
}

static void after(void) { weft_runtime_destroy(rt); }

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_and_devices),
        cmocka_unit_test(devices_only),
        cmocka_unit_test(replicated),
    };
    return WT_MPI_MAIN(tests, before, after);
}

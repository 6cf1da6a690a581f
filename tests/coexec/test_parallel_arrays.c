/* test_parallel_arrays.c — registered arrays (weft/array.h): data that stays
 * on devices between operations.
 *   - a 100-step ping-pong stencil on registered arrays, static policy, on
 *     every place mix: bit for bit the sequential result; after the first
 *     step each step moves exactly the halo rows its places' neighbours
 *     wrote (none at all on unified memory), whenever the split stayed put;
 *   - a registered whole argument goes up once, not once per operation;
 *   - the program's own changes (weft_array_host_changed) reach devices;
 *   - failover of a registered read-write argument restores its rows;
 *   - a runtime destroyed under a live array leaves the host copy current;
 *   - misuse is refused with a message (WEFT_EINVAL, WEFT_ESTATE). */
#define _GNU_SOURCE
#include "weft_test.h"

#include <weft/testing.h>

#include "parallel_kernels.h"

/* ---- the stencil: PK_STENCIL2D (parallel_kernels.h) ------------------------------ */

#define W 64
#define H 256
#define STEPS 100

static void init_grid(float *g, size_t n)
{
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        g[i] = (float)(s >> 8) / (float)(1u << 24) * 1000.0f;
    }
}

static int by_begin(const void *x, const void *y)
{
    const weft_trace_chunk_t *a = x, *b = y;
    return a->begin < b->begin ? -1 : a->begin > b->begin;
}

/* The step's chunks, by first row: n of them in c (room for 64). */
static size_t step_chunks(weft_runtime_t *rt, weft_trace_chunk_t *c)
{
    size_t n = 0;
    WT_CHECK(weft_trace_chunks(rt, c, 64, &n));
    assert_true(n <= 64);
    qsort(c, n, sizeof *c, by_begin);
    return n;
}

/* What a step moves when every place keeps the rows it had: at each border
 * between two places that keep separate copies, each side needs the other's
 * halo row — read back from a device that wrote it, uploaded to a device
 * that reads it. */
static uint64_t halo_bytes(const weft_trace_chunk_t *c, size_t n, int separate)
{
    uint64_t moved = 0, row = W * sizeof(float);
    for (size_t i = 1; i < n && separate; i++) {
        if (c[i].place_id == c[i - 1].place_id) continue;
        moved += 2 * row * (uint64_t)((c[i].place_id != 0) + (c[i - 1].place_id != 0));
    }
    return moved;
}

static int same_split(const weft_trace_chunk_t *a, size_t na, const weft_trace_chunk_t *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i].begin != b[i].begin || a[i].end != b[i].end || a[i].place_id != b[i].place_id) return 0;
    return 1;
}

static void pingpong(weft_runtime_t *rt, const wt_mix *m)
{
    size_t n = (size_t)W * H, bytes = n * sizeof(float);
    float *ref[2] = {malloc(bytes), malloc(bytes)}, *g[2] = {malloc(bytes), malloc(bytes)};
    for (int i = 0; i < 2; i++) assert_true(ref[i] && g[i]);
    init_grid(ref[0], n);
    memcpy(g[0], ref[0], bytes);
    for (size_t i = 0; i < n; i++) g[1][i] = -1.0f; /* garbage no cell may keep */
    for (int it = 0; it < STEPS; it++)
        for (size_t y = 0; y < H; y++)
            for (size_t x = 0; x < W; x++) ref[(it + 1) & 1][y * W + x] = pk_cell2d(ref[it & 1], x, y, W, H);

    weft_array_t *arr[2];
    for (int i = 0; i < 2; i++) WT_CHECK(weft_array_create(rt, g[i], bytes, &arr[i]));
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_STATIC, m, 0);
    uint64_t w64 = W, h64 = H;
    int separate = wt_separate_memory();
    weft_trace_chunk_t prev[64], cur[64];
    size_t nprev = 0, stable = 0;
    for (int it = 0; it < STEPS; it++) {
        weft_arg_t args[] = {
            weft_arg_on(weft_arg_split_halo(g[it & 1], bytes, W * sizeof(float), 1), arr[it & 1]),
            weft_arg_on(weft_arg_split(g[(it + 1) & 1], bytes, W * sizeof(float), WEFT_WRITE), arr[(it + 1) & 1]),
            weft_arg_scalar(&w64, sizeof w64),
            weft_arg_scalar(&h64, sizeof h64),
        };
        WT_CHECK(weft_trace_start(rt, NULL));
        WT_CHECK(weft_parallel_run(rt, &PK_STENCIL2D, weft_range_2d(W, H, 16, 4), args, 4, &pol, WT_PANIC));
        weft_run_stats_t st;
        WT_CHECK(weft_runtime_last_run_stats(rt, &st));
        size_t ncur = step_chunks(rt, cur);
        int devices = 0;
        for (size_t i = 0; i < ncur; i++) devices |= cur[i].place_id != 0;
        if (!separate || !devices) {
            if (st.bytes_moved != 0)
                fail_msg("%s, step %d: %llu bytes moved where every place shares the host's memory", m->name, it,
                         (unsigned long long)st.bytes_moved);
        } else if (it == 0) {
            /* The first step uploads every device's rows. */
            assert_true(st.bytes_moved > 0);
        } else if (same_split(prev, nprev, cur, ncur)) {
            stable++;
            uint64_t want = halo_bytes(cur, ncur, separate);
            if (st.bytes_moved != want)
                fail_msg("%s, step %d: %llu bytes moved, the halo rows are %llu (%zu chunks)", m->name, it,
                         (unsigned long long)st.bytes_moved, (unsigned long long)want, ncur);
            uint64_t up = 0, down = 0;
            for (int p = 0; p < 65; p++) up += st.bytes_up[p], down += st.bytes_down[p];
            assert_int_equal(up + down, st.bytes_moved);
            assert_int_equal(st.bytes_up[0], 0);
        }
        memcpy(prev, cur, sizeof cur);
        nprev = ncur;
    }
    /* The split of a static operation over registered arrays stays put
     * unless the speeds moved it a lot: most steps keep it. */
    if (separate && nprev > 1) assert_true(stable >= 1);
    fprintf(stderr, "%s: %zu of %d steps kept the split\n", m->name, stable, STEPS - 1);
    for (int i = 0; i < 2; i++) WT_CHECK(weft_array_to_host(arr[i], 0, bytes));
    const float *got = g[STEPS & 1], *want = ref[STEPS & 1];
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s: cell (%zu,%zu) is %.9g, the sequential reference %.9g", m->name, i % W, i / W,
                     (double)got[i], (double)want[i]);
    for (int i = 0; i < 2; i++) {
        WT_CHECK(weft_array_destroy(arr[i]));
        free(ref[i]);
        free(g[i]);
    }
}

static void pingpong_100_steps(void **state)
{
    weft_runtime_t *rt = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    for (int i = 0; i < nm; i++) pingpong(rt, &mixes[i]);
}

/* ---- out[i] = table[i % T] * in[i] + 1 ------------------------------------------- */

#define T 1024

/* Device 0 alone. */
static weft_policy_t device0(void)
{
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = 1;
    return pol;
}

static void scale_cpu(size_t b, size_t e, void *const *argv)
{
    const float *table = argv[0], *in = argv[1];
    float *out = argv[2];
    for (size_t i = b; i < e; i++) out[i] = table[i % T] * in[i] + 1.0f;
}

static const weft_kernel_t SCALE = {
    .name = "ra_scale",
    .cpu = scale_cpu,
    .cl_source = "__kernel void ra_scale(__global const float *table, __global const float *in,\n"
                 "                       __global float *out, ulong n)\n"
                 "{ size_t i = get_global_id(0); if (i < n) out[i] = table[i % 1024] * in[i] + 1.0f; }\n",
    .cl_entry = "ra_scale"};

/* A registered whole argument: the first operation uploads it, the next
 * ones do not. */
static void whole_goes_up_once(void **state)
{
    weft_runtime_t *rt = *state;
    if (weft_device_count(rt) < 1) skip();
    size_t n = 4096;
    float table[T], *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    assert_true(in && out);
    for (size_t i = 0; i < T; i++) table[i] = (float)(i % 7);
    for (size_t i = 0; i < n; i++) in[i] = (float)i;
    weft_array_t *tab;
    WT_CHECK(weft_array_create(rt, table, sizeof table, &tab));
    weft_policy_t pol = device0();
    uint64_t n64 = n;
    weft_arg_t args[] = {
        weft_arg_on(weft_arg_whole(table, sizeof table), tab),
        weft_arg_split(in, n * sizeof *in, sizeof *in, WEFT_READ),
        weft_arg_split(out, n * sizeof *out, sizeof *out, WEFT_WRITE),
        weft_arg_scalar(&n64, sizeof n64),
    };
    weft_run_stats_t st[3];
    for (int r = 0; r < 3; r++) {
        memset(out, 0, n * sizeof *out);
        WT_CHECK(weft_parallel_run(rt, &SCALE, weft_range_1d(n, 64), args, 4, &pol, WT_PANIC));
        WT_CHECK(weft_runtime_last_run_stats(rt, &st[r]));
        for (size_t i = 0; i < n; i++) assert_true(out[i] == (float)(i % T % 7) * (float)i + 1.0f);
    }
    uint64_t rows = 2 * n * sizeof(float); /* in, and out's rows (write-only: up for the border) */
    if (wt_separate_memory()) {
        assert_int_equal(st[0].bytes_up[1], rows + sizeof table);
        assert_int_equal(st[1].bytes_up[1], rows);
        assert_int_equal(st[2].bytes_up[1], rows);
    } else {
        assert_int_equal(st[0].bytes_moved, 0);
    }
    WT_CHECK(weft_array_destroy(tab));
    free(in);
    free(out);
}

/* ---- y = 2y + 1, read-write ---------------------------------------------------- */

static void twice_cpu(size_t b, size_t e, void *const *argv)
{
    float *y = argv[0];
    for (size_t i = b; i < e; i++) y[i] = 2.0f * y[i] + 1.0f;
}

static const weft_kernel_t TWICE = {
    .name = "ra_twice",
    .cpu = twice_cpu,
    .cl_source = "__kernel void ra_twice(__global float *y, ulong n)\n"
                 "{ size_t i = get_global_id(0); if (i < n) y[i] = 2.0f * y[i] + 1.0f; }\n",
    .cl_entry = "ra_twice"};

static void run_twice(weft_runtime_t *rt, weft_array_t *a, size_t n, const weft_policy_t *pol)
{
    uint64_t n64 = n;
    weft_arg_t args[] = {
        weft_arg_on(weft_arg_split(weft_array_data(a), n * sizeof(float), sizeof(float), WEFT_READ_WRITE), a),
        weft_arg_scalar(&n64, sizeof n64),
    };
    WT_CHECK(weft_parallel_run(rt, &TWICE, weft_range_1d(n, 64), args, 2, pol, WT_PANIC));
}

/* The program changes the host copy itself: the next operation on a device
 * must see it, not the device's older copy. */
static void host_changes_reach_devices(void **state)
{
    weft_runtime_t *rt = *state;
    if (weft_device_count(rt) < 1) skip();
    size_t n = 1000;
    float *y = calloc(n, sizeof *y);
    assert_non_null(y);
    weft_array_t *a;
    WT_CHECK(weft_array_create(rt, y, n * sizeof *y, &a));
    weft_policy_t pol = device0();
    run_twice(rt, a, n, &pol); /* 1 everywhere, on the device */
    WT_CHECK(weft_array_to_host(a, 0, n * sizeof *y));
    for (size_t i = 0; i < n; i++) assert_true(y[i] == 1.0f);
    for (size_t i = 100; i < 200; i++) y[i] = 10.0f;
    WT_CHECK(weft_array_host_changed(a, 100 * sizeof *y, 100 * sizeof *y));
    run_twice(rt, a, n, &pol);
    /* The CPU alone next: it needs the device's newer bytes back. */
    pol.use_cpu = 1;
    pol.devices = 0;
    run_twice(rt, a, n, &pol);
    WT_CHECK(weft_array_to_host(a, 0, n * sizeof *y));
    for (size_t i = 0; i < n; i++) {
        float want = i >= 100 && i < 200 ? 43.0f : 7.0f; /* 0 -> 1 -> 3 -> 7; changed: 10 -> 21 -> 43 */
        if (y[i] != want) fail_msg("y[%zu] = %g, want %g", i, (double)y[i], (double)want);
    }
    WT_CHECK(weft_array_destroy(a));
    free(y);
}

/* Counts on_recovered calls (it may run on any thread). */
static void count_recovered(const weft_panic_t *p, void *user_data)
{
    (void)p;
    atomic_fetch_add((atomic_int *)user_data, 1);
}

/* Failover: the device's chunk fails, the CPU re-runs it on the rows as
 * they were (each element doubled once, never twice). */
static void failover_restores_rows(void **state)
{
    weft_runtime_t *rt = *state;
    if (weft_device_count(rt) < 1) skip();
    size_t n = 1 << 14;
    float *y = malloc(n * sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++) y[i] = (float)(i % 100);
    weft_array_t *a;
    WT_CHECK(weft_array_create(rt, y, n * sizeof *y, &a));
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_STATIC;
    pol.devices = 1;
    pol.on_fault = WEFT_FAULT_FAILOVER;
    run_twice(rt, a, n, &pol); /* the device now holds its rows */
    WT_CHECK(weft_fault_inject(rt, 0, 0, -5 /* CL_OUT_OF_RESOURCES */, "ra_twice"));
    atomic_int recovered = 0;
    pol.on_recovered = count_recovered;
    pol.recovered_data = &recovered;
    wt_capture_install();
    run_twice(rt, a, n, &pol);
    assert_int_equal(atomic_load(&recovered), 1); /* the failed chunk was recovered... */
    assert_int_equal(wt_capture_count(), 0);      /* ... so the panic hook never heard of it */
    wt_capture_restore();
    weft_fault_clear(rt);
    WT_CHECK(weft_array_to_host(a, 0, n * sizeof *y));
    for (size_t i = 0; i < n; i++) {
        float v = (float)(i % 100), want = 2.0f * (2.0f * v + 1.0f) + 1.0f;
        if (y[i] != want) fail_msg("y[%zu] = %g, want %g", i, (double)y[i], (double)want);
    }
    WT_CHECK(weft_array_destroy(a));
    free(y);
}

/* A runtime that goes first: the array's host copy is current after it. */
static void runtime_destroyed_first(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    if (!rt) return;
    size_t n = 777;
    float *y = calloc(n, sizeof *y);
    assert_non_null(y);
    weft_array_t *a;
    WT_CHECK(weft_array_create(rt, y, n * sizeof *y, &a));
    weft_policy_t pol = device0();
    run_twice(rt, a, n, &pol);
    run_twice(rt, a, n, &pol);
    weft_runtime_destroy(rt);
    for (size_t i = 0; i < n; i++) assert_true(y[i] == 3.0f);
    assert_int_equal(weft_array_to_host(a, 0, n * sizeof *y), 0);
    assert_int_equal(weft_array_destroy(a), 0);
    free(y);
}

/* ---- misuse -------------------------------------------------------------------- */

static atomic_int release_body;

static void wait_cpu(size_t b, size_t e, void *const *argv)
{
    (void)b, (void)e, (void)argv;
    wt_spin_until(&release_body, 1);
}

static void misuse(void **state)
{
    weft_runtime_t *rt = *state;
    float y[64] = {0}, z[64] = {0};
    weft_array_t *a = NULL, *b = NULL;
    assert_int_equal(weft_array_create(NULL, y, sizeof y, &a), WEFT_EINVAL);
    assert_int_equal(weft_array_create(rt, y, 0, &a), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "0 bytes");
    assert_null(a);
    WT_CHECK(weft_array_create(rt, y, sizeof y, &a));
    assert_ptr_equal(weft_array_data(a), y);
    assert_int_equal(weft_array_bytes(a), sizeof y);
    assert_int_equal(weft_array_to_host(a, 250, 8), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "outside the 256-byte array");
    assert_int_equal(weft_array_host_changed(NULL, 0, 1), WEFT_EINVAL);

    uint64_t n64 = 64;
    weft_policy_t pol;
    weft_policy_init(&pol);
    weft_handle_t *h = NULL;
    /* data not the array's first byte */
    weft_arg_t off[] = {weft_arg_on(weft_arg_split(y + 1, 63 * sizeof(float), sizeof(float), WEFT_READ_WRITE), a),
                        weft_arg_scalar(&n64, sizeof n64)};
    assert_int_equal(weft_parallel_for(rt, &TWICE, weft_range_1d(63, 64), off, 2, &pol, &h), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "argument 0: its data must be the registered array's first byte");
    /* a kind that cannot be registered */
    weft_arg_t scalar[] = {weft_arg_split(z, sizeof z, sizeof(float), WEFT_READ_WRITE),
                           weft_arg_on(weft_arg_scalar(&n64, sizeof n64), a)};
    assert_int_equal(weft_parallel_for(rt, &TWICE, weft_range_1d(64, 64), scalar, 2, &pol, &h), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "argument 1: only split and whole arguments can be on a registered");
    /* an array of another runtime */
    weft_runtime_t *other = wt_runtime(1, WT_NO_DEVICES, 0);
    WT_CHECK(weft_array_create(other, z, sizeof z, &b));
    weft_arg_t foreign[] = {weft_arg_on(weft_arg_split(z, sizeof z, sizeof(float), WEFT_READ_WRITE), b),
                            weft_arg_scalar(&n64, sizeof n64)};
    assert_int_equal(weft_parallel_for(rt, &TWICE, weft_range_1d(64, 64), foreign, 2, &pol, &h), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "registered with another runtime");
    WT_CHECK(weft_array_destroy(b));
    weft_runtime_destroy(other);

    /* in use by a running operation */
    const weft_kernel_t WAIT = {.name = "ra_wait", .cpu = wait_cpu};
    weft_arg_t busy[] = {weft_arg_on(weft_arg_split(y, sizeof y, sizeof(float), WEFT_READ_WRITE), a)};
    weft_policy_t cpu = pol;
    cpu.devices = 0;
    atomic_store(&release_body, 0);
    WT_CHECK(weft_parallel_for(rt, &WAIT, weft_range_1d(64, 64), busy, 1, &cpu, &h));
    assert_int_equal(weft_array_to_host(a, 0, sizeof y), WEFT_ESTATE);
    wt_assert_contains(weft_last_error_message(), "1 running operation uses the array");
    assert_int_equal(weft_array_destroy(a), WEFT_ESTATE);
    atomic_store(&release_body, 1);
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    WT_CHECK(weft_array_destroy(a));
}

static char cache_dir[256];

static int setup(void **state)
{
    *state = pk_cached_runtime(cache_dir, sizeof cache_dir, "arrays");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    pk_cached_runtime_destroy(*state, cache_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pingpong_100_steps),
        cmocka_unit_test(whole_goes_up_once),
        cmocka_unit_test(host_changes_reach_devices),
        cmocka_unit_test(failover_restores_rows),
        cmocka_unit_test(runtime_destroyed_first),
        cmocka_unit_test(misuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_parallel_borrow.c — two running operations may not write the same
 * bytes (C's stand-in for Rust's borrow checker): while a slow operation
 * writes an array, a second one writing any byte of it gets WEFT_EBORROW with
 * a message naming both kernels; split writes, read-write splits and
 * reduction results all count as writes; disjoint halves of one array (even
 * adjacent ones) are accepted; reading the same array twice is accepted; a
 * refused start leaks no borrow; once the first is joined, the same range is
 * accepted. Also inside a scope. The slow operation is a CPU-only kernel
 * whose body waits (weft_sleep_ns) for the test thread to open a gate. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1000

/* ---- the slow writer: waits for the gate, then a[i] = i + 1 ------------------- */

static atomic_int gate_open;
static atomic_int slow_entered;
static atomic_int slow_timed_out;

/* Only the piece with index 0 waits for the gate: pieces waiting on every
 * worker would leave none to run the operations the test starts meanwhile
 * (a join of one of them would then wait out the 30 s). */
static void slow_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *a = argv[0];
    atomic_fetch_add(&slow_entered, 1);
    if (b == 0 && !wt_gate_hold(&gate_open) && !wt_on_main_thread()) atomic_store(&slow_timed_out, 1);
    for (size_t i = b; i < e; i++) a[i] += i + 1;
}

static const weft_kernel_t SLOW = {.name = "slow writer", .cpu = slow_cpu};

/* ---- a quick writer: a[i] += value ----------------------------------------------- */

static void fill_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *a = argv[0];
    uint32_t v = *(const uint32_t *)argv[1];
    for (size_t i = b; i < e; i++) a[i] += v;
}

static const weft_kernel_t FILL = {.name = "second writer", .cpu = fill_cpu};

/* ---- a reduction over a read-only input ------------------------------------------- */

static void usum_cpu(size_t b, size_t e, void *const *argv)
{
    const uint32_t *x = argv[0];
    uint64_t *part = argv[1];
    for (size_t blk = b / 64; blk * 64 < e; blk++) {
        uint64_t s = 0;
        for (size_t j = blk * 64; j < blk * 64 + 64 && j < e; j++) s += x[j];
        part[blk] = s;
    }
}

static void uadd(void *acc, const void *p) { *(uint64_t *)acc += *(const uint64_t *)p; }

static const weft_kernel_t USUM = {.name = "summer", .cpu = usum_cpu};

static weft_policy_t cpu_only(void)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.kind = WEFT_POLICY_STATIC;
    p.use_cpu = 1;
    p.devices = 0;
    return p;
}

static void gate_reset(void)
{
    atomic_store(&gate_open, 0);
    atomic_store(&slow_entered, 0);
    atomic_store(&slow_timed_out, 0);
}

/* Start the slow writer over a[0, n) and wait until its body runs. */
static weft_handle_t *start_slow(weft_runtime_t *rt, uint32_t *a, size_t n)
{
    weft_arg_t args[] = {weft_arg_split(a, n * 4, 4, WEFT_WRITE)};
    weft_policy_t pol = cpu_only();
    weft_handle_t *h = NULL;
    WT_CHECK(weft_parallel_for(rt, &SLOW, weft_range_1d(n, 64), args, 1, &pol, &h));
    assert_non_null(h);
    for (int i = 0; i < 300000 && atomic_load(&slow_entered) == 0; i++) weft_sleep_ns(100000);
    assert_true(atomic_load(&slow_entered) > 0);
    assert_false(weft_handle_is_finished(h));
    return h;
}

static void join_slow(weft_handle_t *h)
{
    atomic_store(&gate_open, 1);
    weft_panic_t *p = NULL;
    int rc = weft_join(h, NULL, &p);
    if (rc) fail_msg("slow writer: %s: %s", weft_err_name(rc), p ? weft_panic_message(p) : "");
    assert_int_equal(atomic_load(&slow_timed_out), 0);
}

/* Start FILL over a[off, off+len) with the given access; returns the status
 * (0: started and joined, else the refusal with its message in *msg). */
static int try_fill(weft_runtime_t *rt, uint32_t *a, size_t off, size_t len, weft_access_t acc, uint32_t v,
                    char *msg, size_t cap)
{
    weft_arg_t args[] = {weft_arg_split(a + off, len * 4, 4, acc), weft_arg_scalar(&v, sizeof v)};
    weft_policy_t pol = cpu_only();
    weft_handle_t *h = NULL;
    int rc = weft_parallel_for(rt, &FILL, weft_range_1d(len, 64), args, 2, &pol, &h);
    if (msg) snprintf(msg, cap, "%s", rc ? weft_last_error_message() : "");
    if (rc) {
        assert_null(h);
        return rc;
    }
    WT_CHECK(weft_join(h, NULL, NULL));
    return 0;
}

static void overlapping_writes_refused(void **state)
{
    weft_runtime_t *rt = *state;
    gate_reset();
    uint32_t *a = calloc(N, 4);
    assert_non_null(a);
    weft_handle_t *slow = start_slow(rt, a, N);
    char msg[512];
    /* Overlapping the middle, the first byte, the last element. */
    static const size_t ranges[][2] = {{500, 100}, {0, 1}, {N - 1, 1}, {0, N}};
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(try_fill(rt, a, ranges[r][0], ranges[r][1], WEFT_WRITE, 1000, msg, sizeof msg),
                         WEFT_EBORROW);
        wt_assert_contains(msg, "second writer");
        wt_assert_contains(msg, "slow writer");
    }
    /* Read-write is a write too. */
    assert_int_equal(try_fill(rt, a, 10, 20, WEFT_READ_WRITE, 1000, msg, sizeof msg), WEFT_EBORROW);
    wt_assert_contains(msg, "second writer");
    wt_assert_contains(msg, "slow writer");
    /* So is a reduction's result landing inside the array. */
    uint32_t *x = calloc(256, 4);
    assert_non_null(x);
    uint64_t zero = 0;
    weft_arg_t rargs[] = {weft_arg_split(x, 256 * 4, 4, WEFT_READ),
                          weft_arg_reduce(a + 40, sizeof(uint64_t), &zero, uadd)};
    weft_policy_t pol = cpu_only();
    weft_handle_t *h = NULL;
    assert_int_equal(weft_parallel_for(rt, &USUM, weft_range_1d(256, 64), rargs, 2, &pol, &h), WEFT_EBORROW);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "summer");
    wt_assert_contains(weft_last_error_message(), "slow writer");
    /* Same through weft_parallel_run. */
    assert_int_equal(weft_parallel_run(rt, &USUM, weft_range_1d(256, 64), rargs, 2, &pol, NULL), WEFT_EBORROW);
    /* Another array is fine. (Joined after the slow writer: its body holds
     * both CPU workers until the gate opens.) */
    uint32_t *b = calloc(N, 4), five = 5;
    assert_non_null(b);
    weft_arg_t bargs[] = {weft_arg_split(b, N * 4, 4, WEFT_WRITE), weft_arg_scalar(&five, sizeof five)};
    weft_handle_t *hb = NULL;
    WT_CHECK(weft_parallel_for(rt, &FILL, weft_range_1d(N, 64), bargs, 2, &pol, &hb));
    assert_false(weft_handle_is_finished(slow));
    join_slow(slow);
    WT_CHECK(weft_join(hb, NULL, NULL));
    for (size_t i = 0; i < N; i++) assert_int_equal(b[i], 5);
    /* Nothing of the refused starts ran. */
    for (size_t i = 0; i < N; i++)
        if (a[i] != i + 1) fail_msg("a[%zu] = %u, expected %zu: a refused operation ran", i, a[i], i + 1);
    /* Joined: the same ranges are accepted now (refusals leaked no borrow). */
    assert_int_equal(try_fill(rt, a, 500, 100, WEFT_WRITE, 1000, msg, sizeof msg), 0);
    assert_int_equal(try_fill(rt, a, 0, N, WEFT_READ_WRITE, 1, msg, sizeof msg), 0);
    uint64_t sum = 99;
    rargs[1] = weft_arg_reduce(&sum, sizeof sum, &zero, uadd);
    for (size_t i = 0; i < 256; i++) x[i] = (uint32_t)i;
    assert_int_equal(weft_parallel_run(rt, &USUM, weft_range_1d(256, 64), rargs, 2, &pol, NULL), 0);
    assert_int_equal(sum, 255 * 256 / 2);
    for (size_t i = 0; i < N; i++) {
        uint32_t want = (uint32_t)(i + 1) + 1 + (i >= 500 && i < 600 ? 1000 : 0);
        if (a[i] != want) fail_msg("a[%zu] = %u, expected %u", i, a[i], want);
    }
    free(a);
    free(b);
    free(x);
}

static void disjoint_halves_accepted(void **state)
{
    weft_runtime_t *rt = *state;
    gate_reset();
    uint32_t *a = calloc(N, 4);
    assert_non_null(a);
    const size_t h = N / 2;
    weft_handle_t *slow = start_slow(rt, a, h); /* writes a[0, h) */
    /* The adjacent other half, started while the first runs. */
    uint32_t v = 7;
    weft_arg_t args[] = {weft_arg_split(a + h, (N - h) * 4, 4, WEFT_WRITE), weft_arg_scalar(&v, sizeof v)};
    weft_policy_t pol = cpu_only();
    weft_handle_t *second = NULL;
    WT_CHECK(weft_parallel_for(rt, &FILL, weft_range_1d(N - h, 64), args, 2, &pol, &second));
    /* A third straddling the border overlaps the first (a[h-1]) and the
     * second (a[h]): refused, naming itself and a running kernel. */
    char msg[512];
    weft_kernel_t straddle = FILL;
    straddle.name = "straddler";
    uint32_t w = 100;
    weft_arg_t sargs[] = {weft_arg_split(a + h - 1, 2 * 4, 4, WEFT_WRITE), weft_arg_scalar(&w, sizeof w)};
    weft_handle_t *third = NULL;
    assert_int_equal(weft_parallel_for(rt, &straddle, weft_range_1d(2, 64), sargs, 2, &pol, &third), WEFT_EBORROW);
    snprintf(msg, sizeof msg, "%s", weft_last_error_message());
    wt_assert_contains(msg, "straddler");
    if (!strstr(msg, "slow writer") && !strstr(msg, "second writer"))
        fail_msg("refusal names no running kernel: %s", msg);
    join_slow(slow);
    WT_CHECK(weft_join(second, NULL, NULL));
    for (size_t i = 0; i < N; i++) {
        uint32_t want = i < h ? (uint32_t)(i + 1) : 7;
        if (a[i] != want) fail_msg("a[%zu] = %u, expected %u", i, a[i], want);
    }
    free(a);
}

static void two_readers_accepted(void **state)
{
    weft_runtime_t *rt = *state;
    gate_reset();
    uint32_t *out = calloc(N, 4), *x = malloc(N * 4);
    assert_non_null(out);
    assert_non_null(x);
    for (size_t i = 0; i < N; i++) x[i] = (uint32_t)i;
    /* A slow writer of `out`, then two reductions reading x at once (each
     * started while the other and the writer run). */
    weft_handle_t *slow = start_slow(rt, out, N);
    uint64_t s1 = 0, s2 = 0, zero = 0;
    weft_arg_t a1[] = {weft_arg_split(x, N * 4, 4, WEFT_READ), weft_arg_reduce(&s1, 8, &zero, uadd)};
    weft_arg_t a2[] = {weft_arg_split(x, N * 4, 4, WEFT_READ), weft_arg_reduce(&s2, 8, &zero, uadd)};
    weft_policy_t pol = cpu_only();
    weft_handle_t *h1 = NULL, *h2 = NULL;
    WT_CHECK(weft_parallel_for(rt, &USUM, weft_range_1d(N, 64), a1, 2, &pol, &h1));
    WT_CHECK(weft_parallel_for(rt, &USUM, weft_range_1d(N, 64), a2, 2, &pol, &h2));
    /* Two reductions into the same result do write the same bytes. */
    weft_arg_t a3[] = {weft_arg_split(x, N * 4, 4, WEFT_READ), weft_arg_reduce(&s1, 8, &zero, uadd)};
    weft_handle_t *h3 = NULL;
    int rc3 = weft_parallel_for(rt, &USUM, weft_range_1d(N, 64), a3, 2, &pol, &h3);
    /* h1 may already be done (its borrow released): then h3 is accepted. */
    if (rc3 == 0) {
        WT_CHECK(weft_join(h3, NULL, NULL));
    } else {
        assert_int_equal(rc3, WEFT_EBORROW);
        wt_assert_contains(weft_last_error_message(), "summer");
    }
    join_slow(slow);
    WT_CHECK(weft_join(h1, NULL, NULL));
    WT_CHECK(weft_join(h2, NULL, NULL));
    assert_int_equal(s1, (uint64_t)(N - 1) * N / 2);
    assert_int_equal(s2, (uint64_t)(N - 1) * N / 2);
    free(out);
    free(x);
}

/* ---- inside a scope ------------------------------------------------------------------ */

typedef struct scope_ctx {
    uint32_t *a;
    int rc_overlap, rc_disjoint;
    char msg[512];
} scope_ctx;

static int scope_body(weft_scope_t *s, void *arg)
{
    scope_ctx *c = arg;
    weft_policy_t pol = cpu_only();
    weft_arg_t a1[] = {weft_arg_split(c->a, (N / 2) * 4, 4, WEFT_WRITE)};
    if (weft_scope_parallel_for(s, &SLOW, weft_range_1d(N / 2, 64), a1, 1, &pol, NULL)) return -100;
    uint32_t v = 3;
    weft_arg_t a2[] = {weft_arg_split(c->a + 100, 10 * 4, 4, WEFT_WRITE), weft_arg_scalar(&v, sizeof v)};
    c->rc_overlap = weft_scope_parallel_for(s, &FILL, weft_range_1d(10, 64), a2, 2, &pol, NULL);
    snprintf(c->msg, sizeof c->msg, "%s", weft_last_error_message());
    weft_arg_t a3[] = {weft_arg_split(c->a + N / 2, (N / 2) * 4, 4, WEFT_WRITE), weft_arg_scalar(&v, sizeof v)};
    c->rc_disjoint = weft_scope_parallel_for(s, &FILL, weft_range_1d(N / 2, 64), a3, 2, &pol, NULL);
    atomic_store(&gate_open, 1); /* the scope joins both */
    return 0;
}

static void borrows_in_a_scope(void **state)
{
    weft_runtime_t *rt = *state;
    gate_reset();
    scope_ctx c = {.a = calloc(N, 4)};
    assert_non_null(c.a);
    weft_panic_t *p = NULL;
    int rc = weft_scope(rt, scope_body, &c, &p);
    if (rc) fail_msg("scope: %s: %s", weft_err_name(rc), p ? weft_panic_message(p) : "");
    assert_int_equal(c.rc_overlap, WEFT_EBORROW);
    wt_assert_contains(c.msg, "second writer");
    wt_assert_contains(c.msg, "slow writer");
    assert_int_equal(c.rc_disjoint, 0);
    for (size_t i = 0; i < N; i++) {
        uint32_t want = i < N / 2 ? (uint32_t)(i + 1) : 3;
        if (c.a[i] != want) fail_msg("a[%zu] = %u, expected %u", i, c.a[i], want);
    }
    /* After the scope, everything is free again. */
    assert_int_equal(try_fill(rt, c.a, 0, N, WEFT_WRITE, 1, NULL, 0), 0);
    free(c.a);
}

static int setup(void **state)
{
    *state = wt_runtime(2, WT_ALL_DEVICES, 0);
    return 0;
}

static int teardown(void **state)
{
    atomic_store(&gate_open, 1);
    weft_runtime_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overlapping_writes_refused),
        cmocka_unit_test(disjoint_halves_accepted),
        cmocka_unit_test(two_readers_accepted),
        cmocka_unit_test(borrows_in_a_scope),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

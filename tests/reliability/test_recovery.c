/* test_recovery.c — a panic never leaves a lock held or a device queue wedged.
 *  (a) a task panics while holding a weft_mutex: others, already waiting and
 *      new, then lock it (told it is poisoned), clear_poison works;
 *  (b) locks taken at several depths: a panic releases exactly the ones
 *      taken inside the boundary it unwinds to (two held by the panicking
 *      task, none of its parent's), also on a dedicated thread;
 *  (c) a CPU body of a split operation panics holding a mutex: the
 *      operation fails, the mutex is free (poisoned) for the next one;
 *  (d) a device fails in the middle of a split run (fault at launch 2 of
 *      device 0, propagate): the run panics naming device 0; then a launch
 *      on that device, buffer copies on its queue and a new split run over
 *      the CPU and both devices all succeed with the right results. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include "reliability_util.h"

#include <stdatomic.h>
#include <stdlib.h>

/* ---- (a) one mutex, a panicking holder, waiters ------------------------------------ */

typedef struct shared {
    weft_mutex_t m;
    atomic_int holder_in; /* the panicking task holds m */
    atomic_int waiters;   /* tasks about to block on m */
    long counter;         /* guarded by m */
} shared;

static void *lock_and_panic(void *arg)
{
    shared *s = arg;
    weft_mutex_lock(&s->m);
    s->counter = 1000;
    atomic_store(&s->holder_in, 1);
    /* Let the waiters queue up on the lock before the panic releases it. */
    WT_WAIT_UNTIL(atomic_load(&s->waiters) == 4, 10);
    weft_sleep_ns(2000000);
    weft_panic("panicking while holding the lock");
}

static void *waiter(void *arg)
{
    shared *s = arg;
    if (!wt_spin_until(&s->holder_in, 1)) return (void *)(intptr_t)-1;
    atomic_fetch_add(&s->waiters, 1);
    int rc = weft_mutex_lock(&s->m); /* blocks until the panic releases it */
    s->counter++;
    weft_mutex_unlock(&s->m);
    return (void *)(intptr_t)rc;
}

static void panic_releases_and_poisons(void **state)
{
    (void)state;
    wt_capture *cap = wt_capture_install();
    weft_runtime_t *rt = wt_runtime(6, WT_NO_DEVICES, 0);
    shared s = {.counter = 0};
    assert_int_equal(weft_mutex_init(&s.m), 0);
    atomic_init(&s.holder_in, 0);
    atomic_init(&s.waiters, 0);
    weft_handle_t *h, *w[4];
    assert_int_equal(weft_spawn(rt, lock_and_panic, &s, &h), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(weft_spawn(rt, waiter, &s, &w[i]), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    assert_string_equal(weft_panic_message(p), "panicking while holding the lock");
    weft_panic_destroy(p);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        assert_int_equal(weft_join(w[i], &r, NULL), 0);
        assert_int_equal((intptr_t)r, 1); /* each waiter got the lock, told it was poisoned */
    }
    assert_int_equal(s.counter, 1004);
    assert_int_equal(weft_mutex_is_poisoned(&s.m), 1);
    /* New lockers, from a task and from the main thread. */
    assert_int_equal(weft_spawn(rt, waiter, &s, &w[0]), 0);
    void *r = NULL;
    assert_int_equal(weft_join(w[0], &r, NULL), 0);
    assert_int_equal((intptr_t)r, 1);
    assert_int_equal(weft_mutex_lock(&s.m), 1);
    weft_mutex_clear_poison(&s.m);
    assert_int_equal(weft_mutex_is_poisoned(&s.m), 0);
    assert_int_equal(weft_mutex_unlock(&s.m), 0);
    assert_int_equal(weft_mutex_lock(&s.m), 0);
    assert_int_equal(weft_mutex_unlock(&s.m), 0);
    weft_runtime_destroy(rt);
    weft_mutex_destroy(&s.m);
    assert_int_equal(cap->count, 1);
    wt_capture_restore();
}

/* ---- (b) depths ----------------------------------------------------------------------- */

typedef struct depths {
    weft_mutex_t outer, a, b;
    int outer_poisoned_in_task; /* seen by the parent after its scope */
    int scope_rc;
    int parent_unlock_rc;
} depths;

static void *take_two_and_panic(void *arg)
{
    depths *d = arg;
    weft_mutex_lock(&d->a);
    weft_mutex_lock(&d->b);
    weft_panic("two locks held");
}

static int child_scope(weft_scope_t *s, void *arg)
{
    return weft_scope_spawn(s, take_two_and_panic, arg, NULL);
}

typedef struct parent_arg {
    depths *d;
    weft_runtime_t *rt;
} parent_arg;

static void *parent_task(void *arg)
{
    parent_arg *pa = arg;
    depths *d = pa->d;
    weft_mutex_lock(&d->outer);
    weft_panic_t *p = NULL;
    d->scope_rc = weft_scope(pa->rt, child_scope, d, &p);
    weft_panic_destroy(p);
    /* The child's panic unwound to its own task boundary: outer is still ours. */
    d->outer_poisoned_in_task = weft_mutex_is_poisoned(&d->outer);
    d->parent_unlock_rc = weft_mutex_unlock(&d->outer);
    return NULL;
}

static void panic_releases_only_its_own_locks(void **state)
{
    (void)state;
    wt_capture_install();
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    for (int dedicated = 0; dedicated < 2; dedicated++) {
        depths d;
        memset(&d, 0, sizeof d);
        assert_int_equal(weft_mutex_init(&d.outer), 0);
        assert_int_equal(weft_mutex_init(&d.a), 0);
        assert_int_equal(weft_mutex_init(&d.b), 0);
        parent_arg pa = {&d, rt};
        weft_builder_t b;
        weft_builder_init(&b);
        b.name = "lock parent";
        if (dedicated) b.stack_size = 1u << 20;
        weft_handle_t *h;
        assert_int_equal(weft_builder_spawn(&b, rt, parent_task, &pa, &h), 0);
        assert_int_equal(weft_join(h, NULL, NULL), 0);
        assert_int_equal(d.scope_rc, WEFT_EPANIC);
        assert_int_equal(d.outer_poisoned_in_task, 0);
        assert_int_equal(d.parent_unlock_rc, 0);
        assert_int_equal(weft_mutex_is_poisoned(&d.outer), 0);
        /* Both of the child's locks were released and poisoned (taken in the
         * tasks' order, outer first: no lock-order inversion for TSan). */
        assert_int_equal(weft_mutex_lock(&d.outer), 0);
        assert_int_equal(weft_mutex_lock(&d.a), 1);
        assert_int_equal(weft_mutex_lock(&d.b), 1);
        weft_mutex_unlock(&d.b);
        weft_mutex_unlock(&d.a);
        weft_mutex_unlock(&d.outer);
        weft_mutex_destroy(&d.outer);
        weft_mutex_destroy(&d.a);
        weft_mutex_destroy(&d.b);
    }
    weft_runtime_destroy(rt);
    wt_capture_restore();
}

/* ---- (c) a CPU body panics holding a mutex --------------------------------------------- */

static weft_mutex_t body_lock;
static atomic_int body_panic_at; /* index whose piece panics, -1: none */
static atomic_int body_lock_poisoned_seen;

static void locking_body(size_t b, size_t e, void *const *argv)
{
    uint32_t *y = argv[0];
    if (weft_mutex_lock(&body_lock) == 1) atomic_store(&body_lock_poisoned_seen, 1);
    for (size_t i = b; i < e; i++) y[i] += 1;
    int at = atomic_load(&body_panic_at);
    if (at >= 0 && (size_t)at >= b && (size_t)at < e) weft_panic("body panics at %d with the lock held", at);
    weft_mutex_unlock(&body_lock);
}

static const weft_kernel_t LOCKING = {.name = "locking body", .cpu = locking_body};

static void body_panic_releases_lock(void **state)
{
    (void)state;
    wt_capture_install();
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    assert_int_equal(weft_mutex_init(&body_lock), 0);
    enum { NN = 4096 };
    uint32_t *y = calloc(NN, sizeof *y);
    assert_non_null(y);
    weft_arg_t args[] = {weft_arg_split(y, NN * sizeof *y, sizeof *y, WEFT_READ_WRITE)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 256;
    atomic_store(&body_panic_at, 1000);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_parallel_run(rt, &LOCKING, weft_range_1d(NN, 64), args, 1, &pol, &p), WEFT_EPANIC);
    wt_assert_contains(weft_panic_message(p), "with the lock held");
    weft_panic_destroy(p);
    assert_int_equal(weft_mutex_is_poisoned(&body_lock), 1);
    weft_mutex_clear_poison(&body_lock);
    /* The next operation takes the lock in every piece: no deadlock. */
    atomic_store(&body_panic_at, -1);
    atomic_store(&body_lock_poisoned_seen, 0);
    for (size_t i = 0; i < NN; i++) y[i] = 0;
    assert_int_equal(weft_parallel_run(rt, &LOCKING, weft_range_1d(NN, 64), args, 1, &pol, NULL), 0);
    for (size_t i = 0; i < NN; i++)
        if (y[i] != 1) fail_msg("y[%zu] = %u after the clean run", i, y[i]);
    assert_int_equal(atomic_load(&body_lock_poisoned_seen), 0);
    free(y);
    weft_mutex_destroy(&body_lock);
    weft_runtime_destroy(rt);
    wt_capture_restore();
}

/* ---- (d) a device failure in the middle of a split run ---------------------------------- */

#define DN 8192

static uint32_t y0_of(size_t i) { return (uint32_t)i ^ 0x3C3C3C3Cu; }

static int split_run(weft_runtime_t *rt, uint32_t *y, uint64_t devices, weft_panic_t **p)
{
    uint64_t n = DN;
    weft_arg_t args[] = {weft_arg_split(y, DN * sizeof *y, sizeof *y, WEFT_READ_WRITE), weft_arg_scalar(&n, sizeof n)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 128;
    pol.use_cpu = 1;
    pol.devices = devices;
    pol.on_fault = WEFT_FAULT_PROPAGATE;
    return weft_parallel_run(rt, &REL_AFFINE, weft_range_1d(DN, 64), args, 2, &pol, p);
}

static void device_failure_then_more_work(void **state)
{
    (void)state;
    atomic_store(rel_affine_pause(), 500000); /* leave the devices several chunks each */
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    int nd = weft_device_count(rt);
    uint64_t all = nd >= 2 ? 3 : 1;
    weft_device_info_t info;
    assert_int_equal(weft_device_info(rt, 0, &info), 0);
    wt_capture *cap = wt_capture_install();
    uint32_t *y = malloc(DN * sizeof *y);
    assert_non_null(y);

    /* A fault at the third launch of device 0 within one run: device 0 has
     * run two chunks of that run fine when it fails. (A run where device 0
     * took fewer than three chunks is clean: try again, counters reset.) */
    weft_panic_t *p = NULL;
    int rc = 0, runs = 0;
    for (; runs < 50 && rc == 0; runs++) {
        weft_fault_clear(rt);
        assert_int_equal(weft_fault_inject(rt, 0, 2, CL_OUT_OF_RESOURCES, NULL), 0);
        for (size_t i = 0; i < DN; i++) y[i] = y0_of(i);
        rc = split_run(rt, y, all, &p);
    }
    assert_int_equal(rc, WEFT_EPANIC);
    weft_run_stats_t st;
    assert_int_equal(weft_runtime_last_run_stats(rt, &st), 0);
    assert_true(st.items[1] >= 2 * 128); /* device 0's two good chunks */
    assert_non_null(p);
    assert_string_equal(weft_panic_device(p), info.name);
    assert_int_equal(weft_panic_cl_status(p), CL_OUT_OF_RESOURCES);
    size_t b = 0, e = 0;
    assert_true(weft_panic_range(p, &b, &e));
    assert_true(b < e && e <= DN);
    for (size_t i = b; i < e; i++)
        if (y[i] != y0_of(i)) fail_msg("y[%zu] in the failed chunk [%zu, %zu) was written", i, b, e);
    weft_panic_destroy(p);
    fprintf(stderr, "note: device 0 failed at its launch 2 (try %d), chunk [%zu, %zu), after %zu items of its own\n",
            runs, b, e, st.items[1]);

    /* 1. A launch on the device that failed. */
    for (size_t i = 0; i < DN; i++) y[i] = y0_of(i);
    weft_buffer_t *buf = NULL;
    assert_int_equal(weft_buffer_wrap(rt, 0, y, DN * sizeof *y, WEFT_READ_WRITE, &buf), 0);
    uint64_t n = DN;
    weft_karg_t kargs[] = {weft_karg_buffer(buf), weft_karg_scalar(&n, sizeof n)};
    weft_launch_t l = wt_launch_1d(0, NULL, REL_AFFINE_SRC, "rel_affine", DN, kargs, 2);
    weft_handle_t *h = NULL;
    assert_int_equal(weft_launch(rt, &l, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(weft_buffer_sync_to_host(buf, 0, DN * sizeof *y), 0);
    for (size_t i = 0; i < DN; i++)
        if (y[i] != y0_of(i) * 2u + 1u) fail_msg("launch after the failure: y[%zu] wrong", i);
    /* 2. Blocking copies on its queue. */
    uint32_t probe[16] = {0};
    assert_int_equal(weft_buffer_read(buf, 0, probe, sizeof probe), 0);
    assert_int_equal(probe[5], y0_of(5) * 2u + 1u);
    weft_buffer_destroy(buf);

    /* 3. A new split run over the CPU and every device. */
    for (size_t i = 0; i < DN; i++) y[i] = y0_of(i);
    p = NULL;
    rc = split_run(rt, y, all, &p);
    char report[2048];
    if (rc)
        fail_msg("split run after the failure: %s %s", weft_err_name(rc), wt_panic_report(p, report, sizeof report));
    for (size_t i = 0; i < DN; i++)
        if (y[i] != y0_of(i) * 2u + 1u) fail_msg("split run after the failure: y[%zu] wrong", i);
    assert_int_equal(weft_runtime_last_run_stats(rt, &st), 0);
    assert_int_equal(st.failed_chunks, 0);
    /* 4. And device 0 alone, so it surely runs chunks again. */
    uint64_t n2 = DN;
    weft_arg_t dargs[] = {weft_arg_split(y, DN * sizeof *y, sizeof *y, WEFT_READ_WRITE), weft_arg_scalar(&n2, sizeof n2)};
    weft_policy_t dev_only;
    weft_policy_init(&dev_only);
    dev_only.kind = WEFT_POLICY_DYNAMIC;
    dev_only.chunk = 512;
    dev_only.use_cpu = 0;
    dev_only.devices = 1;
    for (size_t i = 0; i < DN; i++) y[i] = y0_of(i);
    assert_int_equal(weft_parallel_run(rt, &REL_AFFINE, weft_range_1d(DN, 64), dargs, 2, &dev_only, NULL), 0);
    for (size_t i = 0; i < DN; i++)
        if (y[i] != y0_of(i) * 2u + 1u) fail_msg("device 0 alone after the failure: y[%zu] wrong", i);
    assert_int_equal(weft_runtime_last_run_stats(rt, &st), 0);
    assert_int_equal(st.items[1], DN);

    free(y);
    weft_runtime_destroy(rt);
    assert_int_equal(cap->count, 1); /* the one injected failure, heard once */
    wt_capture_restore();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(panic_releases_and_poisons),
        cmocka_unit_test(panic_releases_only_its_own_locks),
        cmocka_unit_test(body_panic_releases_lock),
        cmocka_unit_test(device_failure_then_more_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

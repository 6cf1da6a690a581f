/* test_device_launch_completion.c — how a launch's task completes (the
 * protocol at the top of host/launch.c): a thread outside the pool that
 * joins waits on the event and registers no completion callback; a detached
 * launch, a scope's launch, a launch joined inside the pool (a worker, or a
 * caller slot with tasks queued) and a polled one register one and complete
 * through it; a detached launch still in flight at weft_runtime_destroy is
 * waited for. An injected failure reaches each of those paths with its
 * message. Many threads launch at once in every way. Every kernel adds to a
 * buffer; the values are checked.
 *
 * A launch is kept in flight deterministically by a gate: a marker on the
 * device's in-order queue that waits for a user event, which the test
 * completes when it chooses. PoCL's basic device runs the commands behind a
 * user event inside clSetUserEventStatus and deadlocks there, so the gated
 * checks skip it (and a user event set to a failure crashes PoCL: a command
 * failing on the device is not tested). The count of callbacks registered
 * (host/host.h) tells which path was taken. Skips cleanly when the machine
 * has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>
#include <weft/testing.h>

#include "host/host.h"

static const char SRC[] = "__kernel void add_k(__global int *v, int k) { v[get_global_id(0)] += k; }\n";

#define N 256
#define MANY 8

/* ---- helpers ------------------------------------------------------------------- */
typedef struct fixture {
    weft_runtime_t *rt;
    int dev;
    weft_program_t *prog;
    weft_buffer_t *buf;
    int k;
    weft_karg_t args[2];
    weft_launch_t l;
    cl_event gate;                /* the user event the queue waits for, or NULL */
} fixture;

/* A zeroed buffer of N ints on dev and a launch that adds *k to each. */
static void fixture_init(fixture *f, weft_runtime_t *rt, int dev, weft_program_t *prog)
{
    static const int zeros[N];
    memset(f, 0, sizeof *f);
    f->rt = rt;
    f->dev = dev;
    f->prog = prog;
    f->k = 1;
    WT_CHECK(weft_buffer_create(rt, dev, sizeof zeros, WEFT_READ_WRITE, &f->buf));
    WT_CHECK(weft_buffer_write(f->buf, 0, zeros, sizeof zeros));
    f->args[0] = weft_karg_buffer(f->buf);
    f->args[1] = weft_karg_scalar(&f->k, sizeof f->k);
    f->l = wt_launch_1d(dev, prog, NULL, "add_k", N, f->args, 2);
}

/* Every element must be `want`; frees the buffer. */
static void fixture_check(fixture *f, int want)
{
    int v[N];
    WT_CHECK(weft_buffer_read(f->buf, 0, v, sizeof v));
    for (int i = 0; i < N; i++)
        if (v[i] != want) fail_msg("device %d: v[%d] = %d, want %d", f->dev, i, v[i], want);
    weft_buffer_destroy(f->buf);
    f->buf = NULL;
}

static long callbacks(const fixture *f)
{
    return atomic_load(&weft__host_of(f->rt)->devices[f->dev]->callbacks);
}

/* 1 when f's device can be gated; 0 on PoCL's basic device, where a gate
 * deadlocks (see the top): f's buffer is then freed, as the check is
 * skipped. */
static int gate_usable(fixture *f)
{
    weft_device_info_t info;
    WT_CHECK(weft_device_info(f->rt, f->dev, &info));
    if (strncmp(info.name, "basic-", 6) != 0) return 1;
    weft_buffer_destroy(f->buf);
    f->buf = NULL;
    return 0;
}

/* Hold every later command of the device's queue until gate_open. */
static void gate_close(fixture *f)
{
    cl_context ctx;
    cl_command_queue q;
    WT_CHECK(weft_device_cl(f->rt, f->dev, NULL, &ctx, &q));
    cl_int err;
    f->gate = clCreateUserEvent(ctx, &err);
    assert_int_equal(err, CL_SUCCESS);
    weft__device *d = weft__host_of(f->rt)->devices[f->dev];
    weft__queue_lock(d);
    err = clEnqueueMarkerWithWaitList(q, 1, &f->gate, NULL);
    if (err == CL_SUCCESS) err = clFlush(q);
    weft__queue_unlock(d);
    assert_int_equal(err, CL_SUCCESS);
}

/* Let the queue run on. */
static void gate_open(fixture *f)
{
    assert_int_equal(clSetUserEventStatus(f->gate, CL_COMPLETE), CL_SUCCESS);
    clReleaseEvent(f->gate);
    f->gate = NULL;
}

/* Wait for every command on the device's queue (detached launches). */
static void queue_finish(fixture *f)
{
    cl_command_queue q;
    WT_CHECK(weft_device_cl(f->rt, f->dev, NULL, NULL, &q));
    assert_int_equal(clFinish(q), CL_SUCCESS);
}

static weft_program_t *program(weft_runtime_t *rt)
{
    weft_program_t *prog = NULL;
    WT_CHECK(weft_program_create(rt, SRC, NULL, &prog, WT_PANIC));
    return prog;
}

/* What every failure's payload says. */
static void check_failure(const weft_panic_t *p, const fixture *f, const char *when)
{
    assert_non_null(p);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(f->rt, f->dev, &info));
    assert_true(weft_panic_cl_status(p) < 0);
    assert_string_equal(weft_panic_kernel(p), "add_k");
    assert_string_equal(weft_panic_device(p), info.name);
    size_t begin = 1, end = 0;
    assert_int_equal(weft_panic_range(p, &begin, &end), 1);
    assert_int_equal(begin, 0);
    assert_int_equal(end, N);
    const char *msg = weft_panic_message(p);
    wt_assert_contains(msg, "kernel 'add_k'");
    wt_assert_contains(msg, when);
    wt_assert_contains(msg, info.name);
    wt_assert_contains(msg, weft_cl_status_name(weft_panic_cl_status(p)));
    wt_assert_contains(msg, "range [0, 256)");
}

/* Run check on a fresh fixture on every device of one runtime with
 * cpu_threads workers; gated: not on devices a gate deadlocks on. */
static void on_every_device(int cpu_threads, int gated, void (*check)(fixture *f))
{
    weft_runtime_t *rt = wt_runtime(cpu_threads, WT_SELECTED_DEVICES, 1);
    weft_program_t *prog = program(rt);
    for (int d = 0; d < weft_device_count(rt); d++) {
        fixture f;
        fixture_init(&f, rt, d, prog);
        if (!gated || gate_usable(&f)) check(&f);
    }
    weft_program_destroy(prog);
    weft_runtime_destroy(rt);
}

/* ---- an outside join: no callback ----------------------------------------------- */
static void outside_join_registers_no_callback_on(fixture *f)
{
    for (int r = 0; r < 20; r++) {
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(f->rt, &f->l, &h));
        WT_CHECK(weft_join(h, NULL, WT_PANIC));
    }
    assert_int_equal(callbacks(f), 0);
    fixture_check(f, 20);
}

static void outside_join_registers_no_callback(void **state)
{
    (void)state;
    on_every_device(2, 0, outside_join_registers_no_callback_on);
}

/* ---- a poll: the callback completes it ---------------------------------------- */
static void poll_registers_callback_on(fixture *f)
{
    gate_close(f);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(f->rt, &f->l, &h));
    assert_int_equal(weft_handle_is_finished(h), 0);
    assert_int_equal(weft_handle_is_finished(h), 0); /* armed once */
    assert_int_equal(callbacks(f), 1);
    gate_open(f);
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(h), 30));
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    assert_int_equal(callbacks(f), 1);
    fixture_check(f, 1);
}

static void poll_registers_callback(void **state)
{
    (void)state;
    on_every_device(2, 1, poll_registers_callback_on);
}

/* ---- detached, in flight at runtime destroy -------------------------------------- */
static void detach_then_destroy(void **state)
{
    (void)state;
    int ndev = 0;
    for (int d = 0; d == 0 || d < ndev; d++) {
        weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
        ndev = weft_device_count(rt);
        weft_program_t *prog = program(rt);
        fixture f;
        fixture_init(&f, rt, d, prog);
        if (!gate_usable(&f)) {
            weft_program_destroy(prog);
            weft_runtime_destroy(rt);
            continue;
        }
        gate_close(&f);
        for (int i = 0; i < MANY; i++) {
            weft_handle_t *h = NULL;
            WT_CHECK(weft_launch(rt, &f.l, &h));
            weft_handle_detach(h);
        }
        assert_int_equal(callbacks(&f), MANY);
        gate_open(&f);
        queue_finish(&f);
        fixture_check(&f, MANY);
        weft_program_destroy(prog);
        /* The callbacks may still be running: destroy waits for them (a task
         * never completed would be reported as a leak). */
        weft_runtime_destroy(rt);
    }
}

/* ---- a scope's launches ------------------------------------------------------------ */
static int scope_body(weft_scope_t *s, void *arg)
{
    fixture *f = arg;
    weft_handle_t *joined = NULL;
    for (int i = 0; i < MANY; i++)
        WT_CHECK(weft_scope_launch(s, &f->l, i == 0 ? &joined : NULL));
    assert_int_equal(callbacks(f), MANY);
    gate_open(f);
    /* An armed launch joined from outside: the join and the callback race. */
    WT_CHECK(weft_join(joined, NULL, WT_PANIC));
    return 0;
}

static void scope_launches_on(fixture *f)
{
    gate_close(f);
    WT_CHECK(weft_scope(f->rt, scope_body, f, WT_PANIC));
    assert_int_equal(callbacks(f), MANY);
    fixture_check(f, MANY);
}

static void scope_launches(void **state)
{
    (void)state;
    on_every_device(2, 1, scope_launches_on);
}

/* ---- joined inside the pool ----------------------------------------------------- */
typedef struct pool_join {
    fixture *f;
    int rc;
    weft_panic_t *panic;
} pool_join;

static void *launch_and_join(void *arg)
{
    pool_join *pj = arg;
    weft_handle_t *h = NULL;
    pj->rc = weft_launch(pj->f->rt, &pj->f->l, &h);
    if (pj->rc == 0) pj->rc = weft_join(h, NULL, &pj->panic);
    return NULL;
}

/* A worker joins a launch held by the gate: it must register the callback
 * (it keeps running tasks), which the test waits to see before it opens. */
static void worker_join(fixture *f, pool_join *pj)
{
    long before = callbacks(f);
    gate_close(f);
    pj->f = f;
    weft_handle_t *h = NULL;
    WT_CHECK(weft_spawn(f->rt, launch_and_join, pj, &h));
    assert_true(WT_WAIT_UNTIL(callbacks(f) == before + 1, 30));
    gate_open(f);
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
}

static void join_in_worker_on(fixture *f)
{
    pool_join pj = {0};
    worker_join(f, &pj);
    assert_int_equal(pj.rc, 0);
    assert_null(pj.panic);
    fixture_check(f, 1);
}

static void join_in_worker(void **state)
{
    (void)state;
    on_every_device(2, 1, join_in_worker_on);
}

/* The caller slot: the only worker is held, a task that opens the gate is
 * queued, and the test thread joins the gated launch. With a task to run it
 * must keep running tasks, so it registers the callback, then runs the
 * queued task in its slot, which lets the launch finish. */
typedef struct hold {
    atomic_int running, release;
} hold;

static void *held(void *arg)
{
    hold *hd = arg;
    atomic_store(&hd->running, 1);
    wt_spin_until(&hd->release, 1);
    return NULL;
}

static void *open_gate(void *arg)
{
    gate_open(arg);
    return NULL;
}

static void join_in_caller_slot_on(fixture *f)
{
    hold hd;
    atomic_init(&hd.running, 0);
    atomic_init(&hd.release, 0);
    weft_handle_t *ha = NULL, *hb = NULL, *hl = NULL;
    WT_CHECK(weft_spawn(f->rt, held, &hd, &ha));
    assert_true(wt_spin_until(&hd.running, 1));
    gate_close(f);
    WT_CHECK(weft_launch(f->rt, &f->l, &hl));
    WT_CHECK(weft_spawn(f->rt, open_gate, f, &hb));
    WT_CHECK(weft_join(hl, NULL, WT_PANIC));
    assert_int_equal(callbacks(f), 1);
    atomic_store(&hd.release, 1);
    WT_CHECK(weft_join(hb, NULL, WT_PANIC));
    WT_CHECK(weft_join(ha, NULL, WT_PANIC));
    fixture_check(f, 1);
}

static void join_in_caller_slot(void **state)
{
    (void)state;
    on_every_device(1, 1, join_in_caller_slot_on);
}

/* ---- failures on every path -------------------------------------------------------- */
/* Fail the next launch on f's device (before it runs: the kernel never runs). */
static void inject(fixture *f)
{
    WT_CHECK(weft_fault_inject(f->rt, f->dev, 0, CL_OUT_OF_RESOURCES, NULL));
}

static int scope_fail_body(weft_scope_t *s, void *arg)
{
    fixture *f = arg;
    inject(f);
    WT_CHECK(weft_scope_launch(s, &f->l, NULL));
    return 0;
}

static void failures_on_every_path_on(fixture *f)
{
    const char *when = "failed during execution (injected fault)";
    wt_capture_install();

    /* An outside join. */
    inject(f);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(f->rt, &f->l, &h));
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    check_failure(p, f, when);
    assert_int_equal(weft_panic_cl_status(p), CL_OUT_OF_RESOURCES);
    weft_panic_destroy(p);

    /* Polled, then joined. */
    inject(f);
    WT_CHECK(weft_launch(f->rt, &f->l, &h));
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(h), 30));
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    check_failure(p, f, when);
    weft_panic_destroy(p);

    /* Detached: the hook hears it, the runtime counts it. */
    uint64_t detached = weft_runtime_detached_panics(f->rt);
    int hooks = wt_capture_count();
    inject(f);
    WT_CHECK(weft_launch(f->rt, &f->l, &h));
    weft_handle_detach(h);
    assert_true(WT_WAIT_UNTIL(weft_runtime_detached_panics(f->rt) == detached + 1, 30));
    assert_int_equal(wt_capture_count(), hooks + 1);
    wt_capture seen;
    wt_capture_get(&seen);
    wt_assert_contains(seen.last.message, "kernel 'add_k'");
    wt_assert_contains(seen.last.message, when);
    wt_assert_contains(seen.last.message, "CL_OUT_OF_RESOURCES");
    wt_assert_contains(seen.last.message, "range [0, 256)");
    assert_string_equal(seen.last.kernel, "add_k");
    assert_int_equal(seen.last.cl_status, CL_OUT_OF_RESOURCES);

    /* In a scope, unjoined: the cause of the scope's panic. */
    p = NULL;
    assert_int_equal(weft_scope(f->rt, scope_fail_body, f, &p), WEFT_EPANIC);
    assert_non_null(p);
    check_failure(weft_panic_cause(p), f, when);
    weft_panic_destroy(p);

    /* Joined by a worker. */
    pool_join pj = {.f = f};
    inject(f);
    WT_CHECK(weft_spawn(f->rt, launch_and_join, &pj, &h));
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    assert_int_equal(pj.rc, WEFT_EPANIC);
    check_failure(pj.panic, f, when);
    weft_panic_destroy(pj.panic);

    assert_int_equal(callbacks(f), 0); /* each completed before weft_launch returned */
    fixture_check(f, 0);
    wt_capture_restore();
}

static void failures_on_every_path(void **state)
{
    (void)state;
    on_every_device(2, 0, failures_on_every_path_on);
}

/* ---- many at once ------------------------------------------------------------------ */
/* Each launcher, on its own buffer, runs ROUNDS launches adding r+1, and
 * consumes each handle another way: an outside or pool join, a poll then a
 * join, a detach, a scope. The last round is joined, and the queue is in
 * order, so every earlier launch has run by then. */
#define ROUNDS 60
#define LAUNCHERS 5

typedef struct launcher {
    weft_runtime_t *rt;
    weft_program_t *prog;
    int dev;
    weft_buffer_t *buf;
    char why[256];
} launcher;

static int one_scope_launch(weft_scope_t *s, void *arg)
{
    return weft_scope_launch(s, arg, NULL);
}

static void *launch_rounds(void *arg)
{
    launcher *w = arg;
    for (int r = 0; r < ROUNDS && !w->why[0]; r++) {
        int k = r + 1;
        weft_karg_t args[2] = {weft_karg_buffer(w->buf), weft_karg_scalar(&k, sizeof k)};
        weft_launch_t l = wt_launch_1d(w->dev, w->prog, NULL, "add_k", N, args, 2);
        weft_handle_t *h = NULL;
        weft_panic_t *p = NULL;
        int how = r == ROUNDS - 1 ? 0 : r % 4, rc;
        if (how == 3) {
            rc = weft_scope(w->rt, one_scope_launch, &l, &p);
        } else if ((rc = weft_launch(w->rt, &l, &h)) == 0) {
            if (how == 2) {
                weft_handle_detach(h);
                continue;
            }
            if (how == 1) weft_handle_is_finished(h);
            rc = weft_join(h, NULL, &p);
        }
        if (rc) snprintf(w->why, sizeof w->why, "round %d: %s", r, p ? weft_panic_message(p) : weft_last_error_message());
        weft_panic_destroy(p);
    }
    return NULL;
}

static void many_threads(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    weft_program_t *prog = program(rt);
    for (int d = 0; d < weft_device_count(rt); d++) {
        static const int zeros[N];
        launcher w[LAUNCHERS];
        pthread_t th[LAUNCHERS];
        weft_handle_t *h[LAUNCHERS];
        for (int i = 0; i < LAUNCHERS; i++) {
            w[i] = (launcher){.rt = rt, .prog = prog, .dev = d};
            WT_CHECK(weft_buffer_create(rt, d, sizeof zeros, WEFT_READ_WRITE, &w[i].buf));
            WT_CHECK(weft_buffer_write(w[i].buf, 0, zeros, sizeof zeros));
        }
        /* Three plain threads outside the pool, two pool tasks. */
        for (int i = 0; i < LAUNCHERS; i++) {
            if (i < 3) assert_int_equal(pthread_create(&th[i], NULL, launch_rounds, &w[i]), 0);
            else WT_CHECK(weft_spawn(rt, launch_rounds, &w[i], &h[i]));
        }
        for (int i = 0; i < LAUNCHERS; i++) {
            if (i < 3) assert_int_equal(pthread_join(th[i], NULL), 0);
            else WT_CHECK(weft_join(h[i], NULL, WT_PANIC));
        }
        for (int i = 0; i < LAUNCHERS; i++) {
            if (w[i].why[0]) fail_msg("device %d, launcher %d: %s", d, i, w[i].why);
            fixture f = {.rt = rt, .dev = d, .buf = w[i].buf};
            fixture_check(&f, ROUNDS * (ROUNDS + 1) / 2);
        }
    }
    weft_program_destroy(prog);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outside_join_registers_no_callback),
        cmocka_unit_test(poll_registers_callback),
        cmocka_unit_test(detach_then_destroy),
        cmocka_unit_test(scope_launches),
        cmocka_unit_test(join_in_worker),
        cmocka_unit_test(join_in_caller_slot),
        cmocka_unit_test(failures_on_every_path),
        cmocka_unit_test(many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

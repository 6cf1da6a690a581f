/* test_destroy.c — weft_runtime_destroy at the edges of a runtime's life:
 *  - a dedicated thread that a task starts while destroy drains the pool
 *    spawns a pool task and joins it (or detaches it): destroy waits for the
 *    thread, the task runs, nothing hangs or leaks;
 *  - destroy called from the runtime's own task (on a worker, in a caller
 *    slot, on a dedicated thread) is refused with WEFT_EINVAL and the
 *    runtime goes on working;
 *  - handles never joined or detached are counted, their panics handed to
 *    the hook once, and freed (valgrind-clean).
 * A generous alarm() turns a hang into a failure. */
#include "weft_test.h"

#include <unistd.h>

#define REFUSED "weft_runtime_destroy: called from a task or worker of the runtime it destroys"
#define LOST "a task panicked and its handle was never joined or detached (found by weft_runtime_destroy)"

/* ---- a dedicated thread started during the drain ------------------------------- */

static atomic_int destroying;  /* the test thread is about to call destroy */
static atomic_int inner_ran;   /* the pool task the dedicated thread spawned */
static atomic_int joined_rc;   /* what the dedicated thread's join returned */

static void *inner(void *arg)
{
    (void)arg;
    atomic_fetch_add(&inner_ran, 1);
    return (void *)42;
}

static void *dedicated_joins(void *arg)
{
    weft_runtime_t *rt = arg;
    weft_handle_t *h;
    if (weft_spawn(rt, inner, NULL, &h)) return NULL;
    void *r = NULL;
    int rc = weft_join(h, &r, NULL);
    atomic_store(&joined_rc, rc == 0 && r == (void *)42 ? 1 : -1);
    return NULL;
}

static void *dedicated_detaches(void *arg)
{
    weft_runtime_t *rt = arg;
    weft_handle_t *h;
    if (weft_spawn(rt, inner, NULL, &h) == 0) weft_handle_detach(h);
    return NULL;
}

/* A pool task that, once destroy has begun, starts a dedicated thread with a
 * small stack (which blocks in its join instead of running pool tasks). */
typedef struct late {
    weft_runtime_t *rt;
    weft_task_fn body;
} late;

static void *starts_dedicated(void *arg)
{
    late *a = arg;
    wt_spin_until(&destroying, 1);
    weft_sleep_ns(20 * 1000 * 1000); /* most likely in the drain by now */
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "late";
    b.stack_size = 64 * 1024;
    weft_handle_t *h;
    if (weft_builder_spawn(&b, a->rt, a->body, a->rt, &h) == 0) weft_handle_detach(h);
    return NULL;
}

static void drain(weft_task_fn body)
{
    alarm(60);
    atomic_store(&destroying, 0);
    atomic_store(&inner_ran, 0);
    atomic_store(&joined_rc, 0);
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    late a = {rt, body};
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, starts_dedicated, &a, &h));
    weft_handle_detach(h);
    atomic_store(&destroying, 1);
    assert_int_equal(weft_runtime_destroy(rt), 0);
    alarm(0);
    assert_int_equal(atomic_load(&inner_ran), 1);
}

static void dedicated_thread_joins_during_drain(void **state)
{
    (void)state;
    drain(dedicated_joins);
    assert_int_equal(atomic_load(&joined_rc), 1);
}

static void dedicated_thread_detaches_during_drain(void **state)
{
    (void)state;
    drain(dedicated_detaches);
}

/* ---- destroy from the runtime's own threads -------------------------------------- */

typedef struct attempt {
    weft_runtime_t *rt;
    int rc;
    char msg[256];
    int worker;
} attempt;

static void *destroy_own(void *arg)
{
    attempt *at = arg;
    at->worker = weft_current_worker();
    at->rc = weft_runtime_destroy(at->rt);
    snprintf(at->msg, sizeof at->msg, "%s", weft_last_error_message());
    return NULL;
}

static void check_refused(const attempt *at)
{
    assert_int_equal(at->rc, WEFT_EINVAL);
    assert_string_equal(at->msg, REFUSED);
}

/* The runtime is whole: a task still runs and joins. */
static void still_works(weft_runtime_t *rt)
{
    weft_handle_t *h;
    void *r = NULL;
    WT_CHECK(weft_spawn(rt, inner, NULL, &h));
    WT_CHECK(weft_join(h, &r, NULL));
    assert_ptr_equal(r, (void *)42);
}

static void destroy_from_worker_refused(void **state)
{
    (void)state;
    alarm(60);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    for (int i = 0; i < 4; i++) {
        attempt at = {.rt = rt};
        weft_handle_t *h;
        WT_CHECK(weft_spawn(rt, destroy_own, &at, &h));
        WT_CHECK(weft_join(h, NULL, NULL));
        check_refused(&at);
        still_works(rt);
    }
    assert_int_equal(weft_runtime_destroy(rt), 0);
    alarm(0);
}

static atomic_int gate;

static void *hold(void *arg)
{
    (void)arg;
    wt_gate_hold(&gate);
    return NULL;
}

static void destroy_from_caller_slot_refused(void **state)
{
    (void)state;
    alarm(60);
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    atomic_store(&gate, 0);
    weft_handle_t *busy, *h;
    WT_CHECK(weft_spawn(rt, hold, NULL, &busy)); /* keeps the one worker */
    attempt at = {.rt = rt, .worker = -2};
    WT_CHECK(weft_spawn(rt, destroy_own, &at, &h));
    /* This thread runs the queued task in its caller slot while it waits, or
     * the worker does once free: either way, a task of rt. */
    WT_CHECK(weft_join(h, NULL, NULL));
    atomic_store(&gate, 1);
    WT_CHECK(weft_join(busy, NULL, NULL));
    check_refused(&at);
    still_works(rt);
    assert_int_equal(weft_runtime_destroy(rt), 0);
    alarm(0);
}

static void destroy_from_dedicated_thread_refused(void **state)
{
    (void)state;
    alarm(60);
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = 1 << 20;
    attempt at = {.rt = rt};
    weft_handle_t *h;
    WT_CHECK(weft_builder_spawn(&b, rt, destroy_own, &at, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    assert_int_equal(at.worker, -1);
    check_refused(&at);
    still_works(rt);
    assert_int_equal(weft_runtime_destroy(rt), 0);
    alarm(0);
}

/* ---- handles never consumed -------------------------------------------------------- */

static void *panics(void *arg)
{
    weft_panic("lost panic %d", (int)(intptr_t)arg);
}

static void unconsumed_handles_reported(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, inner, NULL, &h)); /* never consumed */
    WT_CHECK(weft_spawn(rt, inner, NULL, &h)); /* never consumed */
    WT_CHECK(weft_spawn(rt, panics, (void *)1, &h)); /* never consumed, panics */
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = 1 << 20;
    WT_CHECK(weft_builder_spawn(&b, rt, inner, NULL, &h)); /* never consumed, dedicated */
    WT_CHECK(weft_spawn(rt, panics, (void *)2, &h));
    weft_handle_detach(h); /* detached: counted as such, not as lost */
    WT_CHECK(weft_spawn(rt, inner, NULL, &h));
    WT_CHECK(weft_join(h, NULL, NULL)); /* joined */
    weft_runtime_report_t report;
    memset(&report, 0xff, sizeof report);
    assert_int_equal(weft_runtime_destroy_report(rt, &report), 0);
    assert_int_equal(report.unconsumed_handles, 4);
    assert_int_equal(report.unconsumed_panics, 1);
    assert_int_equal(report.detached_panics, 1);
    wt_capture c;
    wt_capture_get(&c);
    assert_int_equal(c.count, 3); /* two as they happened, the lost one again at the destroy */
    assert_string_equal(c.last.message, LOST);
    wt_assert_contains(c.last.report, "lost panic 1");
    wt_capture_restore();

    /* NULL report, and nothing left: nothing reported. */
    rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture_install();
    WT_CHECK(weft_spawn(rt, inner, NULL, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    assert_int_equal(weft_runtime_destroy_report(rt, &report), 0);
    assert_int_equal(report.unconsumed_handles, 0);
    assert_int_equal(report.unconsumed_panics, 0);
    assert_int_equal(wt_capture_count(), 0);
    wt_capture_restore();
    assert_int_equal(weft_runtime_destroy_report(NULL, &report), 0);
    assert_int_equal(report.unconsumed_handles, 0);
}

static int scope_leaves_handles(weft_scope_t *s, void *arg)
{
    (void)arg;
    weft_handle_t *h;
    WT_CHECK(weft_scope_spawn(s, inner, NULL, &h)); /* the scope's to release */
    return 0;
}

static void scope_handles_are_not_lost(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    WT_CHECK(weft_scope(rt, scope_leaves_handles, NULL, WT_PANIC));
    weft_runtime_report_t report;
    assert_int_equal(weft_runtime_destroy_report(rt, &report), 0);
    assert_int_equal(report.unconsumed_handles, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dedicated_thread_joins_during_drain),
        cmocka_unit_test(dedicated_thread_detaches_during_drain),
        cmocka_unit_test(destroy_from_worker_refused),
        cmocka_unit_test(destroy_from_caller_slot_refused),
        cmocka_unit_test(destroy_from_dedicated_thread_refused),
        cmocka_unit_test(unconsumed_handles_reported),
        cmocka_unit_test(scope_handles_are_not_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_oom_payload.c — under sustained out-of-memory a failure stays a
 * failure: a task that panics while no payload can be allocated joins with
 * WEFT_EPANIC and the static out-of-memory payload (weft_panic_destroy
 * leaves it alone; its accessors work), in a join and in a scope. Allocation
 * failures are injected into weft's own allocations (alloc_fail.h). */
#include "weft_test.h"

#include "alloc_fail.h"

#define OOM_MESSAGE ALLOC_OOM_MESSAGE

static atomic_int gate;

static void *panic_after_gate(void *arg)
{
    (void)arg;
    wt_spin_until(&gate, 1);
    weft_panic("this message needs memory that is not there");
}

static void *nothing(void *arg) { return arg; }

static void check_oom_payload(weft_panic_t *p)
{
    assert_non_null(p);
    assert_string_equal(weft_panic_message(p), OOM_MESSAGE);
    assert_string_equal(weft_panic_thread(p), "<unknown>");
    assert_string_equal(weft_panic_file(p), "<unknown>");
    assert_int_equal(weft_panic_line(p), 0);
    assert_null(weft_panic_device(p));
    assert_null(weft_panic_cause(p));
    assert_int_equal(weft_panic_range(p, NULL, NULL), 0);
    char buf[256];
    weft_panic_format(p, buf, sizeof buf);
    wt_assert_contains(buf, OOM_MESSAGE);
    weft_panic_destroy(p); /* a no-op on the static payload */
    weft_panic_destroy(p);
    assert_string_equal(weft_panic_message(p), OOM_MESSAGE);
}

/* Warm up what a join needs on this thread (its task cache, a caller slot),
 * so that only the panic itself meets the out-of-memory. */
static void warm_up(weft_runtime_t *rt)
{
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, nothing, NULL, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
}

static void join_under_oom(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    warm_up(rt);
    atomic_store(&gate, 0);
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, panic_after_gate, NULL, &h));
    alloc_fail_after(0);
    atomic_store(&gate, 1);
    weft_panic_t *p = NULL;
    void *result = (void *)1;
    int rc = weft_join(h, &result, &p);
    alloc_fail_off();
    assert_int_equal(rc, WEFT_EPANIC);
    assert_null(result);
    assert_true(atomic_load(&alloc_refused) > 0);
    check_oom_payload(p);
    assert_int_equal(wt_capture_count(), 1);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static int scope_body(weft_scope_t *s, void *arg)
{
    (void)arg;
    WT_CHECK(weft_scope_spawn(s, panic_after_gate, NULL, NULL));
    alloc_fail_after(0);
    atomic_store(&gate, 1);
    return 0;
}

static void scope_under_oom(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    warm_up(rt);
    atomic_store(&gate, 0);
    weft_panic_t *p = NULL;
    int rc = weft_scope(rt, scope_body, NULL, &p);
    alloc_fail_off();
    assert_int_equal(rc, WEFT_EPANIC);
    check_oom_payload(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static int spawn_panicking(void *rt, weft_handle_t **h) { return weft_spawn(rt, panic_after_gate, NULL, h); }

/* Every allocation of a panicking spawn+join failing in turn: the spawn is
 * refused (WEFT_ENOMEM), or the join reports the panic, never success. */
static void every_allocation_in_turn(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    warm_up(rt);
    atomic_store(&gate, 1);
    alloc_outcome o = alloc_campaign(spawn_panicking, rt, 64);
    assert_true(o.oom_payloads > 0);
    assert_string_equal(weft_panic_message(o.real), "this message needs memory that is not there");
    weft_panic_destroy(o.real);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(join_under_oom),
        cmocka_unit_test(scope_under_oom),
        cmocka_unit_test(every_allocation_in_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

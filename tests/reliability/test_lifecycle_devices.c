/* test_lifecycle_devices.c — device launches at the edges of their life:
 * a launch that fails (an injected fault) while no payload can be allocated
 * still joins with WEFT_EPANIC (the static out-of-memory payload), whichever
 * of weft's allocations fails first; and a launch handle never joined or
 * detached is armed, waited for and freed by weft_runtime_destroy, which
 * counts it and hands its panic to the hook. Skips without a device. */
#include "weft_test.h"
#include <weft/testing.h>

#include "alloc_fail.h"

static const char SRC[] =
    "__kernel void fill(__global int *o, int v)\n"
    "{\n"
    "    o[get_global_id(0)] = v;\n"
    "}\n";

typedef struct launcher {
    weft_runtime_t *rt;
    weft_launch_t l;
} launcher;

static int launch(void *ctx, weft_handle_t **h)
{
    launcher *la = ctx;
    return weft_launch(la->rt, &la->l, h);
}

static void failed_launch_under_oom(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, 64 * sizeof(int), WEFT_WRITE, &b));
    int v = 7;
    weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&v, sizeof v)};
    weft_launch_t l = wt_launch_1d(0, NULL, SRC, "fill", 64, args, 2);
    /* Built once, outside the out-of-memory: the campaign is about the
     * failure's payload. */
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    WT_CHECK(weft_fault_inject(rt, 0, -1, CL_OUT_OF_RESOURCES, NULL));
    launcher la = {rt, l};
    alloc_outcome o = alloc_campaign(launch, &la, 200);
    assert_true(o.oom_payloads > 0);
    assert_true(o.refused > 0);
    wt_assert_contains(weft_panic_message(o.real), "failed during execution (injected fault)");
    assert_int_equal(weft_panic_cl_status(o.real), CL_OUT_OF_RESOURCES);
    weft_panic_destroy(o.real);
    weft_fault_clear(rt);
    weft_buffer_destroy(b);
    wt_capture_restore();
    assert_int_equal(weft_runtime_destroy(rt), 0);
}

static void unconsumed_launches_at_destroy(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture *seen = wt_capture_install();
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, 64 * sizeof(int), WEFT_WRITE, &b));
    int v = 11;
    weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&v, sizeof v)};
    weft_launch_t l = wt_launch_1d(0, NULL, SRC, "fill", 64, args, 2);
    weft_handle_t *ok = NULL, *failed = NULL;
    WT_CHECK(weft_launch(rt, &l, &ok)); /* runs; nobody joins it */
    WT_CHECK(weft_fault_inject(rt, 0, 0, CL_OUT_OF_RESOURCES, NULL));
    WT_CHECK(weft_launch(rt, &l, &failed)); /* fails; nobody sees it */
    (void)ok;
    (void)failed;
    /* Buffers go after the destroy has waited for the launches. */
    weft_runtime_report_t report;
    assert_int_equal(weft_runtime_destroy_report(rt, &report), 0);
    assert_int_equal(report.unconsumed_handles, 2);
    assert_int_equal(report.unconsumed_panics, 1);
    assert_int_equal(report.detached_panics, 0);
    wt_capture c;
    wt_capture_get(&c);
    assert_int_equal(c.count, 2); /* as it failed, and at the destroy */
    (void)seen;
    assert_string_equal(c.last.message,
                        "a task panicked and its handle was never joined or detached (found by weft_runtime_destroy)");
    wt_assert_contains(c.last.report, "failed during execution (injected fault)");
    wt_capture_restore();
    weft_buffer_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_launch_under_oom),
        cmocka_unit_test(unconsumed_launches_at_destroy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_parallel_check.c — write-set checking (check_writes): in
 * separate-memory mode a device place fills a written split array outside the
 * chunk's declared bytes with a canary and verifies them afterwards, so a
 * kernel that writes more than it declares fails on a CPU-only machine
 * instead of corrupting data on a GPU. */
#define _GNU_SOURCE /* setenv */
#include "weft_test.h"
#include <weft/testing.h>

#include <stdlib.h>

/* out[i + shift] = i + 1 for i < n: with shift 1 each chunk writes the first
 * element of the next chunk (or past the range) — more than "4 bytes per
 * index" declares. */
static void shifted_cpu(size_t begin, size_t end, void *const *argv)
{
    uint32_t *out = argv[0];
    uint32_t shift = *(const uint32_t *)argv[1];
    for (size_t i = begin; i < end; i++) out[i + shift] = (uint32_t)(i + 1);
}

static const char shifted_src[] =
    "__kernel void shifted(__global uint *out, uint shift, uint n) {\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) out[i + shift] = (uint)(i + 1);\n"
    "}\n";

static const weft_kernel_t shifted = {.name = "shifted", .cpu = shifted_cpu, .cl_source = shifted_src, .cl_entry = "shifted"};

static weft_runtime_t *checking_runtime(int check)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.separate_memory = 1;
    o.check_writes = check;
    weft_runtime_t *rt = NULL;
    WT_CHECK(weft_runtime_create(&o, &rt));
    return rt;
}

static int run_shifted(weft_runtime_t *rt, uint32_t *out, uint32_t n, uint32_t shift, weft_panic_t **why)
{
    weft_arg_t args[] = {
        weft_arg_split(out, (n + 1) * sizeof *out, sizeof *out, WEFT_WRITE),
        weft_arg_scalar(&shift, sizeof shift),
        weft_arg_scalar(&n, sizeof n),
    };
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0; /* the devices, which copy */
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 256;
    return weft_parallel_run(rt, &shifted, weft_range_1d(n, 64), args, 3, &pol, why);
}

static void catches_an_under_declared_write(void **state)
{
    (void)state;
    weft_runtime_t *rt = checking_runtime(1);
    if (weft_device_count(rt) == 0) {
        weft_runtime_destroy(rt);
        skip();
    }
    enum { N = 1024 };
    uint32_t *out = calloc(N + 1, sizeof *out);
    assert_non_null(out);
    /* Declared right (shift 0): checked, and the result comes home. */
    WT_CHECK(run_shifted(rt, out, N, 0, WT_PANIC));
    for (uint32_t i = 0; i < N; i++) assert_int_equal(out[i], i + 1);
    /* One element further than declared: a panic that says where. */
    wt_capture_install();
    weft_panic_t *why = NULL;
    assert_int_equal(run_shifted(rt, out, N, 1, &why), WEFT_EPANIC);
    assert_non_null(why);
    wt_assert_contains(weft_panic_message(why), "wrote outside its declared bytes");
    wt_assert_contains(weft_panic_message(why), "argument 0");
    wt_assert_contains(weft_panic_message(why), "changed");
    assert_non_null(weft_panic_device(why));
    assert_string_equal(weft_panic_kernel(why), "shifted");
    size_t b = 1, e = 0;
    assert_int_equal(weft_panic_range(why, &b, &e), 1);
    assert_true(b < e && e <= N);
    weft_panic_destroy(why);
    wt_capture_restore();
    free(out);
    weft_runtime_destroy(rt);
}

static void unchecked_it_goes_unseen(void **state)
{
    (void)state;
    weft_runtime_t *rt = checking_runtime(-1);
    if (weft_device_count(rt) == 0) {
        weft_runtime_destroy(rt);
        skip();
    }
    enum { N = 1024 };
    uint32_t *out = calloc(N + 1, sizeof *out);
    assert_non_null(out);
    /* The same wrong declaration, unchecked: no error (what a GPU would do,
     * silently); the checking mode is what finds it. */
    WT_CHECK(run_shifted(rt, out, N, 1, WT_PANIC));
    free(out);
    weft_runtime_destroy(rt);
}

static void bad_settings(void **state)
{
    (void)state;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.devices = "none";
    o.check_writes = 2;
    weft_runtime_t *rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "check_writes is 2");
    o.check_writes = 0;
    assert_int_equal(setenv("WEFT_CHECK_WRITES", "yes", 1), 0);
    assert_int_equal(weft_runtime_create(&o, &rt), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "WEFT_CHECK_WRITES=\"yes\"");
    assert_int_equal(setenv("WEFT_SEPARATE_MEMORY", "2", 1), 0);
    assert_int_equal(unsetenv("WEFT_CHECK_WRITES"), 0);
    assert_int_equal(weft_runtime_create(&o, &rt), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "WEFT_SEPARATE_MEMORY=\"2\"");
    assert_int_equal(unsetenv("WEFT_SEPARATE_MEMORY"), 0);
    WT_CHECK(weft_runtime_create(&o, &rt));
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catches_an_under_declared_write),
        cmocka_unit_test(unchecked_it_goes_unseen),
        cmocka_unit_test(bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_device_select.c — choosing devices with the WEFT_DEVICES language,
 * through weft_runtime_options.devices and through $WEFT_DEVICES: "all",
 * "none", "cpu", "gpu", indices, lists, name substrings (any case); bad
 * indices, unmatched names and empty terms are refused with WEFT_EINVAL and
 * a message naming what was found. Also the fields of weft_device_info and
 * the printing functions.
 *
 * Run with POCL_DEVICES="pthread basic" (two PoCL CPU devices). Skips cleanly
 * when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Create with options.devices = spec; returns the status, *out the runtime. */
static int create_with(const char *spec, weft_runtime_t **out)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    o.devices = spec;
    *out = (weft_runtime_t *)1;
    int rc = weft_runtime_create(&o, out);
    if (rc) assert_null(*out);
    return rc;
}

/* The devices all PoCL drivers show, in WEFT_DEVICES index order. */
typedef struct machine {
    int n;
    char name[8][256];
} machine;

static machine found;

/* What "all" finds; skips the test unless it is PoCL's devices and only
 * them (nothing at all, a GPU machine without PoCL). Under CTest there must
 * then be PoCL's two CPU devices. */
static void need_devices(void)
{
    weft_runtime_t *rt = NULL;
    WT_CHECK(create_with("all", &rt));
    found.n = weft_device_count(rt);
    if (wt_pocl_devices(rt) != found.n) found.n = 0;
    for (int i = 0; i < found.n && i < 8; i++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, i, &info));
        snprintf(found.name[i], sizeof found.name[i], "%s", info.name);
    }
    weft_runtime_destroy(rt);
    /* Another PoCL set (CTest's _pocl_basic and _pocl_pthread2 entries):
     * these tests name PoCL's pthread and basic devices. */
    const char *pd = getenv("POCL_DEVICES");
    if (pd && !(strstr(pd, "pthread") && strstr(pd, "basic"))) skip();
    if (found.n == 0 || (found.n == 1 && !getenv("POCL_DEVICES"))) skip();
    assert_int_equal(found.n, 2);
}

/* Index of the found device whose name contains s, or -1. */
static int found_index(const char *s)
{
    for (int i = 0; i < found.n; i++)
        if (strstr(found.name[i], s)) return i;
    return -1;
}

/* Create with spec; it must select exactly the found devices listed in want
 * (indices into `found`, in order), n of them. */
static void expect_selects(const char *spec, const int *want, int n)
{
    weft_runtime_t *rt = NULL;
    int rc = create_with(spec, &rt);
    if (rc) fail_msg("devices=\"%s\": %s: %s", spec, weft_err_name(rc), weft_last_error_message());
    if (weft_device_count(rt) != n)
        fail_msg("devices=\"%s\": %d devices, want %d", spec, weft_device_count(rt), n);
    for (int i = 0; i < n; i++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, i, &info));
        assert_int_equal(info.index, i); /* renumbered from 0 */
        if (strcmp(info.name, found.name[want[i]]) != 0)
            fail_msg("devices=\"%s\": device %d is '%s', want '%s'", spec, i, info.name, found.name[want[i]]);
    }
    weft_runtime_destroy(rt);
}

/* Create with spec; it must fail with WEFT_EINVAL and a message holding each
 * of the given substrings (NULL-terminated). */
static void expect_refused(const char *spec, ...)
{
    weft_runtime_t *rt = NULL;
    int rc = create_with(spec, &rt);
    if (rc != WEFT_EINVAL) {
        if (rc == 0) weft_runtime_destroy(rt);
        fail_msg("devices=\"%s\": %s, want WEFT_EINVAL", spec, weft_err_name(rc));
    }
    va_list ap;
    va_start(ap, spec);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
        wt_assert_contains(weft_last_error_message(), s);
    va_end(ap);
}

static void select_good_specs(void **state)
{
    (void)state;
    need_devices();
    int pth = found_index("pthread"), bas = found_index("basic");
    assert_true(pth >= 0);
    assert_true(bas >= 0);
    const int both[] = {0, 1}, first[] = {0}, second[] = {1}, p[] = {pth}, b[] = {bas};

    expect_selects("all", both, 2);
    expect_selects(NULL, both, 2); /* default: "all" */
    expect_selects("none", NULL, 0);
    expect_selects("cpu", both, 2);
    expect_selects("gpu", NULL, 0);         /* PoCL has none: selects nothing */
    expect_selects("accelerator", NULL, 0);
    expect_selects("0", first, 1);
    expect_selects("1", second, 1);
    expect_selects("0,1", both, 2);
    expect_selects("1,0", both, 2);         /* machine order either way */
    expect_selects("0,0", first, 1);        /* a device is opened once */
    expect_selects(" 0 , 1 ", both, 2);     /* spaces around terms */
    expect_selects("pthread", p, 1);
    expect_selects("PTHREAD", p, 1);        /* names match in any case */
    expect_selects("PThread", p, 1);
    expect_selects("basic", b, 1);
    expect_selects("gpu,basic", b, 1);
    expect_selects("none,0", first, 1);
    /* A substring both names hold: PoCL names devices "<driver>-<cpu model>". */
    const char *dash = strchr(found.name[0], '-');
    if (dash && dash[1] && strstr(found.name[1], dash + 1)) expect_selects(dash + 1, both, 2);
}

static void select_bad_specs(void **state)
{
    (void)state;
    need_devices();
    const char *pthread_name = found.name[found_index("pthread")];
    expect_refused("7", "WEFT_DEVICES=\"7\"", "no device has index \"7\"", "found 2 devices", pthread_name, NULL);
    expect_refused("2", "no device has index \"2\"", "found", NULL);
    expect_refused("0,7", "no device has index \"7\"", "found", NULL);
    expect_refused("99999999999999999999999", "no device has index", "found", NULL);
    expect_refused("nosuchdevice", "no device name contains \"nosuchdevice\"", "found 2 devices", pthread_name,
                   found.name[found_index("basic")], NULL);
    expect_refused("pthread,nosuchdevice", "nosuchdevice", "found", NULL);
    expect_refused("0,,1", "WEFT_DEVICES=\"0,,1\"", "empty term", NULL);
    expect_refused(",0", "empty term", NULL);
    expect_refused("0,", "empty term", NULL);
    expect_refused(" ", "empty term", NULL);
    char huge[400];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    expect_refused(huge, "longer than", NULL);
}

/* $WEFT_DEVICES is read when options.devices is NULL, and only then. */
static void select_through_env(void **state)
{
    (void)state;
    need_devices();
    int pth = found_index("pthread");
    const int p[] = {pth}, both[] = {0, 1};
    weft_runtime_t *rt = NULL;

    setenv("WEFT_DEVICES", "PTHREAD", 1);
    expect_selects(NULL, p, 1);
    expect_selects("all", both, 2); /* the option wins over the environment */
    setenv("WEFT_DEVICES", "none", 1);
    expect_selects(NULL, NULL, 0);
    setenv("WEFT_DEVICES", "0,1", 1);
    expect_selects(NULL, both, 2);
    setenv("WEFT_DEVICES", "", 1); /* empty: the default */
    expect_selects(NULL, both, 2);

    setenv("WEFT_DEVICES", "nosuchdevice", 1);
    int rc = create_with(NULL, &rt);
    setenv("WEFT_DEVICES", "0,,1", 1);
    int rc2 = create_with(NULL, &rt);
    char msg2[512];
    snprintf(msg2, sizeof msg2, "%s", weft_last_error_message());
    setenv("WEFT_DEVICES", "7", 1);
    int rc3 = create_with(NULL, &rt);
    unsetenv("WEFT_DEVICES");
    assert_int_equal(rc, WEFT_EINVAL);
    assert_int_equal(rc2, WEFT_EINVAL);
    wt_assert_contains(msg2, "empty term");
    assert_int_equal(rc3, WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "found");
    wt_assert_contains(weft_last_error_message(), found.name[pth]);

    /* A good option is not spoiled by a bad environment. */
    setenv("WEFT_DEVICES", "nosuchdevice", 1);
    rc = create_with("0", &rt);
    unsetenv("WEFT_DEVICES");
    assert_int_equal(rc, 0);
    assert_int_equal(weft_device_count(rt), 1);
    weft_runtime_destroy(rt);
}

static void device_info_fields(void **state)
{
    (void)state;
    need_devices();
    weft_runtime_t *rt = NULL;
    WT_CHECK(create_with("all", &rt));
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t i;
        memset(&i, 0xff, sizeof i);
        WT_CHECK(weft_device_info(rt, d, &i));
        assert_int_equal(i.index, d);
        assert_int_equal(i.type, WEFT_DEVICE_CPU);
        assert_true(strlen(i.name) > 0);
        assert_true(strlen(i.vendor) > 0);
        wt_assert_contains(i.platform, "Portable Computing Language");
        assert_true(strncmp(i.version, "OpenCL", 6) == 0);
        assert_true(i.compute_units > 0);
        assert_true(i.global_mem_bytes > 0);
        assert_true(i.max_alloc_bytes > 0);
        assert_true(i.max_alloc_bytes <= i.global_mem_bytes);
        assert_true(i.max_work_group_size > 0);
        assert_int_equal(i.unified_memory, wt_separate_memory() ? 0 : 1); /* PoCL shares the host's */
        /* The same as OpenCL says. */
        cl_device_id id = NULL;
        WT_CHECK(weft_device_cl(rt, d, &id, NULL, NULL));
        cl_ulong ma = 0;
        cl_uint cu = 0;
        char name[256];
        assert_int_equal(clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ma, &ma, NULL), CL_SUCCESS);
        assert_int_equal(clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL), CL_SUCCESS);
        assert_int_equal(clGetDeviceInfo(id, CL_DEVICE_NAME, sizeof name, name, NULL), CL_SUCCESS);
        assert_int_equal(i.max_alloc_bytes, ma);
        assert_int_equal(i.compute_units, cu);
        assert_string_equal(i.name, name);
    }
    weft_device_info_t i;
    assert_int_equal(weft_device_info(rt, -1, &i), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "device -1 does not exist");
    assert_int_equal(weft_device_info(rt, 2, &i), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "device 2 does not exist");
    assert_int_equal(weft_device_info(rt, 0, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "NULL");
    assert_int_equal(weft_device_info(NULL, 0, &i), WEFT_EINVAL);
    assert_int_equal(weft_device_count(NULL), 0);
    weft_runtime_destroy(rt);
}

static char *print_to_string(int (*fn)(FILE *), int *ret)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    *ret = fn(f);
    fclose(f);
    return text;
}

static void printing(void **state)
{
    (void)state;
    need_devices();
    /* Every device on the machine, with its WEFT_DEVICES index. */
    int n = 0;
    char *all = print_to_string(weft_device_print_all, &n);
    assert_int_equal(n, found.n);
    for (int i = 0; i < found.n; i++) {
        char line[300];
        snprintf(line, sizeof line, "%d: %s", i, found.name[i]);
        wt_assert_contains(all, line);
    }
    free(all);
    assert_int_equal(weft_device_print_all(NULL), found.n);

    /* Only the selected ones, renumbered. */
    weft_runtime_t *rt = NULL;
    WT_CHECK(create_with("basic", &rt));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(weft_device_print(rt, f), 1);
    fclose(f);
    char line[300];
    snprintf(line, sizeof line, "0: %s", found.name[found_index("basic")]);
    wt_assert_contains(text, line);
    assert_null(strstr(text, "pthread"));
    wt_assert_contains(text, "OpenCL");
    wt_assert_contains(text, wt_separate_memory() ? "separate memory" : "unified");
    free(text);
    weft_runtime_destroy(rt);

    WT_CHECK(create_with("none", &rt));
    text = NULL;
    f = open_memstream(&text, &len);
    assert_int_equal(weft_device_print(rt, f), 0);
    fclose(f);
    wt_assert_contains(text, "no OpenCL devices selected");
    free(text);
    weft_runtime_destroy(rt);
}

int main(void)
{
    unsetenv("WEFT_DEVICES");
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(select_good_specs),
        cmocka_unit_test(select_bad_specs),
        cmocka_unit_test(select_through_env),
        cmocka_unit_test(device_info_fields),
        cmocka_unit_test(printing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

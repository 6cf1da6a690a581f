/* device_test_util.h — what every device test file shares: a checked call,
 * a substring assertion, a runtime with the devices $WEFT_DEVICES selects (so
 * WEFT_DEVICES=gpu runs these tests on GPUs), and a clean skip without any. */
#ifndef WEFT_TESTS_DEVICE_TEST_UTIL_H
#define WEFT_TESTS_DEVICE_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <weft/weft.h>
#include <weft/opencl.h>
#include <weft/testing.h>
#include <weft/kernels.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        int check_rc_ = (call);                                                       \
        if (check_rc_ != 0)                                                           \
            fail_msg("%s: %s: %s", #call, weft_err_name(check_rc_), weft_last_error_message()); \
    } while (0)

#define assert_contains(hay, needle)                                                  \
    do {                                                                              \
        const char *hay_ = (hay), *needle_ = (needle);                                \
        if (!hay_ || !strstr(hay_, needle_))                                          \
            fail_msg("expected \"%s\" in \"%s\"", needle_, hay_ ? hay_ : "(null)");   \
    } while (0)

/* A runtime with cpu_threads workers and the devices `devices` selects (NULL:
 * $WEFT_DEVICES, else all). */
static inline weft_runtime_t *dev_runtime_opts(int cpu_threads, const char *devices)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = cpu_threads;
    o.devices = devices;
    weft_runtime_t *rt = NULL;
    CHECK(weft_runtime_create(&o, &rt));
    assert_non_null(rt);
    return rt;
}

/* Two workers and the devices $WEFT_DEVICES selects. */
static inline weft_runtime_t *dev_runtime(void) { return dev_runtime_opts(2, NULL); }

#define SKIP_WITHOUT_DEVICES(rt)                                                      \
    do {                                                                              \
        if (weft_device_count(rt) == 0) {                                             \
            weft_runtime_destroy(rt);                                                 \
            skip();                                                                   \
        }                                                                             \
    } while (0)

#endif

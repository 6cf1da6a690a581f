/* tests/test_util.h — helpers shared by the cmocka tests (not a test itself).
 *
 * Include after <cmocka.h>. Everything here is static inline so that a test
 * file that uses only part of it compiles without unused-function warnings.
 *
 * Rule for every test: cmocka asserts abort the whole binary when they fail
 * off the main thread, so tasks only record what they see; the test thread
 * asserts after the join. */
#ifndef WEFT_TEST_UTIL_H
#define WEFT_TEST_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <weft/weft.h>
#include <weft/opencl.h>
#include <weft/testing.h>
#include <weft/kernels.h>

/* A runtime with `threads` CPU workers and no OpenCL devices. */
static inline weft_runtime_t *test_runtime(int threads)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = threads;
    o.devices = "none";
    weft_runtime_t *rt = NULL;
    int rc = weft_runtime_create(&o, &rt);
    if (rc)
        fail_msg("weft_runtime_create(%d): %s: %s", threads, weft_err_name(rc),
                 weft_last_error_message());
    assert_non_null(rt);
    assert_int_equal(weft_runtime_cpu_threads(rt), threads);
    return rt;
}

static inline uint64_t test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Poll `cond` until it holds or `seconds` pass (a generous timeout, never a
 * timing assertion). Evaluates to 1 when the condition became true. */
#define TEST_WAIT_UNTIL(cond, seconds)                                         \
    __extension__({                                                            \
        uint64_t test_deadline_ = test_now_ns() + (uint64_t)(seconds) * 1000000000u; \
        int test_ok_ = 0;                                                      \
        for (;;) {                                                             \
            if (cond) { test_ok_ = 1; break; }                                 \
            if (test_now_ns() > test_deadline_) break;                         \
            weft_sleep_ns(100000);                                             \
        }                                                                      \
        test_ok_;                                                              \
    })

/* Spin (yielding) until an atomic flag is set; for tasks waiting on the test
 * thread. Gives up after 30 s so a broken runtime fails instead of hanging;
 * returns 1 when the flag was seen. */
static inline int test_spin_until(atomic_int *flag, int value)
{
    uint64_t deadline = test_now_ns() + 30ull * 1000000000u;
    while (atomic_load(flag) != value) {
        if (test_now_ns() > deadline) return 0;
        weft_sleep_ns(50000);
    }
    return 1;
}

/* ---- a panic hook that records instead of printing ------------------------ */
#define TEST_CAPTURE_MAX 16

typedef struct test_capture {
    pthread_mutex_t m;
    int count;                              /* hook calls since install */
    char message[TEST_CAPTURE_MAX][256];    /* first messages seen */
    char thread[TEST_CAPTURE_MAX][64];      /* their task names */
    int worker[TEST_CAPTURE_MAX];           /* weft_current_worker() in the hook */
    char report[4096];                      /* weft_panic_format of the last one */
} test_capture;

static inline test_capture *test_capture_state(void)
{
    static test_capture c = {.m = PTHREAD_MUTEX_INITIALIZER};
    return &c;
}

static inline void test_capture_hook(const weft_panic_t *p, void *ud)
{
    test_capture *c = ud;
    pthread_mutex_lock(&c->m);
    if (c->count < TEST_CAPTURE_MAX) {
        snprintf(c->message[c->count], sizeof c->message[0], "%s", weft_panic_message(p));
        snprintf(c->thread[c->count], sizeof c->thread[0], "%s", weft_panic_thread(p));
        c->worker[c->count] = weft_current_worker();
    }
    weft_panic_format(p, c->report, sizeof c->report);
    c->count++;
    pthread_mutex_unlock(&c->m);
}

/* Install the capturing hook (silences panics the test causes on purpose). */
static inline test_capture *test_capture_install(void)
{
    test_capture *c = test_capture_state();
    pthread_mutex_lock(&c->m);
    c->count = 0;
    memset(c->message, 0, sizeof c->message);
    memset(c->thread, 0, sizeof c->thread);
    c->report[0] = '\0';
    pthread_mutex_unlock(&c->m);
    weft_set_panic_hook(test_capture_hook, c);
    return c;
}

static inline int test_capture_count(void)
{
    test_capture *c = test_capture_state();
    pthread_mutex_lock(&c->m);
    int n = c->count;
    pthread_mutex_unlock(&c->m);
    return n;
}

/* Restore the default hook. */
static inline void test_capture_restore(void) { weft_set_panic_hook(NULL, NULL); }

#endif

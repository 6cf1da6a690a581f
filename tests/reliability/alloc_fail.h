/* tests/reliability/alloc_fail.h — allocation-failure injection for a test
 * linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (CMake:
 * weft_wrap_allocs): every malloc, calloc and realloc call of weft's own code
 * (and of the test's) goes through the wrappers below, which fail once the
 * budget is spent. Allocations of other libraries (libc's own, the OpenCL
 * driver's) are untouched, so only weft sees the out-of-memory.
 *
 *   alloc_fail_after(n)   let n more allocations succeed, then fail every one
 *   alloc_fail_off()      allocate normally again
 *   alloc_campaign(...)   fail each allocation of a start+join in turn
 *
 * Include it in one file of the test, after weft_test.h. */
#ifndef ALLOC_FAIL_H
#define ALLOC_FAIL_H

#include <stdatomic.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

static atomic_int alloc_failing;  /* 1: the budget counts */
static atomic_long alloc_budget;  /* allocations left before they fail */
static atomic_long alloc_refused; /* allocations refused so far */

static int alloc_refuse(void)
{
    if (!atomic_load(&alloc_failing)) return 0;
    if (atomic_fetch_sub(&alloc_budget, 1) > 0) return 0;
    atomic_fetch_add(&alloc_refused, 1);
    return 1;
}

void *__wrap_malloc(size_t n) { return alloc_refuse() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { return alloc_refuse() ? NULL : __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { return alloc_refuse() ? NULL : __real_realloc(p, n); }

static void alloc_fail_after(long n)
{
    atomic_store(&alloc_budget, n);
    atomic_store(&alloc_failing, 1);
}

static void alloc_fail_off(void) { atomic_store(&alloc_failing, 0); }

#define ALLOC_OOM_MESSAGE "panic payload could not be allocated: out of memory"

/* Starts the work that must fail (a spawn, a launch) into *h; 0 or a code. */
typedef int (*alloc_start_fn)(void *ctx, weft_handle_t **h);

/* What a campaign saw: starts refused (WEFT_ENOMEM), joins that gave the
 * static out-of-memory payload, and the first real payload (the caller
 * checks and destroys it). */
typedef struct alloc_outcome {
    int refused, oom_payloads;
    weft_panic_t *real;
} alloc_outcome;

/* For n = 0, 1, ... (at most max): let n allocations succeed, then start
 * the work and join it with every further allocation failing. A start may
 * be refused with WEFT_ENOMEM; a join must return WEFT_EPANIC, never 0.
 * Stops at the first real payload (enough memory for all of it). */
static alloc_outcome alloc_campaign(alloc_start_fn start, void *ctx, long max)
{
    alloc_outcome o = {0, 0, NULL};
    for (long n = 0; n < max && !o.real; n++) {
        weft_handle_t *h = NULL;
        alloc_fail_after(n);
        int rc = start(ctx, &h);
        if (rc) {
            alloc_fail_off();
            assert_int_equal(rc, WEFT_ENOMEM);
            o.refused++;
            continue;
        }
        weft_panic_t *p = NULL;
        rc = weft_join(h, NULL, &p);
        alloc_fail_off();
        assert_int_equal(rc, WEFT_EPANIC);
        assert_non_null(p);
        if (strcmp(weft_panic_message(p), ALLOC_OOM_MESSAGE) == 0) {
            assert_string_equal(weft_panic_thread(p), "<unknown>");
            o.oom_payloads++;
            weft_panic_destroy(p);
        } else {
            o.real = p;
        }
    }
    assert_non_null(o.real);
    return o;
}

#endif

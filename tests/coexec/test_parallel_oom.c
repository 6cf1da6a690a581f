/* test_parallel_oom.c — an operation whose every chunk failed, while no
 * panic payload can be allocated, still fails: weft_parallel_run returns
 * WEFT_EPANIC with the static out-of-memory payload, never 0 with its
 * outputs unwritten.
 *
 * Allocation failure is injected by linking with -Wl,--wrap=calloc: the
 * body arms a per-thread count of callocs to refuse and then panics, so the
 * payloads built where the panic lands (on that same thread) cannot be
 * allocated. CPU workers only. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

static _Thread_local int refuse_callocs;

void *__wrap_calloc(size_t n, size_t size)
{
    if (refuse_callocs > 0) {
        refuse_callocs--;
        return NULL;
    }
    return __real_calloc(n, size);
}

/* Writes nothing: every piece panics with its payload's memory refused. */
static void panics_without_memory(size_t b, size_t e, void *const *argv)
{
    (void)b, (void)e, (void)argv;
    refuse_callocs = 2; /* the payload and its fallback, built where the panic lands */
    weft_panic("chunk failed");
}

static const weft_kernel_t OOM = {.name = "oom_all", .cpu = panics_without_memory};

static void every_chunk_failed_is_a_failure(void **state)
{
    (void)state;
    alarm(120);
    wt_capture *cap = wt_capture_install();
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    static uint32_t out[256];
    for (size_t i = 0; i < 256; i++) out[i] = 0xdeadbeef;
    weft_arg_t arg = weft_arg_split(out, sizeof out, sizeof out[0], WEFT_WRITE);
    for (int kind = WEFT_POLICY_STATIC; kind <= WEFT_POLICY_ADAPTIVE; kind++) {
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.kind = (weft_policy_kind_t)kind;
        weft_panic_t *p = NULL;
        int rc = weft_parallel_run(rt, &OOM, weft_range_1d(256, 16), &arg, 1, &pol, &p);
        refuse_callocs = 0; /* this thread may have run a piece itself */
        assert_int_equal(rc, WEFT_EPANIC);
        assert_non_null(p);
        assert_string_equal(weft_panic_message(p), "panic payload could not be allocated: out of memory");
        weft_panic_destroy(p); /* the static payload: left alone */
        weft_panic_destroy(p);
    }
    for (size_t i = 0; i < 256; i++) assert_int_equal(out[i], 0xdeadbeef);
    weft_runtime_destroy(rt);
    (void)cap;
    weft_set_panic_hook(weft_panic_default_hook, NULL);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_chunk_failed_is_a_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

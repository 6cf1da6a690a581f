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
 *   - a policy naming only absent devices, a chunk near SIZE_MAX;
 *   - a panic message cut to fit is never cut inside a UTF-8 character.
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

/* ---- write borrows -------------------------------------------------------- */

static void nothing_cpu(size_t b, size_t e, void *const *argv) { (void)b, (void)e, (void)argv; }

static const weft_kernel_t TWO = {.name = "hd_two", .cpu = nothing_cpu};

static void two_arguments_writing_one_byte_are_refused(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    static uint32_t buf[64];
    uint64_t zero = 0;
    /* Over 32 indices: a write-only split of buf[0, 32) and a read-write
     * one of buf[16, 48). */
    weft_arg_t args[3] = {weft_arg_split(buf, sizeof buf, sizeof buf[0], WEFT_WRITE),
                          weft_arg_split(buf + 16, 48 * sizeof buf[0], sizeof buf[0], WEFT_READ_WRITE),
                          weft_arg_scalar(&zero, sizeof zero)};
    assert_int_equal(weft_parallel_run(rt, &TWO, weft_range_1d(32, 8), args, 3, NULL, NULL), WEFT_EBORROW);
    assert_string_equal(weft_last_error_message(), "kernel 'hd_two': arguments 0 and 1 both write the same 64 "
                                                    "bytes: one operation writes a byte through one argument only");
    /* A reduction's result inside a written split: the same, one byte. */
    static unsigned char bytes[16];
    unsigned char id = 0;
    weft_arg_t red[2] = {weft_arg_scalar(&zero, sizeof zero), weft_arg_reduce(&bytes[3], 1, &id, add)};
    weft_arg_t both[3] = {red[0], weft_arg_split(bytes, sizeof bytes, 1, WEFT_WRITE), red[1]};
    assert_int_equal(weft_parallel_run(rt, &TWO, weft_range_1d(16, 4), both, 3, NULL, NULL), WEFT_EBORROW);
    assert_string_equal(weft_last_error_message(), "kernel 'hd_two': arguments 1 and 2 both write the same 1 "
                                                    "byte: one operation writes a byte through one argument only");
    /* Disjoint halves are fine. */
    args[1] = weft_arg_split(buf + 32, 32 * sizeof buf[0], sizeof buf[0], WEFT_READ_WRITE);
    assert_int_equal(weft_parallel_run(rt, &TWO, weft_range_1d(32, 8), args, 3, NULL, NULL), 0);
    weft_runtime_destroy(rt);
}

#define MANY 70

static atomic_int gate;

static void held_cpu(size_t b, size_t e, void *const *argv)
{
    (void)b, (void)e, (void)argv;
    wt_gate_hold(&gate);
}

static const weft_kernel_t MANYK = {.name = "hd_many", .cpu = held_cpu};
static const weft_kernel_t SECOND = {.name = "hd_second", .cpu = nothing_cpu};

static void every_written_argument_is_borrowed(void **state)
{
    (void)state;
    alarm(120);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    static unsigned char cells[MANY][4];
    weft_arg_t args[MANY];
    for (int i = 0; i < MANY; i++) args[i] = weft_arg_split(cells[i], 1, 1, WEFT_WRITE);
    atomic_store(&gate, 0);
    weft_handle_t *h = NULL;
    assert_int_equal(weft_parallel_for(rt, &MANYK, weft_range_1d(1, 1), args, MANY, NULL, &h), 0);
    /* The 70th argument's byte is borrowed like the first's. */
    for (int i = 0; i < MANY; i += MANY - 1) {
        weft_arg_t one = weft_arg_split(cells[i], 1, 1, WEFT_READ_WRITE);
        assert_int_equal(weft_parallel_run(rt, &SECOND, weft_range_1d(1, 1), &one, 1, NULL, NULL), WEFT_EBORROW);
        char want[256];
        snprintf(want, sizeof want, "kernel 'hd_second' argument 0 would write 1 byte that running kernel "
                 "'hd_many' (its argument %d) also writes: join it first or write disjoint ranges", i);
        assert_string_equal(weft_last_error_message(), want);
    }
    /* Two bytes: "bytes"; the byte after each cell is nobody's. */
    weft_arg_t two = weft_arg_split(cells[MANY - 1], 2, 1, WEFT_WRITE);
    assert_int_equal(weft_parallel_run(rt, &SECOND, weft_range_1d(2, 1), &two, 1, NULL, NULL), WEFT_EBORROW);
    wt_assert_contains(weft_last_error_message(), "argument 0 would write 1 byte that");
    weft_arg_t free_byte = weft_arg_split(&cells[MANY - 1][1], 3, 1, WEFT_WRITE);
    assert_int_equal(weft_parallel_run(rt, &SECOND, weft_range_1d(3, 1), &free_byte, 1, NULL, NULL), 0);
    atomic_store(&gate, 1);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    weft_runtime_destroy(rt);
    alarm(0);
}

/* ---- policies ----------------------------------------------------------------- */

static const weft_kernel_t ABSENT = {.name = "hd_absent", .cpu = nothing_cpu,
                                     .cl_source = "__kernel void hd_absent(void) {}", .cl_entry = "hd_absent"};

static void policy_naming_absent_devices_says_so(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = 0x4;
    assert_int_equal(weft_parallel_run(rt, &ABSENT, weft_range_1d(64, 8), NULL, 0, &pol, NULL), WEFT_EINVAL);
    assert_string_equal(weft_last_error_message(), "weft_parallel_for: no place can run kernel 'hd_absent' (the "
                                                    "policy names only absent devices: mask 0x4, and the runtime "
                                                    "has 0 devices)");
    /* With the CPU allowed, the CPU runs it. */
    pol.use_cpu = 1;
    assert_int_equal(weft_parallel_run(rt, &ABSENT, weft_range_1d(64, 8), NULL, 0, &pol, NULL), 0);
    weft_runtime_destroy(rt);
}

/* A chunk near SIZE_MAX is the whole range, never "automatic" (which would
 * cut the 8 groups into 8 chunks). */
static void huge_chunk_is_the_whole_range(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    const size_t chunks[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 6, SIZE_MAX / 2 + 1, 64};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.kind = WEFT_POLICY_DYNAMIC;
        pol.chunk = chunks[c];
        assert_int_equal(weft_parallel_run(rt, &TWO, weft_range_1d(64, 8), NULL, 0, &pol, NULL), 0);
        weft_run_stats_t st;
        assert_int_equal(weft_runtime_last_run_stats(rt, &st), 0);
        assert_int_equal(st.chunks, 1);
    }
    weft_runtime_destroy(rt);
}

/* ---- a long panic message ---------------------------------------------------- */

typedef struct long_msg {
    size_t ascii;                 /* 'a's before the character */
    const char *ch;               /* one UTF-8 character */
} long_msg;

static void *panics_long(void *arg)
{
    const long_msg *m = arg;
    static _Thread_local char buf[8192];
    memset(buf, 'a', m->ascii);
    strcpy(buf + m->ascii, m->ch);
    strcat(buf, "tail");
    weft_panic("%s", buf);
    return NULL;
}

static void long_panic_message_is_cut_at_a_character(void **state)
{
    (void)state;
    wt_capture *cap = wt_capture_install();
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    /* The message holds 4095 bytes: each character straddles the cut. */
    const long_msg cases[] = {{4094, "\xc3\xa9"}, {4093, "\xe2\x82\xac"}, {4094, "\xe2\x82\xac"},
                              {4092, "\xf0\x9f\x98\x80"}, {4093, "\xf0\x9f\x98\x80"},
                              {4094, "\xf0\x9f\x98\x80"}, {4094, "b"}};
    const size_t want[] = {4094, 4093, 4094, 4092, 4093, 4094, 4095};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        weft_handle_t *h;
        weft_panic_t *p = NULL;
        assert_int_equal(weft_spawn(rt, panics_long, (void *)&cases[c], &h), 0);
        assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
        assert_int_equal(strlen(weft_panic_message(p)), want[c]);
        weft_panic_destroy(p);
    }
    weft_runtime_destroy(rt);
    (void)cap;
    weft_set_panic_hook(weft_panic_default_hook, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(combine_panic_fails_the_op),
        cmocka_unit_test(two_arguments_writing_one_byte_are_refused),
        cmocka_unit_test(every_written_argument_is_borrowed),
        cmocka_unit_test(long_panic_message_is_cut_at_a_character),
        cmocka_unit_test(policy_naming_absent_devices_says_so),
        cmocka_unit_test(huge_chunk_is_the_whole_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

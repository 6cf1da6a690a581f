/* test_stress_panics.c — panics in a random (seeded) 10% of many tasks.
 * Every other task's result is right, and exactly the panicking ones are
 * reported — once each — whichever way they end:
 *  (a) joined: weft_join gives WEFT_EPANIC with the task's own message, file
 *      and line; the others give their value;
 *  (b) in scopes, unjoined: each scope fails with "a scoped thread panicked",
 *      a cause that is one of its panicking tasks, and the rest counted as
 *      suppressed; the tasks that did not panic wrote their results;
 *  (c) detached: weft_runtime_detached_panics counts exactly the panics.
 * The panic hook records which task indices panicked (it hears every panic
 * once), so a lost or doubled panic shows. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "reliability_util.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SEED 0x5EEDF00Dull

static size_t N;                 /* tasks per part */
static unsigned char *will_panic; /* [N] */
static atomic_uchar *heard;       /* [N]: panics the hook heard per index */
static atomic_long hook_unparsed;

#define PANIC_FMT "task %zu panics on purpose"
#define PANIC_LINE 4242 /* the line weft_panic_at records: checked at join */

/* With the capturing hook: counts the panic under the index its message names. */
static void note_index(const weft_panic_t *p, void *ud)
{
    (void)ud;
    size_t i;
    if (sscanf(weft_panic_message(p), "task %zu panics on purpose", &i) == 1 && i < N)
        atomic_fetch_add(&heard[i], 1);
    else
        atomic_fetch_add(&hook_unparsed, 1);
}

static void reset_hook(void)
{
    for (size_t i = 0; i < N; i++) atomic_store(&heard[i], 0);
    atomic_store(&hook_unparsed, 0);
    wt_capture_install_with(note_index, NULL);
}

static size_t count_marked(size_t b, size_t e);

/* Every marked index of [0, n) heard exactly once, nothing else heard. */
static void check_heard(size_t n, const char *what)
{
    size_t marked = count_marked(0, n);
    assert_int_equal(atomic_load(&hook_unparsed), 0);
    if ((size_t)wt_capture_count() != marked)
        fail_msg("%s: the hook heard %d panics, expected %zu", what, wt_capture_count(), marked);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&heard[i]) != will_panic[i])
            fail_msg("%s: task %zu: hook heard %u panics, expected %u", what, i, atomic_load(&heard[i]),
                     will_panic[i]);
}

static uint64_t value_of(size_t i) { return (uint64_t)i * 0x9E3779B97F4A7C15ull + 17; }

static void *maybe_panic(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    if (will_panic[i]) weft_panic_at(__FILE__, PANIC_LINE, PANIC_FMT, i);
    return (void *)(uintptr_t)value_of(i);
}

static int setup(void **state)
{
    (void)state;
    N = rel_scaled(200000, 5000);
    will_panic = calloc(N, 1);
    heard = calloc(N, sizeof *heard);
    if (!will_panic || !heard) return -1;
    uint64_t s = SEED;
    size_t marked = 0;
    for (size_t i = 0; i < N; i++) {
        will_panic[i] = rel_rand(&s) % 10 == 0;
        marked += will_panic[i];
    }
    fprintf(stderr, "note: seed 0x%" PRIx64 ", %zu tasks, %zu panic\n", (uint64_t)SEED, N, marked);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wt_capture_restore();
    free(will_panic);
    free(heard);
    return 0;
}

static size_t count_marked(size_t b, size_t e)
{
    size_t m = 0;
    for (size_t i = b; i < e; i++) m += will_panic[i];
    return m;
}

/* ---- (a) joined ------------------------------------------------------------ */

static void joined(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    reset_hook();
    enum { BATCH = 5000 };
    weft_handle_t **hs = malloc(BATCH * sizeof *hs);
    assert_non_null(hs);
    size_t panics = 0, wrong = 0, bad_payload = 0;
    char want[128];
    for (size_t b = 0; b < N; b += BATCH) {
        size_t m = N - b < BATCH ? N - b : BATCH;
        for (size_t j = 0; j < m; j++)
            if (weft_spawn(rt, maybe_panic, (void *)(uintptr_t)(b + j), &hs[j]))
                fail_msg("spawn %zu: %s", b + j, weft_last_error_message());
        for (size_t j = 0; j < m; j++) {
            size_t i = b + j;
            void *r = (void *)1;
            weft_panic_t *p = NULL;
            int rc = weft_join(hs[j], &r, &p);
            if (will_panic[i]) {
                panics += rc == WEFT_EPANIC && p;
                snprintf(want, sizeof want, PANIC_FMT, i);
                if (rc != WEFT_EPANIC || !p || strcmp(weft_panic_message(p), want) != 0 ||
                    strcmp(weft_panic_file(p), __FILE__) != 0 || weft_panic_line(p) != PANIC_LINE ||
                    r != NULL)
                    bad_payload++;
            } else if (rc != 0 || p || (uintptr_t)r != (uintptr_t)value_of(i)) {
                wrong++;
            }
            weft_panic_destroy(p);
        }
    }
    free(hs);
    assert_int_equal(weft_runtime_detached_panics(rt), 0);
    weft_runtime_destroy(rt);
    assert_int_equal(wrong, 0);
    assert_int_equal(bad_payload, 0);
    assert_int_equal(panics, count_marked(0, N));
    check_heard(N, "joined");
}

/* ---- (b) scopes, unjoined ---------------------------------------------------- */

typedef struct slot {
    uint64_t *out;
    size_t i;
} slot;

typedef struct span {
    size_t b, e;
    uint64_t *out; /* [N] */
    slot *slots;   /* [e - b], outlives the scope */
} span;

static void *write_value(void *arg)
{
    slot *s = arg;
    void *v = maybe_panic((void *)(uintptr_t)s->i);
    s->out[s->i] = (uint64_t)(uintptr_t)v;
    return NULL;
}

static int span_body(weft_scope_t *s, void *arg)
{
    span *sp = arg;
    for (size_t i = sp->b; i < sp->e; i++) {
        sp->slots[i - sp->b] = (slot){sp->out, i};
        if (weft_scope_spawn(s, write_value, &sp->slots[i - sp->b], NULL)) return -101;
    }
    return 0;
}

static void scopes_unjoined(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    reset_hook();
    enum { SPAN = 2000 };
    uint64_t *out = calloc(N, sizeof *out);
    slot *slots = malloc(SPAN * sizeof *slots);
    assert_non_null(out);
    assert_non_null(slots);
    size_t failed_scopes = 0, scopes_with_panics = 0, accounted = 0;
    for (size_t b = 0; b < N; b += SPAN) {
        size_t e = N - b < SPAN ? N : b + SPAN;
        span sp = {b, e, out, slots};
        weft_panic_t *p = NULL;
        int rc = weft_scope(rt, span_body, &sp, &p);
        size_t m = count_marked(b, e);
        if (m == 0) {
            if (rc != 0 || p) fail_msg("scope [%zu, %zu): no task panicked but it returned %d", b, e, rc);
            continue;
        }
        scopes_with_panics++;
        if (rc != WEFT_EPANIC || !p) fail_msg("scope [%zu, %zu): %zu panics but it returned %d", b, e, m, rc);
        assert_string_equal(weft_panic_message(p), "a scoped thread panicked");
        const weft_panic_t *cause = weft_panic_cause(p);
        assert_non_null(cause);
        size_t ci = SIZE_MAX;
        if (sscanf(weft_panic_message(cause), "task %zu panics on purpose", &ci) != 1 || ci < b || ci >= e ||
            !will_panic[ci])
            fail_msg("scope [%zu, %zu): cause \"%s\" is not one of its panicking tasks", b, e,
                     weft_panic_message(cause));
        if (weft_panic_suppressed(p) != m - 1)
            fail_msg("scope [%zu, %zu): %zu suppressed, expected %zu", b, e, weft_panic_suppressed(p), m - 1);
        accounted += 1 + weft_panic_suppressed(p);
        failed_scopes++;
        weft_panic_destroy(p);
    }
    size_t wrong = 0;
    for (size_t i = 0; i < N; i++)
        if (!will_panic[i] && out[i] != value_of(i)) wrong++;
        else if (will_panic[i] && out[i] != 0) wrong++; /* a panicking task wrote nothing */
    free(out);
    free(slots);
    weft_runtime_destroy(rt);
    assert_int_equal(wrong, 0);
    assert_int_equal(failed_scopes, scopes_with_panics);
    assert_int_equal(accounted, count_marked(0, N));
    check_heard(N, "scopes");
}

/* ---- (c) detached -------------------------------------------------------------- */

static atomic_size_t detached_done;
static atomic_size_t detached_wrong;

static void *detached_task(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    atomic_fetch_add(&detached_done, 1); /* counted before a panic can end it */
    void *v = maybe_panic(arg);
    if ((uintptr_t)v != (uintptr_t)value_of(i)) atomic_fetch_add(&detached_wrong, 1);
    return v;
}

static void detached(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    reset_hook();
    atomic_store(&detached_done, 0);
    atomic_store(&detached_wrong, 0);
    for (size_t i = 0; i < N; i++) {
        weft_handle_t *h;
        if (weft_spawn(rt, detached_task, (void *)(uintptr_t)i, &h)) fail_msg("spawn %zu", i);
        weft_handle_detach(h);
    }
    /* weft_runtime_destroy waits for every detached task; read the counter
     * just before (all may not have finished yet: at most the marked ones). */
    uint64_t before = weft_runtime_detached_panics(rt);
    weft_runtime_destroy(rt);
    assert_true(before <= count_marked(0, N));
    assert_int_equal(atomic_load(&detached_done), N);
    assert_int_equal(atomic_load(&detached_wrong), 0);
    check_heard(N, "detached");
}

static void detached_counter(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    reset_hook();
    size_t n = N < 20000 ? N : 20000, marked = count_marked(0, n);
    /* Tasks end at their panic: they have no value to check here. */
    for (size_t i = 0; i < n; i++) {
        weft_handle_t *h;
        if (weft_spawn(rt, maybe_panic, (void *)(uintptr_t)i, &h)) fail_msg("spawn %zu", i);
        if (i % 2) weft_yield(); /* detach some after they finished, some before */
        weft_handle_detach(h);
    }
    int ok = WT_WAIT_UNTIL(weft_runtime_detached_panics(rt) >= marked && (size_t)wt_capture_count() >= marked, 60);
    uint64_t counted = weft_runtime_detached_panics(rt);
    weft_runtime_destroy(rt);
    if (!ok || counted != marked)
        fail_msg("detached panics counted %llu, expected %zu", (unsigned long long)counted, marked);
    check_heard(n, "detached counter");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(joined),
        cmocka_unit_test(scopes_unjoined),
        cmocka_unit_test(detached),
        cmocka_unit_test(detached_counter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

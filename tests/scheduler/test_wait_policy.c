/* test_wait_policy.c — $WEFT_WAIT_POLICY, as OMP_WAIT_POLICY: "passive"
 * waiting threads sleep at once, "active" ones spin long; any other value
 * is refused at runtime creation with a message. Under both, many joins
 * from outside the pool and from inside tasks (nested), and scopes, all
 * complete with the right results: passive sends every wait through the
 * park and wake path, where a lost wake-up would hang (the test's timeout
 * fails it). */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>

static void *square(void *arg)
{
    long x = (long)arg;
    return (void *)(x * x);
}

static weft_runtime_t *the_rt; /* the runtime the tasks spawn into */

/* A task that spawns and joins two children: a worker waiting. */
static void *nested(void *arg)
{
    long x = (long)arg;
    weft_runtime_t *rt = the_rt;
    weft_handle_t *a, *b;
    void *ra = NULL, *rb = NULL;
    if (weft_spawn(rt, square, (void *)x, &a) || weft_spawn(rt, square, (void *)(x + 1), &b)) return (void *)-1L;
    if (weft_join(a, &ra, NULL) || weft_join(b, &rb, NULL)) return (void *)-1L;
    return (void *)((long)ra + (long)rb);
}

static atomic_long scope_sum;

static void *add(void *arg)
{
    atomic_fetch_add(&scope_sum, (long)arg);
    return NULL;
}

static int two_tasks(weft_scope_t *s, void *arg)
{
    long i = (long)arg;
    weft_scope_spawn(s, add, (void *)i, NULL);
    weft_scope_spawn(s, add, (void *)(i + 1), NULL);
    return 0;
}

static void run_all(const char *policy)
{
    setenv("WEFT_WAIT_POLICY", policy, 1);
    weft_runtime_t *rt = the_rt = wt_runtime(2, WT_NO_DEVICES, 0);
    for (long i = 0; i < 5000; i++) {
        weft_handle_t *h;
        void *r = NULL;
        WT_CHECK(weft_spawn(rt, square, (void *)i, &h));
        WT_CHECK(weft_join(h, &r, WT_PANIC));
        if ((long)r != i * i) fail_msg("%s: square(%ld) = %ld", policy, i, (long)r);
    }
    for (long i = 0; i < 2000; i++) {
        weft_handle_t *h;
        void *r = NULL;
        WT_CHECK(weft_spawn(rt, nested, (void *)i, &h));
        WT_CHECK(weft_join(h, &r, WT_PANIC));
        if ((long)r != i * i + (i + 1) * (i + 1)) fail_msg("%s: nested(%ld) = %ld", policy, i, (long)r);
    }
    atomic_store(&scope_sum, 0);
    long want = 0;
    for (long i = 0; i < 2000; i++) {
        WT_CHECK(weft_scope(rt, two_tasks, (void *)i, WT_PANIC));
        want += 2 * i + 1;
    }
    assert_int_equal(atomic_load(&scope_sum), want);
    weft_runtime_destroy(rt);
    unsetenv("WEFT_WAIT_POLICY");
}

static void passive(void **state)
{
    (void)state;
    run_all("passive");
}

static void active(void **state)
{
    (void)state;
    run_all("ACTIVE"); /* case does not matter, as for OMP_WAIT_POLICY */
}

static void refused(void **state)
{
    (void)state;
    setenv("WEFT_WAIT_POLICY", "sometimes", 1);
    weft_runtime_t *rt = NULL;
    assert_int_equal(weft_runtime_create(NULL, &rt), WEFT_EINVAL);
    assert_null(rt);
    wt_assert_contains(weft_last_error_message(), "WEFT_WAIT_POLICY is 'sometimes': it must be active or passive");
    unsetenv("WEFT_WAIT_POLICY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passive),
        cmocka_unit_test(active),
        cmocka_unit_test(refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

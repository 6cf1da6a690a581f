/* test_mutex.c — weft_mutex: mutual exclusion, and poisoning when the holder
 * panics (the lock is released, the next lock reports it). */
#define _GNU_SOURCE
#include "weft_test.h"

typedef struct guarded {
    weft_mutex_t m;
    long value;
} guarded;

static void *add_many(void *arg)
{
    guarded *g = arg;
    for (int i = 0; i < 10000; i++) {
        if (weft_mutex_lock(&g->m) != 0) {
            weft_mutex_unlock(&g->m);
            return (void *)1;
        }
        g->value++;
        weft_mutex_unlock(&g->m);
    }
    return NULL;
}

static void mutex_excludes(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    guarded g = {.value = 0};
    assert_int_equal(weft_mutex_init(&g.m), 0);
    enum { N = 8 };
    weft_handle_t *hs[N];
    for (int i = 0; i < N; i++) assert_int_equal(weft_spawn(rt, add_many, &g, &hs[i]), 0);
    for (int i = 0; i < N; i++) {
        void *r = (void *)2;
        assert_int_equal(weft_join(hs[i], &r, NULL), 0);
        assert_null(r);
    }
    assert_int_equal(g.value, N * 10000);
    assert_int_equal(weft_mutex_is_poisoned(&g.m), 0);
    weft_mutex_destroy(&g.m);
    weft_runtime_destroy(rt);
}

static void *panic_holding(void *arg)
{
    guarded *g = arg;
    weft_mutex_lock(&g->m);
    g->value = 41; /* half-done update */
    weft_panic("failed while holding the lock");
}

static void panic_poisons_mutex(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    guarded g = {.value = 0};
    assert_int_equal(weft_mutex_init(&g.m), 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, panic_holding, &g, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    assert_string_equal(weft_panic_message(p), "failed while holding the lock");
    weft_panic_destroy(p);

    assert_int_equal(weft_mutex_is_poisoned(&g.m), 1);
    assert_int_equal(weft_mutex_lock(&g.m), 1); /* taken, but poisoned */
    assert_int_equal(g.value, 41);              /* the data is reachable */
    g.value = 42;
    assert_int_equal(weft_mutex_unlock(&g.m), 0);
    assert_int_equal(weft_mutex_is_poisoned(&g.m), 1); /* stays until cleared */
    weft_mutex_clear_poison(&g.m);
    assert_int_equal(weft_mutex_is_poisoned(&g.m), 0);
    assert_int_equal(weft_mutex_lock(&g.m), 0);
    assert_int_equal(weft_mutex_unlock(&g.m), 0);

    /* and a task can take it too after a new poisoning */
    assert_int_equal(weft_spawn(rt, panic_holding, &g, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), WEFT_EPANIC);
    assert_int_equal(weft_spawn(rt, add_many, &g, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_ptr_equal(r, (void *)1); /* add_many saw lock() == 1 */
    assert_int_equal(weft_mutex_lock(&g.m), 1);
    weft_mutex_unlock(&g.m);
    weft_mutex_destroy(&g.m);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* A task blocked on the lock gets it when the holder panics. */
typedef struct handoff {
    guarded g;
    atomic_int locked, go;
    int waiter_rc;
    long waiter_saw;
} handoff;

static void *holder(void *arg)
{
    handoff *x = arg;
    weft_mutex_lock(&x->g.m);
    x->g.value = 7;
    atomic_store(&x->locked, 1);
    wt_spin_until(&x->go, 1);
    weft_panic("holder gave up");
}

static void *waiter(void *arg)
{
    handoff *x = arg;
    x->waiter_rc = weft_mutex_lock(&x->g.m);
    x->waiter_saw = x->g.value;
    weft_mutex_unlock(&x->g.m);
    return NULL;
}

static void blocked_waiter_gets_poisoned_lock(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    handoff x = {.g = {.value = 0}};
    atomic_init(&x.locked, 0);
    atomic_init(&x.go, 0);
    assert_int_equal(weft_mutex_init(&x.g.m), 0);
    weft_handle_t *hh, *hw;
    assert_int_equal(weft_spawn(rt, holder, &x, &hh), 0);
    assert_true(wt_spin_until(&x.locked, 1));
    assert_int_equal(weft_spawn(rt, waiter, &x, &hw), 0);
    atomic_store(&x.go, 1);
    assert_int_equal(weft_join(hh, NULL, NULL), WEFT_EPANIC);
    assert_int_equal(weft_join(hw, NULL, NULL), 0);
    assert_int_equal(x.waiter_rc, 1);
    assert_int_equal(x.waiter_saw, 7);
    weft_mutex_destroy(&x.g.m);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* Two locks held at the panic: both released. A lock taken outside the
 * boundary that catches the panic stays held and unpoisoned. */
typedef struct two_locks {
    weft_mutex_t a, b, outer;
    weft_runtime_t *rt;
    int scope_rc;
    int outer_poisoned_after;
    char body_msg[64];
} two_locks;

static int body_locks_and_panics(weft_scope_t *s, void *arg)
{
    (void)s;
    two_locks *t = arg;
    weft_mutex_lock(&t->a);
    weft_mutex_lock(&t->b);
    weft_panic("body holding two locks");
}

static void *outer_task(void *arg)
{
    two_locks *t = arg;
    weft_mutex_lock(&t->outer);
    weft_panic_t *p = NULL;
    t->scope_rc = weft_scope(t->rt, body_locks_and_panics, t, &p);
    snprintf(t->body_msg, sizeof t->body_msg, "%s", p ? weft_panic_message(p) : "");
    weft_panic_destroy(p);
    t->outer_poisoned_after = weft_mutex_is_poisoned(&t->outer);
    weft_mutex_unlock(&t->outer);
    return NULL;
}

static void panic_releases_only_inner_locks(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture_install();
    two_locks t = {.rt = rt};
    assert_int_equal(weft_mutex_init(&t.a), 0);
    assert_int_equal(weft_mutex_init(&t.b), 0);
    assert_int_equal(weft_mutex_init(&t.outer), 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, outer_task, &t, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(t.scope_rc, WEFT_EPANIC);
    assert_string_equal(t.body_msg, "body holding two locks");
    assert_int_equal(t.outer_poisoned_after, 0);
    assert_int_equal(weft_mutex_is_poisoned(&t.outer), 0);
    assert_int_equal(weft_mutex_is_poisoned(&t.a), 1);
    assert_int_equal(weft_mutex_is_poisoned(&t.b), 1);
    /* all three are free again (taken in the task's order: outer, a, b) */
    assert_int_equal(weft_mutex_lock(&t.outer), 0);
    assert_int_equal(weft_mutex_lock(&t.a), 1);
    assert_int_equal(weft_mutex_lock(&t.b), 1);
    weft_mutex_unlock(&t.b);
    weft_mutex_unlock(&t.a);
    weft_mutex_unlock(&t.outer);
    weft_mutex_destroy(&t.a);
    weft_mutex_destroy(&t.b);
    weft_mutex_destroy(&t.outer);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* A task that returns holding a lock: its join reports it as a panic naming
 * the lock, the lock is released (poisoned), and a later unrelated panic on
 * the same worker leaves it alone. */
static void *lock_and_return(void *arg)
{
    weft_mutex_lock(arg);
    return arg;
}

static void *just_panic(void *arg)
{
    (void)arg;
    weft_panic("unrelated");
}

static void return_holding_lock_reported(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture_install();
    weft_mutex_t m;
    assert_int_equal(weft_mutex_init(&m), 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, lock_and_return, &m, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    char want[96];
    snprintf(want, sizeof want, "returned holding weft_mutex_t %p: released and poisoned", (void *)&m);
    assert_string_equal(weft_panic_message(p), want);
    weft_panic_destroy(p);
    assert_int_equal(weft_mutex_is_poisoned(&m), 1);
    weft_mutex_clear_poison(&m);
    /* The one worker panics again: m is no longer on its list. */
    assert_int_equal(weft_spawn(rt, just_panic, NULL, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), WEFT_EPANIC);
    assert_int_equal(weft_mutex_is_poisoned(&m), 0);
    assert_int_equal(weft_mutex_lock(&m), 0);
    assert_int_equal(weft_mutex_unlock(&m), 0);
    weft_mutex_destroy(&m);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void mutex_bad_input(void **state)
{
    (void)state;
    assert_int_equal(weft_mutex_init(NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "weft_mutex_init");
    assert_int_equal(weft_mutex_lock(NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "weft_mutex_lock");
    assert_int_equal(weft_mutex_unlock(NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "weft_mutex_unlock");
    assert_int_equal(weft_mutex_is_poisoned(NULL), 0);
    weft_mutex_clear_poison(NULL);
    weft_mutex_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutex_excludes),
        cmocka_unit_test(panic_poisons_mutex),
        cmocka_unit_test(blocked_waiter_gets_poisoned_lock),
        cmocka_unit_test(panic_releases_only_inner_locks),
        cmocka_unit_test(return_holding_lock_reported),
        cmocka_unit_test(mutex_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_locals.c — task-locals (a value per task, destroyed before join
 * returns; per OS thread outside tasks) and worker-locals (a value per worker). */
#define _GNU_SOURCE
#include "weft_test.h"

#include <pthread.h>
#include <stdlib.h>

/* ---- task-locals ---------------------------------------------------------------- */
static atomic_int inits, dtors;

static void *counter_init(void)
{
    atomic_fetch_add(&inits, 1);
    return calloc(1, sizeof(int));
}

static void counter_dtor(void *v)
{
    atomic_fetch_add(&dtors, 1);
    free(v);
}

static weft_local_key_t *counter_key;

/* Increment the task's counter and return the new value. */
static int bump(void)
{
    int *c = weft_local_get(counter_key);
    return c ? ++*c : -1;
}

typedef struct counts {
    int first, second;
} counts;

static void *count_twice(void *arg)
{
    counts *c = arg;
    c->first = bump();
    weft_sleep_ns(100000); /* let other tasks interleave on the workers */
    c->second = bump();
    return NULL;
}

static void task_local_counters(void **state)
{
    (void)state;
    atomic_store(&inits, 0);
    atomic_store(&dtors, 0);
    assert_int_equal(weft_local_key_create(counter_init, counter_dtor, &counter_key), 0);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);

    assert_int_equal(bump(), 1); /* the main thread's own counter */

    /* one task: its value is destroyed before join returns */
    counts one = {0};
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, count_twice, &one, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(one.first, 1);
    assert_int_equal(one.second, 2);
    assert_int_equal(atomic_load(&dtors), 1);

    assert_int_equal(bump(), 2);

    enum { N = 16 };
    counts c[N] = {{0}};
    weft_handle_t *hs[N];
    for (int i = 0; i < N; i++) assert_int_equal(weft_spawn(rt, count_twice, &c[i], &hs[i]), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(weft_join(hs[i], NULL, NULL), 0);
        assert_true(atomic_load(&dtors) >= 1 + i + 1);
        assert_int_equal(c[i].first, 1);
        assert_int_equal(c[i].second, 2);
    }
    assert_int_equal(atomic_load(&dtors), 1 + N);

    assert_int_equal(bump(), 3); /* untouched by every task */
    assert_int_equal(atomic_load(&inits), 1 + 1 + N);

    /* destroying the key frees the calling thread's value */
    weft_local_key_destroy(counter_key);
    assert_int_equal(atomic_load(&dtors), 1 + N + 1);
    weft_runtime_destroy(rt);
}

/* A task that joins another on one worker: the worker runs the child while
 * the parent waits, and each keeps its own value. */
typedef struct nested_counts {
    weft_runtime_t *rt;
    int before, after, join_rc;
    counts child;
} nested_counts;

static void *parent_counts(void *arg)
{
    nested_counts *n = arg;
    n->before = bump();
    weft_handle_t *h;
    n->join_rc = weft_spawn(n->rt, count_twice, &n->child, &h);
    if (!n->join_rc) n->join_rc = weft_join(h, NULL, NULL);
    n->after = bump();
    return NULL;
}

static void task_locals_isolated_on_one_worker(void **state)
{
    (void)state;
    atomic_store(&inits, 0);
    atomic_store(&dtors, 0);
    assert_int_equal(weft_local_key_create(counter_init, counter_dtor, &counter_key), 0);
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    nested_counts n = {.rt = rt};
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, parent_counts, &n, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(n.join_rc, 0);
    assert_int_equal(n.before, 1);
    assert_int_equal(n.child.first, 1);
    assert_int_equal(n.child.second, 2);
    assert_int_equal(n.after, 2);
    assert_int_equal(atomic_load(&inits), 2);
    assert_int_equal(atomic_load(&dtors), 2);
    weft_local_key_destroy(counter_key); /* main never used it: no dtor */
    assert_int_equal(atomic_load(&dtors), 2);
    weft_runtime_destroy(rt);
}

/* A task that never touches the key gets no value; a panicking task's value
 * is still destroyed. */
static void *no_touch(void *arg) { return arg; }

static void *touch_then_panic(void *arg)
{
    (void)arg;
    bump();
    weft_panic("after touching the local");
}

static void task_local_lazy_and_panic(void **state)
{
    (void)state;
    atomic_store(&inits, 0);
    atomic_store(&dtors, 0);
    assert_int_equal(weft_local_key_create(counter_init, counter_dtor, &counter_key), 0);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, no_touch, NULL, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(atomic_load(&inits), 0);
    assert_int_equal(atomic_load(&dtors), 0);

    assert_int_equal(weft_spawn(rt, touch_then_panic, NULL, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), WEFT_EPANIC);
    assert_int_equal(atomic_load(&inits), 1);
    assert_int_equal(atomic_load(&dtors), 1);
    wt_capture_restore();
    weft_local_key_destroy(counter_key);
    weft_runtime_destroy(rt);
}

static void *null_init(void) { return NULL; }

static void *get_null_key(void *arg) { return weft_local_get(arg); }

static void task_local_null_values(void **state)
{
    (void)state;
    weft_local_key_t *k;
    assert_int_equal(weft_local_key_create(null_init, NULL, &k), 0);
    assert_null(weft_local_get(k));
    assert_null(weft_local_get(NULL));
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_handle_t *h;
    void *r = (void *)1;
    assert_int_equal(weft_spawn(rt, get_null_key, k, &h), 0);
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_null(r);
    weft_runtime_destroy(rt);
    weft_local_key_destroy(k);
    weft_local_key_destroy(NULL);
}

/* Outside tasks, each OS thread has its own value, freed when it exits. */
static void *plain_thread(void *arg)
{
    counts *c = arg;
    c->first = bump();
    c->second = bump();
    return NULL;
}

static void thread_local_outside_tasks(void **state)
{
    (void)state;
    atomic_store(&inits, 0);
    atomic_store(&dtors, 0);
    assert_int_equal(weft_local_key_create(counter_init, counter_dtor, &counter_key), 0);
    assert_int_equal(bump(), 1);
    counts c = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, plain_thread, &c), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(c.first, 1);
    assert_int_equal(c.second, 2);
    assert_int_equal(atomic_load(&dtors), 1); /* freed at thread exit */
    assert_int_equal(bump(), 2);
    weft_local_key_destroy(counter_key);
    assert_int_equal(atomic_load(&dtors), 2);
    assert_int_equal(atomic_load(&inits), 2);
}

/* ---- worker-locals ------------------------------------------------------------- */
typedef struct wslot {
    int worker;
    int calls;
} wslot;

static atomic_int w_inits, w_dtors;
static atomic_int w_init_mask;

static void *wslot_init(int worker)
{
    atomic_fetch_add(&w_inits, 1);
    if (worker >= 0 && worker < 30) atomic_fetch_or(&w_init_mask, 1 << worker);
    wslot *s = calloc(1, sizeof *s);
    if (s) s->worker = worker;
    return s;
}

static void wslot_dtor(void *v)
{
    atomic_fetch_add(&w_dtors, 1);
    free(v);
}

typedef struct wseen {
    weft_worker_key_t *key;
    atomic_int *arrived;
    int nworkers;
    int worker;
    wslot *value;
    int value_worker;
} wseen;

/* Wait until every worker holds one of these tasks, so each runs on its own. */
static void *worker_barrier_task(void *arg)
{
    wseen *w = arg;
    atomic_fetch_add(w->arrived, 1);
    uint64_t deadline = wt_now_ns() + 30ull * 1000000000u;
    while (atomic_load(w->arrived) < w->nworkers && wt_now_ns() < deadline) weft_sleep_ns(50000);
    w->worker = weft_current_worker();
    w->value = weft_worker_local_get(w->key);
    if (w->value) {
        w->value->calls++;
        w->value_worker = w->value->worker;
    }
    return NULL;
}

static void *worker_value(void *arg)
{
    wseen *w = arg;
    w->worker = weft_current_worker();
    w->value = weft_worker_local_get(w->key);
    w->value_worker = w->value ? w->value->worker : -2;
    return NULL;
}

static void worker_locals_one_per_worker(void **state)
{
    (void)state;
    enum { W = 3, MORE = 60 };
    atomic_store(&w_inits, 0);
    atomic_store(&w_dtors, 0);
    atomic_store(&w_init_mask, 0);
    weft_runtime_t *rt = wt_runtime(W, WT_NO_DEVICES, 0);
    weft_worker_key_t *k;
    assert_int_equal(weft_worker_key_create(rt, wslot_init, wslot_dtor, &k), 0);

    /* the main thread is not a worker in its own code */
    assert_null(weft_worker_local_get(k));
    wt_assert_contains(weft_last_error_message(), "worker");
    assert_int_equal(weft_current_worker(), -1);

    /* W+1 tasks that each hold a thread until all run: the W workers, and
     * the main thread while it joins, in its caller slot (index W), which
     * has a worker-local value of its own */
    atomic_int arrived = 0;
    wseen w[W + 1];
    weft_handle_t *hs[W + 1];
    for (int i = 0; i <= W; i++) {
        w[i] = (wseen){.key = k, .arrived = &arrived, .nworkers = W + 1};
        assert_int_equal(weft_spawn(rt, worker_barrier_task, &w[i], &hs[i]), 0);
    }
    wslot *by_worker[W + 1] = {0};
    for (int i = 0; i <= W; i++) {
        assert_int_equal(weft_join(hs[i], NULL, NULL), 0);
        assert_in_range(w[i].worker, 0, W);
        assert_non_null(w[i].value);
        assert_int_equal(w[i].value_worker, w[i].worker); /* init got the index */
        assert_null(by_worker[w[i].worker]);               /* one task per thread */
        by_worker[w[i].worker] = w[i].value;
    }
    assert_int_equal(atomic_load(&w_inits), W + 1);
    assert_int_equal(atomic_load(&w_init_mask), (1 << (W + 1)) - 1);
    for (int i = 0; i <= W; i++) assert_int_equal(by_worker[i]->calls, 1);
    /* back in its own code, the main thread is not a worker again */
    assert_int_equal(weft_current_worker(), -1);
    assert_null(weft_worker_local_get(k));

    /* later tasks find the same value on the same worker; no new inits */
    wseen m[MORE];
    weft_handle_t *mh[MORE];
    for (int i = 0; i < MORE; i++) {
        m[i] = (wseen){.key = k};
        assert_int_equal(weft_spawn(rt, worker_value, &m[i], &mh[i]), 0);
    }
    for (int i = 0; i < MORE; i++) {
        assert_int_equal(weft_join(mh[i], NULL, NULL), 0);
        assert_in_range(m[i].worker, 0, W);
        assert_ptr_equal(m[i].value, by_worker[m[i].worker]);
        assert_int_equal(m[i].value_worker, m[i].worker);
    }
    assert_int_equal(atomic_load(&w_inits), W + 1);

    /* a dedicated thread is not a worker either */
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = (size_t)1 << 20;
    wseen d = {.key = k};
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, worker_value, &d, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(d.worker, -1);
    assert_null(d.value);

    weft_worker_key_destroy(k);
    assert_int_equal(atomic_load(&w_dtors), W + 1);
    weft_worker_key_destroy(NULL);
    weft_runtime_destroy(rt);
}

static void worker_locals_freed_with_runtime(void **state)
{
    (void)state;
    atomic_store(&w_inits, 0);
    atomic_store(&w_dtors, 0);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_runtime_t *other = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_worker_key_t *k;
    assert_int_equal(weft_worker_key_create(rt, wslot_init, wslot_dtor, &k), 0);
    wseen w = {.key = k};
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, worker_value, &w, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_non_null(w.value);
    assert_int_equal(w.value_worker, w.worker);

    /* a worker of another runtime gets NULL */
    wseen o = {.key = k};
    assert_int_equal(weft_spawn(other, worker_value, &o, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_in_range(o.worker, 0, 1); /* its worker, or the joiner's caller slot of `other` */
    assert_null(o.value);

    assert_int_equal(atomic_load(&w_inits), 1);
    weft_runtime_destroy(rt); /* key never destroyed: the runtime frees it */
    assert_int_equal(atomic_load(&w_dtors), 1);
    weft_runtime_destroy(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(task_local_counters),
        cmocka_unit_test(task_locals_isolated_on_one_worker),
        cmocka_unit_test(task_local_lazy_and_panic),
        cmocka_unit_test(task_local_null_values),
        cmocka_unit_test(thread_local_outside_tasks),
        cmocka_unit_test(worker_locals_one_per_worker),
        cmocka_unit_test(worker_locals_freed_with_runtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

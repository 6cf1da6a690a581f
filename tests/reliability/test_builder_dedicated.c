/* test_builder_dedicated.c — builders and their threads:
 *  - weft_builder_t::dedicated gives a task its own OS thread (not a worker,
 *    not a caller slot) with the system's default stack size, in a plain
 *    spawn and in a scope;
 *  - a stack size the system refuses is WEFT_EINVAL, as task.h says, both
 *    one too small and one no mapping can have, with the message. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <limits.h>
#include <pthread.h>

typedef struct where {
    pthread_t self;
    int worker;
    size_t stack;
    char name[16];
} where;

static void *record(void *arg)
{
    where *w = arg;
    w->self = pthread_self();
    w->worker = weft_current_worker();
    snprintf(w->name, sizeof w->name, "%s", weft_current_name() ? weft_current_name() : "");
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &w->stack);
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

static size_t default_stack(void)
{
    pthread_attr_t attr;
    size_t n = 0;
    pthread_attr_init(&attr);
    pthread_attr_getstacksize(&attr, &n);
    pthread_attr_destroy(&attr);
    return n;
}

static void check_dedicated(const where *w)
{
    assert_false(pthread_equal(w->self, pthread_self()));
    assert_int_equal(w->worker, -1); /* neither a worker nor a caller slot */
    assert_int_equal(w->stack, default_stack());
}

static void dedicated_default_stack(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    /* The workers' threads, as tasks on them see themselves. */
    where pool = {.worker = -2};
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, record, &pool, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    assert_true(pool.worker >= 0);

    weft_builder_t b;
    weft_builder_init(&b);
    assert_int_equal(b.dedicated, 0);
    b.dedicated = 1;
    b.name = "own";
    for (int i = 0; i < 8; i++) {
        where w = {.worker = -2};
        WT_CHECK(weft_builder_spawn(&b, rt, record, &w, &h));
        WT_CHECK(weft_join(h, NULL, NULL));
        check_dedicated(&w);
        assert_false(pthread_equal(w.self, pool.self));
        assert_string_equal(w.name, "own");
    }
    assert_int_equal(weft_runtime_destroy(rt), 0);
}

static int scope_body(weft_scope_t *s, void *arg)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.dedicated = 1;
    WT_CHECK(weft_scope_builder_spawn(s, &b, record, arg, NULL));
    return 0;
}

static void dedicated_in_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    where w = {.worker = -2};
    WT_CHECK(weft_scope(rt, scope_body, &w, WT_PANIC));
    check_dedicated(&w);
    assert_int_equal(weft_runtime_destroy(rt), 0);
}

/* Without dedicated a stack size still makes a dedicated thread; with it,
 * the stack size is kept. */
static void dedicated_with_stack_size(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_builder_t b;
    weft_builder_init(&b);
    b.dedicated = 1;
    b.stack_size = 4u << 20;
    where w = {.worker = -2};
    weft_handle_t *h;
    WT_CHECK(weft_builder_spawn(&b, rt, record, &w, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    assert_int_equal(w.worker, -1);
    assert_true(w.stack >= (size_t)4 << 20);
    assert_int_equal(weft_runtime_destroy(rt), 0);
}

static void refused(weft_runtime_t *rt, size_t size, const char *msg)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = size;
    weft_handle_t *h = (weft_handle_t *)&b;
    assert_int_equal(weft_builder_spawn(&b, rt, record, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), msg);
}

static void refused_stack_sizes(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    char msg[128];
    snprintf(msg, sizeof msg, "stack size %zu is below the system minimum", (size_t)PTHREAD_STACK_MIN - 1);
    refused(rt, (size_t)PTHREAD_STACK_MIN - 1, msg);
    refused(rt, (size_t)1 << 60, "stack size 1152921504606846976 refused by the system: ");
    refused(rt, SIZE_MAX, "refused by the system: ");
    /* And the runtime goes on. */
    where w = {.worker = -2};
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, record, &w, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    assert_int_equal(weft_runtime_destroy(rt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dedicated_default_stack),
        cmocka_unit_test(dedicated_in_scope),
        cmocka_unit_test(dedicated_with_stack_size),
        cmocka_unit_test(refused_stack_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

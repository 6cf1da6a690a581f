/* test_blocking_devices.c — a task that joins a device launch parks: its
 * worker runs no other queued task meanwhile (the pool cannot run the
 * launch), and a spare keeps the pool running.
 *
 *  - Many tasks that each launch a kernel and join it, on one worker: no
 *    task ever runs nested inside another on the same thread (before, the
 *    joins nested queued tasks without bound, until the stack overflowed).
 *  - Tasks that hold a weft mutex across a launch's join, on one worker:
 *    they all complete (before, the joining worker ran another of them,
 *    which took the same lock on the same thread: a deadlock).
 *
 * Skips without an OpenCL device. alarm() turns a deadlock into a failure. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <unistd.h>

#define DEADLOCK_S 240

/* Busy for a while, so that the launch is still running when its task
 * joins it (the result does not depend on the loop). */
static const char SRC[] =
    "__kernel void fill(__global int *o, int v, int iters)\n"
    "{\n"
    "    uint acc = (uint)get_global_id(0);\n"
    "    for (int i = 0; i < iters; i++) acc = acc * 1103515245u + 12345u;\n"
    "    o[get_global_id(0)] = acc == 0x7fffffffu ? v + 1 : v;\n"
    "}\n";

enum { N = 64, TASKS = 200, LOCKED_TASKS = 20 };

typedef struct shared {
    weft_runtime_t *rt;
    weft_program_t *prog;
    weft_buffer_t *buf;
    weft_mutex_t m;
    int use_lock;
    atomic_int done, failed, nest_max;
    long in_lock; /* under m */
} shared;

static _Thread_local int nest; /* tasks running on this thread now */

static void *launch_and_join(void *arg)
{
    shared *s = arg;
    int depth = ++nest;
    int m = atomic_load(&s->nest_max);
    while (depth > m && !atomic_compare_exchange_weak(&s->nest_max, &m, depth)) {
    }
    if (s->use_lock) {
        weft_mutex_lock(&s->m);
        s->in_lock++;
    }
    int v = 7, iters = 20000;
    weft_karg_t args[3] = {weft_karg_buffer(s->buf), weft_karg_scalar(&v, sizeof v),
                           weft_karg_scalar(&iters, sizeof iters)};
    weft_launch_t l = wt_launch_1d(0, s->prog, NULL, "fill", N, args, 3);
    weft_handle_t *h = NULL;
    if (weft_launch(s->rt, &l, &h) || weft_join(h, NULL, NULL)) atomic_fetch_add(&s->failed, 1);
    if (s->use_lock) weft_mutex_unlock(&s->m);
    nest--;
    atomic_fetch_add(&s->done, 1);
    return NULL;
}

/* Spawns `count` tasks from the test thread, which polls (a join would run
 * them in its caller slot), then joins them. */
static void run_tasks(shared *s, int count)
{
    weft_handle_t **hs = calloc((size_t)count, sizeof *hs);
    assert_non_null(hs);
    for (int i = 0; i < count; i++) WT_CHECK(weft_spawn(s->rt, launch_and_join, s, &hs[i]));
    assert_true(WT_WAIT_UNTIL(atomic_load(&s->done) == count, DEADLOCK_S / 2));
    for (int i = 0; i < count; i++) WT_CHECK(weft_join(hs[i], NULL, WT_PANIC));
    free(hs);
    assert_int_equal(atomic_load(&s->failed), 0);
    int out[N];
    WT_CHECK(weft_buffer_read(s->buf, 0, out, sizeof out));
    for (int i = 0; i < N; i++) assert_int_equal(out[i], 7);
}

static void setup_shared(shared *s)
{
    memset(s, 0, sizeof *s);
    s->rt = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    WT_CHECK(weft_program_create(s->rt, SRC, NULL, &s->prog, WT_PANIC));
    WT_CHECK(weft_buffer_create(s->rt, 0, N * sizeof(int), WEFT_WRITE, &s->buf));
    assert_int_equal(weft_mutex_init(&s->m), 0);
}

static void teardown_shared(shared *s)
{
    weft_mutex_destroy(&s->m);
    weft_buffer_destroy(s->buf);
    weft_program_destroy(s->prog);
    weft_runtime_destroy(s->rt);
}

static void launch_joins_do_not_nest(void **state)
{
    (void)state;
    shared s;
    setup_shared(&s); /* skips without a device */
    alarm(DEADLOCK_S);
    run_tasks(&s, TASKS);
    /* Each task ran alone on its thread: no join ran another inside it. */
    assert_int_equal(atomic_load(&s.nest_max), 1);
    teardown_shared(&s);
    alarm(0);
}

static void lock_held_across_launch_join(void **state)
{
    (void)state;
    shared s;
    setup_shared(&s); /* skips without a device */
    alarm(DEADLOCK_S);
    s.use_lock = 1;
    run_tasks(&s, LOCKED_TASKS);
    assert_int_equal(s.in_lock, LOCKED_TASKS);
    assert_int_equal(weft_mutex_is_poisoned(&s.m), 0);
    teardown_shared(&s);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(launch_joins_do_not_nest),
        cmocka_unit_test(lock_held_across_launch_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

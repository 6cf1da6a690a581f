/* test_device_concurrent.c — several threads driving one device's queue at
 * once: two tasks each doing 300 rounds of buffer write, launch, join and
 * read on every device (PoCL's basic device, which runs commands inside the
 * enqueuing thread, deadlocked this way when two threads enqueued and
 * flushed on its queue together), then two and four plain host threads each
 * doing 500 launches and joins. Every round's result is checked; a deadlock
 * fails by a generous alarm() deadline (SIGALRM ends the process). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "weft_test.h"

#define N 1024
#define ROUNDS 300

static const char ADD_SRC[] = "__kernel void add_k(__global int *v, int k) { v[get_global_id(0)] += k; }\n";

#define DEADLINE_S 90 /* per case; a case takes seconds, under sanitizers too */

static void deadline_passed(int sig)
{
    (void)sig;
    static const char msg[] = "test_device_concurrent: deadlock: a case did not finish within its deadline\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    _exit(1);
}

/* Arm the case's deadline (alarm(0) disarms it). */
static void deadline_start(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = deadline_passed;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    alarm(DEADLINE_S);
}

typedef struct worker_arg {
    weft_runtime_t *rt;
    weft_program_t *prog;
    int device, id;
    int bad_round;                /* first round that went wrong, or -1 */
    char why[256];
} worker_arg;

static void *rounds(void *p)
{
    worker_arg *w = p;
    int v[N], back[N];
    weft_buffer_t *b = NULL;
    w->bad_round = -1;
    if (weft_buffer_create(w->rt, w->device, sizeof v, WEFT_READ_WRITE, &b)) {
        snprintf(w->why, sizeof w->why, "buffer: %s", weft_last_error_message());
        w->bad_round = 0;
        return NULL;
    }
    for (int r = 0; r < ROUNDS && w->bad_round < 0; r++) {
        for (int i = 0; i < N; i++) v[i] = i * (w->id + 1) + r;
        int k = r + 1;
        weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&k, sizeof k)};
        weft_launch_t l = wt_launch_1d(w->device, w->prog, NULL, "add_k", N, args, 2);
        weft_handle_t *h = NULL;
        weft_panic_t *panic = NULL;
        if (weft_buffer_write(b, 0, v, sizeof v) || weft_launch(w->rt, &l, &h) || weft_join(h, NULL, &panic) ||
            weft_buffer_read(b, 0, back, sizeof back)) {
            snprintf(w->why, sizeof w->why, "%s", panic ? weft_panic_message(panic) : weft_last_error_message());
            weft_panic_destroy(panic);
            w->bad_round = r;
            break;
        }
        for (int i = 0; i < N; i++)
            if (back[i] != v[i] + k) {
                snprintf(w->why, sizeof w->why, "v[%d] = %d, want %d", i, back[i], v[i] + k);
                w->bad_round = r;
                break;
            }
    }
    weft_buffer_destroy(b);
    return NULL;
}

static void two_threads_per_queue(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    deadline_start();
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_program_t *prog = NULL;
        WT_CHECK(weft_program_create(rt, ADD_SRC, NULL, &prog, WT_PANIC));
        worker_arg w[2] = {{.rt = rt, .prog = prog, .device = d, .id = 0}, {.rt = rt, .prog = prog, .device = d, .id = 1}};
        weft_handle_t *h[2];
        weft_builder_t bld;
        weft_builder_init(&bld);
        bld.stack_size = 1 << 20; /* dedicated threads: two at once, whatever the pool does */
        for (int i = 0; i < 2; i++) WT_CHECK(weft_builder_spawn(&bld, rt, rounds, &w[i], &h[i]));
        for (int i = 0; i < 2; i++) WT_CHECK(weft_join(h[i], NULL, WT_PANIC));
        for (int i = 0; i < 2; i++)
            if (w[i].bad_round >= 0) fail_msg("device %d, thread %d, round %d: %s", d, i, w[i].bad_round, w[i].why);
        weft_program_destroy(prog);
    }
    alarm(0);
    weft_runtime_destroy(rt);
}

#define LAUNCHES 500

/* One host thread: LAUNCHES launches of add_k on its own buffer, each joined
 * (from outside the pool: the join waits on the event), then the sum read. */
static void *launch_join(void *p)
{
    worker_arg *w = p;
    enum { M = 64 };
    int v[M] = {0};
    weft_buffer_t *b = NULL;
    w->bad_round = -1;
    if (weft_buffer_create(w->rt, w->device, sizeof v, WEFT_READ_WRITE, &b) || weft_buffer_write(b, 0, v, sizeof v)) {
        snprintf(w->why, sizeof w->why, "buffer: %s", weft_last_error_message());
        w->bad_round = 0;
        weft_buffer_destroy(b);
        return NULL;
    }
    int one = 1;
    weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&one, sizeof one)};
    weft_launch_t l = wt_launch_1d(w->device, w->prog, NULL, "add_k", M, args, 2);
    for (int r = 0; r < LAUNCHES; r++) {
        weft_handle_t *h = NULL;
        weft_panic_t *panic = NULL;
        if (weft_launch(w->rt, &l, &h) || weft_join(h, NULL, &panic)) {
            snprintf(w->why, sizeof w->why, "%s", panic ? weft_panic_message(panic) : weft_last_error_message());
            weft_panic_destroy(panic);
            w->bad_round = r;
            break;
        }
    }
    if (w->bad_round < 0 && weft_buffer_read(b, 0, v, sizeof v)) {
        snprintf(w->why, sizeof w->why, "read: %s", weft_last_error_message());
        w->bad_round = LAUNCHES;
    }
    for (int i = 0; w->bad_round < 0 && i < M; i++)
        if (v[i] != LAUNCHES) {
            snprintf(w->why, sizeof w->why, "v[%d] = %d, want %d", i, v[i], LAUNCHES);
            w->bad_round = LAUNCHES;
        }
    weft_buffer_destroy(b);
    return NULL;
}

/* nthreads threads at once on each device's one queue: plain host threads
 * (their joins wait on the event), or pool tasks (their joins arm the
 * launch: a completion callback, which on the basic device runs inside the
 * registration or a flush). */
static void threads_per_queue(int nthreads, int tasks)
{
    weft_runtime_t *rt = wt_runtime(4, WT_ALL_DEVICES, 1);
    deadline_start();
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_program_t *prog = NULL;
        WT_CHECK(weft_program_create(rt, ADD_SRC, NULL, &prog, WT_PANIC));
        worker_arg w[4];
        pthread_t th[4];
        weft_handle_t *h[4];
        for (int i = 0; i < nthreads; i++) {
            w[i] = (worker_arg){.rt = rt, .prog = prog, .device = d, .id = i};
            if (tasks) WT_CHECK(weft_spawn(rt, launch_join, &w[i], &h[i]));
            else assert_int_equal(pthread_create(&th[i], NULL, launch_join, &w[i]), 0);
        }
        for (int i = 0; i < nthreads; i++) {
            if (tasks) WT_CHECK(weft_join(h[i], NULL, WT_PANIC));
            else assert_int_equal(pthread_join(th[i], NULL), 0);
        }
        for (int i = 0; i < nthreads; i++)
            if (w[i].bad_round >= 0)
                fail_msg("device %d, thread %d of %d, launch %d: %s", d, i, nthreads, w[i].bad_round, w[i].why);
        weft_program_destroy(prog);
    }
    alarm(0);
    weft_runtime_destroy(rt);
}

static void two_host_threads_per_queue(void **state)
{
    (void)state;
    threads_per_queue(2, 0);
}

static void four_host_threads_per_queue(void **state)
{
    (void)state;
    threads_per_queue(4, 0);
}

static void two_tasks_per_queue(void **state)
{
    (void)state;
    threads_per_queue(2, 1);
}

static void four_tasks_per_queue(void **state)
{
    (void)state;
    threads_per_queue(4, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(two_threads_per_queue),
                                       cmocka_unit_test(two_host_threads_per_queue),
                                       cmocka_unit_test(four_host_threads_per_queue),
                                       cmocka_unit_test(two_tasks_per_queue),
                                       cmocka_unit_test(four_tasks_per_queue)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* bench/workloads/spawn.c — workload "spawn": the cost of spawn + join of an
 * empty task.
 *
 *   loop:  spawn one task, join it, repeat (one task in flight)
 *   batch: spawn N tasks, then join them all; reported per task
 *
 * Baseline: pthread_create + pthread_join of an empty thread, the same way.
 * Every task returns its argument; the sum of the joined results is checked. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

#define SPAWN_GOAL 20.0 /* weft spawn+join aims to be >= 20x cheaper than a thread */
#define DEFAULT_BATCH 1000

static void *empty_task(void *arg) { return arg; }

struct spawn_ctx {
    weft_runtime_t *rt;      /* NULL: pthreads */
    size_t batch;            /* tasks in flight at once */
    weft_handle_t **handles;
    pthread_t *threads;
};

static int spawn_join(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    for (uint64_t it = 0; it < iters; it++) {
        size_t started = 0;
        uint64_t sum = 0;
        for (; started < c->batch; started++) {
            void *arg = (void *)(uintptr_t)(started + 1);
            if (c->rt ? weft_spawn(c->rt, empty_task, arg, &c->handles[started])
                      : pthread_create(&c->threads[started], NULL, empty_task, arg))
                break;
        }
        int rc = started == c->batch ? 0 : -1;
        for (size_t i = 0; i < started; i++) {
            void *r = NULL;
            if (c->rt ? weft_join(c->handles[i], &r, NULL) : pthread_join(c->threads[i], &r)) rc = -1;
            sum += (uintptr_t)r;
        }
        if (rc || sum != (uint64_t)c->batch * (c->batch + 1) / 2) return -1;
    }
    return 0;
}

static void measure(bench_ctx *b, const char *variant, struct spawn_ctx *weft, struct spawn_ctx *pth)
{
    char label[32], target[32];
    snprintf(label, sizeof label, "spawn/%s", variant);
    bench_case cs[2] = {{"weft", spawn_join, weft, (double)weft->batch, NULL},
                        {"pthread", spawn_join, pth, (double)pth->batch, NULL}};
    bench_measure m[2];
    bench_measure_set(b, label, cs, 2, m);
    bench_record *r = bench_add_record(b, "spawn", variant, weft->batch, b->workers, &m[0], "tasks/s", "pthread", &m[1],
                                       SPAWN_GOAL);
    if (!strcmp(variant, "loop")) snprintf(target, sizeof target, "one at a time");
    else snprintf(target, sizeof target, "batch of %zu", weft->batch);
    if (r) snprintf(r->target, sizeof r->target, "spawn+join >= 20x cheaper than pthread_create+join (%s)", target);
}

static int run_spawn(bench_ctx *b)
{
    size_t batch = b->opt->size ? b->opt->size : b->opt->smoke ? 16 : DEFAULT_BATCH;
    weft_handle_t **handles = calloc(batch, sizeof *handles);
    pthread_t *threads = calloc(batch, sizeof *threads);
    if (handles && threads) {
        struct spawn_ctx wl = {b->rt, 1, handles, NULL}, pl = {NULL, 1, NULL, threads};
        struct spawn_ctx wb = {b->rt, batch, handles, NULL}, pb = {NULL, batch, NULL, threads};
        measure(b, "loop", &wl, &pl);
        measure(b, "batch", &wb, &pb);
    } else {
        bench_progress("spawn: out of memory for a batch of %zu", batch);
    }
    free(handles);
    free(threads);
    return handles && threads ? 0 : -1;
}

const bench_workload bench_workload_spawn = {
    .name = "spawn",
    .description = "spawn+join of an empty task (loop, and batch then join all) vs pthread_create+join",
    .size_help = "tasks per batch (default 1000)",
    .run = run_spawn,
};

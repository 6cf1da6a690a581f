/* bench/spawn.c — workload "spawn": the cost of spawn + join of an empty task.
 *
 *   loop:  spawn one task, join it, repeat (one task in flight)
 *   batch: spawn N tasks, then join them all; reported per task
 *
 * Baseline: pthread_create + pthread_join of an empty thread, the same way.
 * Every task returns its argument; the sum of the joined results is checked. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "workloads.h"

#define SPAWN_GOAL 20.0 /* weft spawn+join aims to be >= 20x cheaper than a thread */
#define DEFAULT_BATCH 1000

static void *empty_task(void *arg) { return arg; }

static uint64_t expected_sum(uint64_t n) { return n * (n + 1) / 2; }

struct spawn_ctx {
    weft_runtime_t *rt;
    size_t batch;
    weft_handle_t **handles;
    pthread_t *threads;
};

static int weft_loop(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= iters; i++) {
        weft_handle_t *h;
        void *r = NULL;
        if (weft_spawn(c->rt, empty_task, (void *)(uintptr_t)i, &h)) return -1;
        if (weft_join(h, &r, NULL)) return -1;
        sum += (uintptr_t)r;
    }
    return sum == expected_sum(iters) ? 0 : -1;
}

static int pthread_loop(void *p, uint64_t iters)
{
    (void)p;
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= iters; i++) {
        pthread_t th;
        void *r = NULL;
        if (pthread_create(&th, NULL, empty_task, (void *)(uintptr_t)i)) return -1;
        if (pthread_join(th, &r)) return -1;
        sum += (uintptr_t)r;
    }
    return sum == expected_sum(iters) ? 0 : -1;
}

static int weft_batch(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    int rc = 0;
    for (uint64_t it = 0; it < iters; it++) {
        size_t started = 0;
        uint64_t sum = 0;
        for (; started < c->batch; started++)
            if (weft_spawn(c->rt, empty_task, (void *)(uintptr_t)(started + 1), &c->handles[started]))
                break;
        for (size_t i = 0; i < started; i++) {
            void *r = NULL;
            if (weft_join(c->handles[i], &r, NULL)) rc = -1;
            sum += (uintptr_t)r;
        }
        if (started != c->batch || sum != expected_sum(c->batch)) rc = -1;
        if (rc) break;
    }
    return rc;
}

static int pthread_batch(void *p, uint64_t iters)
{
    struct spawn_ctx *c = p;
    int rc = 0;
    for (uint64_t it = 0; it < iters; it++) {
        size_t started = 0;
        uint64_t sum = 0;
        for (; started < c->batch; started++)
            if (pthread_create(&c->threads[started], NULL, empty_task, (void *)(uintptr_t)(started + 1)))
                break;
        for (size_t i = 0; i < started; i++) {
            void *r = NULL;
            if (pthread_join(c->threads[i], &r)) rc = -1;
            sum += (uintptr_t)r;
        }
        if (started != c->batch || sum != expected_sum(c->batch)) rc = -1;
        if (rc) break;
    }
    return rc;
}

static int run_spawn(bench_ctx *b)
{
    struct spawn_ctx c = {.rt = b->rt};
    c.batch = b->opt->size ? b->opt->size : b->opt->smoke ? 16 : DEFAULT_BATCH;
    c.handles = calloc(c.batch, sizeof *c.handles);
    c.threads = calloc(c.batch, sizeof *c.threads);
    if (!c.handles || !c.threads) {
        free(c.handles);
        free(c.threads);
        bench_progress("spawn: out of memory for a batch of %zu", c.batch);
        return -1;
    }
    bench_measure ms, mb;

    bench_case wl = {"weft", weft_loop, &c, 1.0, NULL};
    bench_case pl = {"pthread", pthread_loop, &c, 1.0, NULL};
    bench_compare(b, "spawn/loop", &wl, &pl, &ms, &mb);
    bench_record *r = bench_add_record(b, "spawn", "loop", 1, b->workers, &ms, "tasks/s", "pthread", &mb, SPAWN_GOAL);
    if (r) snprintf(r->target, sizeof r->target, "spawn+join >= 20x cheaper than pthread_create+join (one at a time)");

    bench_case wb = {"weft", weft_batch, &c, (double)c.batch, NULL};
    bench_case pb = {"pthread", pthread_batch, &c, (double)c.batch, NULL};
    bench_compare(b, "spawn/batch", &wb, &pb, &ms, &mb);
    r = bench_add_record(b, "spawn", "batch", c.batch, b->workers, &ms, "tasks/s", "pthread", &mb, SPAWN_GOAL);
    if (r) snprintf(r->target, sizeof r->target, "spawn+join >= 20x cheaper than pthread_create+join (batch of %zu)",
                    c.batch);

    free(c.handles);
    free(c.threads);
    return 0;
}

const bench_workload bench_workload_spawn = {
    .name = "spawn",
    .description = "spawn+join of an empty task (loop, and batch then join all) vs pthread_create+join",
    .size_help = "tasks per batch (default 1000)",
    .run = run_spawn,
};

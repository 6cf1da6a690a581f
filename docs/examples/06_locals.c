/* 06_locals.c — task-locals (one value per task, as Rust's thread_local!)
 * and worker-locals (one value per pool worker). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <weft/weft.h>

/* ---- task-locals: a call counter that every task has its own copy of ---- */

static weft_local_key_t *calls_key;
static atomic_int counters_freed;

static void *counter_new(void) { return calloc(1, sizeof(int)); }

static void counter_free(void *p)
{
    atomic_fetch_add(&counters_freed, 1);
    free(p);
}

/* Deep inside some library: counts calls without any parameter for it. */
static void traced_call(void)
{
    int *calls = weft_local_get(calls_key);
    if (calls) (*calls)++;
}

static void *work(void *arg)
{
    intptr_t n = (intptr_t)arg;
    for (intptr_t i = 0; i < n; i++) traced_call();
    int *calls = weft_local_get(calls_key);
    return (void *)(intptr_t)(calls ? *calls : -1);
}

/* ---- worker-locals: a scratch buffer per worker, reused by its tasks ---- */

struct scratch {
    int worker;
    char buf[4096];
};

static weft_worker_key_t *scratch_key;
static atomic_int mismatches;

static void *scratch_new(int worker)
{
    struct scratch *s = malloc(sizeof *s);
    if (s) s->worker = worker;
    return s;
}

static void *use_scratch(void *arg)
{
    (void)arg;
    struct scratch *s = weft_worker_local_get(scratch_key);
    /* A worker runs one task at a time, so the scratch is this task's alone
     * as long as it does not wait: a join, a scope or weft_yield() lets the
     * worker run other tasks meanwhile, and they get the same scratch. */
    if (!s || s->worker != weft_current_worker()) atomic_fetch_add(&mismatches, 1);
    return NULL;
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0 ||
        weft_local_key_create(counter_new, counter_free, &calls_key) != 0 ||
        weft_worker_key_create(rt, scratch_new, free, &scratch_key) != 0) {
        fprintf(stderr, "set-up failed: %s\n", weft_last_error_message());
        return 1;
    }

    /* Three tasks making 1, 2 and 3 calls: each counts only its own, even
     * when they share a worker thread. */
    weft_handle_t *h[3];
    for (intptr_t i = 0; i < 3; i++)
        if (weft_spawn(rt, work, (void *)(i + 1), &h[i]) != 0) return 1;
    for (int i = 0; i < 3; i++) {
        void *calls;
        weft_join(h[i], &calls, NULL);
        printf("task %d counted %d call(s)\n", i, (int)(intptr_t)calls);
    }
    /* Each task's value was destroyed as the task ended, before its join
     * returned. */
    printf("task counters freed: %d\n", atomic_load(&counters_freed));

    /* Outside any task (here, main) there is one value per OS thread. */
    traced_call();
    traced_call();
    printf("main counted %d call(s)\n", *(int *)weft_local_get(calls_key));

    weft_handle_t *many[16];
    for (int i = 0; i < 16; i++)
        if (weft_spawn(rt, use_scratch, NULL, &many[i]) != 0) return 1;
    for (int i = 0; i < 16; i++) weft_join(many[i], NULL, NULL);
    printf("16 tasks each found their worker's scratch: %s\n", atomic_load(&mismatches) == 0 ? "yes" : "no");

    /* Worker-locals belong to pool workers: elsewhere there is none. */
    if (weft_worker_local_get(scratch_key) == NULL) printf("from main: NULL (%s)\n", weft_last_error_message());

    weft_worker_key_destroy(scratch_key); /* before the runtime */
    weft_local_key_destroy(calls_key);    /* frees main's own value too */
    printf("all counters freed: %d\n", atomic_load(&counters_freed));
    weft_runtime_destroy(rt);
    return 0;
}

/* scheduler/pool.c — the pool's lifetime: make it, start and stop its
 * workers, free it; and what the runtime says of itself. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int weft_runtime_cpu_threads(const weft_runtime_t *rt) { return rt ? rt->nworkers : 0; }

uint64_t weft_runtime_detached_panics(const weft_runtime_t *rt)
{
    return rt ? atomic_load(&rt->detached_panics) : 0;
}

void *weft__layer(const weft_runtime_t *rt, int index) { return rt->layer[index]; }

void weft__set_layer(weft_runtime_t *rt, int index, void *state) { rt->layer[index] = state; }

uint64_t weft__runtime_t0(const weft_runtime_t *rt) { return rt->t0_ns; }

void weft__worker_init(weft__worker *w, weft_runtime_t *rt, int index)
{
    w->rt = rt;
    w->index = index;
    w->steal_seed = 0x9e3779b9u * (unsigned)(index + 1);
    weft__deque_init(&w->q);
    weft__parker_init(&w->parker);
}

int weft__pool_create(int cpu_threads, weft_runtime_t **out)
{
    *out = NULL;
    int n = cpu_threads;
    if (n < 0 || n > 4096)
        return weft__fail(WEFT_EINVAL, "weft_runtime_create: cpu_threads is %d, must be 1 to 4096 (or 0 for the default)", n);
    if (n == 0) {
        int rc = weft__env_threads(&n);
        if (rc) return rc;
    }
    uint64_t spin_ns;
    int rc = weft__env_wait_policy(&spin_ns);
    if (rc) return rc;
    weft_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt) return weft__fail(WEFT_ENOMEM, "weft_runtime_create: out of memory");
    rt->workers = calloc((size_t)n, sizeof *rt->workers);
    if (!rt->workers) {
        free(rt);
        return weft__fail(WEFT_ENOMEM, "weft_runtime_create: out of memory for %d workers", n);
    }
    rt->nworkers = n;
    rt->idle_ns = spin_ns;
    weft__injector_init(&rt->inject);
    pthread_mutex_init(&rt->work_m, NULL);
    pthread_mutex_init(&rt->ext_m, NULL);
    pthread_cond_init(&rt->ext_cond, NULL);
    pthread_mutex_init(&rt->keys_m, NULL);
    for (int i = 0; i < WEFT__HANDLE_STRIPES; i++) atomic_init(&rt->handles[i].lock, 0);
    rt->t0_ns = weft__now_ns();
    for (int i = 0; i < n; i++) weft__worker_init(&rt->workers[i], rt, i);
    *out = rt;
    return 0;
}

void weft__pool_free(weft_runtime_t *rt)
{
    weft__worker_locals_destroy(rt);
    for (int i = 0; i < rt->nworkers; i++) weft__deque_destroy(&rt->workers[i].q);
    weft__slots_free(rt);
    weft__injector_destroy(&rt->inject);
    pthread_mutex_destroy(&rt->work_m);
    pthread_mutex_destroy(&rt->ext_m);
    pthread_cond_destroy(&rt->ext_cond);
    pthread_mutex_destroy(&rt->keys_m);
    free(rt->workers);
    free(rt);
}

/* Stop and join the first `started` workers. */
static void stop_workers(weft_runtime_t *rt, int started)
{
    atomic_store(&rt->stop, 1);
    weft__wake_all(rt);
    for (int i = 0; i < started; i++) pthread_join(rt->workers[i].thread, NULL);
}

int weft__pool_start(weft_runtime_t *rt)
{
    for (int i = 0; i < rt->nworkers; i++) {
        int err = pthread_create(&rt->workers[i].thread, NULL, weft__worker_main, &rt->workers[i]);
        if (err) {
            stop_workers(rt, i);
            return weft__fail(WEFT_EAGAIN, "weft_runtime_create: could not start worker %d of %d: %s",
                              i, rt->nworkers, strerror(err));
        }
    }
    return 0;
}

void weft__runtime_external_begin(weft_runtime_t *rt)
{
    pthread_mutex_lock(&rt->ext_m);
    rt->ext_live++;
    pthread_mutex_unlock(&rt->ext_m);
}

void weft__runtime_external_end(weft_runtime_t *rt)
{
    pthread_mutex_lock(&rt->ext_m);
    if (--rt->ext_live == 0) pthread_cond_broadcast(&rt->ext_cond);
    pthread_mutex_unlock(&rt->ext_m);
}

void weft__runtime_task_begin(weft_runtime_t *rt) { atomic_fetch_add(&rt->tasks_live, 1); }

void weft__runtime_task_end(weft_runtime_t *rt)
{
    /* The last task to finish wakes weft_runtime_destroy, when it waits:
     * it sets destroying before it reads tasks_live, and this reads
     * destroying after its decrement (both sequentially consistent), so one
     * of the two sees the other. */
    if (atomic_fetch_sub(&rt->tasks_live, 1) == 1 && atomic_load(&rt->destroying)) {
        pthread_mutex_lock(&rt->ext_m);
        pthread_cond_broadcast(&rt->ext_cond);
        pthread_mutex_unlock(&rt->ext_m);
    }
}

/* Wait until no task runs or waits to run, and no outside work is live:
 * from then on nothing can spawn onto rt. */
static void wait_quiet(weft_runtime_t *rt)
{
    pthread_mutex_lock(&rt->ext_m);
    atomic_store(&rt->destroying, 1);
    while (rt->ext_live > 0 || atomic_load(&rt->tasks_live) > 0) pthread_cond_wait(&rt->ext_cond, &rt->ext_m);
    pthread_mutex_unlock(&rt->ext_m);
}

void weft__pool_stop(weft_runtime_t *rt)
{
    /* Tasks, dedicated threads and device work may still spawn onto the
     * pool (a dedicated thread started by a task of the drain may spawn a
     * task and join it): the workers run until all of them have finished.
     * A handle never consumed may hold device work nobody has armed; arming
     * it lets it complete, and what it runs may leave more such handles. */
    do wait_quiet(rt);
    while (weft__handles_arm(rt) > 0);
    stop_workers(rt, rt->nworkers);
}

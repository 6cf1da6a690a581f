/* scheduler/pool.c — the runtime and its pool of work-stealing CPU workers. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "deque.h"

#define IDLE_SPIN_ROUNDS 2000

static _Thread_local weft__thread_ctx thread_ctx;

weft__thread_ctx *weft__ctx(void) { return &thread_ctx; }

int weft_runtime_cpu_threads(const weft_runtime_t *rt) { return rt ? rt->nworkers : 0; }

uint64_t weft_runtime_detached_panics(const weft_runtime_t *rt)
{
    return rt ? atomic_load(&rt->detached_panics) : 0;
}

int weft_current_worker(void)
{
    return thread_ctx.worker ? thread_ctx.worker->index : -1;
}

int weft__pool_push(weft_runtime_t *rt, struct weft_task *t)
{
    weft__deque *q = (thread_ctx.worker && thread_ctx.rt == rt) ? &thread_ctx.worker->q : &rt->inject;
    int rc = weft__deque_push(q, t);
    if (rc) return rc;
    atomic_fetch_add(&rt->queued, 1);
    atomic_fetch_add(&rt->epoch, 1);
    /* Dekker pairing with worker_park(): either the parking worker sees the
     * new epoch, or we see it counted as idle and signal it. */
    /* A spinning worker will find it; otherwise wake a parked one. A spinner
     * that gives up re-checks `queued` before it sleeps (worker_park). */
    if (atomic_load(&rt->idle) > 0 && atomic_load(&rt->spinners) == 0) {
        pthread_mutex_lock(&rt->work_m);
        pthread_cond_signal(&rt->work_cond);
        pthread_mutex_unlock(&rt->work_m);
    }
    return 0;
}

static struct weft_task *taken(weft_runtime_t *rt, struct weft_task *t)
{
    if (t) atomic_fetch_sub(&rt->queued, 1);
    return t;
}

struct weft_task *weft__pool_find(weft_runtime_t *rt)
{
    if (atomic_load_explicit(&rt->queued, memory_order_relaxed) == 0) return NULL;
    weft__worker *self = (thread_ctx.worker && thread_ctx.rt == rt) ? thread_ctx.worker : NULL;
    struct weft_task *t;
    if (self && (t = weft__deque_pop(&self->q))) return taken(rt, t);
    if ((t = weft__deque_steal(&rt->inject))) return taken(rt, t);
    int n = rt->nworkers;
    int start = self ? (int)(rand_r(&self->steal_seed) % (unsigned)n) : 0;
    for (int i = 0; i < n; i++) {
        weft__worker *v = &rt->workers[(start + i) % n];
        if (v == self) continue;
        if ((t = weft__deque_steal(&v->q))) return taken(rt, t);
    }
    return NULL;
}

/* A push made while a worker spun woke nobody: the spinner takes one task, so
 * whoever takes a task while more are queued wakes a parked worker for them
 * (unless another spinner will find them). Without this, tasks pushed in a
 * burst wait behind a spinner's long-running task while workers sleep. */
static void wake_for_queued(weft_runtime_t *rt)
{
    if (atomic_load(&rt->queued) > 0 && atomic_load(&rt->idle) > 0 && atomic_load(&rt->spinners) == 0) {
        pthread_mutex_lock(&rt->work_m);
        pthread_cond_signal(&rt->work_cond);
        pthread_mutex_unlock(&rt->work_m);
    }
}

/* Sleep until new work is pushed or the runtime stops. */
static void worker_park(weft_runtime_t *rt, unsigned seen_epoch)
{
    pthread_mutex_lock(&rt->work_m);
    atomic_fetch_add(&rt->idle, 1);
    /* Queued work may have been missed by a steal that found its deque busy. */
    while (atomic_load(&rt->epoch) == seen_epoch && !atomic_load(&rt->stop) &&
           atomic_load(&rt->queued) == 0)
        pthread_cond_wait(&rt->work_cond, &rt->work_m);
    atomic_fetch_sub(&rt->idle, 1);
    pthread_mutex_unlock(&rt->work_m);
}

static void *worker_main(void *arg)
{
    weft__worker *w = arg;
    weft_runtime_t *rt = w->rt;
    thread_ctx.rt = rt;
    thread_ctx.worker = w;
    char name[16];
    snprintf(name, sizeof name, "weft-%d", w->index);
    pthread_setname_np(pthread_self(), name);

    /* An idle worker spins a while before it parks, so that a task pushed
     * soon after is taken without a wake-up; but only a few spin at once: a
     * crowd of spinners costs more in cache traffic than it saves. */
    int max_spinners = rt->nworkers < 2 ? 1 : rt->nworkers / 2 > 4 ? 4 : rt->nworkers / 2;
    for (;;) {
        unsigned epoch = atomic_load(&rt->epoch);
        struct weft_task *t = weft__pool_find(rt);
        if (t) {
            wake_for_queued(rt);
            weft__task_execute(t);
            continue;
        }
        /* Stop only once every queue is empty: destroy drains the pool. */
        if (atomic_load(&rt->stop) && atomic_load(&rt->queued) == 0) break;
        if (atomic_fetch_add(&rt->spinners, 1) < max_spinners) {
            for (unsigned spins = 1; spins <= IDLE_SPIN_ROUNDS && !t; spins++) {
                if (atomic_load_explicit(&rt->queued, memory_order_relaxed) || atomic_load(&rt->stop))
                    t = weft__pool_find(rt);
                else if (spins % 64 == 0) sched_yield();
                else weft__cpu_relax();
            }
        }
        atomic_fetch_sub(&rt->spinners, 1);
        if (t) {
            wake_for_queued(rt);
            weft__task_execute(t);
            continue;
        }
        if (atomic_load(&rt->stop)) continue;
        worker_park(rt, epoch);
    }
    return NULL;
}

/* CPUs this process may run on: its affinity mask (taskset, cpusets), not
 * every CPU online. */
static int usable_cpus(void)
{
    for (size_t n = 1024; n <= 1u << 16; n *= 2) {
        cpu_set_t *set = CPU_ALLOC(n);
        if (!set) break;
        size_t size = CPU_ALLOC_SIZE(n);
        if (sched_getaffinity(0, size, set) == 0) {
            int count = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return count > 0 ? count : 1;
        }
        CPU_FREE(set);
        if (errno != EINVAL) break; /* EINVAL: the mask is larger than n CPUs */
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* $WEFT_NUM_THREADS, else the older $WEFT_CPU_THREADS, else usable_cpus(). */
static int threads_from_env(int *out)
{
    const char *var = "WEFT_NUM_THREADS";
    const char *env = getenv(var);
    if (!env || !*env) env = getenv(var = "WEFT_CPU_THREADS");
    if (!env || !*env) {
        *out = usable_cpus();
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(env, &end, 10);
    if (errno || *end || n <= 0 || n > 4096)
        return weft__fail(WEFT_EINVAL, "%s=\"%s\": expected a whole number from 1 to 4096", var, env);
    *out = (int)n;
    return 0;
}

void weft__pool_free(weft_runtime_t *rt)
{
    weft__worker_locals_destroy(rt);
    for (int i = 0; i < rt->nworkers; i++) weft__deque_destroy(&rt->workers[i].q);
    weft__deque_destroy(&rt->inject);
    pthread_mutex_destroy(&rt->work_m);
    pthread_cond_destroy(&rt->work_cond);
    pthread_mutex_destroy(&rt->ext_m);
    pthread_cond_destroy(&rt->ext_cond);
    pthread_mutex_destroy(&rt->keys_m);
    free(rt->workers);
    free(rt);
}

/* Stop and join the first `started` workers. */
static void stop_workers(weft_runtime_t *rt, int started)
{
    pthread_mutex_lock(&rt->work_m);
    atomic_store(&rt->stop, 1);
    pthread_cond_broadcast(&rt->work_cond);
    pthread_mutex_unlock(&rt->work_m);
    for (int i = 0; i < started; i++) pthread_join(rt->workers[i].thread, NULL);
}

int weft__pool_create(int cpu_threads, weft_runtime_t **out)
{
    *out = NULL;
    int n = cpu_threads;
    if (n < 0 || n > 4096)
        return weft__fail(WEFT_EINVAL, "weft_runtime_create: cpu_threads is %d, must be 1 to 4096 (or 0 for the default)", n);
    if (n == 0) {
        int rc = threads_from_env(&n);
        if (rc) return rc;
    }
    weft_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt) return weft__fail(WEFT_ENOMEM, "weft_runtime_create: out of memory");
    rt->workers = calloc((size_t)n, sizeof *rt->workers);
    if (!rt->workers) {
        free(rt);
        return weft__fail(WEFT_ENOMEM, "weft_runtime_create: out of memory for %d workers", n);
    }
    rt->nworkers = n;
    weft__deque_init(&rt->inject);
    pthread_mutex_init(&rt->work_m, NULL);
    pthread_cond_init(&rt->work_cond, NULL);
    pthread_mutex_init(&rt->ext_m, NULL);
    pthread_cond_init(&rt->ext_cond, NULL);
    pthread_mutex_init(&rt->keys_m, NULL);
    rt->t0_ns = weft__now_ns();
    for (int i = 0; i < n; i++) {
        rt->workers[i].rt = rt;
        rt->workers[i].index = i;
        rt->workers[i].steal_seed = 0x9e3779b9u * (unsigned)(i + 1);
        weft__deque_init(&rt->workers[i].q);
    }
    *out = rt;
    return 0;
}

int weft__pool_start(weft_runtime_t *rt)
{
    for (int i = 0; i < rt->nworkers; i++) {
        int err = pthread_create(&rt->workers[i].thread, NULL, worker_main, &rt->workers[i]);
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

static void wait_external(weft_runtime_t *rt)
{
    pthread_mutex_lock(&rt->ext_m);
    while (rt->ext_live > 0) pthread_cond_wait(&rt->ext_cond, &rt->ext_m);
    pthread_mutex_unlock(&rt->ext_m);
}

void weft__pool_stop(weft_runtime_t *rt)
{
    /* Dedicated threads and device launches may still spawn onto the pool:
     * wait for them first, then drain and stop the workers. */
    wait_external(rt);
    stop_workers(rt, rt->nworkers);
    /* A task that ran during the drain may have started a dedicated thread. */
    wait_external(rt);
}

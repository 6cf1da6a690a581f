/* scheduler/idle.c — the one sleep/wake protocol of the pool.
 *
 * Every worker owns a parker: a token it sleeps on, like Rust's
 * thread::park/unpark (an unpark before the park makes the park return at
 * once; a stale token only makes one park return early, and every caller
 * looks again). A worker sleeps for one of two reasons, both here:
 *   - it is idle: it found no task;
 *   - it helps while it waits for a latch (a join or a scope on a worker):
 *     it found no task and the latch is not set.
 * Either way it first spins for a bounded time (rt->idle_spins rounds, set
 * by $WEFT_WAIT_POLICY: none when passive; only a few workers spin at once:
 * a crowd of spinners costs more in cache traffic than it saves), then
 * puts its parker on the pool's sleeper list (and, when waiting, in the
 * latch's `helper`), looks one last time, and parks.
 *
 * Who wakes it:
 *   - a push (weft__wake_for_push) pops one sleeper and unparks it, but only
 *     when no worker is spinning (a spinner will find the task);
 *   - a worker that took a task while more are queued wakes one more
 *     (weft__wake_for_queued), so a burst of pushes that found a spinner
 *     does not wait behind that spinner's task;
 *   - the latch's setter unparks its helper (latch.c);
 *   - runtime stop wakes every sleeper.
 * No lost wake-up: the sleeper makes itself visible (sleeper count, latch
 * helper) with sequentially consistent stores before it reads `queued`,
 * `stop` and the latch; a pusher bumps `queued` before it reads the sleeper
 * count, a setter sets the latch before it reads the helper. Of each such
 * pair, at least one side sees the other. A spinner that gives up decrements
 * `spinners` before it registers and looks, so a push that saw it spinning
 * (and woke nobody) is found by that last look. Nothing polls on a timer. */
#include <sched.h>

#include "core.h"

void weft__parker_init(weft__parker *p)
{
    pthread_mutex_init(&p->m, NULL);
    pthread_cond_init(&p->c, NULL);
    p->token = 0;
    p->sleeping = 0;
    p->prev = p->next = NULL;
}

void weft__parker_destroy(weft__parker *p)
{
    pthread_cond_destroy(&p->c);
    pthread_mutex_destroy(&p->m);
}

static void park(weft__parker *p)
{
    pthread_mutex_lock(&p->m);
    while (!p->token) pthread_cond_wait(&p->c, &p->m);
    p->token = 0;
    pthread_mutex_unlock(&p->m);
}

void weft__unpark(weft__parker *p)
{
    pthread_mutex_lock(&p->m);
    p->token = 1;
    pthread_cond_signal(&p->c);
    pthread_mutex_unlock(&p->m);
}

/* The sleeper list, under work_m. */
static void list_add(weft_runtime_t *rt, weft__parker *p)
{
    pthread_mutex_lock(&rt->work_m);
    p->sleeping = 1;
    p->prev = NULL;
    p->next = rt->sleepers;
    if (rt->sleepers) rt->sleepers->prev = p;
    rt->sleepers = p;
    atomic_fetch_add(&rt->nsleeping, 1);
    pthread_mutex_unlock(&rt->work_m);
}

static void list_unlink(weft_runtime_t *rt, weft__parker *p)
{
    if (p->prev) p->prev->next = p->next;
    else rt->sleepers = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
    p->sleeping = 0;
    atomic_fetch_sub(&rt->nsleeping, 1);
}

static void list_remove(weft_runtime_t *rt, weft__parker *p)
{
    pthread_mutex_lock(&rt->work_m);
    if (p->sleeping) list_unlink(rt, p);
    pthread_mutex_unlock(&rt->work_m);
}

static void wake_one(weft_runtime_t *rt)
{
    pthread_mutex_lock(&rt->work_m);
    weft__parker *p = rt->sleepers;
    if (p) list_unlink(rt, p);
    pthread_mutex_unlock(&rt->work_m);
    if (p) weft__unpark(p);
}

void weft__wake_for_push(weft_runtime_t *rt)
{
    if (atomic_load(&rt->spinners) == 0 && atomic_load(&rt->nsleeping) > 0) wake_one(rt);
}

void weft__wake_for_queued(weft_runtime_t *rt)
{
    if (atomic_load(&rt->queued) > 0 && atomic_load(&rt->spinners) == 0 && atomic_load(&rt->nsleeping) > 0)
        wake_one(rt);
}

void weft__wake_all(weft_runtime_t *rt)
{
    for (;;) {
        pthread_mutex_lock(&rt->work_m);
        weft__parker *p = rt->sleepers;
        if (p) list_unlink(rt, p);
        pthread_mutex_unlock(&rt->work_m);
        if (!p) return;
        weft__unpark(p);
    }
}

static int max_spinners(const weft_runtime_t *rt)
{
    int half = rt->nworkers / 2;
    return rt->nworkers < 2 ? 1 : half > 4 ? 4 : half;
}

struct weft_task *weft__idle(weft_runtime_t *rt, weft__worker *w, weft__latch *l)
{
    if (atomic_fetch_add(&rt->spinners, 1) < max_spinners(rt)) {
        for (unsigned spins = 1; spins <= rt->idle_spins; spins++) {
            if (l && weft__latch_is_set(l)) break;
            if (atomic_load(&rt->stop)) break;
            if (atomic_load_explicit(&rt->queued, memory_order_relaxed)) {
                struct weft_task *t = weft__pool_find(rt);
                if (t) {
                    atomic_fetch_sub(&rt->spinners, 1);
                    return t;
                }
            }
            if (spins % 64 == 0) sched_yield();
            else weft__cpu_relax();
        }
    }
    atomic_fetch_sub(&rt->spinners, 1);

    weft__parker *p = &w->parker;
    list_add(rt, p);
    if (l) atomic_store(&l->helper, p);
    if (!atomic_load(&rt->queued) && !atomic_load(&rt->stop) && !(l && weft__latch_is_set(l))) park(p);
    if (l) {
        weft__parker *self = p;
        atomic_compare_exchange_strong(&l->helper, &self, NULL);
    }
    list_remove(rt, p);
    return NULL;
}

/* scheduler/worker.c — the worker loop: take a task (own deque newest first,
 * then the inject queue, then steal the oldest of another worker or caller
 * slot), run it, and when there is none, go idle (idle.c). The help loop is
 * the same loop, run by any thread that waits for a latch: a worker in its
 * own slot, a thread from outside in a caller slot (slots.c). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

static void spares_ensure(weft_runtime_t *rt);

/* The calling thread's worker or caller slot of rt, or NULL. */
static weft__worker *self_of(weft_runtime_t *rt)
{
    weft__thread_ctx *ctx = weft__ctx();
    return ctx->worker && ctx->rt == rt ? ctx->worker : NULL;
}

int weft_current_worker(void)
{
    weft__worker *w = weft__ctx()->worker;
    return w ? w->index : -1;
}

int weft__pool_push(weft_runtime_t *rt, struct weft_task *t)
{
    weft__worker *self = self_of(rt);
    int rc = self ? weft__deque_push(&self->q, t) : weft__injector_push(&rt->inject, t);
    if (rc) return rc;
    atomic_fetch_add(&rt->queued, 1);
    weft__wake_for_push(rt);
    if (atomic_load(&rt->nblocked) > 0) spares_ensure(rt);
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
    weft__worker *self = self_of(rt);
    struct weft_task *t;
    if (self && (t = weft__deque_pop(&self->q))) return taken(rt, t);
    if ((t = weft__injector_steal(&rt->inject))) return taken(rt, t);
    int n = rt->nworkers;
    int start = self ? (int)(rand_r(&self->steal_seed) % (unsigned)n) : 0;
    for (int i = 0; i < n; i++) {
        weft__worker *v = &rt->workers[(start + i) % n];
        if (v == self) continue;
        if ((t = weft__deque_steal(&v->q))) return taken(rt, t);
    }
    for (weft__worker *v = weft__slot_next(rt, NULL); v; v = weft__slot_next(rt, v))
        if (v != self && (t = weft__deque_steal(&v->q))) return taken(rt, t);
    return NULL;
}

void *weft__worker_main(void *arg)
{
    weft__worker *w = arg;
    weft_runtime_t *rt = w->rt;
    weft__thread_ctx *ctx = weft__ctx();
    ctx->rt = rt;
    ctx->worker = w;
    char name[16];
    snprintf(name, sizeof name, "weft-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    for (;;) {
        struct weft_task *t = weft__pool_find(rt);
        if (!t) {
            /* Stop only once every queue is empty: destroy drains the pool. */
            if (atomic_load(&rt->stop) && atomic_load(&rt->queued) == 0) break;
            t = weft__idle(rt, w, NULL, 0);
        } else {
            weft__wake_for_queued(rt);
        }
        if (t) weft__task_execute(t);
    }
    return NULL;
}

/* ---- spares ----------------------------------------------------------------
 * A worker blocked outside the pool's protocol (weft_sleep_ns, a contended
 * weft mutex, a parked wait) still holds its place in the pool. As Go's
 * scheduler hands a blocked thread's processor to another thread, a spare
 * thread runs the pool's tasks meanwhile: rt->nblocked counts the blocked
 * workers (and blocked spares), rt->nspares the live spares, and while work
 * is queued a spare is started whenever nspares < nblocked, up to
 * WEFT_SPARES_PER_WORKER per worker. A spare is an ordinary thread in a
 * caller slot; it leaves when it is one too many (nspares > nblocked, checked
 * between tasks) or when a search finds nothing (it never sleeps on the
 * pool's sleeper list), and is counted as outside work, so the pool's stop
 * waits for it. No lost start: a pusher adds to `queued` then reads the two
 * counters; a blocker adds to nblocked, a leaving spare takes itself off
 * nspares, then each reads `queued`. */

static void *spare_main(void *arg);

static void spares_ensure(weft_runtime_t *rt)
{
    int max = WEFT_SPARES_PER_WORKER * rt->nworkers;
    for (;;) {
        int n = atomic_load(&rt->nspares);
        /* Also while the pool stops: a blocked task of the drain may wait
         * for a queued one (the stop waits for spares as outside work). */
        if (n >= atomic_load(&rt->nblocked) || n >= max) return;
        if (!atomic_compare_exchange_weak(&rt->nspares, &n, n + 1)) continue;
        pthread_attr_t attr;
        pthread_t th;
        int err = pthread_attr_init(&attr);
        if (!err) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            weft__runtime_external_begin(rt);
            err = pthread_create(&th, &attr, spare_main, rt);
            pthread_attr_destroy(&attr);
            if (err) weft__runtime_external_end(rt);
        }
        if (err) {
            /* No thread now: the blocked worker comes back by itself. */
            atomic_fetch_sub(&rt->nspares, 1);
            return;
        }
    }
}

weft_runtime_t *weft__block_begin(void)
{
    weft__worker *w = weft__ctx()->worker;
    if (!w || (w->index >= w->rt->nworkers && !w->spare)) return NULL;
    weft_runtime_t *rt = w->rt;
    atomic_fetch_add(&rt->nblocked, 1);
    if (atomic_load(&rt->queued)) spares_ensure(rt);
    return rt;
}

void weft__block_end(weft_runtime_t *rt)
{
    if (rt) atomic_fetch_sub(&rt->nblocked, 1);
}

/* A spare leaves when it is one too many: 1 when it took itself off. Not
 * while the pool stops: the workers may be gone, and it drains the queues. */
static int spare_surplus(weft_runtime_t *rt)
{
    if (atomic_load(&rt->stop)) return 0;
    int n = atomic_load(&rt->nspares);
    while (n > atomic_load(&rt->nblocked))
        if (atomic_compare_exchange_weak(&rt->nspares, &n, n - 1)) return 1;
    return 0;
}

static void *spare_main(void *arg)
{
    weft_runtime_t *rt = arg;
    weft__thread_ctx *ctx = weft__ctx();
    pthread_setname_np(pthread_self(), "weft-spare");
    weft__worker *slot = weft__slot_acquire(rt);
    int left = 0;
    if (slot) {
        slot->spare = 1;
        ctx->rt = rt;
        ctx->worker = slot;
        while (!(left = spare_surplus(rt))) {
            struct weft_task *t = weft__pool_find(rt);
            if (!t) t = weft__idle(rt, slot, NULL, 0);
            else weft__wake_for_queued(rt);
            if (!t && !(t = weft__pool_find(rt))) break;
            weft__task_execute(t);
        }
        slot->spare = 0;
        ctx->rt = NULL;
        ctx->worker = NULL;
        weft__slot_release(slot);
    }
    if (!left) atomic_fetch_sub(&rt->nspares, 1);
    /* Work pushed as it left (the pusher saw it counted): start another. */
    if (atomic_load(&rt->queued)) {
        spares_ensure(rt);
        weft__wake_for_queued(rt);
    }
    weft__runtime_external_end(rt); /* last: the pool's stop waits for it */
    return NULL;
}

/* ---- waits ------------------------------------------------------------------
 * How deep one thread may nest tasks it runs while it waits. Past it, the
 * thread runs only tasks of its own deque (the ones it spawned: a recursion
 * nests no deeper than it would run sequentially) and otherwise parks, so a
 * stream of unrelated queued tasks cannot pile up on one stack. */
#define HELP_DEPTH_MAX WEFT_HELP_DEPTH_MAX
static _Thread_local int help_depth;

static void run_nested(struct weft_task *t)
{
    help_depth++;
    weft__task_execute(t);
    help_depth--;
}

static void help_until(weft_runtime_t *rt, weft__worker *self, weft__latch *l)
{
    int ran = 0;
    while (!weft__latch_is_set(l)) {
        if (help_depth >= HELP_DEPTH_MAX) {
            /* Deep enough: only its own spawns, else park. */
            struct weft_task *t = weft__deque_pop(&self->q);
            if (t) {
                atomic_fetch_sub(&rt->queued, 1);
                run_nested(t);
            } else {
                weft__wait_parked(rt, l);
            }
            continue;
        }
        struct weft_task *t = weft__pool_find(rt);
        if (!t) t = weft__idle(rt, self, l, ran);
        else weft__wake_for_queued(rt);
        if (t) {
            run_nested(t);
            ran = 1;
        }
    }
}

/* Whether the calling thread may run rt's tasks while it waits: never while
 * it holds a weft mutex (a task it ran could need the same lock: on the same
 * thread, a deadlock), and never for another runtime's wait while it is a
 * worker of its own (it would stop serving its own pool, and A→B→A waits
 * could deadlock). */
static int may_help(weft_runtime_t *rt)
{
    weft__thread_ctx *ctx = weft__ctx();
    if (ctx->held) return 0;
    if (ctx->worker && ctx->worker->rt != rt) return 0;
    return 1;
}

void weft__wait_parked(weft_runtime_t *rt, weft__latch *l)
{
    if (weft__latch_is_set(l)) return;
    weft__worker *own = weft__ctx()->worker;
    weft__worker *slot = own ? NULL : weft__slot_acquire(rt);
    weft__parker *p = own ? &own->parker : slot ? &slot->parker : NULL;
    weft_runtime_t *counted = weft__block_begin();
    while (!weft__latch_is_set(l)) {
        if (p) weft__latch_park(l, p);
        else sched_yield(); /* no memory for a slot: no parker either */
    }
    weft__block_end(counted);
    if (slot) weft__slot_release(slot);
}

void weft__wait(weft_runtime_t *rt, weft__latch *l)
{
    if (weft__latch_is_set(l)) return;
    if (!may_help(rt)) {
        weft__wait_parked(rt, l);
        return;
    }
    weft__worker *self = self_of(rt);
    if (self) {
        help_until(rt, self, l);
        return;
    }
    weft__thread_ctx *ctx = weft__ctx();
    weft__worker *slot = weft__slot_acquire(rt);
    if (!slot) {
        /* No memory for a slot: no parker either, so poll. */
        while (!weft__latch_is_set(l)) sched_yield();
        return;
    }
    if (!weft__stack_can_help()) {
        /* Sleep on the slot's parker, running nothing. */
        while (!weft__latch_is_set(l)) weft__latch_park(l, &slot->parker);
        weft__slot_release(slot);
        return;
    }
    /* While it helps, the thread is the slot's worker (tasks it runs see the
     * slot's index and worker-locals, and push to its deque); it is itself
     * again after. (A worker of another runtime parks: may_help.) */
    weft_runtime_t *saved_rt = ctx->rt;
    weft__worker *saved_worker = ctx->worker;
    ctx->rt = rt;
    ctx->worker = slot;
    help_until(rt, slot, l);
    ctx->rt = saved_rt;
    ctx->worker = saved_worker;
    weft__slot_release(slot);
}

void weft_yield(void)
{
    weft__thread_ctx *ctx = weft__ctx();
    if (ctx->worker) {
        struct weft_task *t = help_depth < HELP_DEPTH_MAX && !ctx->held ? weft__pool_find(ctx->rt) : NULL;
        if (t) {
            run_nested(t);
            return;
        }
    }
    sched_yield();
}

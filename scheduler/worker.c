/* scheduler/worker.c — the worker loop: take a task (own deque newest first,
 * then the inject queue, then steal the oldest of another worker or caller
 * slot), run it, and when there is none, go idle (idle.c). The help loop is
 * the same loop, run by any thread that waits for a latch: a worker in its
 * own slot, a thread from outside in a caller slot (slots.c). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

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

static void help_until(weft_runtime_t *rt, weft__worker *self, weft__latch *l)
{
    int ran = 0;
    while (!weft__latch_is_set(l)) {
        struct weft_task *t = weft__pool_find(rt);
        if (!t) t = weft__idle(rt, self, l, ran);
        else weft__wake_for_queued(rt);
        if (t) {
            weft__task_execute(t);
            ran = 1;
        }
    }
}

void weft__wait(weft_runtime_t *rt, weft__latch *l)
{
    if (weft__latch_is_set(l)) return;
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
     * again after, even if it was some other runtime's worker. */
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
        struct weft_task *t = weft__pool_find(ctx->rt);
        if (t) {
            weft__task_execute(t);
            return;
        }
    }
    sched_yield();
}

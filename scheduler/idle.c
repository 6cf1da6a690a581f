/* scheduler/idle.c — the one sleep/wake protocol of the pool.
 *
 * Who takes part: the workers, and every thread that blocks in weft from
 * outside the pool, in the caller slot it is lent for the wait (slots.c).
 * Each owns a parker (parker.c): a token on a futex.
 *
 * A thread that found no task goes idle (weft__idle). It is idle for one of
 * two reasons: a worker with nothing to do, or a thread waiting for a latch
 * (a join or a scope) whose latch is not set yet.
 *
 *  1. Searching. It counts itself in rt->searching and spins for a bounded
 *     time, looking for work whenever `queued` says there is some, yielding
 *     the core now and then. Any number of threads may search at once. The time adapts per
 *     thread, up to rt->idle_ns ($WEFT_WAIT_POLICY: 2 ms by default, none
 *     when passive, 200 ms when active): a search that ran out halves the
 *     next one, down to a 64th; a search that found work, or a sleep that a
 *     push ended, doubles it. A thread that waits for devices, or idles
 *     beside a device that runs on the same cores, soon parks instead of
 *     taking their cores; one that feeds a loop of CPU operations keeps
 *     searching through the gaps. A waiter that has run the pool's tasks
 *     during its wait searches the whole time: what it waits for is CPU
 *     work finishing on another thread (the last pieces of an operation).
 *  2. Found one. It stops searching; if more tasks are queued and no other
 *     thread is searching now, it wakes one sleeper first: a burst of pushes
 *     that a single searcher saw spreads over the pool one wake at a time.
 *     A thread that takes a task without searching (a woken sleeper, a
 *     worker between two tasks) does the same (weft__wake_for_queued), or
 *     the chain would stop at the first woken thread.
 *  3. Latch set (a waiter). It stops searching and passes on any queued work
 *     it leaves behind the same way (it may have been the searcher a push
 *     counted on).
 *  4. Nothing for the whole spin. It stops searching, puts its parker on the
 *     sleeper list (and, a waiter, in the latch's word), looks one last time
 *     at `queued`, `stop` and the latch, and parks.
 *
 * Who wakes a sleeper:
 *   - a push (weft__wake_for_push), and only when no thread is searching:
 *     a searcher will find the task without a system call;
 *   - a thread that took work and saw more queued, nobody searching (2, 3);
 *   - the latch's setter, which unparks the parker it took out of the word;
 *   - runtime stop wakes every sleeper.
 *
 * No lost wake-up. Each side writes, then reads the other's word, all
 * sequentially consistent: a pusher increments `queued` and then reads
 * `searching` and `nsleeping`; a searcher that gives up decrements
 * `searching`, and then (4) joins the sleeper list or (3) reads `queued`.
 * Either the pusher sees the searcher (then the searcher sees the task), or
 * the searcher sees the task. The latch is one word: registering the parker
 * fails once the latch is set. A parker's token survives an unpark that
 * comes before the park, so a wake between the last look and the park is
 * not lost either. Nothing polls on a timer. */
#include <sched.h>

#include "core.h"

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
    if (atomic_load(&rt->searching) == 0 && atomic_load(&rt->nsleeping) > 0) wake_one(rt);
}

void weft__wake_for_queued(weft_runtime_t *rt)
{
    if (atomic_load(&rt->queued) > 0 && atomic_load(&rt->searching) == 0 && atomic_load(&rt->nsleeping) > 0)
        wake_one(rt);
}

/* A searcher stopped (2, 3): hand on the work it leaves queued. */
static void stop_searching(weft_runtime_t *rt)
{
    if (atomic_fetch_sub(&rt->searching, 1) == 1) weft__wake_for_queued(rt);
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

/* The next search of a thread: halved when one ran out, doubled when
 * searching (or staying awake) would have paid, within [max/64, max]. */
static void spin_less(const weft_runtime_t *rt, weft__worker *w)
{
    uint64_t floor = rt->idle_ns / 64;
    w->spin_ns = w->spin_ns / 2 > floor ? w->spin_ns / 2 : floor;
}

static void spin_more(const weft_runtime_t *rt, weft__worker *w)
{
    w->spin_ns = w->spin_ns * 2 < rt->idle_ns ? w->spin_ns * 2 : rt->idle_ns;
}

/* Spin rounds between two looks at the clock, and between two yields. */
#define ROUNDS_PER_CHECK 64
/* Spin rounds between two looks at the pool's counter (a few hundred
 * nanoseconds). */
#define ROUNDS_PER_LOOK 4

struct weft_task *weft__idle(weft_runtime_t *rt, weft__worker *w, weft__latch *l, int patient)
{
    atomic_fetch_add(&rt->searching, 1);
    if (!w->spin_ns || w->spin_ns > rt->idle_ns) w->spin_ns = rt->idle_ns;
    uint64_t spin = patient ? rt->idle_ns : w->spin_ns;
    uint64_t until = spin ? weft__now_ns() + spin : 0;
    unsigned seen = 0;
    for (unsigned round = 1; until; round++) {
        if ((l && weft__latch_is_set(l)) || atomic_load_explicit(&rt->stop, memory_order_relaxed)) {
            stop_searching(rt);
            return NULL;
        }
        /* Look every few rounds, and take work seen on the look after: a
         * thread that spawns and joins at once takes its own task back
         * meanwhile, without the task (and the pool's counter) crossing to
         * this core and back at every operation. */
        if (round % ROUNDS_PER_LOOK == 0) {
            if (!atomic_load_explicit(&rt->queued, memory_order_relaxed)) {
                seen = 0;
            } else if (seen++) {
                struct weft_task *t = weft__pool_find(rt);
                if (t) {
                    stop_searching(rt);
                    spin_more(rt, w);
                    return t;
                }
            }
        }
        if (round % ROUNDS_PER_CHECK == 0) {
            if (weft__now_ns() >= until) break;
            sched_yield(); /* a runnable thread of the process (a driver's) may have this core */
        } else {
            weft__cpu_relax();
        }
    }
    atomic_fetch_sub(&rt->searching, 1);
    if (until && !patient) spin_less(rt, w);
    /* A spare never sleeps here: it leaves (worker.c). */
    if (w->spare) return NULL;

    weft__parker *p = &w->parker;
    list_add(rt, p);
    if (!atomic_load(&rt->queued) && !atomic_load(&rt->stop)) {
        weft__latch_park(l, p);
        /* Woken with work waiting: a longer search would have found it. */
        if (until && atomic_load_explicit(&rt->queued, memory_order_relaxed)) spin_more(rt, w);
    }
    list_remove(rt, p);
    return NULL;
}

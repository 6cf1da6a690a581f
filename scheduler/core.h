/* scheduler/core.h — the scheduler's own structures and the calls between
 * its files. Only the scheduler's own .c files include it; the other layers see
 * scheduler/internal.h. */
#ifndef WEFT_SCHEDULER_CORE_H
#define WEFT_SCHEDULER_CORE_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "deque.h"
#include "injector.h"
#include "internal.h"

#define WEFT__PANIC_MSG_CAP 4096
#define WEFT__WORKER_KEYS_MAX 64
#define WEFT__HANDLE_STRIPES 16

/* ---- parker (parker.c): what a waiting thread sleeps on -------------- */
/* One per worker and per caller slot, living as long as the runtime, so a
 * waker may name it after the sleeper has moved on. A token, as Rust's
 * thread::park: an unpark before the park makes the park return at once, a
 * stale token only makes one park return early, and every caller looks
 * again after a park. */
typedef struct weft__parker {
    atomic_int state;             /* PARK_EMPTY, PARK_PARKED, PARK_NOTIFIED */
    int sleeping;                 /* on the pool's sleeper list (under work_m) */
    struct weft__parker *prev, *next;
} weft__parker;

void weft__parker_init(weft__parker *p);
/* Sleep on a futex until unparked (returns at once if a token is there). */
void weft__park(weft__parker *p);
void weft__unpark(weft__parker *p);

/* ---- latch (latch.c): set once, waited on -------------------------------- */
/* One atomic word: 0 unset, 1 set, else the parker of the one thread that
 * sleeps until it is set. The setter's last access to the latch is the
 * exchange that sets it (it then wakes the parker, which the runtime owns),
 * so a latch may live on its waiter's stack (scopes). */
typedef struct weft__latch {
    _Atomic(uintptr_t) state;
} weft__latch;

void weft__latch_init(weft__latch *l);
void weft__latch_set(weft__latch *l);
int weft__latch_is_set(const weft__latch *l);
/* Name p as the parker to wake when l is set: 1 when registered, 0 when l is
 * set already, -1 when another thread's parker is registered (one sleeper
 * per latch: that caller polls instead). */
int weft__latch_register(weft__latch *l, weft__parker *p);
/* Take p's registration back if the setter has not taken it (an unpark may
 * still come: a stale token). */
void weft__latch_unregister(weft__latch *l, weft__parker *p);
/* Park p once: until unparked, or until l is set (l NULL: only the former).
 * Returns at once when l is set already; when another thread sleeps on l,
 * yields instead (the caller looks again in either case). */
void weft__latch_park(weft__latch *l, weft__parker *p);

/* ---- tasks (task.c) ----------------------------------------------------- */
enum { WEFT__TASK_DONE = 1, WEFT__TASK_DETACHED = 2 };

typedef struct weft__local_slot {
    weft_local_key_t *key;
    void *value;
} weft__local_slot;

struct weft_task {
    weft_runtime_t *rt;
    weft_scope_t *scope;          /* NULL for free-standing tasks */
    weft_task_fn fn;              /* NULL: completed from outside (ops) */
    void *arg;
    void *result;
    weft_panic_t *panic;
    char *name;
    size_t stack_size;            /* dedicated thread's stack size, 0: the system default */
    int dedicated;                /* runs on a dedicated OS thread */
    int tracked;                  /* on the runtime's handle list (rt->handles) */
    atomic_int refs;
    atomic_int flags;             /* WEFT__TASK_DONE | WEFT__TASK_DETACHED */
    weft__latch done;
    weft__local_slot *locals;     /* task-locals, created lazily */
    size_t nlocals;
    unsigned long panic_seq;      /* order of panics within a scope */
    /* The scope's live list; for a task not in a scope, its stripe of the
     * runtime's unconsumed handles (tracked). */
    struct weft_task *scope_prev, *scope_next;
    const weft__task_ops *ops;    /* outside-completed tasks, else NULL */
    void *ops_state;
};

/* Start a new task: queue it on the pool or start its dedicated thread. On
 * failure the caller still owns both references. */
int weft__task_start(struct weft_task *t);
/* Run t's body on the calling thread inside a panic boundary, then complete it. */
void weft__task_execute(struct weft_task *t);
/* A task of rt was started (begin) or has finished, or failed to start (end);
 * pool.c, for weft_runtime_destroy's wait. */
void weft__runtime_task_begin(weft_runtime_t *rt);
void weft__runtime_task_end(weft_runtime_t *rt);
/* weft_runtime_destroy's handling of handles never consumed (task.c): arm
 * those whose work is driven from outside the pool so that it completes by
 * itself (returns how many it armed that had not finished), and, once
 * nothing runs, release them all. */
int weft__handles_arm(weft_runtime_t *rt);

/* ---- pool and workers (pool.c, worker.c, slots.c) ----------------------- */
/* A worker is a pool thread; a caller slot is the same structure lent to a
 * thread from outside the pool while it blocks in weft (slots.c): it then
 * runs the pool's tasks like a worker, with a deque, a parker and
 * worker-locals of its own. */
typedef struct weft__worker {
    weft_runtime_t *rt;
    int index;                    /* workers 0..n-1, caller slots from n on */
    pthread_t thread;
    weft__deque q;
    weft__parker parker;
    void *locals[WEFT__WORKER_KEYS_MAX];
    unsigned steal_seed;
    atomic_int held;              /* caller slots: lent to a thread now */
    uint64_t spin_ns;             /* how long it searches next time (idle.c); 0: rt->idle_ns */
    int spare;                    /* caller slots: lent to a spare thread now (its holder's only) */
    struct weft__worker *next_slot; /* caller slots: the runtime's list */
} weft__worker;

struct weft_worker_key {
    weft_runtime_t *rt;
    int slot;
    void *(*init)(int worker);
    void (*dtor)(void *);
};

struct weft_runtime {
    int nworkers;
    weft__worker *workers;
    _Atomic(weft__worker *) slots; /* caller slots, newest first, never freed before the runtime */
    atomic_int nslots;
    weft__injector inject;        /* tasks spawned from outside the pool */
    atomic_size_t queued;         /* tasks waiting in any queue */
    atomic_int searching;         /* threads spinning for work before they sleep */
    uint64_t idle_ns;             /* how long a thread with nothing to do spins */
    atomic_int nsleeping;         /* threads on the sleeper list */
    atomic_int stop;
    pthread_mutex_t work_m;       /* guards the sleeper list */
    weft__parker *sleepers;       /* sleeping threads, newest first */
    atomic_uint_least64_t detached_panics;
    /* handles not yet joined or detached, striped by task address to keep
     * spawns on different threads off one lock (task.c) */
    struct weft__handle_stripe {
        atomic_int lock;          /* a spinlock: held for a few pointer stores */
        struct weft_task *head;
        char pad[64 - sizeof(atomic_int) - sizeof(struct weft_task *)]; /* a line each */
    } handles[WEFT__HANDLE_STRIPES];
    /* tasks started on the pool or a dedicated thread and not yet finished
     * (their bodies may still spawn); weft_runtime_destroy waits for 0 */
    char pad_live[64];            /* tasks_live changes with every task: a line
                                     of its own, away from what pushes read */
    atomic_long tasks_live;
    atomic_int destroying;        /* set by weft_runtime_destroy before it waits */
    char pad_blocked[64];
    /* workers (and spares) blocked in a sleep, a contended lock or a parked
     * wait, and the spare threads that stand in for them (worker.c) */
    atomic_int nblocked;
    atomic_int nspares;
    char pad_spares[64];          /* every push reads nblocked: keep it off written lines */
    /* tasks not on the pool (dedicated threads, device work) still live */
    pthread_mutex_t ext_m;
    pthread_cond_t ext_cond;
    long ext_live;
    pthread_mutex_t keys_m;
    weft_worker_key_t *worker_keys[WEFT__WORKER_KEYS_MAX];
    void *layer[WEFT__RT_LAYERS]; /* see weft__layer() */
    uint64_t t0_ns;
};

/* pool.c: a worker or caller slot of rt, zeroed before, with its index. */
void weft__worker_init(weft__worker *w, weft_runtime_t *rt, int index);
/* Queue a runnable task (from a worker or caller slot of rt: its own deque;
 * else the inject queue) and wake a sleeping thread for it if needed. */
int weft__pool_push(weft_runtime_t *rt, struct weft_task *t);
/* Take one runnable task for the calling thread, or NULL. */
struct weft_task *weft__pool_find(weft_runtime_t *rt);
/* The worker loop of one pool thread. */
void *weft__worker_main(void *arg);
/* Wait until l is set, running rt's tasks meanwhile: a worker in its own
 * slot, any other thread in a caller slot lent for the wait; parked instead
 * where it may not help (a weft mutex held, another runtime's worker, the
 * nesting bound: worker.c). This is what
 * keeps nested scopes and joins from deadlocking a pool, even of one
 * worker, and what makes the caller work. */
void weft__wait(weft_runtime_t *rt, weft__latch *l);
/* The same wait, parked: the thread runs nothing until l is set. For what
 * the pool cannot run (a device launch, a dedicated thread), and for every
 * wait weft__wait may not help in (see worker.c). A worker that parks is
 * counted blocked, so a spare thread keeps the pool's count of running
 * threads. */
void weft__wait_parked(weft_runtime_t *rt, weft__latch *l);
/* Before and after the calling thread blocks outside the pool's protocol (a
 * sleep, a contended weft mutex, a parked wait): a worker of its pool (or a
 * spare) is counted blocked and a spare thread is started for it when work
 * is queued. weft__block_begin returns the runtime it counted in, or NULL
 * (a thread from outside the pool), for weft__block_end. */
weft_runtime_t *weft__block_begin(void);
void weft__block_end(weft_runtime_t *rt);
/* slots.c: lend the calling thread a caller slot of rt (NULL only when
 * memory for a new one runs out), and take it back. */
weft__worker *weft__slot_acquire(weft_runtime_t *rt);
void weft__slot_release(weft__worker *slot);
/* 1 when the calling thread's stack is at least half a worker's, so
 * it may run pool tasks while it waits (a builder's dedicated thread with a
 * small stack, say, only blocks). Measured once per thread. */
int weft__stack_can_help(void);
/* The caller slot after s in rt's list (s NULL: the first), or NULL. */
weft__worker *weft__slot_next(weft_runtime_t *rt, weft__worker *s);
/* Free every caller slot (runtime destroy). */
void weft__slots_free(weft_runtime_t *rt);

/* idle.c: the sleep/wake protocol (described at the top of idle.c). */
/* A thread with nothing found (a worker, or a thread in a caller slot):
 * spin a while, then sleep until work is pushed, rt stops, or (l not NULL)
 * l is set. patient: search the policy's whole time (a wait that has run
 * the pool's tasks: the rest of its work is CPU work finishing elsewhere).
 * Returns a task found while spinning, or NULL after waking (the caller
 * looks again). */
struct weft_task *weft__idle(weft_runtime_t *rt, weft__worker *w, weft__latch *l, int patient);
/* A task was pushed: wake one sleeping thread unless one is searching. */
void weft__wake_for_push(weft_runtime_t *rt);
/* A thread took a task while more are queued: wake a sleeper if nobody
 * searches. */
void weft__wake_for_queued(weft_runtime_t *rt);
/* Wake every sleeping thread (runtime stop). */
void weft__wake_all(weft_runtime_t *rt);

/* ---- per-thread context (unwind.c) --------------------------------------- */
typedef struct weft__thread_ctx {
    weft_runtime_t *rt;           /* runtime whose worker this is, or NULL */
    weft__worker *worker;         /* NULL outside pool workers */
    struct weft_task *task;       /* task running now, or NULL */
    jmp_buf *boundary;            /* where weft_panic jumps, or NULL */
    int depth;                    /* nesting of boundaries on this thread */
    weft_mutex_t *held;           /* weft mutexes held by this thread */
    const char *panic_file;
    int panic_line;
    char panic_msg[WEFT__PANIC_MSG_CAP]; /* reserved: formatting needs no malloc */
} weft__thread_ctx;

weft__thread_ctx *weft__ctx(void);

/* ---- the rest ------------------------------------------------------------ */
/* env.c: the default worker count ($WEFT_NUM_THREADS, $WEFT_CPU_THREADS,
 * else one less than the CPUs of the affinity mask, at least one: the
 * caller is the last). */
int weft__env_threads(int *out);
/* env.c: $WEFT_WAIT_POLICY, as OMP_WAIT_POLICY: how long (ns) a thread
 * with nothing to do spins before it sleeps. 0, or WEFT_EINVAL with a
 * message. */
int weft__env_wait_policy(uint64_t *spin_ns);
/* payload.c: move the cause into a new payload with message msg (returns the
 * cause alone when memory runs out). */
weft_panic_t *weft__panic_wrap(const char *thread, const char *file, int line, const char *msg,
                               weft_panic_t *cause, size_t suppressed);
/* payload.c: move the cause into a new "a scoped thread panicked" payload. */
weft_panic_t *weft__panic_scope(const char *thread, const char *file, int line, weft_panic_t *cause,
                                size_t suppressed);
/* local.c, worker_local.c, mutex.c */
void weft__task_locals_destroy(struct weft_task *t);
void weft__worker_locals_destroy(weft_runtime_t *rt);
/* scope.c */
void weft__scope_remove(weft_scope_t *s, struct weft_task *t);
unsigned long weft__scope_panic_seq(weft_scope_t *s);
void weft__scope_task_done(weft_scope_t *s);
/* util.c: busy-wait hint for spin loops. */
void weft__cpu_relax(void);
/* task.c: task objects, recycled per thread (no mutex or condition per task). */
struct weft_task *weft__task_alloc(void);
/* task.c: take t off its runtime's list of unconsumed handles, if on it. */
void weft__task_untrack(struct weft_task *t);
void weft__task_free(struct weft_task *t);

#endif

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

/* ---- latch (latch.c): set once, waited on ------------------------------- */
struct weft__parker;

typedef struct weft__latch {
    atomic_int set;
    atomic_int parked;            /* a thread outside the pool waits on c */
    _Atomic(struct weft__parker *) helper; /* a worker waiting (idle.c) */
    pthread_mutex_t m;
    pthread_cond_t c;
} weft__latch;

void weft__latch_init(weft__latch *l);
void weft__latch_destroy(weft__latch *l);
/* Set l. The setter may still touch l briefly after a waiter returns: for
 * latches inside reference-counted objects (tasks). */
void weft__latch_set(weft__latch *l);
/* Set l under its mutex: once weft__latch_wait returns, the setter is done
 * with l, so l may live on the waiter's stack (scopes). */
void weft__latch_set_locked(weft__latch *l);
int weft__latch_is_set(const weft__latch *l);
/* Block the calling thread (spin, then sleep) until l is set. When it
 * returns, the setter has finished touching l. */
void weft__latch_block(weft__latch *l, unsigned spins);
/* After a waiter saw l set: wait until the setter is done with l. */
void weft__latch_settle(weft__latch *l);

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
    size_t stack_size;            /* > 0: dedicated OS thread */
    atomic_int refs;
    atomic_int flags;             /* WEFT__TASK_DONE | WEFT__TASK_DETACHED */
    weft__latch done;
    weft__local_slot *locals;     /* task-locals, created lazily */
    size_t nlocals;
    unsigned long panic_seq;      /* order of panics within a scope */
    struct weft_task *scope_prev, *scope_next; /* scope's live list */
    const weft__task_ops *ops;    /* outside-completed tasks, else NULL */
    void *ops_state;
};

/* Start a new task: queue it on the pool or start its dedicated thread. On
 * failure the caller still owns both references. */
int weft__task_start(struct weft_task *t);
/* Run t's body on the calling thread inside a panic boundary, then complete it. */
void weft__task_execute(struct weft_task *t);

/* ---- sleeping and waking (idle.c) --------------------------------------- */
/* One per worker: what it sleeps on (a token, as Rust's thread::park). */
typedef struct weft__parker {
    pthread_mutex_t m;
    pthread_cond_t c;
    int token;
    int sleeping;                 /* on the pool's sleeper list (under work_m) */
    struct weft__parker *prev, *next;
} weft__parker;

void weft__parker_init(weft__parker *p);
void weft__parker_destroy(weft__parker *p);

/* ---- pool and workers (pool.c, worker.c) -------------------------------- */
typedef struct weft__worker {
    weft_runtime_t *rt;
    int index;
    pthread_t thread;
    weft__deque q;
    weft__parker parker;
    void *locals[WEFT__WORKER_KEYS_MAX];
    unsigned steal_seed;
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
    weft__injector inject;        /* tasks spawned from outside the pool */
    atomic_size_t queued;         /* tasks waiting in any queue */
    atomic_int spinners;          /* idle workers spinning before they sleep */
    unsigned idle_spins;          /* rounds an idle worker spins before it parks */
    unsigned join_spins;          /* rounds a thread outside the pool spins on a latch */
    atomic_int nsleeping;         /* workers on the sleeper list */
    atomic_int stop;
    pthread_mutex_t work_m;       /* guards the sleeper list */
    weft__parker *sleepers;       /* sleeping workers, newest first */
    atomic_uint_least64_t detached_panics;
    /* tasks not on the pool (dedicated threads, device work) still live */
    pthread_mutex_t ext_m;
    pthread_cond_t ext_cond;
    long ext_live;
    pthread_mutex_t keys_m;
    weft_worker_key_t *worker_keys[WEFT__WORKER_KEYS_MAX];
    void *layer[WEFT__RT_LAYERS]; /* see weft__layer() */
    uint64_t t0_ns;
};

/* Queue a runnable task (from a worker of rt: its own deque; else the
 * inject queue) and wake a sleeping worker for it if needed. */
int weft__pool_push(weft_runtime_t *rt, struct weft_task *t);
/* Take one runnable task for the calling thread, or NULL. */
struct weft_task *weft__pool_find(weft_runtime_t *rt);
/* The worker loop of one pool thread. */
void *weft__worker_main(void *arg);
/* Wait until l is set: a worker of rt runs other tasks meanwhile (this is
 * what keeps nested scopes and joins from deadlocking a pool, even of one
 * worker); any other thread blocks. */
void weft__wait(weft_runtime_t *rt, weft__latch *l);

/* idle.c: the sleep/wake protocol (described at the top of idle.c). */
/* An idle worker with nothing found: spin a while, then sleep until work is
 * pushed, rt stops, or (l not NULL) l is set. Returns a task found while
 * spinning, or NULL after waking (the caller looks again). */
struct weft_task *weft__idle(weft_runtime_t *rt, weft__worker *w, weft__latch *l);
/* A task was pushed: wake one sleeping worker unless one is spinning. */
void weft__wake_for_push(weft_runtime_t *rt);
/* A worker took a task while more are queued: wake another if none spins. */
void weft__wake_for_queued(weft_runtime_t *rt);
/* Wake every sleeping worker (runtime stop). */
void weft__wake_all(weft_runtime_t *rt);
/* Wake the worker parked on p (a latch's helper). */
void weft__unpark(weft__parker *p);

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
 * else the CPUs of the affinity mask). */
int weft__env_threads(int *out);
/* env.c: $WEFT_WAIT_POLICY, as OMP_WAIT_POLICY: how long waiting threads
 * spin before they sleep (*idle: idle workers; *join: threads outside the
 * pool blocked on a join). 0, or WEFT_EINVAL with a message. */
int weft__env_wait_policy(unsigned *idle, unsigned *join);
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

#endif

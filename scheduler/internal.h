/* scheduler/internal.h — structures shared by the scheduler's files.
 * Not installed; nothing here is public API. */
#ifndef WEFT_SCHEDULER_INTERNAL_H
#define WEFT_SCHEDULER_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/weft.h"

#define WEFT__PANIC_MSG_CAP 4096
#define WEFT__WORKER_KEYS_MAX 64
#define WEFT__RT_LAYERS 2

/* ---- errors (error.c) -------------------------------------------------- */
/* Record a message for weft_last_error_message() and return status. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int weft__fail(int status, const char *fmt, ...);

/* ---- one-shot event that a thread can wait on (event.c) ----------------- */
/* set is written under m; waiters spin on it, then park on c. */
typedef struct weft__event {
    atomic_int set;
    atomic_int parked;
    pthread_mutex_t m;
    pthread_cond_t c;
} weft__event;

void weft__event_init(weft__event *e);
void weft__event_destroy(weft__event *e);
/* Set e. The setter may still touch e briefly after a waiter wakes: use for
 * events inside reference-counted objects (tasks). */
void weft__event_set(weft__event *e);
/* Set e under its mutex: once weft__event_wait returns, the setter is done
 * with e, so e may live on the waiter's stack (scopes). */
void weft__event_set_locked(weft__event *e);
int weft__event_is_set(const weft__event *e);
/* Wait until e is set. On a worker of rt, runs other tasks meanwhile. When it
 * returns, the setter has finished touching e (safe to free e). */
void weft__event_wait(weft_runtime_t *rt, weft__event *e);

/* ---- tasks (task.c) ----------------------------------------------------- */
enum { WEFT__TASK_DONE = 1, WEFT__TASK_DETACHED = 2 };

typedef struct weft__local_slot {
    weft_local_key_t *key;
    void *value;
} weft__local_slot;

struct weft_task {
    weft_runtime_t *rt;
    weft_scope_t *scope;          /* NULL for free-standing tasks */
    weft_task_fn fn;
    void *arg;
    void *result;
    weft_panic_t *panic;
    char *name;
    size_t stack_size;            /* > 0: dedicated OS thread */
    atomic_int refs;
    atomic_int flags;             /* WEFT__TASK_DONE | WEFT__TASK_DETACHED */
    weft__event done;
    weft__local_slot *locals;     /* task-locals, created lazily */
    size_t nlocals;
    unsigned long panic_seq;      /* order of panics within a scope */
    struct weft_task *scope_prev, *scope_next; /* scope's live list */
    /* Device launches: finish the task from another place. NULL for CPU. */
    void *device_state;
    void (*device_free)(void *device_state);
    /* Device launches: a faster wait for joiners outside the pool (it may
     * complete the task itself). NULL for CPU tasks. */
    void (*join_wait)(struct weft_task *t);
};

/* Allocate a task with one reference for its owner and one for its runner. */
int weft__task_new(weft_runtime_t *rt, const weft_builder_t *b, weft_task_fn fn, void *arg,
                   struct weft_task **out);
/* Start a new task: queue it on the pool or start its dedicated thread. On
 * failure the task is released and the error returned. */
int weft__task_start(struct weft_task *t);
/* Call fn(arg) inside a panic boundary on the calling thread. Returns the
 * panic (hook already called) or NULL with *result set. name is the task name
 * recorded in the payload. */
weft_panic_t *weft__run_caught(weft_task_fn fn, void *arg, void **result, const char *name);
/* Run t's body on the calling thread inside a panic boundary, then complete it. */
void weft__task_execute(struct weft_task *t);
/* Mark t finished (result/panic already stored): wake its joiner, tell its
 * scope, drop the runner's reference. Safe from any thread. */
void weft__task_complete(struct weft_task *t);
void weft__task_unref(struct weft_task *t);
/* Free a task that never started: both its references at once. */
void weft__task_discard(struct weft_task *t);
/* Panic that happened outside the body (device failures): stores p on t,
 * calls the hook. Does not complete t. */
void weft__task_set_panic(struct weft_task *t, weft_panic_t *p);
/* Count a task that will complete through weft__task_complete without running
 * on the pool (device launch). Paired with the completion. */
void weft__runtime_external_begin(weft_runtime_t *rt);

/* ---- pool (pool.c) ------------------------------------------------------ */
typedef struct weft__deque {
    atomic_size_t count;          /* items, readable without the lock */
    pthread_mutex_t m;
    struct weft_task **buf;
    size_t cap, head, tail;       /* items at [head, tail) modulo cap */
} weft__deque;

typedef struct weft__worker {
    weft_runtime_t *rt;
    int index;
    pthread_t thread;
    weft__deque q;
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
    weft__deque inject;           /* tasks spawned from outside the pool */
    atomic_size_t queued;         /* tasks waiting in any queue */
    atomic_uint epoch;            /* bumped on every push: idle wake-up */
    atomic_int idle;              /* workers parked on work_cond */
    atomic_int spinners;          /* idle workers spinning before they park */
    atomic_int stop;
    pthread_mutex_t work_m;
    pthread_cond_t work_cond;
    atomic_uint_least64_t detached_panics;
    /* tasks not on the pool (dedicated threads, device launches) still live */
    pthread_mutex_t ext_m;
    pthread_cond_t ext_cond;
    long ext_live;
    pthread_mutex_t keys_m;
    weft_worker_key_t *worker_keys[WEFT__WORKER_KEYS_MAX];
    /* State of the layers above the scheduler, which it never looks into:
     * each layer defines its own index (host/host.h, coexec/engine.h) and
     * the runtime root (runtime/runtime.c) sets and frees them. */
    void *layer[WEFT__RT_LAYERS];
    uint64_t t0_ns;               /* runtime creation (weft__now_ns) */
};

/* The pool's lifetime, driven by the runtime root (runtime/runtime.c): make
 * a pool of cpu_threads workers (0: the environment's default) without
 * starting them; start them; stop them once every task and outside task has
 * finished; free it. */
int weft__pool_create(int cpu_threads, weft_runtime_t **out);
int weft__pool_start(weft_runtime_t *rt);
void weft__pool_stop(weft_runtime_t *rt);
void weft__pool_free(weft_runtime_t *rt);
/* Queue a runnable task (from a worker: its own deque; else the inject queue). */
int weft__pool_push(weft_runtime_t *rt, struct weft_task *t);
/* Take one runnable task for the calling thread, or NULL. */
struct weft_task *weft__pool_find(weft_runtime_t *rt);
void weft__runtime_external_end(weft_runtime_t *rt);

/* ---- per-thread context ------------------------------------------------- */
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

/* ---- panics (panic.c) --------------------------------------------------- */
struct weft_panic {
    char *message;
    char *thread;
    char *file;
    int line;
    char *device;
    char *kernel;
    int cl_status;
    char *cl_status_name;
    int has_range;
    size_t begin, end;
    char *build_log;
    weft_panic_t *cause;
    size_t suppressed;
};

/* New payload; strings are copied (NULL allowed for thread, file). Returns
 * NULL only when memory runs out. */
weft_panic_t *weft__panic_new(const char *thread, const char *file, int line,
                              const char *message);
/* Copy s into *field (replacing it). Returns 0 or WEFT_ENOMEM. */
int weft__panic_set_str(char **field, const char *s);
/* Call the installed hook with p. */
void weft__panic_notify(const weft_panic_t *p);

/* ---- locals (local.c, worker_local.c, sync.c) --------------------------- */
void weft__task_locals_destroy(struct weft_task *t);
void weft__worker_locals_destroy(weft_runtime_t *rt);
/* Release (and poison) the locks taken at boundary depth >= depth. */
void weft__release_held_locks(weft__thread_ctx *ctx, int depth);

/* ---- scopes (scope.c) --------------------------------------------------- */
/* Register a new task of s (before it starts). */
void weft__scope_add(weft_scope_t *s, struct weft_task *t);
/* Take t off s's list after a join consumed it. */
void weft__scope_remove(weft_scope_t *s, struct weft_task *t);
/* Number the panic of a finishing task of s. */
unsigned long weft__scope_panic_seq(weft_scope_t *s);
/* One task of s finished. */
void weft__scope_task_done(weft_scope_t *s);

/* ---- utilities (util.c) ------------------------------------------------- */
/* 1 when s is valid UTF-8 without control characters, else 0. */
int weft__name_is_valid(const char *s);
char *weft__strdup(const char *s);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t weft__now_ns(void);
/* Busy-wait hint for spin loops. */
void weft__cpu_relax(void);

#endif

/* scheduler/internal.h — what the scheduler offers the layers above it (the
 * OpenCL host layer, the co-execution engine, the runtime root). Not
 * installed; nothing here is public API. The scheduler's own structures are
 * in scheduler/core.h, which no other folder includes. */
#ifndef WEFT_SCHEDULER_INTERNAL_H
#define WEFT_SCHEDULER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "weft/weft.h"

/* ---- errors (error.c) -------------------------------------------------- */
/* Record a message for weft_last_error_message() and return status. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int weft__fail(int status, const char *fmt, ...);

/* ---- small helpers (util.c) --------------------------------------------- */
/* 1 when s is valid UTF-8 without control characters, else 0. */
int weft__name_is_valid(const char *s);
char *weft__strdup(const char *s);
/* The longest prefix of s[0, len) that does not end inside a UTF-8
 * character (where to cut a string at most len bytes long). */
size_t weft__utf8_fit(const char *s, size_t len);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t weft__now_ns(void);
/* (env.c) A runtime option that is -1 (off), 1 (on) or 0 (the environment
 * variable `name` decides: "1" on; unset, empty or "0" off). *on gets 0 or 1;
 * WEFT_EINVAL with a message for any other value of the variable. */
int weft__env_switch(const char *name, int option, int *on);

/* ---- the runtime's layer slots (pool.c) ---------------------------------- */
/* A runtime is the scheduler's pool plus the state of the layers above it,
 * which the scheduler never looks into: each layer defines its own index
 * (host/host.h, coexec/engine.h) and the runtime root sets and frees them. */
#define WEFT__RT_LAYERS 2
void *weft__layer(const weft_runtime_t *rt, int index);
void weft__set_layer(weft_runtime_t *rt, int index, void *state);

/* The pool's lifetime, driven by the runtime root (runtime/runtime.c): make
 * a pool of cpu_threads workers (0: the environment's default) without
 * starting them; start them; stop them once every task and outside task has
 * finished; free it. */
int weft__pool_create(int cpu_threads, weft_runtime_t **out);
int weft__pool_start(weft_runtime_t *rt);
void weft__pool_stop(weft_runtime_t *rt);
void weft__pool_free(weft_runtime_t *rt);
/* When rt was created (weft__now_ns), for trace timestamps. */
uint64_t weft__runtime_t0(const weft_runtime_t *rt);

/* ---- tasks driven from outside the pool (task.c) ------------------------- */
/* Work that is not a function run by a worker (a device launch, a parallel
 * operation) is still a task: it has a handle, is joined, belongs to a scope.
 * Its owner makes it with fn NULL, completes it from wherever the work ends
 * (a driver callback), and may hand the scheduler these operations, so the
 * task needs to know nothing of devices. */
typedef struct weft__task_ops {
    /* Frees the state when the task is freed (may be NULL). */
    void (*free)(void *state);
    /* A faster wait for a joiner outside the pool that may block, before it
     * blocks on the task's latch (may be NULL). It may complete the task
     * itself. */
    void (*join_wait)(struct weft_task *t, void *state);
    /* From now on nobody may block in join_wait for the task: make it
     * complete by itself (may be NULL). Called by the handle's owner, holding
     * the handle, before a join that runs pool tasks while it waits (or whose
     * join_wait did not complete the task), a detach, or a poll; any number
     * of times, from any thread. The owner may also complete the task
     * itself. */
    void (*arm)(struct weft_task *t, void *state);
} weft__task_ops;

/* Allocate a task with one reference for its owner (the handle) and one for
 * its runner (who completes it). b may be NULL. */
int weft__task_new(weft_runtime_t *rt, const weft_builder_t *b, weft_task_fn fn, void *arg,
                   struct weft_task **out);
/* Give a task made with fn NULL its operations and state (before its handle
 * is handed out). */
void weft__task_set_ops(struct weft_task *t, const weft__task_ops *ops, void *state);
/* The state given to weft__task_set_ops. */
void *weft__task_state(const struct weft_task *t);
weft_runtime_t *weft__task_runtime(const struct weft_task *t);
/* Another reference (for a callback that may outlive the runner's). */
void weft__task_ref(struct weft_task *t);
void weft__task_unref(struct weft_task *t);
/* Free a task that never started: both its references at once. */
void weft__task_discard(struct weft_task *t);
/* Store p as t's panic (replacing any) and call the panic hook with it. */
void weft__task_set_panic(struct weft_task *t, weft_panic_t *p);
/* Store p as t's panic without calling the hook (it heard of p already). */
void weft__task_store_panic(struct weft_task *t, weft_panic_t *p);
/* Mark t finished (result/panic already stored): wake its joiner, tell its
 * scope, drop the runner's reference. Safe from any thread, once. */
void weft__task_complete(struct weft_task *t);
/* Count work that will complete a task without running on the pool (device
 * launches, operations): weft_runtime_destroy waits until each begin has its
 * end (called after weft__task_complete). */
void weft__runtime_external_begin(weft_runtime_t *rt);
void weft__runtime_external_end(weft_runtime_t *rt);
/* 1 when the calling thread is running for rt: one of its workers, a
 * caller slot of it, or inside one of its tasks (a dedicated thread too). */
int weft__runtime_is_current(const weft_runtime_t *rt);
/* After weft__pool_stop: free every handle never joined or detached, passing
 * each of their panics to the hook (wrapped, see weft_runtime_destroy_report);
 * counts them into *handles and *panics. */
void weft__handles_release(weft_runtime_t *rt, uint64_t *handles, uint64_t *panics);
/* Register t with scope s (before it can complete). */
void weft__scope_add(weft_scope_t *s, struct weft_task *t);

/* ---- unwinding (unwind.c) ------------------------------------------------ */
/* Call fn(arg) inside a panic boundary on the calling thread. Returns the
 * panic (hook already called) or NULL with *result set (result may be NULL).
 * name is the task name recorded in the payload. */
weft_panic_t *weft__run_caught(weft_task_fn fn, void *arg, void **result, const char *name);
/* The same without calling the hook: the caller decides whether the panic
 * is ever heard of (a parallel operation's CPU chunk, which failover may
 * recover). */
weft_panic_t *weft__run_caught_quiet(weft_task_fn fn, void *arg, void **result, const char *name);

/* ---- panic payloads (payload.c) ------------------------------------------ */
/* A new payload; strings are copied (NULL thread or file: "<unnamed>",
 * "<unknown>"). Never NULL: when memory runs out, every constructor returns
 * one static payload ("panic payload could not be allocated: out of
 * memory"), which weft_panic_destroy() leaves alone. */
weft_panic_t *weft__panic_new(const char *thread, const char *file, int line, const char *message);

/* What a device failure (or another failure of a place of an operation)
 * knows: every field optional (NULL / 0). */
typedef struct weft__failure {
    const char *thread;           /* the task that started the work */
    const char *file;             /* where it was started */
    int line;
    const char *device;           /* the device's name */
    const char *kernel;           /* the kernel or body that failed */
    int cl_status;                /* the OpenCL status (0: none) */
    const char *cl_status_name;   /* its name (weft_cl_status_name) */
    int has_range;                /* the part of the range that failed */
    size_t begin, end;
    const char *build_log;        /* a failed build's log */
} weft__failure;

/* The one constructor for device failures: a payload with every field of f
 * and the formatted message. Never NULL (see weft__panic_new). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
weft_panic_t *weft__panic_failure(const weft__failure *f, const char *fmt, ...);
/* Fill in what p does not say yet: the kernel, the range, where the work was
 * started (thread NULL keeps p's). Each is set only when p has none. */
void weft__panic_fill(weft_panic_t *p, const char *kernel, const size_t *range, const char *file, int line);
/* Set where p was started (replacing it): thread, file, line. */
void weft__panic_set_origin(weft_panic_t *p, const char *thread, const char *file, int line);
/* Call the installed hook with p. */
void weft__panic_notify(const weft_panic_t *p);
/* The static out-of-memory payload: what a failure is told with when no
 * payload can be allocated. weft_panic_destroy leaves it alone. */
weft_panic_t *weft__panic_oom(void);

#endif

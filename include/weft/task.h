/** @file
 *  @brief Spawn, join handles, builders and scopes.
 *
 *  The model is Rust's std::thread: weft_spawn() returns a handle; weft_join()
 *  consumes it and returns the task's value or its panic. Tasks run on the
 *  runtime's CPU worker pool unless a builder asks for a dedicated thread.
 */
#ifndef WEFT_TASK_H
#define WEFT_TASK_H

#include "weft/export.h"

#include <stddef.h>
#include "weft/runtime.h"
#include "weft/panic.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A task body: receives the argument given to spawn, returns the task's
 *  value (handed to the joiner by weft_join(); weft never frees it). May call
 *  weft_panic().
 *  @param arg  the arg given to the spawn call. */
typedef void *(*weft_task_fn)(void *arg);

/** A join handle (Rust's JoinHandle), opaque: one spawned task, device launch
 *  or parallel operation.
 *
 *  A handle from weft_spawn(), weft_builder_spawn(), weft_launch() or
 *  weft_parallel_for() is owned by the caller until it is passed to
 *  weft_join() or weft_handle_detach(), which consume it: exactly one of
 *  them must be called, once, and the handle must not be used afterwards. A
 *  handle never consumed keeps its task's record (and panic) allocated.
 *
 *  A handle from a scope (weft_scope_spawn(), weft_scope_launch(),
 *  weft_scope_parallel_for()) is owned by the scope: it may be joined (which
 *  consumes it) until weft_scope() returns, which releases the handles not
 *  joined; weft_handle_detach() does nothing to it. */
typedef struct weft_task weft_handle_t;

/** A scope (opaque): see weft_scope(). It lives inside the weft_scope() call
 *  and is valid only until that call returns; weft creates and frees it. */
typedef struct weft_scope weft_scope_t;

/** Spawn fn(arg) on rt's worker pool. The task owns nothing of arg: the caller
 *  keeps ownership, so arg must outlive the task (pass heap memory the task
 *  frees, or use a scope to borrow).
 *  @param rt   the runtime.
 *  @param fn   the task body.
 *  @param arg  passed to fn as it is.
 *  @param out  receives the handle, which the caller must join or detach;
 *              NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL rt, fn or out); WEFT_ENOMEM. Never panics. */
WEFT_API int weft_spawn(weft_runtime_t *rt, weft_task_fn fn, void *arg, weft_handle_t **out);

/** Wait for the task and consume its handle. Everything the task did
 *  happens-before weft_join returns. Joining a finished task returns at once.
 *  Called from a worker of the task's runtime, the wait runs other tasks
 *  meanwhile. A scope's handle may be joined inside the scope: its panic then
 *  goes to the joiner and no longer fails the scope.
 *  @param h       the handle; invalid once weft_join returns (except for NULL,
 *                 which is refused).
 *  @param result  receives the task's return value (NULL for launches and
 *                 parallel operations, and on panic); may be NULL.
 *  @param panic   receives the panic payload when the task panicked, else
 *                 NULL (may be NULL: the payload is then destroyed). The caller
 *                 owns it and frees it with weft_panic_destroy().
 *  @return 0 when the task returned; WEFT_EPANIC when it panicked;
 *          WEFT_EINVAL for a NULL handle. */
WEFT_API int weft_join(weft_handle_t *h, void **result, weft_panic_t **panic);

/** Whether the task has finished (returned or panicked). Does not consume
 *  the handle.
 *  @param h  the handle.
 *  @return 1 when finished, else 0 (also for NULL). */
WEFT_API int weft_handle_is_finished(const weft_handle_t *h);

/** Let the task run on with nobody to join it; consumes the handle. Its panic,
 *  if any, goes to the panic hook and is counted by
 *  weft_runtime_detached_panics(). weft_runtime_destroy() still waits for it.
 *
 *  On a scope's handle this does nothing: the handle stays valid (it may
 *  still be joined), the scope waits for the task, and an unjoined panic
 *  fails the scope as for any other task of the scope (it is not counted as
 *  detached).
 *  @param h  the handle; NULL does nothing. */
WEFT_API void weft_handle_detach(weft_handle_t *h);

/** Options for one spawn (Rust's thread::Builder). Initialise with
 *  weft_builder_init(); the struct may grow. */
typedef struct weft_builder {
    /** Task name (copied at spawn): printed in panics, returned by
     *  weft_current_name(). NULL for an unnamed task. Must be valid UTF-8
     *  without control characters. */
    const char *name;
    /** 0: run on the worker pool (unless dedicated is set). Otherwise run on
     *  a dedicated OS thread with this stack size in bytes (at least
     *  PTHREAD_STACK_MIN, and a size the system can map: a larger one, such
     *  as 1 EiB, is refused with WEFT_EINVAL); the thread
     *  carries the name (its first 15 bytes, cut at a character boundary).
     *  A dedicated thread whose stack is less than half a worker's does not
     *  run pool tasks while it waits in a join or a scope (threads with
     *  larger stacks do, see weft_current_worker()): it only sleeps. */
    size_t stack_size;
    /** Nonzero: run on a dedicated OS thread (never a pool worker or a
     *  caller slot, see weft_current_worker()) even when stack_size is 0,
     *  which then gives the thread the system's default stack size (what
     *  pthread_attr_getstacksize() reports for a fresh pthread_attr_t). 0
     *  with a stack_size of 0: run on the pool. A dedicated thread is
     *  created at spawn and ends with the task; weft_runtime_destroy()
     *  waits for it. */
    int dedicated;
    /** Reserved for future options (placement); keep zeroed. */
    void *reserved[7];
} weft_builder_t;

/** Fill *b with defaults (unnamed, pool).
 *  @param b  the builder to fill; NULL does nothing. */
WEFT_API void weft_builder_init(weft_builder_t *b);

/** Spawn with the options of b.
 *  @param b    the options (read during the call only); NULL means defaults.
 *  @param rt   the runtime.
 *  @param fn   the task body.
 *  @param arg  passed to fn as it is (see weft_spawn()).
 *  @param out  receives the handle, which the caller must join or detach;
 *              NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL rt/fn/out, invalid name, stack size below the
 *          system minimum or refused by the system, which includes a size no
 *          mapping can have, such as 1 EiB); WEFT_EAGAIN when the dedicated
 *          thread cannot be started for now (the system is out of threads);
 *          WEFT_ENOMEM. */
WEFT_API int weft_builder_spawn(const weft_builder_t *b, weft_runtime_t *rt, weft_task_fn fn,
                       void *arg, weft_handle_t **out);

/** (A macro.) Run body(scope, arg) on the calling thread, then wait for every task spawned
 *  in the scope — and every task those tasks spawned in it — before returning.
 *  Tasks of a scope may borrow anything that outlives the weft_scope call.
 *  Handles from weft_scope_spawn() are valid until weft_scope returns: unjoined
 *  ones are released by it. The body keeps the caller's task-locals and task
 *  name; a weft_panic() in it ends the body, and the scope still waits for its
 *  tasks.
 *
 *  Outcome, in order of precedence:
 *  - the body panicked: WEFT_EPANIC, *panic is the body's panic (unjoined task
 *    panics are then discarded);
 *  - a task panicked and nobody joined it: WEFT_EPANIC, *panic has the message
 *    "a scoped thread panicked", its cause is the first such panic and
 *    weft_panic_suppressed() counts the others;
 *  - otherwise the body's return value (0 or the caller's own code).
 *  @param rt     the runtime the scope's tasks run on.
 *  @param body   the scope body, `int body(weft_scope_t *s, void *arg)`;
 *                s is valid until weft_scope returns.
 *  @param arg    passed to body as it is.
 *  @param panic  receives the panic (caller owns it, frees it with
 *                weft_panic_destroy()), else NULL; may be NULL: the payload
 *                is then destroyed and WEFT_EPANIC still returned.
 *  @return as above; WEFT_EINVAL for NULL rt or body (body not run). */
#define weft_scope(rt, body, arg, panic) weft_scope_at(__FILE__, __LINE__, (rt), (body), (arg), (panic))

/** What weft_scope expands to.
 *  @param file   where the scope's own panic ("a scoped thread panicked")
 *                says it happened: the caller's file, a literal.
 *  @param line   the caller's line, for the same.
 *  @param rt     as for weft_scope().
 *  @param body   as for weft_scope().
 *  @param arg    as for weft_scope().
 *  @param panic  as for weft_scope().
 *  @return as weft_scope(). */
WEFT_API int weft_scope_at(const char *file, int line, weft_runtime_t *rt,
                  int (*body)(weft_scope_t *s, void *arg), void *arg, weft_panic_t **panic);

/** Spawn fn(arg) inside scope s, on the scope's runtime's worker pool.
 *  Callable from the body and from any task of the scope.
 *  @param s    the scope.
 *  @param fn   the task body.
 *  @param arg  passed to fn as it is; may point into the scope caller's
 *              frame.
 *  @param out  receives the handle, owned by the scope (see weft_handle_t);
 *              may be NULL: the task is then joined by the scope alone.
 *  @return 0; WEFT_EINVAL (NULL s or fn); WEFT_ENOMEM. */
WEFT_API int weft_scope_spawn(weft_scope_t *s, weft_task_fn fn, void *arg, weft_handle_t **out);

/** weft_scope_spawn() with builder options (name, dedicated thread).
 *  @param s    the scope.
 *  @param b    the options (read during the call only); NULL means defaults.
 *  @param fn   the task body.
 *  @param arg  passed to fn as it is.
 *  @param out  receives the handle, owned by the scope; may be NULL.
 *  @return 0; WEFT_EINVAL (NULL s or fn, invalid name, stack size below the
 *          system minimum or refused by the system, as for
 *          weft_builder_spawn()); WEFT_EAGAIN when the dedicated thread
 *          cannot be started for now; WEFT_ENOMEM. */
WEFT_API int weft_scope_builder_spawn(weft_scope_t *s, const weft_builder_t *b, weft_task_fn fn,
                             void *arg, weft_handle_t **out);

/** The runtime a scope belongs to.
 *  @param s  the scope.
 *  @return the runtime given to weft_scope(), NULL for NULL. */
WEFT_API weft_runtime_t *weft_scope_runtime(const weft_scope_t *s);

/** Sleep at least ns nanoseconds (on the monotonic clock), resuming after
 *  signals. It blocks the calling thread: a worker runs no other task
 *  meanwhile.
 *  @param ns  the time to sleep, in nanoseconds. */
WEFT_API void weft_sleep_ns(uint64_t ns);

/** Name of the task running on the calling thread.
 *  @return the name given by its builder (owned by the task, valid while it
 *          runs), or NULL when it is unnamed or the caller is not running a
 *          weft task. */
WEFT_API const char *weft_current_name(void);

/** Give other tasks a chance to run: on a worker, runs one queued task of
 *  its runtime if there is one; otherwise (or when none is queued),
 *  sched_yield(). */
WEFT_API void weft_yield(void);

#ifdef __cplusplus
}
#endif
#endif

/** @file
 *  @brief Task-locals (Rust's thread_local!) and worker-locals.
 */
#ifndef WEFT_LOCAL_H
#define WEFT_LOCAL_H

#include "weft/export.h"

#include "weft/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A task-local key (opaque): names one value per task (and per OS thread
 *  outside tasks). Not tied to a runtime. Created by weft_local_key_create(),
 *  owned by the caller, destroyed by weft_local_key_destroy(). */
typedef struct weft_local_key weft_local_key_t;

/** Create a task-local key. Each task gets its own value, created lazily by
 *  init() on its first weft_local_get(); dtor(value) runs when the task ends,
 *  before its joiner returns (a task's values newest first). Code outside any
 *  task has one value per OS thread, which dtor frees when that thread exits
 *  (pthread key destructor); the main thread's value, which thread exit never
 *  reaches when main() returns, and the value of the thread that destroys the
 *  key are freed by weft_local_key_destroy().
 *  @param init  makes a fresh value (required); a NULL result is not stored,
 *               so the next weft_local_get() calls init again.
 *  @param dtor  frees a value (may be NULL: values are then left alone).
 *  @param out   receives the key, which the caller owns and frees with
 *               weft_local_key_destroy(); NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL init or out); WEFT_ENOMEM (out of memory, or
 *          no pthread key left). */
WEFT_API int weft_local_key_create(void *(*init)(void), void (*dtor)(void *), weft_local_key_t **out);

/** Destroy a key. No running task may hold a value for it. Of the per-thread
 *  values, only the calling thread's is destroyed (with dtor); values other
 *  threads still hold are never freed by weft.
 *  @param k  the key; NULL does nothing. */
WEFT_API void weft_local_key_destroy(weft_local_key_t *k);

/** The calling task's value for k, created by init() on first use. Inside a
 *  scope body, the value of the task (or thread) that called weft_scope().
 *  @param k  the key.
 *  @return the value (owned by weft until dtor frees it), or NULL when k is
 *          NULL, init() returned NULL or memory ran out (the reason, except
 *          for init, is in weft_last_error_message()). */
WEFT_API void *weft_local_get(weft_local_key_t *k);

/** A worker-local key (opaque): names one value per CPU worker of one runtime.
 *  Created by weft_worker_key_create(), owned by the caller; destroyed by
 *  weft_worker_key_destroy() or, if still alive, by weft_runtime_destroy()
 *  (after which the handle is invalid). */
typedef struct weft_worker_key weft_worker_key_t;

/** Create a worker-local key on rt: one value per CPU worker, created lazily by
 *  init(worker_index) on first use on that worker and destroyed with dtor when
 *  the key or the runtime is destroyed. For per-worker caches and RNG state.
 *  A runtime holds at most 64 worker-local keys at once.
 *  @param rt    the runtime whose workers hold the values.
 *  @param init  makes the value of worker `worker` (required); a NULL result
 *               is not stored, so init runs again on the next get.
 *  @param dtor  frees a value (may be NULL).
 *  @param out   receives the key; NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL rt/init/out); WEFT_ENOMEM (out of memory, or
 *          64 keys already exist on rt). */
WEFT_API int weft_worker_key_create(weft_runtime_t *rt, void *(*init)(int worker),
                           void (*dtor)(void *), weft_worker_key_t **out);

/** Destroy the key and every worker's value (dtor runs on the calling
 *  thread). No task may be using it. Call it before the runtime is
 *  destroyed, or not at all: weft_runtime_destroy() destroys the keys left,
 *  and the handle is invalid afterwards.
 *  @param k  the key; NULL does nothing. */
WEFT_API void weft_worker_key_destroy(weft_worker_key_t *k);

/** The calling worker's value for k, created by init() on first use (init
 *  gets the index weft_current_worker() returns). A task run by a blocked
 *  thread in a caller slot (see weft_current_worker()) gets the slot's own
 *  value: like a worker's, it is used by one thread at a time.
 *  @param k  the key.
 *  @return the value (owned by weft until dtor frees it); NULL (with a
 *          message in weft_last_error_message()) when k is NULL or the caller
 *          is not a pool worker or caller slot of k's runtime — worker-locals
 *          belong to the threads running pool tasks, not to dedicated threads
 *          or the main thread's own code; NULL also when init() returned
 *          NULL. */
WEFT_API void *weft_worker_local_get(weft_worker_key_t *k);

#ifdef __cplusplus
}
#endif
#endif

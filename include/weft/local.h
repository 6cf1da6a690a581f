/* weft/local.h — task-locals (Rust's thread_local!) and worker-locals. */
#ifndef WEFT_LOCAL_H
#define WEFT_LOCAL_H

#include "weft/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_local_key weft_local_key_t;

/** Create a task-local key. Each task gets its own value, created lazily by
 *  init() on its first weft_local_get(); dtor(value) runs when the task ends,
 *  before its joiner returns. Code outside any task (the main thread) has one
 *  value per OS thread, freed at thread exit or by weft_local_key_destroy().
 *  @param init  makes a fresh value (required).
 *  @param dtor  frees a value (may be NULL).
 *  @return 0; WEFT_EINVAL (NULL init or out); WEFT_ENOMEM. */
int weft_local_key_create(void *(*init)(void), void (*dtor)(void *), weft_local_key_t **out);

/** Destroy a key. No task may be using it; the calling thread's own value (if
 *  any) is destroyed. NULL is a no-op. */
void weft_local_key_destroy(weft_local_key_t *k);

/** The calling task's value for k (creating it on first use). NULL when k is
 *  NULL or init() returned NULL. */
void *weft_local_get(weft_local_key_t *k);

typedef struct weft_worker_key weft_worker_key_t;

/** Create a worker-local key on rt: one value per CPU worker, created lazily by
 *  init(worker_index) on first use on that worker and destroyed with dtor when
 *  the key or the runtime is destroyed. For per-worker caches and RNG state.
 *  @return 0; WEFT_EINVAL (NULL rt/init/out); WEFT_ENOMEM. */
int weft_worker_key_create(weft_runtime_t *rt, void *(*init)(int worker),
                           void (*dtor)(void *), weft_worker_key_t **out);

/** Destroy the key and every worker's value. No task may be using it. Must be
 *  called before the runtime is destroyed. NULL is a no-op. */
void weft_worker_key_destroy(weft_worker_key_t *k);

/** The calling worker's value for k. NULL (with a message) when the caller is
 *  not a worker of k's runtime — worker-locals belong to pool workers. */
void *weft_worker_local_get(weft_worker_key_t *k);

#ifdef __cplusplus
}
#endif
#endif

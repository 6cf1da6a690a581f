/** @file
 *  @brief A mutex that a panic never leaves locked.
 */
#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H

#include "weft/export.h"

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A mutex that knows which task holds it. When that task panics, the mutex
 *  is released and marked poisoned (as Rust's Mutex), so no lock is left held.
 *  The caller owns the struct (on the stack, static or in the heap); there is
 *  no static initializer: set it up with weft_mutex_init(), tear it down with
 *  weft_mutex_destroy(), and never copy it. It is not recursive. Every field
 *  is internal: use the functions below.
 *
 *  A lock belongs to the task (or scope body, or parallel CPU body) that
 *  took it. One that returns still holding it ends in a panic instead: the
 *  lock is released and poisoned, and the task's join returns WEFT_EPANIC
 *  with the message "returned holding weft_mutex_t 0x…: released and
 *  poisoned" (the first such lock's address; " and others" follows it when
 *  there were more). Nothing run later on that thread can touch the lock
 *  again. */
typedef struct weft_mutex {
    pthread_mutex_t m;   /**< internal: the lock itself */
    void *owner;   /**< internal: holding task (its boundary depth), NULL when free */
    void *next;    /**< internal: next lock held by the same thread */
    int poisoned;  /**< internal: set when a holder panicked; read it with
                        weft_mutex_is_poisoned() */
} weft_mutex_t;

/** Initialise m (unlocked, not poisoned).
 *  @param m  the mutex.
 *  @return 0; WEFT_EINVAL for NULL; WEFT_ENOMEM when the system refuses to
 *          create the lock. */
WEFT_API int weft_mutex_init(weft_mutex_t *m);
/** Destroy m, which must be unlocked.
 *  @param m  the mutex; NULL does nothing. */
WEFT_API void weft_mutex_destroy(weft_mutex_t *m);
/** Lock m, waiting while another thread holds it. A pool worker that waits
 *  here keeps its place in the pool: a spare thread runs queued tasks
 *  meanwhile (see WEFT_SPARES_PER_WORKER).
 *
 *  A thread that holds any weft_mutex_t never runs queued tasks while it
 *  waits in weft_join(), weft_scope() or a parallel operation's join: it
 *  parks instead (a spare stands in for a worker), so a task holding a lock
 *  across a join cannot be re-entered on its own thread by another task that
 *  takes the same lock. (A plain pthread mutex held across a join has no
 *  such protection: a task run by the waiter may need it.)
 *  @param m  the mutex.
 *  @return 0; 1 when a previous holder panicked (the lock is still taken:
 *          the data may be inconsistent; the mark stays until
 *          weft_mutex_clear_poison()); WEFT_EINVAL for NULL. */
WEFT_API int weft_mutex_lock(weft_mutex_t *m);
/** Unlock m. The calling thread must hold it (this is not checked).
 *  @param m  the mutex.
 *  @return 0; WEFT_EINVAL for NULL. */
WEFT_API int weft_mutex_unlock(weft_mutex_t *m);
/** Whether a holder of m panicked (since the last weft_mutex_clear_poison()).
 *  @param m  the mutex.
 *  @return 1 when poisoned, else 0 (also for NULL). */
WEFT_API int weft_mutex_is_poisoned(const weft_mutex_t *m);
/** Clear the poisoned mark (once the protected data is consistent again).
 *  @param m  the mutex; NULL does nothing. */
WEFT_API void weft_mutex_clear_poison(weft_mutex_t *m);

#ifdef __cplusplus
}
#endif
#endif

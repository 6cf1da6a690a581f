/* weft/sync.h — a mutex that a panic never leaves locked. */
#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A mutex that knows which task holds it. When that task panics, the mutex
 *  is released and marked poisoned (as Rust's Mutex), so no lock is left held. */
typedef struct weft_mutex {
    pthread_mutex_t m;
    void *owner;   /* internal: holding task */
    void *next;    /* internal: next lock held by the same task */
    int poisoned;
} weft_mutex_t;

/** Initialise m. @return 0; WEFT_EINVAL for NULL; WEFT_ENOMEM. */
int weft_mutex_init(weft_mutex_t *m);
/** Destroy m (must be unlocked). NULL is a no-op. */
void weft_mutex_destroy(weft_mutex_t *m);
/** Lock m. @return 0; 1 when a previous holder panicked (the lock is still
 *  taken: the data may be inconsistent); WEFT_EINVAL for NULL. */
int weft_mutex_lock(weft_mutex_t *m);
/** Unlock m (the caller must hold it). @return 0; WEFT_EINVAL. */
int weft_mutex_unlock(weft_mutex_t *m);
/** 1 when a holder of m panicked, else 0. */
int weft_mutex_is_poisoned(const weft_mutex_t *m);
/** Clear the poisoned mark. */
void weft_mutex_clear_poison(weft_mutex_t *m);

#ifdef __cplusplus
}
#endif
#endif

/* scheduler/mutex.c — weft_mutex: released and poisoned when its holder panics.
 * Each thread keeps the weft mutexes it holds on a list, tagged with the
 * boundary depth they were taken at, so a panic releases exactly the locks
 * taken inside the boundary it unwinds to (unwind.c does, on landing). */
#include <stdint.h>

#include "core.h"

int weft_mutex_init(weft_mutex_t *m)
{
    if (!m) return weft__fail(WEFT_EINVAL, "weft_mutex_init: mutex is NULL");
    if (pthread_mutex_init(&m->m, NULL)) return weft__fail(WEFT_ENOMEM, "weft_mutex_init: failed");
    m->owner = NULL;
    m->next = NULL;
    m->poisoned = 0;
    return 0;
}

void weft_mutex_destroy(weft_mutex_t *m)
{
    if (m) pthread_mutex_destroy(&m->m);
}

int weft_mutex_lock(weft_mutex_t *m)
{
    if (!m) return weft__fail(WEFT_EINVAL, "weft_mutex_lock: mutex is NULL");
    weft__thread_ctx *ctx = weft__ctx();
    if (pthread_mutex_trylock(&m->m) != 0) {
        /* Contended: a spare keeps the pool's count while this worker waits. */
        weft_runtime_t *counted = weft__block_begin();
        pthread_mutex_lock(&m->m);
        weft__block_end(counted);
    }
    /* owner holds the boundary depth (+1, so that 0 means free). */
    m->owner = (void *)(uintptr_t)(ctx->depth + 1);
    m->next = ctx->held;
    ctx->held = m;
    return m->poisoned ? 1 : 0;
}

static void forget(weft__thread_ctx *ctx, weft_mutex_t *m)
{
    for (weft_mutex_t **p = &ctx->held; *p; p = (weft_mutex_t **)&(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    m->next = NULL;
    m->owner = NULL;
}

int weft_mutex_unlock(weft_mutex_t *m)
{
    if (!m) return weft__fail(WEFT_EINVAL, "weft_mutex_unlock: mutex is NULL");
    forget(weft__ctx(), m);
    pthread_mutex_unlock(&m->m);
    return 0;
}

int weft_mutex_is_poisoned(const weft_mutex_t *m) { return m ? m->poisoned : 0; }

void weft_mutex_clear_poison(weft_mutex_t *m)
{
    if (m) m->poisoned = 0;
}

/* coexec/engine.c — the engine's state in a runtime: created and destroyed by
 * the runtime root, and the latest operation's statistics. */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "engine.h"

int weft__engine_create(weft_runtime_t *rt, int check_writes)
{
    int check;
    int rc = weft__env_switch("WEFT_CHECK_WRITES", check_writes, &check);
    if (rc) return rc;
    weft__engine *e = calloc(1, sizeof *e);
    if (!e) return weft__fail(WEFT_ENOMEM, "weft_runtime_create: out of memory");
    pthread_mutex_init(&e->m, NULL);
    pthread_mutex_init(&e->models_m, NULL);
    pthread_mutex_init(&e->forms_m, NULL);
    atomic_init(&e->trace, NULL);
    e->check_writes = check;
    weft__set_layer(rt, WEFT__LAYER_ENGINE, e);
    return weft__trace_from_env(rt);
}

void weft__engine_destroy(weft_runtime_t *rt)
{
    weft__engine *e = weft__engine_of(rt);
    if (!e) return;
    weft__arrays_orphan(rt);
    weft__models_flush(rt);
    pthread_mutex_destroy(&e->models_m);
    weft__forms_free(rt);
    pthread_mutex_destroy(&e->forms_m);
    weft__trace_destroy(rt);
    weft__borrows_free(rt);
    pthread_mutex_destroy(&e->m);
    free(e);
    weft__set_layer(rt, WEFT__LAYER_ENGINE, NULL);
}

void weft__engine_publish_stats(weft_runtime_t *rt, const weft_run_stats_t *stats)
{
    weft__engine *e = weft__engine_of(rt);
    pthread_mutex_lock(&e->m);
    e->last_stats = *stats;
    pthread_mutex_unlock(&e->m);
}

int weft_runtime_last_run_stats(const weft_runtime_t *rt, weft_run_stats_t *out)
{
    if (!rt || !out)
        return weft__fail(WEFT_EINVAL, "weft_runtime_last_run_stats: %s is NULL", !rt ? "runtime" : "out");
    weft__engine *e = weft__engine_of(rt);
    pthread_mutex_lock(&e->m);
    *out = e->last_stats;
    pthread_mutex_unlock(&e->m);
    return 0;
}

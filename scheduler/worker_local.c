/* scheduler/worker_local.c — one value per pool worker, for caches and RNGs.
 * A caller slot (slots.c) has values of its own, like a worker: a thread
 * from outside sees them in the tasks it runs while it waits. */
#include <stdlib.h>

#include "core.h"

int weft_worker_key_create(weft_runtime_t *rt, void *(*init)(int worker), void (*dtor)(void *),
                           weft_worker_key_t **out)
{
    if (out) *out = NULL;
    if (!rt || !init || !out)
        return weft__fail(WEFT_EINVAL, "weft_worker_key_create: %s is NULL",
                          !rt ? "runtime" : !init ? "init" : "out");
    weft_worker_key_t *k = malloc(sizeof *k);
    if (!k) return weft__fail(WEFT_ENOMEM, "weft_worker_key_create: out of memory");
    k->rt = rt;
    k->init = init;
    k->dtor = dtor;
    k->slot = -1;
    pthread_mutex_lock(&rt->keys_m);
    for (int i = 0; i < WEFT__WORKER_KEYS_MAX; i++) {
        if (!rt->worker_keys[i]) {
            rt->worker_keys[i] = k;
            k->slot = i;
            break;
        }
    }
    pthread_mutex_unlock(&rt->keys_m);
    if (k->slot < 0) {
        free(k);
        return weft__fail(WEFT_ENOMEM, "weft_worker_key_create: all %d worker-local keys in use",
                          WEFT__WORKER_KEYS_MAX);
    }
    *out = k;
    return 0;
}

static void free_value(weft_worker_key_t *k, weft__worker *w)
{
    void *v = w->locals[k->slot];
    if (v && k->dtor) k->dtor(v);
    w->locals[k->slot] = NULL;
}

static void free_values(weft_worker_key_t *k)
{
    weft_runtime_t *rt = k->rt;
    for (int w = 0; w < rt->nworkers; w++) free_value(k, &rt->workers[w]);
    for (weft__worker *s = weft__slot_next(rt, NULL); s; s = weft__slot_next(rt, s)) free_value(k, s);
}

void weft_worker_key_destroy(weft_worker_key_t *k)
{
    if (!k) return;
    weft_runtime_t *rt = k->rt;
    free_values(k);
    pthread_mutex_lock(&rt->keys_m);
    rt->worker_keys[k->slot] = NULL;
    pthread_mutex_unlock(&rt->keys_m);
    free(k);
}

void *weft_worker_local_get(weft_worker_key_t *k)
{
    weft__thread_ctx *ctx = weft__ctx();
    if (!k || !ctx->worker || ctx->rt != k->rt) {
        weft__fail(WEFT_EINVAL, "weft_worker_local_get: %s",
                   !k ? "key is NULL" : "the caller is not a worker of the key's runtime");
        return NULL;
    }
    void **slot = &ctx->worker->locals[k->slot];
    if (!*slot) *slot = k->init(ctx->worker->index);
    return *slot;
}

void weft__worker_locals_destroy(weft_runtime_t *rt)
{
    for (int i = 0; i < WEFT__WORKER_KEYS_MAX; i++) {
        if (rt->worker_keys[i]) {
            free_values(rt->worker_keys[i]);
            free(rt->worker_keys[i]);
            rt->worker_keys[i] = NULL;
        }
    }
}

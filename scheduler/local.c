/* scheduler/local.c — task-locals: a fresh value per task, made on first use.
 * Outside tasks, each OS thread has its own value, kept in a pthread key so it
 * is freed when the thread exits. */
#include <stdlib.h>

#include "core.h"

struct weft_local_key {
    void *(*init)(void);
    void (*dtor)(void *);
    pthread_key_t thread_value;
};

int weft_local_key_create(void *(*init)(void), void (*dtor)(void *), weft_local_key_t **out)
{
    if (out) *out = NULL;
    if (!init || !out)
        return weft__fail(WEFT_EINVAL, "weft_local_key_create: %s is NULL", !init ? "init" : "out");
    weft_local_key_t *k = malloc(sizeof *k);
    if (!k) return weft__fail(WEFT_ENOMEM, "weft_local_key_create: out of memory");
    k->init = init;
    k->dtor = dtor;
    if (pthread_key_create(&k->thread_value, dtor)) {
        free(k);
        return weft__fail(WEFT_ENOMEM, "weft_local_key_create: no thread key left");
    }
    *out = k;
    return 0;
}

void weft_local_key_destroy(weft_local_key_t *k)
{
    if (!k) return;
    void *v = pthread_getspecific(k->thread_value);
    if (v && k->dtor) k->dtor(v);
    pthread_key_delete(k->thread_value);
    free(k);
}

void *weft_local_get(weft_local_key_t *k)
{
    if (!k) {
        weft__fail(WEFT_EINVAL, "weft_local_get: key is NULL");
        return NULL;
    }
    struct weft_task *t = weft__ctx()->task;
    if (!t) {
        void *v = pthread_getspecific(k->thread_value);
        if (!v && (v = k->init())) pthread_setspecific(k->thread_value, v);
        return v;
    }
    for (size_t i = 0; i < t->nlocals; i++)
        if (t->locals[i].key == k) return t->locals[i].value;
    weft__local_slot *grown = realloc(t->locals, (t->nlocals + 1) * sizeof *grown);
    if (!grown) {
        weft__fail(WEFT_ENOMEM, "weft_local_get: out of memory");
        return NULL;
    }
    t->locals = grown;
    void *v = k->init();
    if (!v) return NULL;
    t->locals[t->nlocals].key = k;
    t->locals[t->nlocals].value = v;
    t->nlocals++;
    return v;
}

void weft__task_locals_destroy(struct weft_task *t)
{
    /* Newest first: a later value may refer to an earlier one. */
    for (size_t i = t->nlocals; i-- > 0;)
        if (t->locals[i].key->dtor) t->locals[i].key->dtor(t->locals[i].value);
    free(t->locals);
    t->locals = NULL;
    t->nlocals = 0;
}

/* scheduler/scope.c — scopes: tasks that borrow, all joined before return.
 *
 * `pending` counts the body plus every task not yet finished, so it cannot
 * reach zero while the body or any task (which may spawn more) still runs.
 * The scope owns every task it spawned until a join consumes it; whatever is
 * left at the end is inspected for unjoined panics, then released. */
#include <stdlib.h>

#include "core.h"

struct weft_scope {
    weft_runtime_t *rt;
    atomic_long pending;
    atomic_ulong panics;          /* numbers unjoined-panic candidates in order */
    weft__latch finished;
    pthread_mutex_t m;            /* guards the live list */
    struct weft_task *live;       /* tasks not consumed by a join */
};

weft_runtime_t *weft_scope_runtime(const weft_scope_t *s) { return s ? s->rt : NULL; }

void weft__scope_add(weft_scope_t *s, struct weft_task *t)
{
    weft__task_untrack(t); /* the scope owns it now, and its links */
    t->scope = s;
    atomic_fetch_add(&s->pending, 1);
    pthread_mutex_lock(&s->m);
    t->scope_prev = NULL;
    t->scope_next = s->live;
    if (s->live) s->live->scope_prev = t;
    s->live = t;
    pthread_mutex_unlock(&s->m);
}

void weft__scope_remove(weft_scope_t *s, struct weft_task *t)
{
    pthread_mutex_lock(&s->m);
    if (t->scope_prev) t->scope_prev->scope_next = t->scope_next;
    else s->live = t->scope_next;
    if (t->scope_next) t->scope_next->scope_prev = t->scope_prev;
    pthread_mutex_unlock(&s->m);
}

unsigned long weft__scope_panic_seq(weft_scope_t *s) { return atomic_fetch_add(&s->panics, 1) + 1; }

void weft__scope_task_done(weft_scope_t *s)
{
    if (atomic_fetch_sub(&s->pending, 1) == 1) weft__latch_set(&s->finished);
}

int weft_scope_builder_spawn(weft_scope_t *s, const weft_builder_t *b, weft_task_fn fn, void *arg,
                             weft_handle_t **out)
{
    if (out) *out = NULL;
    if (!s || !fn) return weft__fail(WEFT_EINVAL, "weft_scope_spawn: %s is NULL", !s ? "scope" : "fn");
    struct weft_task *t;
    int rc = weft__task_new(s->rt, b, fn, arg, &t);
    if (rc) return rc;
    weft__scope_add(s, t);
    rc = weft__task_start(t);
    if (rc) {
        weft__scope_remove(s, t);
        t->scope = NULL;
        weft__task_discard(t);
        weft__scope_task_done(s);
        return rc;
    }
    if (out) *out = t;
    return 0;
}

int weft_scope_spawn(weft_scope_t *s, weft_task_fn fn, void *arg, weft_handle_t **out)
{
    return weft_scope_builder_spawn(s, NULL, fn, arg, out);
}

struct body_call {
    weft_scope_t *s;
    int (*body)(weft_scope_t *, void *);
    void *arg;
    int rc;
};

static void *run_body(void *arg)
{
    struct body_call *c = arg;
    c->rc = c->body(c->s, c->arg);
    return NULL;
}

int weft_scope_at(const char *file, int line, weft_runtime_t *rt,
                  int (*body)(weft_scope_t *s, void *arg), void *arg, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    if (!rt || !body) return weft__fail(WEFT_EINVAL, "weft_scope: %s is NULL", !rt ? "runtime" : "body");
    weft_scope_t s = {.rt = rt, .live = NULL};
    atomic_init(&s.pending, 1); /* the body */
    atomic_init(&s.panics, 0);
    weft__latch_init(&s.finished);
    pthread_mutex_init(&s.m, NULL);

    struct body_call call = {.s = &s, .body = body, .arg = arg, .rc = 0};
    /* The body is the caller's own code: it keeps the caller's task-locals,
     * but gets a boundary of its own so its panic is the scope's to report. */
    weft_panic_t *body_panic = weft__run_caught(run_body, &call, NULL, weft_current_name());
    weft__scope_task_done(&s);
    weft__wait(rt, &s.finished);

    /* Every task has finished; what is left on the list was never joined. */
    weft_panic_t *cause = NULL;
    unsigned long cause_seq = 0;
    size_t others = 0;
    struct weft_task *t = s.live;
    while (t) {
        struct weft_task *next = t->scope_next;
        if (t->panic) {
            if (!cause || t->panic_seq < cause_seq) {
                if (cause) {
                    others++;
                    weft_panic_destroy(cause);
                }
                cause = t->panic;
                cause_seq = t->panic_seq;
                t->panic = NULL;
            } else {
                others++;
            }
        }
        weft__task_unref(t);
        t = next;
    }
    pthread_mutex_destroy(&s.m);

    weft_panic_t *result = NULL;
    if (body_panic) {
        result = body_panic; /* the body's panic wins */
        weft_panic_destroy(cause);
    } else if (cause) {
        result = weft__panic_scope(weft_current_name(), file, line, cause, others);
    }
    if (!result) return call.rc;
    if (panic) *panic = result;
    else weft_panic_destroy(result);
    return WEFT_EPANIC;
}

/* scheduler/unwind.c — how a panic travels, in one place (as Lua's ldo.c):
 * the per-thread context, the boundary a task body runs inside (try: a
 * _setjmp), weft_panic() (throw: a _longjmp to the innermost boundary, or
 * report and abort where there is none), and the clean-up on landing
 * (weft mutexes taken inside released and poisoned, the payload built from
 * the message kept in the thread's reserved storage); and the current task's
 * name, which the context holds. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

static _Thread_local weft__thread_ctx thread_ctx;

weft__thread_ctx *weft__ctx(void) { return &thread_ctx; }

const char *weft_current_name(void)
{
    struct weft_task *t = thread_ctx.task;
    return t ? t->name : NULL;
}

/* Landing: release and poison the weft mutexes taken inside the boundary
 * being left (at depth or deeper), as their holders will never unlock them. */
static void release_held_locks(weft__thread_ctx *ctx, int depth)
{
    weft_mutex_t **p = &ctx->held;
    while (*p) {
        weft_mutex_t *m = *p;
        if ((int)(uintptr_t)m->owner - 1 >= depth) {
            *p = m->next;
            m->next = NULL;
            m->owner = NULL;
            m->poisoned = 1;
            pthread_mutex_unlock(&m->m);
        } else {
            p = (weft_mutex_t **)&m->next;
        }
    }
}


/* A body returned: locks taken inside its boundary and still held would
 * stay on the thread's list for whatever runs next on it (a later panic
 * there would poison them). Release and poison them, and make the body's end
 * a panic naming the first one taken; NULL when it holds none. */
static weft_panic_t *held_at_return(weft__thread_ctx *ctx, int depth, const char *name)
{
    weft_mutex_t *first = NULL;
    size_t n = 0;
    for (weft_mutex_t *m = ctx->held; m; m = m->next) {
        if ((int)(uintptr_t)m->owner - 1 < depth) continue;
        first = m;
        n++;
    }
    if (!first) return NULL;
    char msg[160];
    snprintf(msg, sizeof msg, "returned holding weft_mutex_t %p%s: released and poisoned", (void *)first,
             n > 1 ? " and others" : "");
    release_held_locks(ctx, depth);
    return weft__panic_new(name, NULL, 0, msg);
}

/* Turn what weft_panic() left in the thread's reserved storage into a payload. */
static weft_panic_t *panic_from_ctx(weft__thread_ctx *ctx, const char *name)
{
    return weft__panic_new(name, ctx->panic_file, ctx->panic_line, ctx->panic_msg);
}

/* The one boundary behind weft__run_caught and weft__run_caught_quiet:
 * notify says whether the hook hears of a panic here, as it lands. */
static weft_panic_t *run_caught(weft_task_fn fn, void *arg, void **result, const char *name, int notify)
{
    weft__thread_ctx *ctx = &thread_ctx;
    jmp_buf *saved_boundary = ctx->boundary;
    int depth = ++ctx->depth;
    jmp_buf boundary;
    ctx->boundary = &boundary;
    if (_setjmp(boundary) == 0) {
        void *r = fn(arg);
        if (result) *result = r;
        /* Locks taken inside belong to this boundary: a body that returns
         * holding one ends in a panic, as if it had panicked holding it. */
        weft_panic_t *p = held_at_return(ctx, depth, name);
        if (p && notify) weft__panic_notify(p);
        ctx->boundary = saved_boundary;
        ctx->depth = depth - 1;
        return p;
    }
    /* Back on this thread's own stack frame: free to take locks and allocate. */
    release_held_locks(ctx, depth);
    weft_panic_t *p = panic_from_ctx(ctx, name);
    if (notify) weft__panic_notify(p);
    ctx->boundary = saved_boundary;
    ctx->depth = depth - 1;
    return p;
}

weft_panic_t *weft__run_caught(weft_task_fn fn, void *arg, void **result, const char *name)
{
    return run_caught(fn, arg, result, name, 1);
}

weft_panic_t *weft__run_caught_quiet(weft_task_fn fn, void *arg, void **result, const char *name)
{
    return run_caught(fn, arg, result, name, 0);
}

/* The name a panic outside any task reports: the task's when one runs, else
 * "main" on the process's initial thread (as Rust names it), else NULL
 * ("<unnamed>"). weft_current_name() stays NULL on the main thread: it names
 * tasks only. */
static const char *panic_thread_name(void)
{
    const char *name = weft_current_name();
    if (name) return name;
    return syscall(SYS_gettid) == getpid() ? "main" : NULL;
}

void weft_panic_at(const char *file, int line, const char *fmt, ...)
{
    weft__thread_ctx *ctx = &thread_ctx;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ctx->panic_msg, sizeof ctx->panic_msg, fmt, ap);
    va_end(ap);
    /* Cut to fit: never inside a UTF-8 character. */
    if (n >= (int)sizeof ctx->panic_msg)
        ctx->panic_msg[weft__utf8_fit(ctx->panic_msg, sizeof ctx->panic_msg - 1)] = '\0';
    ctx->panic_file = file;
    ctx->panic_line = line;
    if (ctx->boundary) _longjmp(*ctx->boundary, 1);

    /* No task boundary on this thread: report, then abort, as Rust does for a
     * panic that nobody can catch. */
    const char *name = panic_thread_name();
    weft__panic_notify(weft__panic_new(name, file, line, ctx->panic_msg));
    abort();
}

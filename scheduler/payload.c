/* scheduler/payload.c — panic payloads: the struct (known to this file
 * only), its constructors (one for device failures), accessors, formatting,
 * and the panic hook. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct weft_panic {
    char *message;
    char *thread;
    char *file;
    int line;
    char *device;
    char *kernel;
    int cl_status;
    char *cl_status_name;
    int has_range;
    size_t begin, end;
    char *build_log;
    weft_panic_t *cause;
    size_t suppressed;
};

/* The payload every constructor returns when memory for a payload cannot be
 * had (as SQLite's static out-of-memory error): a failure must still be a
 * failure. It is never freed or changed (weft_panic_destroy passes it by,
 * the fill and origin setters leave it alone), so any number of joiners on
 * any threads may hold it at once. */
static weft_panic_t oom_panic = {
    .message = "panic payload could not be allocated: out of memory",
    .thread = "<unknown>",
    .file = "<unknown>",
};

static pthread_mutex_t hook_m = PTHREAD_MUTEX_INITIALIZER;
static weft_panic_hook_fn hook_fn = weft_panic_default_hook;
static void *hook_ud;

static int set_str(char **field, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = weft__strdup(s))) return WEFT_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

weft_panic_t *weft__panic_new(const char *thread, const char *file, int line,
                              const char *message)
{
    weft_panic_t *p = calloc(1, sizeof *p);
    if (!p) return &oom_panic;
    p->line = line;
    if (set_str(&p->message, message ? message : "") ||
        set_str(&p->thread, thread ? thread : "<unnamed>") ||
        set_str(&p->file, file ? file : "<unknown>")) {
        weft_panic_destroy(p);
        return &oom_panic;
    }
    return p;
}

weft_panic_t *weft__panic_failure(const weft__failure *f, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    weft_panic_t *p = weft__panic_new(f->thread, f->file, f->line, msg);
    if (p == &oom_panic) return p;
    p->cl_status = f->cl_status;
    p->has_range = f->has_range;
    p->begin = f->begin;
    p->end = f->end;
    if ((f->cl_status && set_str(&p->cl_status_name, f->cl_status_name ? f->cl_status_name : "?")) ||
        set_str(&p->device, f->device) || set_str(&p->kernel, f->kernel) || set_str(&p->build_log, f->build_log)) {
        weft_panic_destroy(p);
        return &oom_panic;
    }
    return p;
}

weft_panic_t *weft_panic_create(const weft_panic_info_t *info)
{
    weft_panic_info_t none = {0};
    if (!info) info = &none;
    weft__failure f = {.thread = info->thread, .file = info->file, .line = info->line, .device = info->device,
                       .kernel = info->kernel, .cl_status = info->cl_status,
                       .cl_status_name = info->cl_status_name,
                       .has_range = info->has_range, .begin = info->begin, .end = info->end,
                       .build_log = info->build_log};
    weft_panic_t *p = weft__panic_failure(&f, "%s", info->message ? info->message : "");
    if (p != &oom_panic) p->suppressed = info->suppressed;
    return p;
}

void weft__panic_fill(weft_panic_t *p, const char *kernel, const size_t *range, const char *file, int line)
{
    if (!p || p == &oom_panic) return;
    if (kernel && !p->kernel) set_str(&p->kernel, kernel);
    if (range && !p->has_range) {
        p->has_range = 1;
        p->begin = range[0];
        p->end = range[1];
    }
    if (file && (!p->file || strcmp(p->file, "<unknown>") == 0)) {
        set_str(&p->file, file);
        p->line = line;
    }
}

void weft__panic_set_origin(weft_panic_t *p, const char *thread, const char *file, int line)
{
    if (!p || p == &oom_panic) return;
    if (thread) set_str(&p->thread, thread);
    if (file) set_str(&p->file, file);
    p->line = line;
}

weft_panic_t *weft__panic_wrap(const char *thread, const char *file, int line, const char *msg,
                               weft_panic_t *cause, size_t suppressed)
{
    weft_panic_t *p = weft__panic_new(thread, file, line, msg);
    if (p == &oom_panic) return cause ? cause : p; /* out of memory: the cause alone still tells */
    p->cause = cause;
    p->suppressed = suppressed;
    return p;
}

weft_panic_t *weft__panic_scope(const char *thread, const char *file, int line, weft_panic_t *cause,
                                size_t suppressed)
{
    return weft__panic_wrap(thread, file, line, "a scoped thread panicked", cause, suppressed);
}

void weft_panic_destroy(weft_panic_t *p)
{
    if (!p || p == &oom_panic) return;
    free(p->message);
    free(p->thread);
    free(p->file);
    free(p->device);
    free(p->kernel);
    free(p->cl_status_name);
    free(p->build_log);
    weft_panic_destroy(p->cause);
    free(p);
}

const char *weft_panic_message(const weft_panic_t *p) { return p ? p->message : NULL; }
const char *weft_panic_thread(const weft_panic_t *p) { return p ? p->thread : NULL; }
const char *weft_panic_file(const weft_panic_t *p) { return p ? p->file : NULL; }
int weft_panic_line(const weft_panic_t *p) { return p ? p->line : 0; }
const char *weft_panic_device(const weft_panic_t *p) { return p ? p->device : NULL; }
const char *weft_panic_kernel(const weft_panic_t *p) { return p ? p->kernel : NULL; }
int weft_panic_cl_status(const weft_panic_t *p) { return p ? p->cl_status : 0; }
const char *weft_panic_cl_status_name(const weft_panic_t *p) { return p ? p->cl_status_name : NULL; }
const char *weft_panic_build_log(const weft_panic_t *p) { return p ? p->build_log : NULL; }
const weft_panic_t *weft_panic_cause(const weft_panic_t *p) { return p ? p->cause : NULL; }
size_t weft_panic_suppressed(const weft_panic_t *p) { return p ? p->suppressed : 0; }
weft_panic_t *weft__panic_oom(void) { return &oom_panic; }

int weft_panic_range(const weft_panic_t *p, size_t *begin, size_t *end)
{
    if (!p || !p->has_range) return 0;
    if (begin) *begin = p->begin;
    if (end) *end = p->end;
    return 1;
}

/* Append to buf at *len with snprintf semantics, tracking the needed length. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

size_t weft_panic_format(const weft_panic_t *p, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap) buf[0] = '\0';
    if (!p) return 0;
    append(buf, cap, &len, "thread '%s' panicked at %s:%d:\n%s\n", p->thread, p->file, p->line,
           p->message);
    if (p->device) append(buf, cap, &len, "  device: %s\n", p->device);
    if (p->kernel) append(buf, cap, &len, "  kernel: %s\n", p->kernel);
    if (p->cl_status)
        append(buf, cap, &len, "  status: %s (%d)\n",
               p->cl_status_name ? p->cl_status_name : "?", p->cl_status);
    if (p->has_range) append(buf, cap, &len, "  range: [%zu, %zu)\n", p->begin, p->end);
    if (p->build_log) append(buf, cap, &len, "  build log:\n%s\n", p->build_log);
    if (p->cause) {
        append(buf, cap, &len, "caused by (first of %zu):\n", p->suppressed + 1);
        size_t rest = len < cap ? cap - len : 0;
        len += weft_panic_format(p->cause, rest ? buf + len : NULL, rest);
    }
    return len;
}

void weft_panic_default_hook(const weft_panic_t *p, void *user_data)
{
    (void)user_data;
    char small[1024];
    size_t n = weft_panic_format(p, small, sizeof small);
    if (n < sizeof small) {
        fputs(small, stderr);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) {
        fputs(small, stderr);
        return;
    }
    weft_panic_format(p, big, n + 1);
    fputs(big, stderr);
    free(big);
}

void weft_set_panic_hook(weft_panic_hook_fn hook, void *user_data)
{
    pthread_mutex_lock(&hook_m);
    hook_fn = hook ? hook : weft_panic_default_hook;
    hook_ud = hook ? user_data : NULL;
    pthread_mutex_unlock(&hook_m);
}

/* While this thread runs the panic hook: the boundary depth it was called
 * at; else -1. A panic at that same depth is the hook's own; one deeper
 * landed in a boundary of its own (a task the hook ran while it waited) and
 * is an ordinary panic. */
static _Thread_local int hook_depth = -1;

void weft__panic_notify(const weft_panic_t *p)
{
    weft__thread_ctx *ctx = weft__ctx();
    if (hook_depth >= 0 && ctx->depth == hook_depth) {
        /* The hook itself panicked (the payload here is that second panic,
         * reported by weft_panic_at where there is no boundary). Unwinding
         * again would land in the boundary being left, or loop: abort, as
         * Rust does. */
        char report[1024];
        weft_panic_format(p, report, sizeof report);
        fprintf(stderr, "%sthread panicked while processing panic. aborting.\n", report);
        abort();
    }
    pthread_mutex_lock(&hook_m);
    weft_panic_hook_fn fn = hook_fn;
    void *ud = hook_ud;
    pthread_mutex_unlock(&hook_m);
    /* No boundary while the hook runs: a weft_panic() in it then reaches
     * weft_panic_at's report-and-abort path, and so the branch above,
     * instead of jumping back into the task's boundary. */
    jmp_buf *saved = ctx->boundary;
    int saved_depth = hook_depth;
    ctx->boundary = NULL;
    hook_depth = ctx->depth;
    fn(p, ud);
    hook_depth = saved_depth;
    ctx->boundary = saved;
}

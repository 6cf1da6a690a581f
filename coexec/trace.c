/* coexec/trace.c — every chunk as a Chrome trace event (Perfetto reads it):
 * one "thread" row per place, one complete event per chunk. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

typedef weft_trace_chunk_t trace_event;

#define WEFT__TRACE_PLACES 65 /* the CPU and up to 64 devices */

struct weft__trace {
    pthread_mutex_t m;
    char *path;
    trace_event *ev;
    size_t n, cap;
};

/* Whether path can be written (opened for appending, then closed; a file
 * that was not there is removed again): a trace that could never be
 * written is refused when it starts, not lost at destroy. who begins the
 * message. */
static int check_writable(const char *path, const char *who)
{
    int existed = access(path, F_OK) == 0;
    FILE *f = fopen(path, "a");
    if (!f) return weft__fail(WEFT_EINVAL, "%s: cannot write the trace file '%s': %s", who, path, strerror(errno));
    fclose(f);
    if (!existed) remove(path);
    return 0;
}

int weft_trace_start(weft_runtime_t *rt, const char *path)
{
    if (!rt || (path && !*path))
        return weft__fail(WEFT_EINVAL, "weft_trace_start: %s", !rt ? "runtime is NULL" : "path is empty");
    if (path && check_writable(path, "weft_trace_start")) return WEFT_EINVAL;
    char *copy = NULL; /* NULL: recorded for weft_trace_chunks() only */
    if (path && !(copy = weft__strdup(path))) return weft__fail(WEFT_ENOMEM, "weft_trace_start: out of memory");
    struct weft__trace *t = atomic_load(&weft__engine_of(rt)->trace);
    if (t) {
        /* Operations may be recording into it: write it out and reuse it,
         * never free it while the runtime lives. */
        if (t->path) weft_trace_flush(rt);
        pthread_mutex_lock(&t->m);
        free(t->path);
        t->path = copy;
        t->n = 0;
        pthread_mutex_unlock(&t->m);
        return 0;
    }
    if (!(t = calloc(1, sizeof *t))) {
        free(copy);
        return weft__fail(WEFT_ENOMEM, "weft_trace_start: out of memory");
    }
    t->path = copy;
    pthread_mutex_init(&t->m, NULL);
    struct weft__trace *expected = NULL;
    if (!atomic_compare_exchange_strong(&weft__engine_of(rt)->trace, &expected, t)) {
        /* Another thread started one at the same moment: use that one. */
        pthread_mutex_destroy(&t->m);
        free(t->path);
        free(t);
        return weft_trace_start(rt, path);
    }
    return 0;
}

int weft__trace_from_env(weft_runtime_t *rt)
{
    const char *path = getenv("WEFT_TRACE");
    if (!path || !*path) return 0;
    if (check_writable(path, "weft_runtime_create: $WEFT_TRACE")) return WEFT_EINVAL;
    return weft_trace_start(rt, path);
}

/* src into dst[cap], cut to fit at a UTF-8 character boundary. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = weft__utf8_fit(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void weft__trace_chunk(weft_runtime_t *rt, const char *kernel, const char *place, int place_id,
                       size_t begin, size_t end, uint64_t bytes, uint64_t t_start_ns,
                       uint64_t t_end_ns, int failed)
{
    struct weft__trace *t = atomic_load(&weft__engine_of(rt)->trace);
    if (!t) return;
    pthread_mutex_lock(&t->m);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        trace_event *ev = realloc(t->ev, cap * sizeof *ev);
        if (!ev) {
            pthread_mutex_unlock(&t->m);
            return; /* tracing is best effort; the run itself goes on */
        }
        t->ev = ev;
        t->cap = cap;
    }
    trace_event *e = &t->ev[t->n++];
    copy_cut(e->kernel, sizeof e->kernel, kernel ? kernel : "?");
    copy_cut(e->place, sizeof e->place, place);
    e->place_id = place_id;
    e->begin = begin;
    e->end = end;
    e->bytes = bytes;
    e->start_ns = t_start_ns - weft__runtime_t0(rt);
    e->end_ns = t_end_ns - weft__runtime_t0(rt);
    e->failed = failed;
    pthread_mutex_unlock(&t->m);
}

/* The length of the valid UTF-8 sequence at p (2 to 4 bytes: no overlong
 * form, surrogate or code point past U+10FFFF), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : lo, hi = c == 0xED ? 0x9F : hi;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : lo, hi = c == 0xF4 ? 0x8F : hi;
    else return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++) /* p[i - 1] was a continuation byte: not the end */
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* JSON string body: names come from drivers and users, so escape them, and
 * a byte that is not part of valid UTF-8 becomes U+FFFD (JSON is UTF-8). */
static void put_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = 1;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
        else if (c < 0x80) fputc((int)c, f);
        else if ((n = utf8_seq(p)) != 0) fwrite(p, 1, n, f);
        else fputs("\\ufffd", f), n = 1;
        p += n;
    }
}

int weft_trace_flush(weft_runtime_t *rt)
{
    struct weft__trace *t = rt ? atomic_load(&weft__engine_of(rt)->trace) : NULL;
    if (!t) return weft__fail(WEFT_EINVAL, "weft_trace_flush: no trace is being recorded");
    pthread_mutex_lock(&t->m);
    if (!t->path) {
        pthread_mutex_unlock(&t->m);
        return weft__fail(WEFT_EINVAL, "weft_trace_flush: the trace has no file (started with a NULL path)");
    }
    FILE *f = fopen(t->path, "w");
    if (!f) {
        pthread_mutex_unlock(&t->m);
        return weft__fail(WEFT_EINVAL, "weft_trace_flush: cannot write '%s'", t->path);
    }
    fputs("{\"traceEvents\":[\n", f);
    /* Name each place's row once. */
    int named[WEFT__TRACE_PLACES] = {0};
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        trace_event *e = &t->ev[i];
        if (e->place_id >= 0 && e->place_id < WEFT__TRACE_PLACES && !named[e->place_id]) {
            named[e->place_id] = 1;
            fprintf(f, "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"",
                    k++ ? ",\n" : "", e->place_id);
            put_escaped(f, e->place);
            fputs("\"}}", f);
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        trace_event *e = &t->ev[i];
        fprintf(f, "%s{\"name\":\"", k++ ? ",\n" : "");
        put_escaped(f, e->kernel);
        fprintf(f, " [%zu,%zu)%s\",\"cat\":\"chunk\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,"
                   "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"begin\":%zu,\"end\":%zu,\"bytes_moved\":%llu,"
                   "\"failed\":%s,\"place\":\"",
                e->begin, e->end, e->failed ? " FAILED" : "", e->place_id, (double)e->start_ns / 1e3,
                (double)(e->end_ns - e->start_ns) / 1e3, e->begin, e->end, (unsigned long long)e->bytes,
                e->failed ? "true" : "false");
        put_escaped(f, e->place);
        fputs("\"}}", f);
    }
    fputs("\n],\"displayTimeUnit\":\"ms\"}\n", f);
    int bad = fclose(f) != 0;
    pthread_mutex_unlock(&t->m);
    return bad ? weft__fail(WEFT_EINVAL, "weft_trace_flush: writing '%s' failed", t->path) : 0;
}

int weft_trace_chunks(const weft_runtime_t *rt, weft_trace_chunk_t *out, size_t cap, size_t *count)
{
    if (!rt || !count || (cap && !out))
        return weft__fail(WEFT_EINVAL, "weft_trace_chunks: %s is NULL", !rt ? "runtime" : !count ? "count" : "out");
    struct weft__trace *t = atomic_load(&weft__engine_of(rt)->trace);
    if (!t) return weft__fail(WEFT_EINVAL, "weft_trace_chunks: no trace is being recorded");
    pthread_mutex_lock(&t->m);
    size_t n = t->n < cap ? t->n : cap;
    if (n) memcpy(out, t->ev, n * sizeof *out);
    *count = t->n;
    pthread_mutex_unlock(&t->m);
    return 0;
}

void weft__trace_destroy(weft_runtime_t *rt)
{
    struct weft__trace *t = atomic_load(&weft__engine_of(rt)->trace);
    if (!t) return;
    if (t->path) weft_trace_flush(rt);
    atomic_store(&weft__engine_of(rt)->trace, NULL);
    pthread_mutex_destroy(&t->m);
    free(t->ev);
    free(t->path);
    free(t);
}

/* bench/timeline.c — one weft_parallel_for split across the CPU workers and
 * every device (guided policy), traced with weft_trace_start, and the Chrome
 * trace it writes read back for the SVG timeline.
 *
 * The operation is compute-bound so that every place has work worth timing:
 * y[i] = p(x[i]) for a fixed polynomial of degree POLY_DEG, by Horner's rule,
 * with a CPU body written in blocks of 16 elements the compiler vectorises. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define POLY_DEG 64
#define STR(x) #x
#define XSTR(x) STR(x)

static const char poly_src[] =
    "#define POLY_DEG " XSTR(POLY_DEG) "\n"
    "__kernel void bench_poly(const uint n, __global const float *x, __global float *y)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i >= n) return;\n"
    "    float v = x[i], acc = 0.0f;\n"
    "    for (int k = POLY_DEG; k >= 0; k--)\n"
    "        acc = acc * v + ((k & 1) ? -1.0f : 1.0f) / (float)(k + 1);\n"
    "    y[i] = acc;\n"
    "}\n";

static float coef(int k) { return ((k & 1) ? -1.0f : 1.0f) / (float)(k + 1); }

static void poly_cpu(size_t begin, size_t end, void *const *argv)
{
    const float *x = argv[1];
    float *y = argv[2];
    float c[POLY_DEG + 1];
    for (int k = 0; k <= POLY_DEG; k++) c[k] = coef(k);
    for (size_t i0 = begin; i0 < end; i0 += 16) {
        size_t m = end - i0 < 16 ? end - i0 : 16;
        float v[16] = {0}, acc[16] = {0};
        for (size_t j = 0; j < m; j++) v[j] = x[i0 + j];
        for (int k = POLY_DEG; k >= 0; k--)
            for (int j = 0; j < 16; j++) acc[j] = acc[j] * v[j] + c[k];
        for (size_t j = 0; j < m; j++) y[i0 + j] = acc[j];
    }
}

static double poly_ref(double v)
{
    double acc = 0.0;
    for (int k = POLY_DEG; k >= 0; k--) acc = acc * v + (double)coef(k);
    return acc;
}

static float x_of(size_t i) { return -0.9f + 1.8f * (float)((i * 2654435761u) % 1000003u) / 1000003.0f; }

/* ---- a small JSON reader, enough for Chrome traces ---------------------- */

typedef enum { JNULL, JBOOL, JNUM, JSTR, JARR, JOBJ } jtype;

typedef struct jval {
    jtype t;
    double num;
    char *str;                    /* JSTR; JOBJ/JARR: NULL */
    struct jval *kids;            /* JARR items, JOBJ values */
    char **keys;                  /* JOBJ keys */
    size_t n;
} jval;

typedef struct jparser {
    const char *p, *end;
    int depth;
} jparser;

static void jfree(jval *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        jfree(&v->kids[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

static void jskip(jparser *ps)
{
    while (ps->p < ps->end && isspace((unsigned char)*ps->p)) ps->p++;
}

static int jstring(jparser *ps, char **out)
{
    if (ps->p >= ps->end || *ps->p != '"') return -1;
    ps->p++;
    size_t cap = 32, n = 0;
    char *s = malloc(cap);
    if (!s) return -1;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c == '\\') {
            if (ps->p >= ps->end) break;
            c = *ps->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned u = 0;
                for (int i = 0; i < 4 && ps->p < ps->end; i++) {
                    char h = *ps->p++;
                    u = u * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                }
                c = u < 0x80 ? (char)u : '?'; /* names here are ASCII */
                break;
            }
            default: break; /* '"', '\\', '/' stand for themselves */
            }
        }
        if (n + 2 > cap) {
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                return -1;
            }
            s = t;
        }
        s[n++] = c;
    }
    if (ps->p >= ps->end) {
        free(s);
        return -1;
    }
    ps->p++;
    s[n] = '\0';
    *out = s;
    return 0;
}

static int jparse(jparser *ps, jval *v)
{
    memset(v, 0, sizeof *v);
    jskip(ps);
    if (ps->p >= ps->end || ++ps->depth > 64) return -1;
    int rc = 0;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        v->t = obj ? JOBJ : JARR;
        ps->p++;
        size_t cap = 0;
        jskip(ps);
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
            ps->p++;
            ps->depth--;
            return 0;
        }
        for (;;) {
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                jval *k = realloc(v->kids, cap * sizeof *k);
                if (!k) return -1;
                v->kids = k;
                if (obj) {
                    char **ks = realloc(v->keys, cap * sizeof *ks);
                    if (!ks) return -1;
                    v->keys = ks;
                }
            }
            if (obj) {
                jskip(ps);
                if (jstring(ps, &v->keys[v->n])) return -1;
                jskip(ps);
                if (ps->p >= ps->end || *ps->p++ != ':') {
                    free(v->keys[v->n]);
                    return -1;
                }
            }
            if (jparse(ps, &v->kids[v->n])) {
                if (obj) free(v->keys[v->n]);
                jfree(&v->kids[v->n]);
                return -1;
            }
            v->n++;
            jskip(ps);
            if (ps->p >= ps->end) return -1;
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p++ != (obj ? '}' : ']')) return -1;
            break;
        }
    } else if (c == '"') {
        v->t = JSTR;
        rc = jstring(ps, &v->str);
    } else if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
        v->t = JBOOL;
        v->num = *ps->p == 't';
        ps->p += *ps->p == 't' ? 4 : 5;
    } else if (!strncmp(ps->p, "null", 4)) {
        v->t = JNULL;
        ps->p += 4;
    } else {
        char *e;
        v->t = JNUM;
        v->num = strtod(ps->p, &e);
        if (e == ps->p) return -1;
        ps->p = e;
    }
    ps->depth--;
    return rc;
}

static const jval *jget(const jval *o, const char *key)
{
    if (!o || o->t != JOBJ) return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key)) return &o->kids[i];
    return NULL;
}

static double jnum(const jval *o, const char *key, double dflt)
{
    const jval *v = jget(o, key);
    return v && (v->t == JNUM || v->t == JBOOL) ? v->num : dflt;
}

static const char *jstr(const jval *o, const char *key)
{
    const jval *v = jget(o, key);
    return v && v->t == JSTR ? v->str : NULL;
}

/* ---- trace -> timeline ------------------------------------------------- */

static int place_row(bench_timeline *tl, int id)
{
    for (int i = 0; i < tl->nplaces; i++)
        if (tl->place_id[i] == id) return i;
    if (tl->nplaces == BENCH_MAX_PLACES) return -1;
    /* keep rows in tid order: CPU first, then devices */
    int at = tl->nplaces;
    while (at > 0 && tl->place_id[at - 1] > id) at--;
    memmove(&tl->place_id[at + 1], &tl->place_id[at], (size_t)(tl->nplaces - at) * sizeof tl->place_id[0]);
    memmove(&tl->place_name[at + 1], &tl->place_name[at], (size_t)(tl->nplaces - at) * sizeof tl->place_name[0]);
    tl->place_id[at] = id;
    snprintf(tl->place_name[at], sizeof tl->place_name[at], id == 0 ? "CPU" : "device %d", id - 1);
    tl->nplaces++;
    return at;
}

int bench_trace_parse(const char *path, bench_timeline *tl)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *t = realloc(buf, cap *= 2);
            if (!t) {
                free(buf);
                buf = NULL;
            }
            buf = t;
        }
    }
    fclose(f);
    if (!buf) return -1;
    jparser ps = {buf, buf + n, 0};
    jval root;
    int rc = jparse(&ps, &root);
    free(buf);
    const jval *evs = rc ? NULL : jget(&root, "traceEvents");
    if (!evs || evs->t != JARR) {
        jfree(&root);
        return -1;
    }
    double t_first = INFINITY;
    for (size_t i = 0; i < evs->n; i++) {
        const jval *e = &evs->kids[i];
        const char *ph = jstr(e, "ph");
        if (ph && !strcmp(ph, "X")) {
            double ts = jnum(e, "ts", NAN);
            if (ts < t_first) t_first = ts;
        }
    }
    free(tl->spans);
    tl->spans = calloc(evs->n ? evs->n : 1, sizeof *tl->spans);
    tl->nspans = 0;
    tl->end_ms = 0;
    if (!tl->spans) {
        jfree(&root);
        return -1;
    }
    for (size_t i = 0; i < evs->n; i++) {
        const jval *e = &evs->kids[i];
        const char *ph = jstr(e, "ph");
        int tid = (int)jnum(e, "tid", -1);
        if (!ph || tid < 0) continue;
        int row = place_row(tl, tid);
        if (row < 0) continue;
        const jval *args = jget(e, "args");
        if (!strcmp(ph, "M")) {
            const char *nm = jstr(args, "name");
            if (nm && !strcmp(jstr(e, "name") ? jstr(e, "name") : "", "thread_name"))
                snprintf(tl->place_name[row], sizeof tl->place_name[row], "%s", nm);
        } else if (!strcmp(ph, "X")) {
            double ts = jnum(e, "ts", NAN), dur = jnum(e, "dur", NAN);
            if (!isfinite(ts) || !isfinite(dur)) continue;
            bench_span *s = &tl->spans[tl->nspans++];
            s->place = tid;
            s->begin = (size_t)jnum(args, "begin", 0);
            s->end = (size_t)jnum(args, "end", 0);
            s->failed = jnum(args, "failed", 0) != 0;
            s->t0_ms = (ts - t_first) / 1e3;
            s->t1_ms = (ts + dur - t_first) / 1e3;
            if (s->t1_ms > tl->end_ms) tl->end_ms = s->t1_ms;
        }
    }
    jfree(&root);
    return 0;
}

void bench_timeline_cleanup(bench_timeline *tl)
{
    if (tl && tl->trace_path[0]) unlink(tl->trace_path);
    if (tl) tl->trace_path[0] = '\0';
}

void bench_timeline_free(bench_timeline *tl)
{
    if (!tl) return;
    free(tl->spans);
    tl->spans = NULL;
    tl->nspans = 0;
}

void bench_timeline_print(FILE *f, const bench_timeline *tl)
{
    fprintf(f, "\ntimeline: %s\n", tl->title);
    for (int r = 0; r < tl->nplaces; r++) {
        size_t chunks = 0, items = 0;
        double busy = 0;
        for (size_t i = 0; i < tl->nspans; i++) {
            const bench_span *s = &tl->spans[i];
            if (s->place != tl->place_id[r]) continue;
            chunks++;
            items += s->end - s->begin;
            busy += s->t1_ms - s->t0_ms;
        }
        fprintf(f, "  %-40.40s %3zu chunks, %10zu items (%5.1f%%), busy %.2f ms\n", tl->place_name[r], chunks,
                items, tl->n ? 100.0 * (double)items / (double)tl->n : 0.0, busy);
    }
    fflush(f);
}

/* ---- the traced run ---------------------------------------------------- */

int bench_timeline_run(bench_ctx *b, bench_timeline *tl)
{
    memset(tl, 0, sizeof *tl);
    /* Sizes of its own (--size belongs to the workloads): long enough for
     * several chunks per place, short enough for a quick run. */
    size_t n = b->opt->smoke ? (size_t)20000 : b->opt->quick ? (size_t)4 << 20 : (size_t)8 << 20;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        bench_progress("timeline: out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) x[i] = x_of(i);
    cl_uint n_arg = (cl_uint)n;
    weft_kernel_t k = {.name = "bench_poly", .cpu = poly_cpu, .cl_source = poly_src, .cl_entry = "bench_poly"};
    weft_arg_t args[3] = {
        weft_arg_scalar(&n_arg, sizeof n_arg),
        weft_arg_split(x, n * sizeof *x, sizeof *x, WEFT_READ),
        weft_arg_split(y, n * sizeof *y, sizeof *y, WEFT_WRITE),
    };
    weft_policy_t pol;
    weft_policy_init(&pol); /* guided, CPU and every device */
    pol.kind = WEFT_POLICY_GUIDED;

    char path[] = "/tmp/weft-bench-trace-XXXXXX";
    int fd = mkstemp(path);
    tl->trace_path[0] = '\0';
    if (fd < 0) {
        bench_progress("timeline: cannot make a temporary file: %s", strerror(errno));
        free(x);
        free(y);
        return -1;
    }
    close(fd);

    int status = -1;
    weft_panic_t *p = NULL;
    /* Twice untraced, so that the traced run shows neither the program build
     * nor the first sight of a chunk shape (PoCL compiles a work-group
     * function per new launch shape, then caches it). */
    int rc = weft_parallel_run(b->rt, &k, weft_range_1d(n, 64), args, 3, &pol, &p);
    if (rc == 0) rc = weft_parallel_run(b->rt, &k, weft_range_1d(n, 64), args, 3, &pol, &p);
    double t0 = 0, t1 = 0;
    if (rc == 0) rc = weft_trace_start(b->rt, path);
    if (rc == 0) {
        t0 = bench_now();
        rc = weft_parallel_run(b->rt, &k, weft_range_1d(n, 64), args, 3, &pol, &p);
        t1 = bench_now();
    }
    if (rc == 0) rc = weft_trace_flush(b->rt);
    if (rc) {
        bench_progress("timeline: %s: %s", weft_err_name(rc), p ? weft_panic_message(p) : weft_last_error_message());
        weft_panic_destroy(p);
        goto out;
    }
    /* Check every element against a double-precision reference. */
    tl->verified = 1;
    for (size_t i = 0; i < n; i++) {
        double want = poly_ref((double)x[i]);
        if (!(fabs((double)y[i] - want) <= 1e-4 * (1.0 + fabs(want)))) {
            bench_progress("timeline: y[%zu] = %.9g, expected %.9g", i, (double)y[i], want);
            tl->verified = 0;
            break;
        }
    }
    if (!tl->verified) {
        b->failures++;
        goto out;
    }
    if (bench_trace_parse(path, tl)) {
        bench_progress("timeline: cannot read the trace %s", path);
        goto out;
    }
    tl->n = n;
    tl->wall_ms = (t1 - t0) * 1e3;
    snprintf(tl->kernel, sizeof tl->kernel, "%s", k.name);
    int ndev = weft_device_count(b->rt);
    snprintf(tl->title, sizeof tl->title,
             "weft_parallel_for %s: degree-%d polynomial on %zu floats, guided, CPU + %d device%s: %.1f ms",
             k.name, POLY_DEG, n, ndev, ndev == 1 ? "" : "s", tl->wall_ms);
    status = 0;
out:
    /* The trace stays on until the runtime goes (weft has no stop) and is
     * written again then: the caller removes the file after that. */
    snprintf(tl->trace_path, sizeof tl->trace_path, "%s", path);
    free(x);
    free(y);
    return status;
}

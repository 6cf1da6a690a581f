/* bench/timeline.c — weft_parallel_for of the bundled Mandelbrot split
 * across the CPU workers and every device, once per policy, each run traced
 * with weft_trace_start; the Chrome traces it writes are read back for the
 * SVG timelines. Mandelbrot, because its rows cost unevenly: the picture
 * shows how each policy hands out chunks and where places wait. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "report.h"

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
    fprintf(f, "\ntimeline %s\n", tl->title);
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
        fprintf(f, "  %-40.40s %3zu chunks, %6zu rows (%5.1f%%), busy %.2f ms\n", tl->place_name[r], chunks,
                items, tl->n ? 100.0 * (double)items / (double)tl->n : 0.0, busy);
    }
    fflush(f);
}

/* ---- the traced runs ---------------------------------------------------- */

int bench_timeline_run(bench_ctx *b, bench_timeline *tl, int policy_kind)
{
    memset(tl, 0, sizeof *tl);
    /* Its own size (--size belongs to the workloads): several chunks per
     * place, short enough for a quick run. */
    const bench_options *o = b->opt;
    const bench_op_def *d = &bench_op_mandelbrot;
    size_t size = o->smoke ? d->size_smoke : o->quick ? d->size_quick : d->size_full;
    bench_op *w = calloc(1, sizeof *w);
    if (!w || bench_op_setup(w, d, size)) {
        bench_progress("timeline: could not set up %s", d->name);
        if (w) bench_op_teardown(w);
        free(w);
        return -1;
    }
    weft_policy_t pol = bench_policy(policy_kind, 1, WEFT_ALL_DEVICES);
    const char *pname = bench_policy_name(policy_kind);

    char path[] = "/tmp/weft-bench-trace-XXXXXX";
    int fd = mkstemp(path);
    tl->trace_path[0] = '\0';
    int status = -1;
    if (fd < 0) {
        bench_progress("timeline: cannot make a temporary file: %s", strerror(errno));
        goto out;
    }
    close(fd);
    snprintf(tl->trace_path, sizeof tl->trace_path, "%s", path);

    char who[64], why[256] = "";
    snprintf(who, sizeof who, "timeline %s", pname);
    /* Twice untraced, checked, so that the traced run shows neither the
     * program build nor the first sight of a chunk shape (PoCL compiles a
     * work-group function per new launch shape, then caches it), and the
     * adaptive policy has its model. */
    for (int i = 0; i < 2; i++) {
        if (bench_op_run_weft(w, b->rt, &pol, who)) goto out;
        if (d->check(w, 1, why, sizeof why)) {
            bench_progress("timeline: %s: WRONG RESULT: %s", pname, why);
            b->failures++;
            goto out;
        }
    }
    int rc = weft_trace_start(b->rt, path);
    if (rc) {
        bench_progress("timeline: weft_trace_start: %s", weft_last_error_message());
        goto out;
    }
    double t0 = bench_now();
    if (bench_op_run_weft(w, b->rt, &pol, who)) goto out;
    double t1 = bench_now();
    if ((rc = weft_trace_flush(b->rt))) {
        bench_progress("timeline: weft_trace_flush: %s", weft_last_error_message());
        goto out;
    }
    tl->verified = d->check(w, 1, why, sizeof why) == 0;
    if (!tl->verified) {
        bench_progress("timeline: %s: WRONG RESULT: %s", pname, why);
        b->failures++;
        goto out;
    }
    if (bench_trace_parse(path, tl)) {
        bench_progress("timeline: cannot read the trace %s", path);
        goto out;
    }
    weft_k_args_t *a = &w->args;
    tl->n = a->range.size[a->range.dims - 1]; /* split indices: rows */
    tl->wall_ms = (t1 - t0) * 1e3;
    snprintf(tl->kernel, sizeof tl->kernel, "%s", a->kernel->name);
    snprintf(tl->policy, sizeof tl->policy, "%s", pname);
    int ndev = weft_device_count(b->rt);
    char desc[96];
    d->describe(w, desc, sizeof desc);
    snprintf(tl->title, sizeof tl->title, "%s: weft_k_mandelbrot %s, CPU (%d workers) + %d device%s: %.1f ms", pname,
             desc, b->workers, ndev, ndev == 1 ? "" : "s", tl->wall_ms);
    status = 0;
out:
    /* The trace stays on until the runtime goes (weft has no stop) and is
     * written again then: the caller removes the file after that. */
    bench_op_teardown(w);
    free(w);
    return status;
}

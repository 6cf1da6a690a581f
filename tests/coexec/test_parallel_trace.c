/* test_parallel_trace.c — Chrome trace events of co-executed chunks.
 * weft_trace_start(rt, file), a split run, weft_trace_flush: the file is
 * well-formed JSON (checked by a small parser) with "traceEvents", one
 * complete ("ph":"X") event per chunk — as many as weft_runtime_last_run_stats
 * counts — whose [begin, end) ranges tile the range exactly once, each on a
 * row named after its place (the CPU, each device by name), with failed
 * chunks marked. Names are JSON-escaped. $WEFT_TRACE does the same from
 * runtime creation, written at destroy. Flushing without a trace, or to a
 * path that cannot be written, is WEFT_EINVAL with a message; so is starting
 * a trace (or creating a runtime with $WEFT_TRACE) on a file that cannot be
 * written. Odd kernel names (quotes, control characters, bytes that are not
 * UTF-8, a character across the record's cut) still give valid UTF-8 JSON. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include "parallel_kernels.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a minimal JSON checker (RFC 8259 grammar, no semantics) --------------- */

typedef struct jp {
    const char *s;
    int depth;
} jp;

static void ws(jp *p)
{
    while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r') p->s++;
}

static int value(jp *p);

/* Bytes of the valid UTF-8 sequence at u (no overlong form, surrogate or
 * code point past U+10FFFF), 0 if it is not one. */
static size_t utf8_ok(const unsigned char *u)
{
    size_t n = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC2 ? 2 : 0;
    if (!n || u[0] > 0xF4) return 0;
    uint32_t cp = u[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (u[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    return cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : n;
}

static int string(jp *p)
{
    if (*p->s != '"') return 0;
    p->s++;
    while (*p->s && *p->s != '"') {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20) return 0;
        if (c >= 0x80) { /* JSON text is UTF-8: a whole, valid sequence */
            size_t n = utf8_ok((const unsigned char *)p->s);
            if (!n) return 0;
            p->s += n;
            continue;
        }
        if (c == '\\') {
            p->s++;
            if (*p->s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p->s[i])) return 0;
                p->s += 4;
            } else if (!strchr("\"\\/bfnrt", *p->s) || !*p->s) {
                return 0;
            }
        }
        p->s++;
    }
    if (*p->s != '"') return 0;
    p->s++;
    return 1;
}

static int number(jp *p)
{
    const char *st = p->s;
    if (*p->s == '-') p->s++;
    if (!isdigit((unsigned char)*p->s)) return 0;
    if (*p->s == '0') p->s++;
    else
        while (isdigit((unsigned char)*p->s)) p->s++;
    if (*p->s == '.') {
        p->s++;
        if (!isdigit((unsigned char)*p->s)) return 0;
        while (isdigit((unsigned char)*p->s)) p->s++;
    }
    if (*p->s == 'e' || *p->s == 'E') {
        p->s++;
        if (*p->s == '+' || *p->s == '-') p->s++;
        if (!isdigit((unsigned char)*p->s)) return 0;
        while (isdigit((unsigned char)*p->s)) p->s++;
    }
    return p->s > st;
}

static int value(jp *p)
{
    ws(p);
    if (++p->depth > 64) return 0;
    int ok = 0;
    if (*p->s == '{') {
        p->s++;
        ws(p);
        if (*p->s == '}') {
            p->s++;
            ok = 1;
        } else {
            for (;;) {
                ws(p);
                if (!string(p)) break;
                ws(p);
                if (*p->s++ != ':') break;
                if (!value(p)) break;
                ws(p);
                if (*p->s == ',') { p->s++; continue; }
                if (*p->s == '}') { p->s++; ok = 1; }
                break;
            }
        }
    } else if (*p->s == '[') {
        p->s++;
        ws(p);
        if (*p->s == ']') {
            p->s++;
            ok = 1;
        } else {
            for (;;) {
                if (!value(p)) break;
                ws(p);
                if (*p->s == ',') { p->s++; continue; }
                if (*p->s == ']') { p->s++; ok = 1; }
                break;
            }
        }
    } else if (*p->s == '"') {
        ok = string(p);
    } else if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "null", 4)) {
        p->s += 4;
        ok = 1;
    } else if (!strncmp(p->s, "false", 5)) {
        p->s += 5;
        ok = 1;
    } else {
        ok = number(p);
    }
    p->depth--;
    return ok;
}

static void assert_json(const char *text, const char *what)
{
    jp p = {.s = text};
    if (!value(&p)) fail_msg("%s: not JSON near offset %td: \"%.40s\"", what, p.s - text, p.s);
    ws(&p);
    if (*p.s) fail_msg("%s: text after the JSON value at offset %td", what, p.s - text);
}

/* ---- reading the trace back ------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open trace %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)len, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

typedef struct chunk_ev {
    size_t begin, end;
    int tid, failed;
    char place[160];
} chunk_ev;

/* The complete events, in file order. Each is one line written by weft:
 * {"name":...,"ph":"X",...,"args":{"begin":B,"end":E,...,"failed":F,"place":"P"}} */
static size_t chunk_events(const char *text, chunk_ev *ev, size_t cap)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, "\"ph\":\"X\"")); p++) {
        if (n == cap) fail_msg("more than %zu chunk events", cap);
        chunk_ev *e = &ev[n++];
        const char *t = strstr(p, "\"tid\":"), *b = strstr(p, "\"begin\":"), *en = strstr(p, "\"end\":"),
                   *f = strstr(p, "\"failed\":"), *pl = strstr(p, "\"place\":\"");
        assert_non_null(t);
        assert_non_null(b);
        assert_non_null(en);
        assert_non_null(f);
        assert_non_null(pl);
        e->tid = atoi(t + 6);
        e->begin = strtoull(b + 8, NULL, 10);
        e->end = strtoull(en + 6, NULL, 10);
        e->failed = !strncmp(f + 9, "true", 4);
        pl += 9;
        size_t k = 0;
        while (*pl && *pl != '"' && k + 1 < sizeof e->place) {
            if (*pl == '\\') pl++;
            e->place[k++] = *pl++;
        }
        e->place[k] = '\0';
    }
    return n;
}

static int by_begin(const void *a, const void *b)
{
    const chunk_ev *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* The successful chunks tile [0, n) exactly once. */
static void assert_tiles(chunk_ev *ev, size_t nev, size_t n, const char *what)
{
    chunk_ev *ok = malloc((nev ? nev : 1) * sizeof *ok);
    assert_non_null(ok);
    size_t k = 0;
    for (size_t i = 0; i < nev; i++)
        if (!ev[i].failed) ok[k++] = ev[i];
    qsort(ok, k, sizeof *ok, by_begin);
    size_t at = 0;
    for (size_t i = 0; i < k; i++) {
        if (ok[i].begin != at) fail_msg("%s: chunk [%zu, %zu) does not follow %zu", what, ok[i].begin, ok[i].end, at);
        if (ok[i].end <= ok[i].begin) fail_msg("%s: empty chunk at %zu", what, ok[i].begin);
        at = ok[i].end;
    }
    if (at != n) fail_msg("%s: chunks cover [0, %zu), expected [0, %zu)", what, at, n);
    free(ok);
}

/* ---- the tests ------------------------------------------------------------------ */

typedef struct fixture {
    char dir[256];
    char path[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    pk_tempdir(f->dir, sizeof f->dir, "trace");
    snprintf(f->path, sizeof f->path, "%s/trace.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pk_rmdir(f->dir);
    free(f);
    return 0;
}

#define NMAX_EV 4096

static void trace_of_a_split_run(void **state)
{
    fixture *f = *state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    WT_CHECK(weft_trace_start(rt, f->path));
    /* Nothing yet: still a complete, empty trace. */
    WT_CHECK(weft_trace_flush(rt));
    char *text = slurp(f->path);
    assert_json(text, "empty trace");
    wt_assert_contains(text, "\"traceEvents\"");
    assert_int_equal(count(text, "\"ph\":\"X\""), 0);
    free(text);

    const size_t n = 104729;
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 2048;
    pk_run_iota(rt, n, 64, &pol, 5, "traced run");
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    WT_CHECK(weft_trace_flush(rt));
    text = slurp(f->path);
    assert_json(text, "trace");
    wt_assert_contains(text, "\"traceEvents\"");
    wt_assert_contains(text, "\"ph\":\"X\"");
    chunk_ev *ev = malloc(NMAX_EV * sizeof *ev);
    assert_non_null(ev);
    size_t nev = chunk_events(text, ev, NMAX_EV);
    assert_int_equal(nev, st.chunks);
    assert_int_equal(count(text, "\"ph\":\"X\""), st.chunks);
    assert_tiles(ev, nev, n, "traced run");
    /* Each place that did items has events on its own row, named after it. */
    for (int i = 0; i < 65; i++) {
        if (!st.items[i]) continue;
        char name[256];
        if (i == 0) {
            snprintf(name, sizeof name, "CPU");
        } else {
            weft_device_info_t info;
            WT_CHECK(weft_device_info(rt, i - 1, &info));
            snprintf(name, sizeof name, "%s", info.name);
        }
        size_t items = 0;
        for (size_t e = 0; e < nev; e++) {
            if (ev[e].tid != i) continue;
            if (!strstr(ev[e].place, name)) fail_msg("row %d holds an event of place \"%s\", not %s", i, ev[e].place, name);
            items += ev[e].end - ev[e].begin;
        }
        if (items != st.items[i]) fail_msg("row %d (%s): %zu items traced, %zu in the stats", i, name, items, st.items[i]);
        /* The row's name, once, as metadata. */
        char meta[300];
        snprintf(meta, sizeof meta, "\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"", i);
        assert_int_equal(count(text, meta), 1);
        wt_assert_contains(strstr(text, meta), name);
    }
    free(text);

    /* A second run adds its chunks to the same file at the next flush. */
    size_t first = st.chunks;
    pk_run_iota(rt, 7919, 64, &pol, 6, "second traced run");
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    WT_CHECK(weft_trace_flush(rt));
    text = slurp(f->path);
    assert_json(text, "trace after two runs");
    assert_int_equal(count(text, "\"ph\":\"X\""), first + st.chunks);
    free(text);
    free(ev);
    weft_runtime_destroy(rt);
}

static void failed_chunks_and_odd_names(void **state)
{
    fixture *f = *state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    WT_CHECK(weft_trace_start(rt, f->path));
    /* A name that needs escaping, and a device whose second launch fails
     * (failover: the chunk runs again elsewhere). */
    weft_kernel_t k = PK_IOTA;
    k.name = "odd \"name\"\\ with\ttab";
    WT_CHECK(weft_fault_inject(rt, 0, 1, CL_OUT_OF_RESOURCES, NULL));
    wt_capture_install(); /* the fault is on purpose */
    const size_t n = 20000;
    uint32_t *out = malloc((n + PK_PAD) * 4), *cnt = malloc((n + PK_PAD) * 4);
    assert_non_null(out);
    assert_non_null(cnt);
    pk_fill(out, cnt, n);
    uint32_t seed = 3;
    uint64_t n64 = n;
    weft_arg_t args[] = {weft_arg_split(out, n * 4, 4, WEFT_WRITE), weft_arg_split(cnt, n * 4, 4, WEFT_READ_WRITE),
                         weft_arg_scalar(&seed, 4), weft_arg_scalar(&n64, 8)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 64;
    pol.use_cpu = 1;
    pol.devices = 1;
    pol.on_fault = WEFT_FAULT_FAILOVER;
    WT_CHECK(weft_parallel_run(rt, &k, weft_range_1d(n, 64), args, 4, &pol, WT_PANIC));
    pk_check_iota(out, cnt, n, seed, "failover under trace");
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    WT_CHECK(weft_trace_flush(rt));
    char *text = slurp(f->path);
    assert_json(text, "trace with failures and odd names");
    wt_assert_contains(text, "odd \\\"name\\\"\\\\ with\\u0009tab");
    chunk_ev *ev = malloc(NMAX_EV * sizeof *ev);
    assert_non_null(ev);
    size_t nev = chunk_events(text, ev, NMAX_EV);
    assert_int_equal(nev, st.chunks);
    size_t failed = 0;
    for (size_t i = 0; i < nev; i++) failed += (size_t)ev[i].failed;
    assert_int_equal(failed, st.failed_chunks);
    /* The device got its second chunk in all but freak schedules. */
    if (st.failed_chunks) {
        assert_int_equal(st.failed_chunks, 1);
        assert_int_equal(count(text, " FAILED\""), 1);
    }
    assert_tiles(ev, nev, n, "failover under trace");
    free(ev);
    free(text);
    free(out);
    free(cnt);
    weft_fault_clear(rt);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void trace_from_env(void **state)
{
    fixture *f = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/env-trace.json", f->dir);
    setenv("WEFT_TRACE", path, 1);
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    unsetenv("WEFT_TRACE");
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_GUIDED;
    pk_run_iota(rt, 7919, 64, &pol, 8, "run traced from the environment");
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    weft_runtime_destroy(rt); /* writes the file */
    char *text = slurp(path);
    assert_json(text, "trace from $WEFT_TRACE");
    wt_assert_contains(text, "\"traceEvents\"");
    assert_int_equal(count(text, "\"ph\":\"X\""), st.chunks);
    chunk_ev *ev = malloc(NMAX_EV * sizeof *ev);
    assert_non_null(ev);
    assert_tiles(ev, chunk_events(text, ev, NMAX_EV), 7919, "trace from $WEFT_TRACE");
    free(ev);
    free(text);
}

static void flush_errors(void **state)
{
    fixture *f = *state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    assert_int_equal(weft_trace_flush(rt), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "no trace");
    assert_int_equal(weft_trace_flush(NULL), WEFT_EINVAL);
    assert_int_equal(weft_trace_start(NULL, "x.json"), WEFT_EINVAL);
    assert_int_equal(weft_trace_start(rt, ""), WEFT_EINVAL);
    /* A file that cannot be written is refused at once, with the reason. */
    assert_int_equal(weft_trace_start(rt, "/nonexistent-weft-dir/sub/trace.json"), WEFT_EINVAL);
    assert_string_equal(weft_last_error_message(), "weft_trace_start: cannot write the trace file "
                                                   "'/nonexistent-weft-dir/sub/trace.json': No such file or directory");
    /* One that could be written when the trace started but no longer can
     * (its folder went away): the flush says so. */
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/gone", f->dir);
    snprintf(path, sizeof path, "%s/trace.json", sub);
    assert_int_equal(mkdir(sub, 0700), 0);
    WT_CHECK(weft_trace_start(rt, path));
    assert_int_equal(access(path, F_OK), -1); /* the check left nothing behind */
    assert_int_equal(rmdir(sub), 0);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pk_run_iota(rt, 1000, 64, &pol, 1, "run with an unwritable trace");
    assert_int_equal(weft_trace_flush(rt), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), path);
    /* The runtime goes on, and destroy copes with the unwritable trace. */
    pk_run_iota(rt, 1000, 64, &pol, 2, "run after a failed flush");
    weft_runtime_destroy(rt);
}

/* A NULL path records in memory: weft_trace_chunks gives the chunks (every
 * one of the run, tiling its range), no file is written, flush says why. */
static void trace_in_memory(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    size_t count = 1;
    assert_int_equal(weft_trace_chunks(rt, NULL, 0, &count), WEFT_EINVAL); /* no trace yet */
    wt_assert_contains(weft_last_error_message(), "no trace");
    WT_CHECK(weft_trace_start(rt, NULL));
    WT_CHECK(weft_trace_chunks(rt, NULL, 0, &count));
    assert_int_equal(count, 0);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 640;
    pk_run_iota(rt, 7919, 64, &pol, 7, "run traced in memory");
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    WT_CHECK(weft_trace_chunks(rt, NULL, 0, &count));
    assert_int_equal(count, st.chunks);
    assert_true(count >= 2);
    weft_trace_chunk_t *got = calloc(count, sizeof *got);
    chunk_ev *ev = calloc(count, sizeof *ev);
    assert_non_null(got);
    assert_non_null(ev);
    size_t again = 0;
    WT_CHECK(weft_trace_chunks(rt, got, count - 1, &again)); /* short of room: the count still */
    assert_int_equal(again, count);
    WT_CHECK(weft_trace_chunks(rt, got, count, &again));
    for (size_t i = 0; i < count; i++) {
        assert_string_equal(got[i].kernel, "pk_iota");
        assert_true(got[i].end_ns >= got[i].start_ns);
        ev[i] = (chunk_ev){.begin = got[i].begin, .end = got[i].end, .tid = got[i].place_id, .failed = got[i].failed};
    }
    assert_tiles(ev, count, 7919, "trace in memory");
    free(ev);
    free(got);
    assert_int_equal(weft_trace_flush(rt), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "no file");
    assert_int_equal(weft_trace_chunks(rt, NULL, 1, &count), WEFT_EINVAL);
    assert_int_equal(weft_trace_chunks(rt, NULL, 0, NULL), WEFT_EINVAL);
    weft_runtime_destroy(rt); /* writes nothing, frees the records */
}

/* $WEFT_TRACE naming a file that cannot be written fails runtime creation,
 * saying why, instead of dropping the trace at destroy. */
static void env_trace_unwritable(void **state)
{
    (void)state;
    setenv("WEFT_TRACE", "/nonexistent-weft-dir/env.json", 1);
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    o.devices = "none";
    weft_runtime_t *rt = NULL;
    int rc = weft_runtime_create(&o, &rt);
    unsetenv("WEFT_TRACE");
    assert_int_equal(rc, WEFT_EINVAL);
    assert_null(rt);
    assert_string_equal(weft_last_error_message(), "weft_runtime_create: $WEFT_TRACE: cannot write the trace file "
                                                   "'/nonexistent-weft-dir/env.json': No such file or directory");
}

static void name_cpu(size_t b, size_t e, void *const *argv) { (void)b, (void)e, (void)argv; }

/* A kernel name with quotes, a backslash, control characters, a byte that
 * is not UTF-8 and a two-byte character across the 63-byte cut of
 * weft_trace_chunk_t::kernel: the file is valid JSON (UTF-8 checked), the
 * record cut before the character. */
static void odd_names_valid_json(void **state)
{
    fixture *f = *state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    char name[128] = "q\"b\\s\x01\x1f\x7f\xff";
    size_t head = strlen(name);
    memset(name + head, 'x', 62 - head);
    strcpy(name + 62, "\xc3\xa9 and more \xe2\x82\xac");
    weft_kernel_t k = {.name = name, .cpu = name_cpu};
    WT_CHECK(weft_trace_start(rt, f->path));
    WT_CHECK(weft_parallel_run(rt, &k, weft_range_1d(64, 64), NULL, 0, NULL, WT_PANIC));
    weft_trace_chunk_t got;
    size_t n = 0;
    WT_CHECK(weft_trace_chunks(rt, &got, 1, &n));
    assert_int_equal(n, 1);
    assert_int_equal(strlen(got.kernel), 62); /* the cut before the character, not inside it */
    assert_memory_equal(got.kernel, name, 62);
    WT_CHECK(weft_trace_flush(rt));
    char *text = slurp(f->path);
    assert_json(text, "trace of odd kernel names");
    char want[256];
    snprintf(want, sizeof want, "\"name\":\"q\\\"b\\\\s\\u0001\\u001f\\u007f\\ufffd%.*s [0,64)\"",
             (int)(62 - head), name + head);
    wt_assert_contains(text, want);
    free(text);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_in_memory),
        cmocka_unit_test(trace_of_a_split_run),
        cmocka_unit_test(failed_chunks_and_odd_names),
        cmocka_unit_test(trace_from_env),
        cmocka_unit_test(flush_errors),
        cmocka_unit_test(env_trace_unwritable),
        cmocka_unit_test(odd_names_valid_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

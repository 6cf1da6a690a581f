/* bench/harness/files.c — the JSON file (run conditions, records, timelines:
 * what bench/plot.py draws) and the CSV file (one line per record). Both
 * name a record's fields once, in record_fields(). */
#include <math.h>
#include <string.h>

#include "harness.h"

/* A writer of named values: members of a JSON object, or a CSV header, or
 * a CSV line. */
enum { JSON, CSV_HEAD, CSV };
typedef struct out {
    FILE *f;
    int mode;
    int n;               /* values written so far */
    const char *between; /* JSON: what separates two members */
} out;

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The separator and the name (name NULL: an array element). 0 when the value
 * is to be written (not in a CSV header). */
static int next(out *o, const char *name)
{
    if (o->mode == JSON) {
        if (o->n++) fputs(o->between, o->f);
        if (name) {
            json_str(o->f, name);
            fputs(": ", o->f);
        }
        return 0;
    }
    if (o->n++) fputc(',', o->f);
    if (o->mode == CSV_HEAD && name) fputs(name, o->f);
    return o->mode == CSV_HEAD;
}

static void put_null(out *o) { fputs(o->mode == JSON ? "null" : "", o->f); }

static void put_str(out *o, const char *name, const char *s) /* s NULL: null */
{
    if (next(o, name)) return;
    if (!s) put_null(o);
    else if (o->mode == JSON) json_str(o->f, s);
    else csv_str(o->f, s);
}

static void put_num(out *o, const char *name, double x) /* not finite: null */
{
    if (next(o, name)) return;
    if (isfinite(x)) fprintf(o->f, "%.9g", x);
    else put_null(o);
}

static void put_int(out *o, const char *name, long long v)
{
    if (!next(o, name)) fprintf(o->f, "%lld", v);
}

static void put_bool(out *o, const char *name, int v) /* v < 0: null */
{
    if (next(o, name)) return;
    if (v < 0) put_null(o);
    else fputs(v ? "true" : "false", o->f);
}

/* A JSON object or array as the next value of o; end it with close_(). */
static out open_(out *o, const char *name, const char *bracket, const char *between)
{
    next(o, name);
    fputs(bracket, o->f);
    return (out){o->f, JSON, 0, between};
}

static void close_(out *o, const char *bracket) { fputs(bracket, o->f); }

static void record_fields(out *o, const bench_ctx *b, const bench_record *r)
{
    int goal = r->goal > 0, sw_goal = r->switches_goal > 0;
    put_str(o, "workload", r->workload);
    put_str(o, "case", r->variant);
    put_str(o, "placement", r->placement);
    put_str(o, "device", r->device);
    put_int(o, "device_index", r->device_index);
    put_str(o, "machine", b->machine->hostname);
    put_str(o, "policy", r->policy);
    put_int(o, "size", (long long)r->size);
    put_int(o, "threads", r->threads);
    put_num(o, "median_s", r->subject.s.median);
    put_num(o, "min_s", r->subject.s.min);
    put_num(o, "max_s", r->subject.s.max);
    put_int(o, "blocks", r->subject.s.n);
    put_int(o, "iters_per_block", (long long)r->subject.iters);
    put_num(o, "throughput", r->throughput);
    put_str(o, "unit", r->unit);
    put_bool(o, "verified", r->subject.verified);
    put_num(o, "vol_ctx_switches_per_op", r->subject.verified ? r->subject.switches_per_op : NAN);
    put_str(o, "baseline", r->baseline);
    put_num(o, "baseline_median_s", r->base.s.median);
    put_num(o, "baseline_min_s", r->base.s.min);
    put_num(o, "baseline_max_s", r->base.s.max);
    put_num(o, "baseline_throughput", r->base_throughput);
    put_bool(o, "baseline_verified", r->base.verified);
    put_bool(o, "baseline_missing", r->base.missing);
    put_num(o, "baseline_vol_ctx_switches_per_op", r->base.verified ? r->base.switches_per_op : NAN);
    put_num(o, "ratio", r->ratio);
    put_num(o, "weft_over_baseline", isfinite(r->ratio) && r->ratio > 0 ? 1.0 / r->ratio : NAN);
    put_num(o, "goal_ratio", goal ? r->goal : NAN);
    put_bool(o, "meets_goal", goal ? bench_goal_met(r) : -1);
    put_str(o, "goal_kind", !goal ? NULL : r->goal_kind == 'e' ? "efficiency" : r->goal_kind == 'x' ? "ratio" : "time");
    put_str(o, "target", goal ? r->target : NULL);
    put_num(o, "vol_ctx_switches_goal", sw_goal ? r->switches_goal : NAN);
    put_bool(o, "meets_vol_ctx_switches_goal", sw_goal ? bench_switches_goal_met(r) : -1);
    put_num(o, "efficiency", r->efficiency);
    put_num(o, "effective_cores", r->eff_cores);
    put_bool(o, "machine_busy", isfinite(r->eff_cores) ? bench_record_busy(b, r) : -1);
    put_str(o, "note", r->note);
}

static void timeline_json(out *o, const bench_timeline *tl)
{
    uint64_t t0 = UINT64_MAX;
    for (size_t i = 0; i < tl->nchunks; i++)
        if (tl->chunks[i].start_ns < t0) t0 = tl->chunks[i].start_ns;
    out t = open_(o, NULL, "{", ", ");
    put_str(&t, "title", tl->title);
    put_str(&t, "policy", tl->policy);
    put_int(&t, "rows", (long long)tl->n);
    put_num(&t, "wall_ms", tl->wall_ms);
    out cs = open_(&t, "chunks", "[", ",\n        ");
    for (size_t i = 0; i < tl->nchunks; i++) {
        const weft_trace_chunk_t *c = &tl->chunks[i];
        out e = open_(&cs, NULL, "{", ", ");
        put_int(&e, "place_id", c->place_id);
        put_str(&e, "place", c->place);
        put_int(&e, "begin", (long long)c->begin);
        put_int(&e, "end", (long long)c->end);
        put_num(&e, "t0_ms", (double)(c->start_ns - t0) / 1e6);
        put_num(&e, "t1_ms", (double)(c->end_ns - t0) / 1e6);
        put_bool(&e, "failed", c->failed != 0);
        close_(&e, "}");
    }
    close_(&cs, "]");
    close_(&t, "}");
}

int bench_write_json(const char *path, const bench_ctx *b)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    const bench_machine *m = b->machine;
    const bench_openblas_env *ob = &m->openblas;
    fputs("{\n  ", f);
    out o = {f, JSON, 0, ",\n  "};
    put_str(&o, "tool", "weft-bench");
    put_str(&o, "weft_version", m->weft_version);
    put_str(&o, "machine", m->hostname);
    put_str(&o, "cpu_model", m->cpu_model);
    put_int(&o, "online_cpus", m->online_cpus);
    put_int(&o, "usable_cpus", m->usable_cpus);
    put_num(&o, "effective_cores_start", m->eff_cores_start);
    put_num(&o, "effective_cores_end", m->eff_cores_end);
    put_bool(&o, "machine_busy",
             bench_busy_machine(m, m->eff_cores_start) || bench_busy_machine(m, m->eff_cores_end));
    put_str(&o, "compiler", m->compiler);
    out a = open_(&o, "devices", "[\n    ", ",\n    ");
    for (int i = 0; i < m->ndevices; i++) {
        const bench_device_desc *d = &m->devices[i];
        out e = open_(&a, NULL, "{", ", ");
        put_int(&e, "index", d->info.index);
        put_str(&e, "name", d->info.name);
        put_str(&e, "type", bench_device_type_name(d->info.type));
        put_int(&e, "compute_units", d->info.compute_units);
        put_bool(&e, "unified_memory", d->info.unified_memory != 0);
        put_str(&e, "platform", d->info.platform);
        put_str(&e, "platform_version", d->platform_version);
        put_str(&e, "device_version", d->info.version);
        put_str(&e, "driver_version", d->driver);
        put_str(&e, "pocl", d->pocl);
        close_(&e, "}");
    }
    close_(&a, "\n  ]");
    a = open_(&o, "libraries", "{", ", ");
    put_str(&a, "openblas_linked", ob->linked);
    put_str(&a, "openblas_installed", bench_openblas_installed);
    put_str(&a, "clblast_linked", bench_clblast_installed[0] ? bench_clblast_installed : "CLBlast");
    put_str(&a, "clblast_installed", bench_clblast_installed);
    close_(&a, "}");
    a = open_(&o, "openblas_coretype", "{", ", ");
    put_str(&a, "from_env", ob->found ? ob->found_value : NULL);
    put_str(&a, "detected", ob->detected);
    put_str(&a, "why", ob->why);
    put_bool(&a, "set_by_weft_bench", ob->set_here);
    put_str(&a, "openblas_core", ob->corename);
    close_(&a, "}");
    put_int(&o, "workers", m->workers);
    put_int(&o, "weft_threads", m->threads);
    put_str(&o, "mode", b->opt->smoke ? "smoke" : b->opt->quick ? "quick" : "full");
    put_int(&o, "reps", b->opt->reps);
    put_num(&o, "block_s", b->opt->block_s);
    a = open_(&o, "records", "[\n    ", ",\n    ");
    for (size_t i = 0; i < b->nrecords; i++) {
        out e = open_(&a, NULL, "{", ", ");
        record_fields(&e, b, &b->records[i]);
        close_(&e, "}");
    }
    close_(&a, "\n  ]");
    a = open_(&o, "timelines", "[\n    ", ",\n    ");
    for (int i = 0; i < b->ntimelines; i++) timeline_json(&a, &b->timelines[i]);
    close_(&a, "\n  ]");
    fputs("\n}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

/* A CSV line: the record's fields, then the run conditions. */
static void csv_line(out *o, const bench_ctx *b, const bench_record *r)
{
    const bench_machine *m = b->machine;
    record_fields(o, b, r);
    put_str(o, "cpu_model", m->cpu_model);
    put_int(o, "online_cpus", m->online_cpus);
    put_num(o, "effective_cores_start", m->eff_cores_start);
    put_num(o, "effective_cores_end", m->eff_cores_end);
    put_int(o, "workers", m->workers);
    put_int(o, "weft_threads", m->threads);
    put_str(o, "weft_version", m->weft_version);
    fputc('\n', o->f);
}

int bench_write_csv(const char *path, const bench_ctx *b)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    bench_record none;
    memset(&none, 0, sizeof none);
    csv_line(&(out){f, CSV_HEAD, 0, NULL}, b, &none);
    for (size_t i = 0; i < b->nrecords; i++) csv_line(&(out){f, CSV, 0, NULL}, b, &b->records[i]);
    return fclose(f) == 0 ? 0 : -1;
}

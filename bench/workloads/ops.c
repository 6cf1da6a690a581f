/* bench/workloads/ops.c — the driver of the bundled operations (see
 * workloads.h): one interleaved set of cases per operation,
 *
 *   weft on the CPU alone           vs  the CPU baseline (OpenMP, OpenBLAS), once per policy
 *   weft on device d alone          vs  the device baseline on d (raw OpenCL, CLBlast)
 *   weft split across all places    vs  the CPU baseline, once per policy
 *
 * then one record per weft case; then, for the ops that name one (def->sepmem),
 *
 *   weft on device 0, separate memory  vs  the device baseline there, same copies
 *   ... on registered arrays           vs  the same ops unregistered (when def->sepmem has them)
 *
 * on a second runtime made once with separate_memory = 1. A device alone runs
 * the default policy (guided); every block of every case is checked. The
 * CPU rows also carry weft's goal of context switches per op. */
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

uint32_t bench_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

size_t bench_first_diff(const void *a, const void *b, size_t n, size_t size)
{
    if (memcmp(a, b, n * size) == 0) return n;
    size_t i = 0;
    while (memcmp((const char *)a + i * size, (const char *)b + i * size, size) == 0) i++;
    return i;
}

void *bench_op_alloc(bench_op *w, size_t bytes)
{
    size_t k = 0, n = bytes ? (bytes + 4095) / 4096 * 4096 : 4096;
    while (k < sizeof w->mem / sizeof w->mem[0] && w->mem[k]) k++;
    if (k == sizeof w->mem / sizeof w->mem[0] || !(w->mem[k] = aligned_alloc(4096, n))) return NULL;
    return memset(w->mem[k], 0, n);
}

size_t bench_op_size(const bench_op_def *d, const bench_options *o)
{
    return o->size ? o->size : o->smoke ? d->size_smoke : o->quick ? d->size_quick : d->size_full;
}

bench_op *bench_op_new(const bench_op_def *d, size_t n, const bench_ctx *b)
{
    bench_op *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    *w = (bench_op){.def = d, .size = n, .threads = b->threads,
                    .cores = b->machine->usable_cpus > 0 ? b->machine->usable_cpus : 1};
    if (n < 1 || n > d->size_max) bench_progress("%s: size %zu is outside 1..%zu", d->name, n, d->size_max);
    else if (d->setup(w))
        bench_progress("%s: setup at size %zu failed: out of memory, or %s", d->name, n, weft_last_error_message());
    else return w;
    bench_op_free(w);
    return NULL;
}

void bench_op_free(bench_op *w)
{
    for (size_t k = 0; w && k < sizeof w->mem / sizeof w->mem[0]; k++) free(w->mem[k]);
    free(w);
}

weft_policy_t bench_policy(int kind, int use_cpu, uint64_t devices)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.kind = (weft_policy_kind_t)kind;
    p.use_cpu = use_cpu;
    p.devices = devices;
    return p;
}

int bench_caller_apart;

/* The operation started, then waited for without joining until it is done:
 * the calling thread sleeps in 20 us steps instead of working beside the
 * workers, so the CPU place is the workers alone (the coexec child). */
static int run_apart(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **p)
{
    weft_handle_t *h;
    int rc = weft_parallel_for(rt, w->args.kernel, w->args.range, w->args.args, w->args.nargs, pol, &h);
    if (rc) return rc;
    while (!weft_handle_is_finished(h)) weft_sleep_ns(20000);
    return weft_join(h, NULL, p);
}

int bench_op_run_weft(bench_op *w, bench_weft_fn run, weft_runtime_t *rt, const weft_policy_t *pol, const char *who)
{
    weft_panic_t *p = NULL;
    if (!run) run = w->def->run;
    if (!run && bench_caller_apart) run = run_apart;
    int rc = run ? run(w, rt, pol, &p) : weft_k_run(rt, &w->args, pol, &p);
    if (rc == 0) return 0;
    bench_progress("%s: %s: %s: %s", w->def->name, who, weft_err_name(rc),
                   p ? weft_panic_message(p) : weft_last_error_message());
    weft_panic_destroy(p);
    return -1;
}

/* ---- one set of cases --------------------------------------------------------- */

static int case_body(void *p, uint64_t iters)
{
    bench_op_case *c = p;
    const bench_op_def *d = c->w->def;
    for (uint64_t i = 0; i < iters; i++) {
        if (c->kind == BENCH_WEFT) {
            if (bench_op_run_weft(c->w, c->run, c->rt, &c->pol, c->who)) return -1;
        } else if (c->kind == BENCH_CPU_BASE) {
            d->cpu_base(c->w);
        } else if (!c->ready || (d->dev_run ? d->dev_run : bench_rawcl_run)(&c->dev, c->w)) {
            if (c->ready && !c->said++) bench_progress("%s: %s: %s", d->name, c->who, c->dev.err);
            return -1;
        }
    }
    return 0;
}

static int case_check(void *p, uint64_t iters)
{
    bench_op_case *c = p;
    char why[256] = "";
    if (c->w->def->check(c->w, iters, why, sizeof why) == 0) return 0;
    if (c->said++ < 3) bench_progress("%s: %s: WRONG RESULT: %s", c->w->def->name, c->who, why);
    return -1;
}

static bench_op_case *add_case(bench_op_set *s, bench_op *w, bench_ctx *b, int kind, int place, int policy)
{
    bench_op_case *c = &s->cs[s->n++];
    int split = place == BENCH_SPLIT || place == BENCH_CLONLY, mix = place == BENCH_MIX;
    uint64_t devices = split ? WEFT_DEFAULT_DEVICES : mix ? weft_device_mask(b->rt, 0)
                     : place >= 0 ? (uint64_t)1 << place : 0;
    *c = (bench_op_case){.w = w, .b = b, .kind = kind, .place = place, .policy = policy, .rt = b->rt,
                         .pol = bench_policy(policy, place < 0 || split || mix, devices)};
    const char *dev_base = w->def->dev_baseline ? w->def->dev_baseline : "opencl";
    const char *cpu_base = w->def->cpu_baseline ? w->def->cpu_baseline : "openmp";
    if (kind == BENCH_CPU_BASE) snprintf(c->who, sizeof c->who, "%s", cpu_base);
    else if (kind == BENCH_DEV_BASE) snprintf(c->who, sizeof c->who, "%s dev %d", dev_base, place);
    else if (place == BENCH_CLONLY) snprintf(c->who, sizeof c->who, "weft OpenCL source only");
    else if (split) snprintf(c->who, sizeof c->who, "weft split %s", bench_policy_name(policy));
    else if (mix) snprintf(c->who, sizeof c->who, "weft mix %s", bench_policy_name(policy));
    else if (place >= 0) snprintf(c->who, sizeof c->who, "weft dev %d", place);
    else snprintf(c->who, sizeof c->who, "weft cpu %s", bench_policy_name(policy));
    return c;
}

void bench_op_set_free(bench_op_set *s)
{
    for (int i = 0; s->cs && i < s->n; i++)
        if (s->cs[i].ready) bench_devbase_free(&s->cs[i].dev);
    free(s->cs);
    free(s->m);
    memset(s, 0, sizeof *s);
}

static int set_alloc(bench_op_set *s, size_t max)
{
    memset(s, 0, sizeof *s);
    s->cs = calloc(max, sizeof *s->cs);
    s->m = calloc(max, sizeof *s->m);
    if (s->cs && s->m) return 0;
    bench_op_set_free(s);
    return -1;
}

/* The device baseline of case c on its place, from c->rt's device. */
static void open_dev_base(bench_op_case *c, int upload_writes)
{
    const bench_op_def *d = c->w->def;
    int (*init)(bench_devbase *, bench_op *) = d->dev_init ? d->dev_init : bench_rawcl_init;
    if (bench_devbase_open(&c->dev, c->rt, c->place) == 0) {
        c->dev.upload_writes = upload_writes;
        if (init(&c->dev, c->w) == 0) {
            c->ready = 1;
            return;
        }
    }
    bench_progress("%s: %s", d->name, c->dev.err);
    bench_devbase_free(&c->dev);
}

static int measure_set(bench_ctx *b, const char *label, bench_op_set *s)
{
    bench_case *bc = calloc((size_t)s->n, sizeof *bc);
    if (!bc) return -1;
    for (int i = 0; i < s->n; i++)
        bc[i] = (bench_case){.name = s->cs[i].who, .body = case_body, .ctx = &s->cs[i], .ops_per_iter = 1.0,
                             .check = case_check};
    bench_measure_set(b, label, bc, s->n, s->m);
    free(bc);
    return 0;
}

/* The op's kernel with its CPU body taken away, under the policy: with
 * use_cpu set and the default devices, the CPU's share runs through the
 * largest CPU device, the workers standing aside. */
static int run_clonly(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **p)
{
    weft_kernel_t k = *w->args.kernel;
    k.cpu = NULL;
    k.cpu_ctx = NULL;
    return weft_parallel_run(rt, &k, w->args.range, w->args.args, w->args.nargs, pol, p);
}

int bench_op_measure(bench_ctx *b, bench_op *w, const char *label, int baselines, int devices, int guided_only,
                     bench_op_set *s)
{
    int ndev = weft_device_count(b->rt);
    if (ndev > 62) ndev = 62;
    if (set_alloc(s, 2 + 2 * (size_t)ndev + 3 * BENCH_NPOLICIES)) return -1;
    /* The CPU under the default policy first, its baseline second (the
     * records and the coexec child count on both places), then the CPU
     * under every other policy when there are baselines to compare with. */
    add_case(s, w, b, BENCH_WEFT, -1, BENCH_SINGLE_POLICY);
    if (baselines) add_case(s, w, b, BENCH_CPU_BASE, -1, -1);
    for (int p = 0; baselines && !guided_only && p < BENCH_NPOLICIES; p++)
        if (bench_policies[p] != BENCH_SINGLE_POLICY) add_case(s, w, b, BENCH_WEFT, -1, bench_policies[p]);
    for (int dv = 0; devices && dv < ndev; dv++) {
        add_case(s, w, b, BENCH_WEFT, dv, BENCH_SINGLE_POLICY);
        if (baselines) open_dev_base(add_case(s, w, b, BENCH_DEV_BASE, dv, -1), 0);
    }
    for (int p = 0; ndev && p < BENCH_NPOLICIES; p++)
        if (!guided_only || bench_policies[p] == WEFT_POLICY_GUIDED)
            add_case(s, w, b, BENCH_WEFT, BENCH_SPLIT, bench_policies[p]);
    /* The default set leaves CPU devices out while the CPU runs: the mix of
     * every place shows what sharing cores costs, and the policies' dropping
     * of a place that hurts. */
    for (int p = 0; weft_device_mask(b->rt, WEFT_DEVICE_CPU) && p < BENCH_NPOLICIES; p++)
        if (!guided_only || bench_policies[p] == WEFT_POLICY_GUIDED)
            add_case(s, w, b, BENCH_WEFT, BENCH_MIX, bench_policies[p]);
    if (devices && baselines && !w->def->run && w->args.kernel->cl_source && weft_device_mask(b->rt, WEFT_DEVICE_CPU))
        add_case(s, w, b, BENCH_WEFT, BENCH_CLONLY, BENCH_SINGLE_POLICY)->run = run_clonly;
    if (measure_set(b, label, s) == 0) return 0;
    bench_op_set_free(s);
    return -1;
}

/* ---- the records ---------------------------------------------------------------- */

#define RAW_NOTE                                                                                                      \
    "weft_k_<op> on one device vs raw OpenCL: the kernel's own source (weft_k_<op>_kernel.cl_source) built by the "   \
    "bench, one launch over the whole range, buffers made once"

/* 1 when s has weft on the CPU alone under policy. */
static int has_cpu_case(const bench_op_set *s, int policy)
{
    for (int j = 0; j < s->n; j++)
        if (s->cs[j].kind == BENCH_WEFT && s->cs[j].place == -1 && s->cs[j].policy == policy) return 1;
    return 0;
}

/* The split (or mix) case i against the fastest single place of the same
 * set: weft on the CPU under the same policy (the default one when the set
 * has no such case) or weft on one device. The goal (>= 0.95x) applies to
 * the default places under every policy but static, whose first run has no
 * model; the mix's rows show what sharing cores costs. */
static void best_place_record(bench_ctx *b, const bench_op *w, const bench_op_set *s, int i, int mix,
                              const char *prefix)
{
    const bench_op_def *d = w->def;
    const bench_op_case *c = &s->cs[i];
    int best = -1;
    for (int j = 0; j < s->n; j++) {
        const bench_op_case *o = &s->cs[j];
        if (o->kind != BENCH_WEFT || o->place == BENCH_SPLIT || o->place == BENCH_MIX || !s->m[j].verified) continue;
        if (o->place < 0 && o->policy != c->policy && !(j == 0 && !has_cpu_case(s, c->policy))) continue;
        if (best < 0 || s->m[j].s.median < s->m[best].s.median) best = j;
    }
    if (best < 0) return;
    char base[32];
    if (s->cs[best].place < 0) snprintf(base, sizeof base, "weft cpu alone");
    else snprintf(base, sizeof base, "weft dev %d alone", s->cs[best].place);
    double goal = !mix && c->policy != WEFT_POLICY_STATIC ? 0.95 : 0;
    bench_record *r = bench_add_record(b, d->name, mix ? "mix-vs-best" : "split-vs-best", w->size, b->threads, &s->m[i],
                                       d->unit, base, &s->m[best], goal);
    if (!r) return;
    /* Both measures already count in their own rows. */
    if (!s->m[i].verified) b->failures--;
    bench_record_policy(r, c->policy);
    bench_record_work(r, d->work(w), d->unit);
    bench_record_all_places(b, r, mix ? "all: cpu + every device" : "default places");
    r->goal_kind = 'x';
    if (goal > 0) snprintf(r->target, sizeof r->target, "split >= 0.95x its best single place (%s, %s)", d->name, r->policy);
    snprintf(r->note, sizeof r->note, "%sthe %s against the fastest single place of the same set (%s)", prefix,
             mix ? "mix of every place" : "default split", base);
}

/* The OpenCL-only case i against weft on the device that runs it (the CPU
 * device with the most compute units, the first of equals), alone, in the
 * same set: no slower (goal 0.95x). */
static void clonly_record(bench_ctx *b, const bench_op *w, const bench_op_set *s, int i)
{
    const bench_op_def *d = w->def;
    int stand_in = -1;
    unsigned best = 0;
    weft_device_info_t info;
    for (int dv = 0; dv < weft_device_count(b->rt) && dv < 62; dv++)
        if (weft_device_info(b->rt, dv, &info) == 0 && info.type == WEFT_DEVICE_CPU &&
            (stand_in < 0 || info.compute_units > best))
            stand_in = dv, best = info.compute_units;
    int alone = -1;
    for (int j = 0; j < s->n; j++)
        if (s->cs[j].kind == BENCH_WEFT && s->cs[j].place == stand_in) alone = j;
    if (alone < 0 || weft_device_info(b->rt, stand_in, &info)) return;
    char base[32];
    snprintf(base, sizeof base, "weft dev %d alone", stand_in);
    bench_record *r = bench_add_record(b, d->name, "clonly", w->size, (int)info.compute_units, &s->m[i], d->unit, base,
                                       &s->m[alone], 0.95);
    if (!r) return;
    if (!s->m[alone].verified) b->failures--; /* counted in its own row */
    r->goal_kind = 'x';
    bench_record_policy(r, BENCH_SINGLE_POLICY);
    bench_record_work(r, d->work(w), d->unit);
    bench_record_place(r, info.name, stand_in);
    snprintf(r->target, sizeof r->target, "OpenCL source only, use_cpu, >= 0.95x its CPU device alone (%s)", d->name);
    snprintf(r->note, sizeof r->note,
             "the kernel without its CPU body under the default policy (use_cpu set, default devices): the CPU's "
             "share runs on %s, the workers stepping aside; against weft on that device alone",
             info.name);
}

/* One record per weft case of s (made with baselines): the CPU under each
 * policy and the split against the CPU baseline (case 1), a device against
 * the case after it. The goals apply at the target's size (apart: only in
 * the target's own set), the context-switch goal to the CPU rows of the
 * main set. */
static void add_records(bench_ctx *b, const bench_op *w, const bench_op_set *s, int apart, int target_set)
{
    const bench_op_def *d = w->def;
    const char *cpu_base = d->cpu_baseline ? d->cpu_baseline : "openmp";
    const char *dev_base = d->dev_baseline ? d->dev_baseline : "opencl";
    const char *prefix = target_set ? "the target's size in a quick run (at most 5 timed blocks); " : "";
    int ndev = weft_device_count(b->rt), threads_all = b->threads, at_target = target_set || !apart;
    weft_device_info_t info;
    for (int dv = 0; dv < ndev; dv++)
        if (weft_device_info(b->rt, dv, &info) == 0) threads_all += (int)info.compute_units;
    char desc[96], all[64];
    d->describe(w, desc, sizeof desc);
    snprintf(all, sizeof all, "all: cpu + %d device%s", ndev, ndev == 1 ? "" : "s");
    for (int i = 0; i < s->n; i++) {
        const bench_op_case *c = &s->cs[i];
        if (c->kind != BENCH_WEFT) continue;
        if (c->place == BENCH_CLONLY) {
            clonly_record(b, w, s, i);
            continue;
        }
        int mix = c->place == BENCH_MIX, split = c->place == BENCH_SPLIT || mix, dev = c->place >= 0 && !split;
        if (dev && weft_device_info(b->rt, c->place, &info)) continue;
        int cpu = !split && !dev, split_goal = split && !mix && c->policy == WEFT_POLICY_GUIDED && at_target;
        double goal = split ? (split_goal ? d->split_goal : 0) : dev ? d->device_goal : at_target ? d->cpu_goal : 0;
        const char *target = split ? d->split_target : dev ? d->device_target : d->cpu_target;
        bench_record *r = bench_add_record(b, d->name, mix ? "mix" : split ? "split" : dev ? "device" : "cpu", w->size,
                                           split ? threads_all : dev ? (int)info.compute_units : b->threads, &s->m[i],
                                           d->unit, dev ? dev_base : cpu_base, &s->m[dev ? i + 1 : 1], goal);
        if (!r) continue;
        bench_record_policy(r, c->policy);
        bench_record_work(r, d->work(w), d->unit);
        /* The CPU baseline counts once, in the first cpu row. */
        if (!dev && i != 0 && !s->m[1].verified) b->failures--;
        if (goal > 0 && target && cpu)
            snprintf(r->target, sizeof r->target, "%s (%s, %s%s)", target, d->name, r->policy,
                     c->policy == BENCH_SINGLE_POLICY ? " = default" : "");
        else if (goal > 0 && target)
            snprintf(r->target, sizeof r->target, "%s", target);
        if (cpu && !target_set) r->switches_goal = BENCH_SWITCHES_GOAL; /* once per policy */
        if (cpu && goal > 0 && d->cpu_goal_is_ratio) r->goal_kind = 'x';
        if (split) {
            if (goal > 0) r->goal_kind = 'x';
            bench_record_all_places(b, r, mix ? all : "default places");
            snprintf(r->note, sizeof r->note,
                     "%s%s (thr = weft's CPU threads + compute units), vs the cpu rows' baseline%s", prefix,
                     mix ? "the CPU and every device named (on a CPU-only machine the devices share the CPU's cores)"
                         : "the default places (WEFT_DEFAULT_DEVICES: no CPU device beside the CPU workers)",
                     apart && !target_set ? "; a quick run measures the target apart, at the full size" : "");
            best_place_record(b, w, s, i, mix, prefix);
        } else if (dev) {
            bench_record_place(r, info.name, c->place);
            snprintf(r->note, sizeof r->note, "%s (%s)",
                     d->dev_note ? d->dev_note : RAW_NOTE,
                     s->cs[i + 1].dev.unified ? "wrapping the host arrays" : "copies in and out each op");
        } else {
            snprintf(r->note, sizeof r->note, "%s%s; %s", prefix, desc, d->cpu_note);
        }
    }
}

static int measure_op(bench_ctx *b, const bench_op_def *d, size_t n, int apart, int target_set)
{
    bench_op_set s;
    char label[48];
    snprintf(label, sizeof label, "%s%s", d->name, target_set ? " (target)" : "");
    bench_progress("%s: setting up size %zu (inputs and a reference computed serially)", label, n);
    bench_op *w = bench_op_new(d, n, b);
    int status = !w || bench_op_measure(b, w, label, 1, !target_set, target_set, &s);
    if (!status) {
        add_records(b, w, &s, apart, target_set);
        bench_op_set_free(&s);
    }
    bench_op_free(w);
    return status ? -1 : 0;
}

/* ---- the separate-memory row ------------------------------------------------------ */

/* The sepmem rows' runtime: every device copies as a discrete GPU does. Made
 * on first use, destroyed by main.c. */
static weft_runtime_t *sepmem_runtime(bench_ctx *b)
{
    if (b->rt_sep || b->rt_sep_failed) return b->rt_sep;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.separate_memory = 1;
    int rc = weft_runtime_create(&o, &b->rt_sep);
    if (rc) {
        bench_progress("the separate-memory runtime: weft_runtime_create: %s: %s", weft_err_name(rc),
                       weft_last_error_message());
        b->rt_sep = NULL;
        b->rt_sep_failed = 1;
    }
    return b->rt_sep;
}

/* A case of the separate-memory set: on device 0 of rt; who says so. */
static bench_op_case *sep_case(bench_op_set *s, bench_op *w, bench_ctx *b, int kind, weft_runtime_t *rt,
                               const char *more)
{
    bench_op_case *c = add_case(s, w, b, kind, 0, kind == BENCH_WEFT ? BENCH_SINGLE_POLICY : -1);
    c->rt = rt;
    size_t len = strlen(c->who);
    snprintf(c->who + len, sizeof c->who - len, ", separate memory%s", more);
    return c;
}

/* A record of the separate-memory set: weft's case (0) against case i. */
static bench_record *sep_record(bench_ctx *b, const bench_op_def *d, const bench_op *w, const weft_device_info_t *info,
                                const bench_op_set *s, const char *variant, int i, const char *baseline, double goal)
{
    const bench_op_def *sd = d->sepmem;
    bench_record *r = bench_add_record(b, d->name, variant, w->size, (int)info->compute_units, &s->m[0], sd->unit,
                                       baseline, &s->m[i], goal);
    if (!r) return NULL;
    bench_record_policy(r, BENCH_SINGLE_POLICY);
    bench_record_work(r, sd->work(w), sd->unit);
    bench_record_place(r, info->name, 0);
    snprintf(r->placement, sizeof r->placement, "%.100s (separate memory)", info->name);
    return r;
}

/* weft on device 0 of the separate-memory runtime against the device
 * baseline on the same device through that runtime, copying what weft copies
 * (write-only outputs included), in one interleaved set; one record. When
 * the op's weft side runs on registered arrays (sd->unregistered), the set
 * has a third case, the same ops on plain host arrays, and a second record
 * (case "arrays"): registered against unregistered, at least 3x faster. */
static int measure_sepmem(bench_ctx *b, const bench_op_def *d)
{
    const bench_op_def *sd = d->sepmem;
    weft_runtime_t *rt = sepmem_runtime(b);
    weft_device_info_t info;
    if (!rt || weft_device_count(rt) < 1 || weft_device_info(rt, 0, &info)) {
        if (rt) bench_progress("%s: the separate-memory runtime has no device 0", d->name);
        return -1;
    }
    char label[48];
    snprintf(label, sizeof label, "%s (separate memory)", d->name);
    size_t n = bench_op_size(sd, b->opt);
    bench_progress("%s: setting up size %zu (inputs and a reference computed serially)", label, n);
    bench_op *w = bench_op_new(sd, n, b);
    bench_op_set s;
    if (!w || set_alloc(&s, 3)) {
        bench_op_free(w);
        return -1;
    }
    sep_case(&s, w, b, BENCH_WEFT, rt, "");
    open_dev_base(sep_case(&s, w, b, BENCH_DEV_BASE, rt, ""), 1);
    if (sd->unregistered) sep_case(&s, w, b, BENCH_WEFT, rt, ", unregistered")->run = sd->unregistered;
    int status = measure_set(b, label, &s);
    const char *base = sd->dev_baseline ? sd->dev_baseline : "opencl";
    bench_record *r = status ? NULL : sep_record(b, d, w, &info, &s, "sepmem", 1, base, 1.0 / 1.05);
    if (r) {
        snprintf(r->target, sizeof r->target, "weft within 1.05x of raw OpenCL, same copies, separate memory (%s)",
                 d->name);
        snprintf(r->note, sizeof r->note,
                 "%s; on device 0 of a second runtime made with separate_memory = 1 (buffers of its own, as on a "
                 "discrete GPU); the baseline, on its context and queue, makes weft's copies (write-only outputs too)",
                 sd->dev_note ? sd->dev_note : RAW_NOTE);
    }
    r = status || !sd->unregistered ? NULL : sep_record(b, d, w, &info, &s, "arrays", 2, "weft, unregistered", 3.0);
    if (r) {
        if (!s.m[0].verified) b->failures--; /* weft's case counts once, in the sepmem row */
        snprintf(r->target, sizeof r->target, "registered arrays >= 3x faster than unregistered, separate memory (%s)",
                 d->name);
        snprintf(r->note, sizeof r->note, "%s; weft's case of the sepmem row, in the same interleaved set",
                 sd->unregistered_note);
    }
    bench_op_set_free(&s);
    bench_op_free(w);
    return status;
}

int bench_op_workload(bench_ctx *b, const bench_op_def *d)
{
    const bench_options *o = b->opt;
    size_t n = bench_op_size(d, o);
    /* sgemm: a quick run measures every placement at the quick size, then
     * the split's target (the whole machine at the full size) on its own. */
    int apart = d->target_apart && o->quick && !o->size && weft_device_count(b->rt) && n != d->size_full;
    int status = measure_op(b, d, n, apart, 0);
    if (apart && status == 0) {
        b->max_reps = 5;
        status = measure_op(b, d, d->size_full, apart, 1);
        b->max_reps = 0;
    }
    /* No device: no device row, so no separate-memory row either. */
    if (d->sepmem && weft_device_count(b->rt) && status == 0) status = measure_sepmem(b, d);
    return status;
}

/* bench/harness.c — timing, statistics, run conditions and output. */
#include "harness.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- clock and progress ------------------------------------------------ */

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_sleep(double s)
{
    if (s <= 0) return;
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

void bench_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weft-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stats bench_stats_of(double *samples, int n)
{
    bench_stats s = {NAN, NAN, NAN, n};
    if (n <= 0) return s;
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    s.min = samples[0];
    s.max = samples[n - 1];
    s.median = (n % 2) ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    return s;
}

/* ---- measuring --------------------------------------------------------- */

static int time_block(const bench_case *c, uint64_t iters, double *secs)
{
    double t0 = bench_now();
    int rc = c->body(c->ctx, iters);
    *secs = bench_now() - t0;
    /* A costly check runs after the clock stopped. */
    if (c->check && c->check(c->ctx, iters)) rc = -1;
    return rc;
}

/* Find how many iterations make one block last about target seconds. */
static int calibrate(const bench_case *c, double target, uint64_t *out)
{
    uint64_t iters = 1;
    double t0;
    /* One untimed iteration first: one-time costs (a device compiling the
     * kernel at its first launch, first touch of pages) are not the op's,
     * and would make the block one iteration long. */
    if (time_block(c, 1, &t0)) return -1;
    for (;;) {
        double t;
        if (time_block(c, iters, &t)) return -1;
        if (t >= 0.5 * target || iters >= (UINT64_C(1) << 40)) {
            double scaled = t > 0 ? (double)iters * target / t : (double)iters;
            *out = scaled < 1.0 ? 1 : (uint64_t)scaled;
            return 0;
        }
        double grow = t > 0 ? 1.5 * target / t : 16.0;
        if (grow < 2.0) grow = 2.0;
        if (grow > 16.0) grow = 16.0;
        iters = (uint64_t)((double)iters * grow);
    }
}

void bench_measure_set(bench_ctx *b, const char *label, const bench_case *cases, int n, bench_measure *out)
{
    const bench_options *o = b->opt;
    int reps = o->reps > 0 ? o->reps : 1;
    if (b->min_reps > reps) reps = b->min_reps;
    if (b->max_reps > 0 && reps > b->max_reps) reps = b->max_reps > b->min_reps ? b->max_reps : b->min_reps;
    double *samples = calloc((size_t)reps * (size_t)(n > 0 ? n : 1), sizeof(double));
    int *cnt = calloc((size_t)(n > 0 ? n : 1), sizeof(int));

    for (int k = 0; k < n; k++) {
        memset(&out[k], 0, sizeof out[k]);
        out[k].verified = samples != NULL && cnt != NULL;
        out[k].s = bench_stats_of(NULL, 0);
    }
    for (int k = 0; k < n; k++) {
        if (!out[k].verified) continue;
        bench_progress("%s: sizing blocks for %s", label, cases[k].name);
        if (calibrate(&cases[k], o->block_s, &out[k].iters)) {
            bench_progress("%s: %s: result check FAILED while sizing", label, cases[k].name);
            out[k].verified = 0;
        }
        bench_sleep(o->settle_s);
    }
    for (int w = 0; w < o->warmup; w++) {
        for (int k = 0; k < n; k++) {
            double t;
            if (!out[k].verified) continue;
            if (time_block(&cases[k], out[k].iters, &t)) {
                bench_progress("%s: %s: result check FAILED in warm-up", label, cases[k].name);
                out[k].verified = 0;
            }
            bench_sleep(o->settle_s);
        }
    }
    if (n == 2)
        bench_progress("%s: timing %d blocks each (%s: %llu iterations, %s: %llu)", label, reps, cases[0].name,
                       (unsigned long long)out[0].iters, cases[1].name, (unsigned long long)out[1].iters);
    else
        bench_progress("%s: timing %d blocks of each of %d cases", label, reps, n);
    for (int r = 0; r < reps; r++) {
        /* Rotate which case goes first (for two: alternate). */
        for (int j = 0; j < n; j++) {
            int k = n == 2 ? ((r % 2) ? 1 - j : j) : (j + r) % n;
            double t;
            if (!out[k].verified) continue;
            if (time_block(&cases[k], out[k].iters, &t)) {
                bench_progress("%s: %s: result check FAILED", label, cases[k].name);
                out[k].verified = 0;
                continue;
            }
            samples[(size_t)k * (size_t)reps + (size_t)cnt[k]++] =
                t / ((double)out[k].iters * cases[k].ops_per_iter);
            bench_sleep(o->settle_s);
        }
    }
    for (int k = 0; k < n; k++)
        if (out[k].verified) out[k].s = bench_stats_of(samples + (size_t)k * (size_t)reps, cnt[k]);
    free(samples);
    free(cnt);
}

void bench_compare(bench_ctx *b, const char *label, const bench_case *subject,
                   const bench_case *baseline, bench_measure *ms, bench_measure *mb)
{
    bench_case cases[2] = {*subject, *baseline};
    bench_measure out[2];
    bench_measure_set(b, label, cases, 2, out);
    *ms = out[0];
    *mb = out[1];
}

bench_record *bench_add_record(bench_ctx *b, const char *workload, const char *variant,
                               size_t size, int threads, const bench_measure *subject,
                               const char *unit, const char *baseline,
                               const bench_measure *base, double goal)
{
    if (b->nrecords == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        bench_record *r = realloc(b->records, cap * sizeof *r);
        if (!r) return NULL;
        b->records = r;
        b->cap = cap;
    }
    bench_record *r = &b->records[b->nrecords++];
    memset(r, 0, sizeof *r);
    snprintf(r->workload, sizeof r->workload, "%s", workload);
    snprintf(r->variant, sizeof r->variant, "%s", variant);
    snprintf(r->baseline, sizeof r->baseline, "%s", baseline);
    snprintf(r->placement, sizeof r->placement, "cpu");
    snprintf(r->device, sizeof r->device, "%s", b->machine->cpu_model);
    r->device_index = -1;
    snprintf(r->policy, sizeof r->policy, "-");
    r->efficiency = NAN;
    r->eff_cores = NAN;
    r->size = size;
    r->threads = threads;
    r->subject = *subject;
    r->base = *base;
    r->goal = goal;
    r->goal_kind = goal >= 1.0 ? 'x' : 't';
    bench_record_work(r, 1.0, unit);
    r->ratio = subject->verified && base->verified && subject->s.median > 0
                   ? base->s.median / subject->s.median
                   : NAN;
    if (!subject->verified) b->failures++;
    if (!base->verified) b->failures++;
    return r;
}

void bench_record_policy(bench_record *r, const char *policy)
{
    if (r) snprintf(r->policy, sizeof r->policy, "%s", policy ? policy : "-");
}

const char *bench_policy_name(int kind)
{
    switch (kind) {
    case WEFT_POLICY_STATIC: return "static";
    case WEFT_POLICY_DYNAMIC: return "dynamic";
    case WEFT_POLICY_GUIDED: return "guided";
    case WEFT_POLICY_ADAPTIVE: return "adaptive";
    default: return "?";
    }
}

void bench_record_place(bench_record *r, const char *device_name, int device_index)
{
    if (!r) return;
    snprintf(r->placement, sizeof r->placement, "%s", device_name);
    snprintf(r->device, sizeof r->device, "%s", device_name);
    r->device_index = device_index;
}

void bench_record_all_places(const bench_ctx *b, bench_record *r)
{
    if (!r) return;
    snprintf(r->device, sizeof r->device, "%s", b->machine->cpu_model);
    for (int i = 0; i < b->machine->ndevices; i++) {
        size_t len = strlen(r->device);
        snprintf(r->device + len, sizeof r->device - len, " + %s", b->machine->devices[i].info.name);
    }
    r->device_index = -1;
}

void bench_record_work(bench_record *r, double work_per_op, const char *unit)
{
    if (!r) return;
    r->work_per_op = work_per_op;
    if (unit != r->unit) snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->throughput = r->subject.verified && r->subject.s.median > 0 ? work_per_op / r->subject.s.median : NAN;
    r->base_throughput = r->base.verified && r->base.s.median > 0 ? work_per_op / r->base.s.median : NAN;
}

/* ---- records across processes ------------------------------------------ */

static void save_str(FILE *f, const char *s)
{
    for (; s && *s; s++) fputc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
    fputc('\t', f);
}

static void save_measure(FILE *f, const bench_measure *m)
{
    fprintf(f, "%.17g\t%.17g\t%.17g\t%d\t%d\t%llu\t", m->s.median, m->s.min, m->s.max, m->s.n, m->verified,
            (unsigned long long)m->iters);
}

void bench_record_save(FILE *f, const bench_record *r)
{
    save_str(f, r->workload);
    save_str(f, r->variant);
    save_str(f, r->placement);
    save_str(f, r->device);
    fprintf(f, "%d\t", r->device_index);
    save_str(f, r->policy);
    fprintf(f, "%zu\t%d\t", r->size, r->threads);
    save_measure(f, &r->subject);
    save_measure(f, &r->base);
    fprintf(f, "%.17g\t", r->work_per_op);
    save_str(f, r->unit);
    save_str(f, r->baseline);
    fprintf(f, "%.17g\t%c\t%.17g\t%.17g\t", r->goal, r->goal_kind ? r->goal_kind : 't', r->efficiency, r->eff_cores);
    save_str(f, r->target);
    save_str(f, r->note);
    fputc('\n', f);
}

/* The next tab-separated field of *p (empty fields kept). */
static char *field(char **p)
{
    char *s = *p;
    if (!s) return NULL;
    char *t = strchr(s, '\t');
    if (t) {
        *t = '\0';
        *p = t + 1;
    } else {
        s[strcspn(s, "\n")] = '\0';
        *p = NULL;
    }
    return s;
}

static int load_measure(char **p, bench_measure *m)
{
    char *f[6];
    for (int i = 0; i < 6; i++)
        if (!(f[i] = field(p))) return -1;
    m->s.median = strtod(f[0], NULL);
    m->s.min = strtod(f[1], NULL);
    m->s.max = strtod(f[2], NULL);
    m->s.n = atoi(f[3]);
    m->verified = atoi(f[4]);
    m->iters = strtoull(f[5], NULL, 10);
    return 0;
}

int bench_record_load(char *line, bench_record *r)
{
    memset(r, 0, sizeof *r);
    char *p = line, *f;
#define STR_FIELD(dst)                                   \
    do {                                                 \
        if (!(f = field(&p))) return -1;                 \
        snprintf(dst, sizeof dst, "%s", f);              \
    } while (0)
#define NUM_FIELD(expr)                                  \
    do {                                                 \
        if (!(f = field(&p))) return -1;                 \
        expr;                                            \
    } while (0)
    STR_FIELD(r->workload);
    STR_FIELD(r->variant);
    STR_FIELD(r->placement);
    STR_FIELD(r->device);
    NUM_FIELD(r->device_index = atoi(f));
    STR_FIELD(r->policy);
    NUM_FIELD(r->size = (size_t)strtoull(f, NULL, 10));
    NUM_FIELD(r->threads = atoi(f));
    if (load_measure(&p, &r->subject) || load_measure(&p, &r->base)) return -1;
    NUM_FIELD(r->work_per_op = strtod(f, NULL));
    STR_FIELD(r->unit);
    STR_FIELD(r->baseline);
    NUM_FIELD(r->goal = strtod(f, NULL));
    NUM_FIELD(r->goal_kind = f[0]);
    NUM_FIELD(r->efficiency = strtod(f, NULL));
    NUM_FIELD(r->eff_cores = strtod(f, NULL));
    STR_FIELD(r->target);
    STR_FIELD(r->note);
#undef STR_FIELD
#undef NUM_FIELD
    bench_record_work(r, r->work_per_op, r->unit);
    r->ratio = r->subject.verified && r->base.verified && r->subject.s.median > 0
                   ? r->base.s.median / r->subject.s.median
                   : NAN;
    return 0;
}

bench_record *bench_append_record(bench_ctx *b, const bench_record *src)
{
    bench_record *r = bench_add_record(b, src->workload, src->variant, src->size, src->threads, &src->subject,
                                       src->unit, src->baseline, &src->base, src->goal);
    if (!r) return NULL;
    *r = *src;
    return r;
}

/* ---- run conditions ---------------------------------------------------- */

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    /* x86: "model name"; arm64: "Hardware"/"CPU part" at best; take the first. */
    static const char *const keys[] = {"model name", "Model", "Hardware", "cpu model", "Processor"};
    int best = (int)(sizeof keys / sizeof keys[0]);
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        for (int k = 0; k < best; k++) {
            size_t n = strlen(keys[k]);
            if (strncmp(line, keys[k], n) != 0) continue;
            const char *p = line + n;
            while (*p == ' ' || *p == '\t') p++;
            if (p != colon) continue;
            p = colon + 1;
            while (*p == ' ' || *p == '\t') p++;
            snprintf(buf, cap, "%s", p);
            buf[strcspn(buf, "\n")] = '\0';
            best = k;
            break;
        }
    }
    fclose(f);
}

void bench_machine_probe(bench_machine *m)
{
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    m->online_cpus = n > 0 ? (int)n : 1;
    cpu_set_t set;
    CPU_ZERO(&set);
    m->usable_cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : m->online_cpus;
#if defined(__clang__)
    snprintf(m->compiler, sizeof m->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(m->compiler, sizeof m->compiler, "gcc %s", __VERSION__);
#else
    snprintf(m->compiler, sizeof m->compiler, "unknown C compiler");
#endif
    m->compiler[strcspn(m->compiler, "\n")] = '\0';
    if (gethostname(m->hostname, sizeof m->hostname) != 0) snprintf(m->hostname, sizeof m->hostname, "unknown");
    m->hostname[sizeof m->hostname - 1] = '\0';
}

static double eff_cores_ok(const bench_machine *m)
{
    return 0.85 * (m->usable_cpus >= 2 ? 2.0 : 1.0);
}

int bench_busy_machine(const bench_machine *m, double eff_cores)
{
    return !(eff_cores >= eff_cores_ok(m));
}

/* A serial dependency chain: cannot be vectorised or split. */
static uint64_t spin_work(uint64_t n)
{
    uint64_t x = 88172645463325252u;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static volatile uint64_t spin_sink;

struct spin_arg {
    uint64_t n;
    atomic_int *go;
};

static void *spin_thread(void *p)
{
    struct spin_arg *a = p;
    while (!atomic_load_explicit(a->go, memory_order_acquire)) sched_yield();
    spin_sink = spin_work(a->n);
    return NULL;
}

static double time_spin(uint64_t n, int threads)
{
    atomic_int go;
    atomic_init(&go, 0);
    struct spin_arg a = {n, &go};
    pthread_t th;
    int helper = threads > 1 && pthread_create(&th, NULL, spin_thread, &a) == 0;
    double t0 = bench_now();
    atomic_store_explicit(&go, 1, memory_order_release);
    spin_sink = spin_work(n);
    if (helper) pthread_join(th, NULL);
    return bench_now() - t0;
}

double bench_effective_cores(double target_s)
{
    uint64_t n = 1u << 16;
    double t = time_spin(n, 1);
    while (t < target_s && n < (UINT64_C(1) << 40)) {
        n = t > 0 ? (uint64_t)((double)n * (t * 4 < target_s ? 4.0 : 1.2 * target_s / t)) + 1 : n * 4;
        t = time_spin(n, 1);
    }
    double t1 = INFINITY, t2 = INFINITY;
    for (int r = 0; r < 3; r++) {
        double a = time_spin(n, 1), c = time_spin(n, 2);
        if (a < t1) t1 = a;
        if (c < t2) t2 = c;
    }
    return t2 > 0 ? 2.0 * t1 / t2 : NAN;
}

/* ---- devices and libraries --------------------------------------------- */

#ifndef WEFT_BENCH_OPENBLAS_INSTALLED
#define WEFT_BENCH_OPENBLAS_INSTALLED ""
#endif
#ifndef WEFT_BENCH_CLBLAST_INSTALLED
#define WEFT_BENCH_CLBLAST_INSTALLED ""
#endif

int bench_device_describe(weft_runtime_t *rt, int index, bench_device_desc *d)
{
    memset(d, 0, sizeof *d);
    if (weft_device_info(rt, index, &d->info)) return -1;
    cl_device_id id = NULL;
    if (weft_device_cl(rt, index, &id, NULL, NULL) == 0 && id) {
        cl_platform_id pl = NULL;
        if (clGetDeviceInfo(id, CL_DEVICE_PLATFORM, sizeof pl, &pl, NULL) == CL_SUCCESS && pl)
            clGetPlatformInfo(pl, CL_PLATFORM_VERSION, sizeof d->platform_version - 1, d->platform_version, NULL);
        clGetDeviceInfo(id, CL_DRIVER_VERSION, sizeof d->driver - 1, d->driver, NULL);
    }
    /* PoCL says its version in the platform version: "OpenCL 3.0 PoCL 3.1+debian  Linux, ..." */
    const char *p = strstr(d->platform_version, "PoCL ");
    if (p) {
        size_t n = strcspn(p + 5, " ,");
        snprintf(d->pocl, sizeof d->pocl, "PoCL %.*s", (int)n, p + 5);
    }
    return 0;
}

void bench_machine_devices(bench_machine *m, weft_runtime_t *rt)
{
    int n = weft_device_count(rt);
    m->ndevices = 0;
    free(m->devices);
    m->devices = n > 0 ? calloc((size_t)n, sizeof *m->devices) : NULL;
    for (int i = 0; m->devices && i < n; i++)
        if (bench_device_describe(rt, i, &m->devices[m->ndevices]) == 0) m->ndevices++;
}

static const char *type_name(weft_device_type_t t)
{
    switch (t) {
    case WEFT_DEVICE_CPU: return "CPU";
    case WEFT_DEVICE_GPU: return "GPU";
    case WEFT_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

/* ---- output ------------------------------------------------------------ */

const char *bench_fmt_time(double s, char *buf, size_t cap)
{
    if (!isfinite(s)) snprintf(buf, cap, "-");
    else if (s < 1e-6) snprintf(buf, cap, "%.0f ns", s * 1e9);
    else if (s < 1e-3) snprintf(buf, cap, "%.2f us", s * 1e6);
    else if (s < 1.0) snprintf(buf, cap, "%.2f ms", s * 1e3);
    else snprintf(buf, cap, "%.2f s", s);
    return buf;
}

const char *bench_fmt_si(double v, char *buf, size_t cap)
{
    static const char *const pre[] = {"", "k", "M", "G", "T"};
    if (!isfinite(v)) {
        snprintf(buf, cap, "-");
        return buf;
    }
    int k = 0;
    while (fabs(v) >= 1000.0 && k < 4) {
        v /= 1000.0;
        k++;
    }
    snprintf(buf, cap, fabs(v) >= 100 ? "%.0f%s" : fabs(v) >= 10 ? "%.1f%s" : "%.2f%s", v, pre[k]);
    return buf;
}

void bench_print_conditions(FILE *f, const bench_ctx *b)
{
    const bench_machine *m = b->machine;
    const bench_options *o = b->opt;
    const char *env_threads = getenv("WEFT_CPU_THREADS");
    const char *env_omp = getenv("OMP_WAIT_POLICY");
    const char *env_dev = getenv("WEFT_DEVICES");
    const char *env_pocl = getenv("POCL_DEVICES");
    fprintf(f, "weft-bench (weft %s)%s\n", m->weft_version,
            o->smoke ? ", smoke run" : o->quick ? ", quick run" : "");
    fprintf(f, "machine:   %s\n", m->hostname);
    fprintf(f, "cpu:       %s\n", m->cpu_model);
    fprintf(f, "cpus:      %d online, %d usable; effective cores at start %.2f "
               "(spin loop, 2 threads vs 1)\n",
            m->online_cpus, m->usable_cpus, m->eff_cores_start);
    if (bench_busy_machine(m, m->eff_cores_start))
        fprintf(f, "WARNING:   fewer than %.1f effective cores: other processes are using the CPUs, "
                   "the ratios below are unreliable\n", eff_cores_ok(m));
    fprintf(f, "compiler:  %s\n", m->compiler);
    fprintf(f, "runtime:   %d CPU workers%s%s%s%s\n", m->workers,
            env_threads ? ", WEFT_CPU_THREADS=" : "", env_threads ? env_threads : "",
            env_omp ? ", OMP_WAIT_POLICY=" : "", env_omp ? env_omp : "");
    int ndev = m->ndevices;
    fprintf(f, "devices:   %d OpenCL device%s opened%s%s%s%s%s\n", ndev, ndev == 1 ? "" : "s",
            env_dev ? ", WEFT_DEVICES=" : "", env_dev ? env_dev : "", env_pocl ? ", POCL_DEVICES=" : "",
            env_pocl ? env_pocl : "", ndev ? ":" : "");
    char pocl[64] = "";
    for (int i = 0; i < ndev; i++) {
        const bench_device_desc d = m->devices[i];
        fprintf(f, "  [%d] %s: %s, %u compute units, %.1f GiB, %s memory\n", d.info.index, d.info.name,
                type_name(d.info.type), d.info.compute_units,
                (double)d.info.global_mem_bytes / (1024.0 * 1024.0 * 1024.0),
                d.info.unified_memory ? "unified (zero-copy)" : "separate (copies)");
        fprintf(f, "      platform %s, %s; device %s; driver %s\n", d.info.platform,
                d.platform_version[0] ? d.platform_version : "?", d.info.version, d.driver[0] ? d.driver : "?");
        if (d.pocl[0] && !pocl[0]) snprintf(pocl, sizeof pocl, "%s", d.pocl);
    }
    const bench_openblas_env *ob = &m->openblas;
    fprintf(f, "libraries: weft %s; %s", m->weft_version, pocl[0] ? pocl : "PoCL not in use");
    if (ob->linked[0]) fprintf(f, "; %s (core %s)", ob->linked, ob->corename);
    else fprintf(f, "; OpenBLAS not linked%s%s%s", WEFT_BENCH_OPENBLAS_INSTALLED[0] ? " (" : "",
                 WEFT_BENCH_OPENBLAS_INSTALLED,
                 WEFT_BENCH_OPENBLAS_INSTALLED[0] ? " installed)" : "");
    fprintf(f, "; %s\n", WEFT_BENCH_CLBLAST_INSTALLED[0] ? WEFT_BENCH_CLBLAST_INSTALLED : "CLBlast (version unknown)");
    bench_openblas_env_print(f, ob);
    const char *cache = getenv("WEFT_CACHE_DIR");
    fprintf(f, "method:    per-op median of %d timed blocks (launch: at least %d) of ~%.0f ms, after %d warm-up "
               "block%s; a workload's cases (weft on each placement and\n"
               "           policy, and its baselines) are timed in interleaved rounds; every block's result is checked "
               "before its time counts;\n"
               "           single places run the default policy (guided), splits run each policy; adaptive speed "
               "models in %s\n\n",
            o->reps, o->smoke ? o->reps : o->reps > BENCH_LAUNCH_MIN_REPS ? o->reps : BENCH_LAUNCH_MIN_REPS,
            o->block_s * 1e3, o->warmup, o->warmup == 1 ? "" : "s", cache && *cache ? cache : "the default folder");
    fflush(f);
}

int record_busy(const bench_ctx *b, const bench_record *r)
{
    return isfinite(r->eff_cores) && bench_busy_machine(b->machine, r->eff_cores);
}

static int goal_met(const bench_record *r)
{
    return r->goal > 0 && isfinite(r->ratio) && r->ratio >= r->goal;
}

/* The goal as the table shows it: ">=20x", "<=1.20t" (weft time over the
 * baseline's), ">=0.90e" (efficiency). */
static void fmt_goal(const bench_record *r, char *buf, size_t cap)
{
    if (!(r->goal > 0)) snprintf(buf, cap, "-");
    else if (r->goal_kind == 'e') snprintf(buf, cap, "eff>=%.2f", r->goal);
    else if (r->goal_kind == 'x') snprintf(buf, cap, ">=%.3gx", r->goal);
    else snprintf(buf, cap, "t<=%.2fx", 1.0 / r->goal);
}

void bench_print_table(FILE *f, const bench_ctx *b)
{
    fprintf(f, "%-10s %-6s %-8s %9s %4s %10s %10s %10s  %-9s %10s %7s  %-9s %-6s  %-17s %s\n", "workload", "case",
            "policy", "size", "thr", "weft", "min", "max", "baseline", "baseline", "ratio", "goal", "", "weft throughput",
            "placement");
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        char med[32], mn[32], mx[32], bmed[32], ratio[32], goal[32], thr[32], tp[64], si[32];
        const char *verdict = "";
        if (r->subject.verified) {
            bench_fmt_time(r->subject.s.median, med, sizeof med);
            bench_fmt_time(r->subject.s.min, mn, sizeof mn);
            bench_fmt_time(r->subject.s.max, mx, sizeof mx);
        } else {
            snprintf(med, sizeof med, "FAILED");
            snprintf(mn, sizeof mn, "-");
            snprintf(mx, sizeof mx, "-");
        }
        if (r->base.verified) bench_fmt_time(r->base.s.median, bmed, sizeof bmed);
        else snprintf(bmed, sizeof bmed, "FAILED");
        if (isfinite(r->ratio)) snprintf(ratio, sizeof ratio, "%.2fx", r->ratio);
        else snprintf(ratio, sizeof ratio, "-");
        fmt_goal(r, goal, sizeof goal);
        if (r->goal > 0) verdict = !isfinite(r->ratio) ? "" : goal_met(r) ? "met" : "MISSED";
        if (r->threads > 0) snprintf(thr, sizeof thr, "%d", r->threads);
        else snprintf(thr, sizeof thr, "-");
        if (r->subject.verified) snprintf(tp, sizeof tp, "%s %s", bench_fmt_si(r->throughput, si, sizeof si), r->unit);
        else snprintf(tp, sizeof tp, "-");
        fprintf(f, "%-10s %-6s %-8s %9zu %4s %10s %10s %10s  %-9s %10s %7s  %-9s %-6s  %-17s %s%s\n", r->workload,
                r->variant, r->policy, r->size, thr, med, mn, mx, r->baseline, bmed, ratio, goal, verdict, tp,
                r->placement, record_busy(b, r) ? "  [BUSY]" : "");
    }
    fprintf(f, "(weft, min, max: weft's time per op, median of the timed blocks, and their extremes; baseline: the "
               "baseline's median; ratio = baseline / weft: above 1 weft is faster; for coexec rows the ratio is the "
               "co-execution efficiency; [BUSY]: fewer effective cores than the machine has, measured just before or "
               "after the workload: other processes ran, trust that row less)\n");
    /* Notes: each text once, with every workload and case it belongs to. */
    int notes = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        if (!r->note[0]) continue;
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(b->records[j].note, r->note);
        if (dup) continue;
        char who[512] = "";
        for (size_t j = i; j < b->nrecords; j++) {
            const bench_record *q = &b->records[j];
            if (strcmp(q->note, r->note)) continue;
            char one[96];
            snprintf(one, sizeof one, "%s %s", q->workload, q->variant);
            if (strstr(who, one)) continue;
            size_t len = strlen(who);
            snprintf(who + len, sizeof who - len, "%s%s", len ? ", " : "", one);
        }
        fprintf(f, "%s  %s: %s\n", notes++ ? "" : "\nnotes:\n", who, r->note);
    }
    fflush(f);
}

void bench_print_targets(FILE *f, const bench_ctx *b)
{
    int n = 0, met = 0;
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        if (!(r->goal > 0)) continue;
        if (!n++)
            fprintf(f, "\ntargets (each at the medians of this run)%s:\n",
                    b->opt->smoke ? " — a smoke run checks results only: its times mean nothing" : "");
        char what[160], val[256], wt[32], bt[32];
        if (r->target[0]) snprintf(what, sizeof what, "%s", r->target);
        else snprintf(what, sizeof what, "%s %s vs %s", r->workload, r->variant, r->baseline);
        if (!isfinite(r->ratio)) {
            fprintf(f, "  %-78s not measured (a check failed)\n", what);
            continue;
        }
        bench_fmt_time(r->subject.s.median, wt, sizeof wt);
        bench_fmt_time(r->base.s.median, bt, sizeof bt);
        if (r->goal_kind == 'e')
            snprintf(val, sizeof val, "efficiency %.2f (goal >= %.2f)", r->ratio, r->goal);
        else if (r->goal_kind == 'x' && r->goal >= 1.0)
            snprintf(val, sizeof val, "%.1fx (goal >= %.0fx): %s vs %s %s", r->ratio, r->goal, wt, r->baseline, bt);
        else if (r->goal_kind == 'x')
            snprintf(val, sizeof val, "%.2fx the baseline (goal >= %.2fx): %s vs %s %s", r->ratio, r->goal, wt,
                     r->baseline, bt);
        else
            snprintf(val, sizeof val, "weft/%s time %.3f (goal <= %.2f): %s vs %s", r->baseline, 1.0 / r->ratio,
                     1.0 / r->goal, wt, bt);
        int ok = goal_met(r);
        met += ok;
        fprintf(f, "  %-78s %-6s %s%s\n", what, ok ? "met" : "MISSED", val,
                record_busy(b, r) ? " [machine BUSY]" : "");
    }
    if (n) fprintf(f, "  %d of %d met\n", met, n);
    fflush(f);
}

/* JSON/CSV writers: hand-rolled, no dependencies. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.9g", x);
    else fputs("null", f);
}


int bench_write_json(const char *path, const bench_ctx *b)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    const bench_machine *m = b->machine;
    fputs("{\n  \"tool\": \"weft-bench\",\n  \"weft_version\": ", f);
    json_str(f, m->weft_version);
    fputs(",\n  \"machine\": ", f);
    json_str(f, m->hostname);
    fputs(",\n  \"cpu_model\": ", f);
    json_str(f, m->cpu_model);
    fprintf(f, ",\n  \"online_cpus\": %d,\n  \"usable_cpus\": %d,\n", m->online_cpus, m->usable_cpus);
    fputs("  \"effective_cores_start\": ", f);
    json_num(f, m->eff_cores_start);
    fputs(",\n  \"effective_cores_end\": ", f);
    json_num(f, m->eff_cores_end);
    fprintf(f, ",\n  \"machine_busy\": %s",
            bench_busy_machine(m, m->eff_cores_start) || bench_busy_machine(m, m->eff_cores_end)
                ? "true"
                : "false");
    fputs(",\n  \"compiler\": ", f);
    json_str(f, m->compiler);
    fputs(",\n  \"devices\": [", f);
    int ndev = m->ndevices;
    for (int i = 0; i < ndev; i++) {
        const bench_device_desc d = m->devices[i];
        fprintf(f, "%s{\"index\": %d, \"name\": ", i ? ",\n    " : "\n    ", d.info.index);
        json_str(f, d.info.name);
        fprintf(f, ", \"type\": \"%s\", \"compute_units\": %u, \"unified_memory\": %s, \"platform\": ",
                type_name(d.info.type), d.info.compute_units, d.info.unified_memory ? "true" : "false");
        json_str(f, d.info.platform);
        fputs(", \"platform_version\": ", f);
        json_str(f, d.platform_version);
        fputs(", \"device_version\": ", f);
        json_str(f, d.info.version);
        fputs(", \"driver_version\": ", f);
        json_str(f, d.driver);
        fputs(", \"pocl\": ", f);
        json_str(f, d.pocl);
        fputc('}', f);
    }
    fputs(ndev ? "\n  ],\n" : "],\n", f);
    const bench_openblas_env *ob = &m->openblas;
    fputs("  \"libraries\": {\"openblas_linked\": ", f);
    json_str(f, ob->linked);
    fputs(", \"openblas_installed\": ", f);
    json_str(f, WEFT_BENCH_OPENBLAS_INSTALLED);
    fputs(", \"clblast_linked\": ", f);
    json_str(f, WEFT_BENCH_CLBLAST_INSTALLED[0] ? WEFT_BENCH_CLBLAST_INSTALLED : "CLBlast");
    fputs(", \"clblast_installed\": ", f);
    json_str(f, WEFT_BENCH_CLBLAST_INSTALLED);
    fputs("},\n  \"openblas_coretype\": {\"from_env\": ", f);
    if (ob->found) json_str(f, ob->found_value);
    else fputs("null", f);
    fputs(", \"detected\": ", f);
    json_str(f, ob->detected);
    fputs(", \"why\": ", f);
    json_str(f, ob->why);
    fprintf(f, ", \"set_by_weft_bench\": %s, \"openblas_core\": ", ob->set_here ? "true" : "false");
    json_str(f, ob->corename);
    fprintf(f, "},\n  \"workers\": %d,\n  \"mode\": \"%s\",\n  \"reps\": %d,\n  \"block_s\": ",
            m->workers, b->opt->smoke ? "smoke" : b->opt->quick ? "quick" : "full", b->opt->reps);
    json_num(f, b->opt->block_s);
    fputs(",\n  \"records\": [", f);
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        fputs(i ? ",\n    {" : "\n    {", f);
        fputs("\"workload\": ", f);
        json_str(f, r->workload);
        fputs(", \"case\": ", f);
        json_str(f, r->variant);
        fputs(", \"placement\": ", f);
        json_str(f, r->placement);
        fputs(", \"device\": ", f);
        json_str(f, r->device);
        fprintf(f, ", \"device_index\": %d, \"machine\": ", r->device_index);
        json_str(f, m->hostname);
        fputs(", \"policy\": ", f);
        json_str(f, r->policy);
        fprintf(f, ", \"size\": %zu, \"threads\": %d, \"median_s\": ", r->size, r->threads);
        json_num(f, r->subject.s.median);
        fputs(", \"min_s\": ", f);
        json_num(f, r->subject.s.min);
        fputs(", \"max_s\": ", f);
        json_num(f, r->subject.s.max);
        fprintf(f, ", \"blocks\": %d, \"iters_per_block\": %llu, \"throughput\": ", r->subject.s.n,
                (unsigned long long)r->subject.iters);
        json_num(f, r->throughput);
        fputs(", \"unit\": ", f);
        json_str(f, r->unit);
        fprintf(f, ", \"verified\": %s, \"baseline\": ", r->subject.verified ? "true" : "false");
        json_str(f, r->baseline);
        fputs(", \"baseline_median_s\": ", f);
        json_num(f, r->base.s.median);
        fputs(", \"baseline_min_s\": ", f);
        json_num(f, r->base.s.min);
        fputs(", \"baseline_max_s\": ", f);
        json_num(f, r->base.s.max);
        fputs(", \"baseline_throughput\": ", f);
        json_num(f, r->base_throughput);
        fprintf(f, ", \"baseline_verified\": %s, \"ratio\": ", r->base.verified ? "true" : "false");
        json_num(f, r->ratio);
        fputs(", \"weft_over_baseline\": ", f);
        json_num(f, isfinite(r->ratio) && r->ratio > 0 ? 1.0 / r->ratio : NAN);
        fputs(", \"goal_ratio\": ", f);
        json_num(f, r->goal > 0 ? r->goal : NAN);
        fprintf(f, ", \"meets_goal\": %s", r->goal > 0 ? (goal_met(r) ? "true" : "false") : "null");
        fputs(", \"goal_kind\": ", f);
        if (r->goal > 0) json_str(f, r->goal_kind == 'e' ? "efficiency" : r->goal_kind == 'x' ? "ratio" : "time");
        else fputs("null", f);
        fputs(", \"target\": ", f);
        if (r->goal > 0) json_str(f, r->target);
        else fputs("null", f);
        fputs(", \"efficiency\": ", f);
        json_num(f, r->efficiency);
        fputs(", \"effective_cores\": ", f);
        json_num(f, r->eff_cores);
        fprintf(f, ", \"machine_busy\": %s", isfinite(r->eff_cores) ? (record_busy(b, r) ? "true" : "false") : "null");
        fputs(", \"note\": ", f);
        json_str(f, r->note);
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

static void csv_str(FILE *f, const char *s)
{
    s = s ? s : "";
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

static void csv_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.9g", x);
}

int bench_write_csv(const char *path, const bench_ctx *b)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    const bench_machine *m = b->machine;
    fputs("workload,case,placement,policy,size,threads,median_s,min_s,max_s,throughput,unit,"
          "verified,baseline,baseline_median_s,baseline_min_s,baseline_max_s,baseline_verified,"
          "ratio,goal_ratio,meets_goal,cpu_model,online_cpus,effective_cores_start,"
          "effective_cores_end,workers,weft_version,machine,device,baseline_throughput,efficiency,target\n",
          f);
    for (size_t i = 0; i < b->nrecords; i++) {
        const bench_record *r = &b->records[i];
        csv_str(f, r->workload);
        fputc(',', f);
        csv_str(f, r->variant);
        fputc(',', f);
        csv_str(f, r->placement);
        fprintf(f, ",%s,%zu,%d,", r->policy, r->size, r->threads);
        csv_num(f, r->subject.s.median);
        fputc(',', f);
        csv_num(f, r->subject.s.min);
        fputc(',', f);
        csv_num(f, r->subject.s.max);
        fputc(',', f);
        csv_num(f, r->throughput);
        fprintf(f, ",%s,%s,", r->unit, r->subject.verified ? "true" : "false");
        csv_str(f, r->baseline);
        fputc(',', f);
        csv_num(f, r->base.s.median);
        fputc(',', f);
        csv_num(f, r->base.s.min);
        fputc(',', f);
        csv_num(f, r->base.s.max);
        fprintf(f, ",%s,", r->base.verified ? "true" : "false");
        csv_num(f, r->ratio);
        fputc(',', f);
        csv_num(f, r->goal > 0 ? r->goal : NAN);
        fprintf(f, ",%s,", r->goal > 0 ? (goal_met(r) ? "true" : "false") : "");
        csv_str(f, m->cpu_model);
        fprintf(f, ",%d,", m->online_cpus);
        csv_num(f, m->eff_cores_start);
        fputc(',', f);
        csv_num(f, m->eff_cores_end);
        fprintf(f, ",%d,", m->workers);
        csv_str(f, m->weft_version);
        fputc(',', f);
        csv_str(f, m->hostname);
        fputc(',', f);
        csv_str(f, r->device);
        fputc(',', f);
        csv_num(f, r->base_throughput);
        fputc(',', f);
        csv_num(f, r->efficiency);
        fputc(',', f);
        csv_str(f, r->goal > 0 ? r->target : "");
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* bench/coexec.c — workload "coexec": co-execution efficiency, as EngineCL
 * defines it, of the two compute-bound bundled operations (mandelbrot,
 * nbody):
 *
 *     efficiency = T(split) / (T(CPU alone) + T(device 0 alone) + ...)
 *
 * with T the throughput of the same operation, each place alone measured in
 * the same interleaved set as the split runs (one per policy). 1.0: the
 * places add up perfectly.
 *
 * On a CPU-only machine the device is PoCL on the same cores as the CPU
 * workers, so the places are given one core each: ONE CPU worker
 * (WEFT_CPU_THREADS=1) and PoCL limited to one thread
 * (POCL_MAX_PTHREAD_COUNT=1). Both are read when the runtime and OpenCL
 * start, so the measurement runs in a child process — this program again,
 * with --coexec-child FILE and that environment — which writes its records
 * to FILE for the parent to read back. On a machine with GPUs the same
 * settings leave the GPUs as they are: it measures whatever devices exist.
 * The child also gets its own folder for adaptive speed models. */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops.h"
#include "workloads.h"

extern char **environ;

#define COEXEC_GOAL 0.9

static const int policies[4] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED, WEFT_POLICY_ADAPTIVE};

typedef struct cx_case {
    bench_op *w;
    bench_ctx *b;
    weft_policy_t pol;
    char who[64];
    int said;
} cx_case;

static int cx_body(void *p, uint64_t iters)
{
    cx_case *c = p;
    for (uint64_t i = 0; i < iters; i++)
        if (bench_op_run_weft(c->w, c->b->rt, &c->pol, c->who)) return -1;
    return 0;
}

static int cx_check(void *p, uint64_t iters)
{
    cx_case *c = p;
    char why[256] = "";
    if (c->w->def->check(c->w, iters, why, sizeof why) == 0) return 0;
    if (c->said++ < 3) bench_progress("coexec: %s: %s: WRONG RESULT: %s", c->w->def->name, c->who, why);
    return -1;
}

/* Measure one operation in the child and write its records to out. The
 * efficiency needs both cores free: effective cores are measured around it. */
static int cx_measure(bench_ctx *b, const bench_op_def *d, FILE *out)
{
    double eff0 = b->opt->smoke ? NAN : bench_effective_cores(0.03);
    int ndev = weft_device_count(b->rt);
    if (ndev > 62) ndev = 62;
    if (ndev == 0) {
        bench_progress("coexec: no OpenCL device: nothing to co-execute with");
        return 0;
    }
    bench_op *w = calloc(1, sizeof *w);
    if (!w) return -1;
    const bench_options *o = b->opt;
    size_t n = o->smoke ? d->size_smoke : o->quick ? d->size_quick : d->size_full;
    bench_progress("coexec: %s: setting up size %zu", d->name, n);
    if (bench_op_setup(w, d, n)) {
        bench_op_teardown(w);
        free(w);
        return -1;
    }
    int nplaces = 1 + ndev, ncases = nplaces + 4;
    cx_case *cs = calloc((size_t)ncases, sizeof *cs);
    bench_case *bc = calloc((size_t)ncases, sizeof *bc);
    bench_measure *m = calloc((size_t)ncases, sizeof *m);
    if (!cs || !bc || !m) {
        free(cs);
        free(bc);
        free(m);
        bench_op_teardown(w);
        free(w);
        return -1;
    }
    /* 0: the CPU alone; 1 + d: device d alone; then the split per policy. */
    cs[0] = (cx_case){.w = w, .b = b, .pol = bench_policy(BENCH_SINGLE_POLICY, 1, 0)};
    snprintf(cs[0].who, sizeof cs[0].who, "cpu alone");
    for (int dv = 0; dv < ndev; dv++) {
        cs[1 + dv] = (cx_case){.w = w, .b = b, .pol = bench_policy(BENCH_SINGLE_POLICY, 0, (uint64_t)1 << dv)};
        snprintf(cs[1 + dv].who, sizeof cs[0].who, "dev %d alone", dv);
    }
    for (int p = 0; p < 4; p++) {
        cs[nplaces + p] = (cx_case){.w = w, .b = b, .pol = bench_policy(policies[p], 1, WEFT_ALL_DEVICES)};
        snprintf(cs[nplaces + p].who, sizeof cs[0].who, "split %s", bench_policy_name(policies[p]));
    }
    for (int i = 0; i < ncases; i++)
        bc[i] = (bench_case){.name = cs[i].who, .body = cx_body, .ctx = &cs[i], .ops_per_iter = 1.0, .check = cx_check};
    char label[64];
    snprintf(label, sizeof label, "coexec/%s", d->name);
    bench_measure_set(b, label, bc, ncases, m);

    double eff1 = b->opt->smoke ? NAN : bench_effective_cores(0.03);
    int busy = !b->opt->smoke && (bench_busy_machine(b->machine, eff0) || bench_busy_machine(b->machine, eff1));

    /* The ideal split: the places' throughputs added up, as a time per op. */
    bench_measure ideal = {.verified = 1};
    double inv_med = 0, inv_min = 0, inv_max = 0;
    ideal.s.n = m[0].s.n;
    for (int p = 0; p < nplaces; p++) {
        if (!m[p].verified) ideal.verified = 0;
        inv_med += 1.0 / m[p].s.median;
        inv_min += 1.0 / m[p].s.min;
        inv_max += 1.0 / m[p].s.max;
        if (m[p].s.n < ideal.s.n) ideal.s.n = m[p].s.n;
    }
    ideal.s.median = 1.0 / inv_med;
    ideal.s.min = 1.0 / inv_min;
    ideal.s.max = 1.0 / inv_max;

    char desc[96], alone[192], places[128], t[32];
    d->describe(w, desc, sizeof desc);
    int threads = b->workers;
    snprintf(alone, sizeof alone, "alone: cpu (%d worker%s) %s", b->workers, b->workers == 1 ? "" : "s",
             bench_fmt_time(m[0].s.median, t, sizeof t));
    snprintf(places, sizeof places, "cpu(%d)", b->workers);
    for (int dv = 0; dv < ndev; dv++) {
        weft_device_info_t info;
        weft_device_info(b->rt, dv, &info);
        threads += (int)info.compute_units;
        size_t len = strlen(alone);
        snprintf(alone + len, sizeof alone - len, ", dev %d (%u CU) %s", dv, info.compute_units,
                 bench_fmt_time(m[1 + dv].s.median, t, sizeof t));
        len = strlen(places);
        snprintf(places + len, sizeof places - len, " + dev%d(%u CU)", dv, info.compute_units);
    }
    for (int p = 0; p < 4; p++) {
        bench_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.workload, sizeof r.workload, "%s", d->name);
        snprintf(r.variant, sizeof r.variant, "coexec");
        snprintf(r.placement, sizeof r.placement, "%s", places);
        bench_record_all_places(b, &r);
        snprintf(r.policy, sizeof r.policy, "%s", bench_policy_name(policies[p]));
        r.size = n;
        r.threads = threads;
        r.subject = m[nplaces + p];
        r.base = ideal;
        snprintf(r.baseline, sizeof r.baseline, "sum-alone");
        bench_record_work(&r, d->work(w), d->unit);
        r.ratio = r.subject.verified && r.base.verified ? r.base.s.median / r.subject.s.median : NAN;
        r.efficiency = r.ratio;
        r.eff_cores = b->opt->smoke ? NAN : eff0 < eff1 ? eff0 : eff1;
        int aim = policies[p] == WEFT_POLICY_GUIDED || policies[p] == WEFT_POLICY_ADAPTIVE;
        r.goal = aim ? COEXEC_GOAL : 0;
        r.goal_kind = 'e';
        if (aim)
            snprintf(r.target, sizeof r.target, "co-execution efficiency >= 0.9 on %s (%s)", d->name,
                     bench_policy_name(policies[p]));
        char effs[96] = "";
        if (!b->opt->smoke)
            snprintf(effs, sizeof effs, "; effective cores %.2f before, %.2f after%s", eff0, eff1,
                     busy ? " (BUSY: efficiency unreliable)" : "");
        snprintf(r.note, sizeof r.note,
                 "%s; %s%s; efficiency = split throughput / sum of the throughputs alone (EngineCL); "
                 "WEFT_CPU_THREADS=1 POCL_MAX_PTHREAD_COUNT=1",
                 desc, alone, effs);
        bench_record_save(out, &r);
    }
    free(cs);
    free(bc);
    free(m);
    bench_op_teardown(w);
    free(w);
    return 0;
}

int bench_coexec_child(const bench_options *o)
{
    FILE *out = fopen(o->coexec_child, "w");
    if (!out) {
        bench_progress("coexec: cannot write %s: %s", o->coexec_child, strerror(errno));
        return 1;
    }
    bench_machine m = {0};
    bench_machine_probe(&m);
    weft_runtime_t *rt;
    int rc = weft_runtime_create(NULL, &rt);
    if (rc) {
        bench_progress("coexec: weft_runtime_create: %s: %s", weft_err_name(rc), weft_last_error_message());
        fclose(out);
        return 1;
    }
    bench_machine_devices(&m, rt);
    bench_ctx b = {.opt = o, .machine = &m, .rt = rt, .workers = weft_runtime_cpu_threads(rt)};
    bench_progress("coexec: child process: %d CPU worker%s, %d device%s", b.workers, b.workers == 1 ? "" : "s",
                   weft_device_count(rt), weft_device_count(rt) == 1 ? "" : "s");
    int status = 0;
    if (cx_measure(&b, &bench_op_mandelbrot, out)) status = 1;
    if (cx_measure(&b, &bench_op_nbody, out)) status = 1;
    weft_runtime_destroy(rt);
    free(m.devices);
    if (fclose(out) != 0) status = 1;
    return status;
}

/* ---- the parent --------------------------------------------------------------- */

static int keep_env(const char *e)
{
    static const char *const drop[] = {"POCL_MAX_PTHREAD_COUNT=", "WEFT_CPU_THREADS=", "WEFT_CACHE_DIR="};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (!strncmp(e, drop[i], strlen(drop[i]))) return 0;
    return 1;
}

static int run_coexec(bench_ctx *b)
{
    const bench_options *o = b->opt;
    if (weft_device_count(b->rt) == 0) {
        bench_progress("coexec: no OpenCL device opened: nothing to co-execute with");
        return 0;
    }
    char path[] = "/tmp/weft-bench-coexec-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        bench_progress("coexec: cannot make a temporary file: %s", strerror(errno));
        return -1;
    }
    close(fd);
    /* Its own folder for adaptive models: the device keeps its name with one
     * thread, and the models are keyed by name. */
    char cache[1100];
    const char *parent_cache = getenv("WEFT_CACHE_DIR");
    snprintf(cache, sizeof cache, "WEFT_CACHE_DIR=%s/coexec", parent_cache && *parent_cache ? parent_cache : "/tmp/weft-bench-coexec-cache");

    size_t nenv = 0;
    while (environ[nenv]) nenv++;
    char **envp = calloc(nenv + 4, sizeof *envp);
    if (!envp) {
        unlink(path);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (keep_env(environ[i])) envp[k++] = environ[i];
    envp[k++] = "POCL_MAX_PTHREAD_COUNT=1";
    envp[k++] = "WEFT_CPU_THREADS=1";
    envp[k++] = cache;
    envp[k] = NULL;

    char reps[32];
    snprintf(reps, sizeof reps, "%d", o->reps);
    char *argv[8];
    int a = 0;
    argv[a++] = "weft-bench";
    argv[a++] = "--coexec-child";
    argv[a++] = path;
    if (o->smoke) argv[a++] = "--smoke";
    else if (o->quick) argv[a++] = "--quick";
    argv[a++] = "--reps";
    argv[a++] = reps;
    argv[a] = NULL;

    bench_progress("coexec: a child process with one CPU worker and POCL_MAX_PTHREAD_COUNT=1");
    fflush(NULL);
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp);
    free(envp);
    if (rc != 0) {
        bench_progress("coexec: cannot start the child: %s", strerror(rc));
        unlink(path);
        return -1;
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    int status = WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
    if (status) bench_progress("coexec: the child failed (status %d)", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    FILE *f = fopen(path, "r");
    char line[2048];
    int got = 0;
    while (f && fgets(line, sizeof line, f)) {
        bench_record r;
        if (bench_record_load(line, &r) == 0 && bench_append_record(b, &r)) got++;
    }
    if (f) fclose(f);
    unlink(path);
    if (!got && !status) {
        bench_progress("coexec: the child wrote no records");
        status = -1;
    }
    return status;
}

const bench_workload bench_workload_coexec = {
    .name = "coexec",
    .description = "co-execution efficiency (EngineCL) of mandelbrot and nbody per policy: one CPU worker + "
                   "1-thread PoCL (a child process)",
    .size_help = "ignored (mandelbrot and nbody at their default sizes)",
    .run = run_coexec,
};

/* bench/workloads/coexec.c — workload "coexec": co-execution efficiency, as
 * EngineCL defines it, of the two compute-bound bundled operations
 * (mandelbrot, nbody):
 *
 *     efficiency = T(split) / (T(CPU alone) + T(device 0 alone) + ...)
 *
 * with T the throughput of the same operation, each place alone measured in
 * the same interleaved set as the split runs (one per policy). 1.0: the
 * places add up perfectly.
 *
 * On a CPU-only machine the device is PoCL on the same cores as the CPU
 * workers, so the places get one core each: ONE CPU worker
 * (WEFT_CPU_THREADS=1), a calling thread that waits apart instead of
 * working beside it (bench_caller_apart), and PoCL limited to one thread
 * (POCL_MAX_PTHREAD_COUNT=1). Both are read when the runtime and OpenCL
 * start, so the measurement runs in a child process — this program again,
 * with --coexec-child FILE and that environment — which writes its records
 * to FILE (the same program reads them back: plain struct copies). On a
 * machine with GPUs the same settings leave the GPUs as they are. The child
 * gets its own folder for adaptive speed models. */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workloads.h"

extern char **environ;

#define COEXEC_GOAL 0.95

/* The records of one set (no baselines: cpu, each device, each split): the
 * split's throughput against the sum of the places' throughputs alone. */
static void write_records(bench_ctx *b, const bench_op *w, const bench_op_set *s, double eff0, double eff1,
                          FILE *out)
{
    const bench_op_def *d = w->def;
    int nplaces = 0, threads = 0;
    char desc[96], alone[256] = "alone:", places[128] = "", t[32];
    /* The ideal split: the places' throughputs added up, as a time per op. */
    bench_measure ideal = {.verified = 1, .s.n = s->m[0].s.n};
    double inv_med = 0, inv_min = 0, inv_max = 0;
    for (int i = 0; i < s->n && s->cs[i].place != BENCH_SPLIT && s->cs[i].place != BENCH_MIX; i++, nplaces++) {
        const bench_measure *m = &s->m[i];
        int dv = s->cs[i].place;
        weft_device_info_t info = {.compute_units = 0};
        if (dv >= 0) weft_device_info(b->rt, dv, &info);
        ideal.verified &= m->verified;
        inv_med += 1.0 / m->s.median;
        inv_min += 1.0 / m->s.min;
        inv_max += 1.0 / m->s.max;
        if (m->s.n < ideal.s.n) ideal.s.n = m->s.n;
        threads += dv < 0 ? b->workers : (int)info.compute_units;
        size_t la = strlen(alone), lp = strlen(places);
        if (dv < 0) {
            snprintf(alone + la, sizeof alone - la, " cpu (%d worker%s) %s", b->workers, b->workers == 1 ? "" : "s",
                     bench_fmt_time(m->s.median, t, sizeof t));
            snprintf(places + lp, sizeof places - lp, "cpu(%d)", b->workers);
        } else {
            snprintf(alone + la, sizeof alone - la, ", dev %d (%u CU) %s", dv, info.compute_units,
                     bench_fmt_time(m->s.median, t, sizeof t));
            snprintf(places + lp, sizeof places - lp, " + dev%d(%u CU)", dv, info.compute_units);
        }
    }
    ideal.s.median = 1.0 / inv_med;
    ideal.s.min = 1.0 / inv_min;
    ideal.s.max = 1.0 / inv_max;
    int busy = !b->opt->smoke && (bench_busy_machine(b->machine, eff0) || bench_busy_machine(b->machine, eff1));
    char effs[96] = "";
    if (!b->opt->smoke)
        snprintf(effs, sizeof effs, "; effective cores %.2f before, %.2f after%s", eff0, eff1,
                 busy ? " (BUSY: efficiency unreliable)" : "");
    d->describe(w, desc, sizeof desc);
    /* Every place at once: the mix where the default set leaves a CPU device
     * out (on a CPU-only machine, all of them), else the default split. */
    int together = BENCH_SPLIT;
    for (int i = nplaces; i < s->n; i++)
        if (s->cs[i].place == BENCH_MIX) together = BENCH_MIX;
    for (int i = nplaces; i < s->n; i++) {
        if (s->cs[i].place != together) continue;
        int policy = s->cs[i].policy, aim = policy == WEFT_POLICY_GUIDED || policy == WEFT_POLICY_ADAPTIVE;
        bench_record r = {.size = w->size, .threads = threads, .subject = s->m[i], .base = ideal,
                          .goal = aim ? COEXEC_GOAL : 0, .goal_kind = 'e',
                          .eff_cores = b->opt->smoke ? NAN : fmin(eff0, eff1)};
        snprintf(r.workload, sizeof r.workload, "%s", d->name);
        snprintf(r.variant, sizeof r.variant, "coexec");
        snprintf(r.baseline, sizeof r.baseline, "sum-alone");
        bench_record_all_places(b, &r, places);
        bench_record_policy(&r, policy);
        bench_record_work(&r, d->work(w), d->unit);
        r.ratio = r.efficiency = r.subject.verified && r.base.verified ? r.base.s.median / r.subject.s.median : NAN;
        if (aim)
            snprintf(r.target, sizeof r.target, "co-execution efficiency >= 0.95 on %s (%s)", d->name,
                     bench_policy_name(policy));
        snprintf(r.note, sizeof r.note,
                 "%s; %s%s; efficiency = split throughput / sum of the throughputs alone (EngineCL); "
                 "WEFT_CPU_THREADS=1 POCL_MAX_PTHREAD_COUNT=1",
                 desc, alone, effs);
        fwrite(&r, sizeof r, 1, out);
    }
}

/* Measure one operation in the child. The efficiency needs both cores free:
 * effective cores are measured around it. */
static int measure(bench_ctx *b, const bench_op_def *d, FILE *out)
{
    if (weft_device_count(b->rt) == 0) {
        bench_progress("coexec: no OpenCL device: nothing to co-execute with");
        return 0;
    }
    double eff0 = b->opt->smoke ? NAN : bench_effective_cores(0.03);
    size_t n = bench_op_size(d, b->opt);
    bench_op_set s;
    char label[64];
    snprintf(label, sizeof label, "coexec/%s", d->name);
    bench_progress("coexec: %s: setting up size %zu", d->name, n);
    bench_op *w = bench_op_new(d, n, b);
    int status = !w || bench_op_measure(b, w, label, 0, 1, 0, &s);
    if (!status) {
        double eff1 = b->opt->smoke ? NAN : bench_effective_cores(0.03);
        write_records(b, w, &s, eff0, eff1, out);
        bench_op_set_free(&s);
    }
    bench_op_free(w);
    return status ? -1 : 0;
}

int bench_coexec_child(bench_ctx *b)
{
    FILE *out = fopen(b->opt->coexec_child, "wb");
    if (!out) {
        bench_progress("coexec: cannot write %s: %s", b->opt->coexec_child, strerror(errno));
        return 1;
    }
    int ndev = weft_device_count(b->rt);
    bench_caller_apart = 1;
    bench_progress("coexec: child process: %d CPU worker%s, %d device%s", b->workers, b->workers == 1 ? "" : "s",
                   ndev, ndev == 1 ? "" : "s");
    int status = measure(b, &bench_op_mandelbrot, out) | measure(b, &bench_op_nbody, out);
    return fclose(out) || status ? 1 : 0;
}

/* ---- the parent --------------------------------------------------------------- */

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
    /* The environment, less what the child sets; its own folder for adaptive
     * models (the device keeps its name with one thread, and the models are
     * keyed by name). */
    char cache[1100];
    const char *parent_cache = getenv("WEFT_CACHE_DIR");
    snprintf(cache, sizeof cache, "WEFT_CACHE_DIR=%s/coexec",
             parent_cache && *parent_cache ? parent_cache : "/tmp/weft-bench-coexec-cache");
    char *set[3] = {"POCL_MAX_PTHREAD_COUNT=1", "WEFT_CPU_THREADS=1", cache};
    size_t nenv = 0, k = 0;
    while (environ[nenv]) nenv++;
    char **envp = calloc(nenv + 4, sizeof *envp);
    for (size_t i = 0; envp && i < nenv; i++) {
        size_t j = 0;
        while (j < 3 && strncmp(environ[i], set[j], strcspn(set[j], "=") + 1) != 0) j++;
        if (j == 3) envp[k++] = environ[i];
    }
    for (size_t j = 0; envp && j < 3; j++) envp[k++] = set[j];
    char reps[32];
    snprintf(reps, sizeof reps, "%d", o->reps);
    char *argv[] = {"weft-bench", "--coexec-child", path, "--reps", reps,
                    o->smoke ? "--smoke" : o->quick ? "--quick" : NULL, NULL};

    bench_progress("coexec: a child process with one CPU worker and POCL_MAX_PTHREAD_COUNT=1");
    fflush(NULL);
    pid_t pid;
    int rc = envp ? posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp) : ENOMEM;
    free(envp);
    int ws = 0, status = -1, got = 0;
    if (rc != 0) bench_progress("coexec: cannot start the child: %s", strerror(rc));
    else {
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
        }
        status = WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
        if (status) bench_progress("coexec: the child failed (status %d)", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    }
    FILE *f = fopen(path, "rb");
    bench_record r;
    while (f && fread(&r, sizeof r, 1, f) == 1)
        if (bench_append_record(b, &r)) got++;
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

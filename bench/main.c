/* bench/main.c — weft-bench: the bundled benchmark program.
 *
 *   weft-bench [--quick] [--workload NAME[,NAME]] [--size N] [--reps N]
 *              [--json FILE] [--csv FILE] [--list] [--list-devices] [--smoke]
 *   weft-bench --mpi [--ranks LIST] [--quick] [...]   (bench/mpi/launch.c)
 *
 * Runs the workloads (workloads/), each measured by the harness (harness/)
 * against baselines of the same run. Progress goes to stderr; stdout holds
 * the run conditions, the table, the targets and the names of the files
 * written. bench/plot.py draws the JSON file. Exit status: 0; 1 when a
 * result failed its check or a workload could not run; 2 for a usage error.
 * (--coexec-child FILE is internal: see workloads/coexec.c.) */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_launch.h"
#include "workloads.h"

#ifndef WEFT_BENCH_WEFT_VERSION
#define WEFT_BENCH_WEFT_VERSION "unknown"
#endif

/* The workloads, in the order they run. */
static const bench_workload *const workloads[] = {
    &bench_workload_spawn,
    &bench_workload_scope,
    &bench_workload_launch,
    &(const bench_workload){.op = &bench_op_saxpy},
    &(const bench_workload){.op = &bench_op_sdot},
    &(const bench_workload){.op = &bench_op_mandelbrot},
    &(const bench_workload){.op = &bench_op_stencil5},
    &(const bench_workload){.op = &bench_op_histogram},
    &(const bench_workload){.op = &bench_op_nbody},
    &(const bench_workload){.op = &bench_op_sgemm},
    &bench_workload_coexec,
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static const char *name_of(const bench_workload *w) { return w->op ? w->op->name : w->name; }

static void usage(FILE *f)
{
    fputs("usage: weft-bench [options]\n"
          "  --quick          fewer and shorter timed blocks, smaller problems (scripts/bench.sh runs it)\n"
          "  --workload NAME  run only NAME (see --list); may be a comma list\n"
          "  --size N         problem size; its meaning depends on the workload (--list)\n"
          "  --reps N         timed blocks per case (default 21, quick 9)\n"
          "  --json FILE      write every measurement, and the timelines of a Mandelbrot split across\n"
          "                   the CPU and every device under each policy, as JSON (bench/plot.py draws it)\n"
          "  --csv FILE       write every measurement as CSV\n"
          "  --list           list the workloads and exit\n"
          "  --list-devices   list every OpenCL platform and device (weft_device_print_all) and exit\n"
          "  --smoke          a tiny run that only checks results (for the test suite)\n"
          "  --mpi            run mandelbrot, nbody, sgemm and a distributed stencil5 across 1, 2 and 4\n"
          "                   MPI ranks against one process (weft-bench-mpi under mpirun; --ranks LIST,\n"
          "                   --quick, --smoke, --reps, --csv and --workload are passed on)\n"
          "  --help           this text\n",
          f);
}

/* Is name in the comma list sel (NULL: all)? */
static int selected(const char *sel, const char *name, size_t n)
{
    for (const char *p = sel; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len + (p[len] == ',');
    }
    return !sel;
}

static int known_selection(const char *sel)
{
    for (const char *p = sel; *p;) {
        size_t len = strcspn(p, ","), i = 0;
        while (i < NWORKLOADS && !selected(name_of(workloads[i]), p, len)) i++;
        if (i == NWORKLOADS) {
            fprintf(stderr, "weft-bench: unknown workload \"%.*s\" (--list shows them)\n", (int)len, p);
            return 0;
        }
        p += len + (p[len] == ',');
    }
    return 1;
}

static int parse_count(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || errno || *end || v == 0 || v > max) {
        fprintf(stderr, "weft-bench: %s needs a whole number from 1 to %llu\n", opt, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Options into o; 0 to run, else the exit status + 1 (--help, --list, errors). */
static int parse_args(int argc, char **argv, bench_options *o)
{
    static const char *const valued[] = {"--workload", "--size", "--reps", "--json", "--csv", "--coexec-child"};
    unsigned long long reps = 0, size = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '='), *val = NULL;
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
        int takes_value = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) takes_value |= !strcmp(name, valued[k]);
        if (takes_value && !(val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL)) {
            fprintf(stderr, "weft-bench: %s needs a value\n", name);
            return 3;
        }
        if (!takes_value && eq) {
            fprintf(stderr, "weft-bench: %s takes no value\n", name);
            return 3;
        }
        if (!strcmp(name, "--quick")) o->quick = 1;
        else if (!strcmp(name, "--smoke")) o->smoke = 1;
        else if (!strcmp(name, "--workload")) o->workload = val;
        else if (!strcmp(name, "--json")) o->json_path = val;
        else if (!strcmp(name, "--csv")) o->csv_path = val;
        else if (!strcmp(name, "--coexec-child")) o->coexec_child = val;
        else if (!strcmp(name, "--size")) {
            if (parse_count(name, val, 1u << 30, &size)) return 3;
        } else if (!strcmp(name, "--reps")) {
            if (parse_count(name, val, 10000, &reps)) return 3;
        } else if (!strcmp(name, "--list")) {
            for (size_t k = 0; k < NWORKLOADS; k++) {
                const bench_workload *w = workloads[k];
                printf("%-10s %s\n           --size N: %s\n", name_of(w), w->op ? w->op->description : w->description,
                       w->op ? w->op->size_help : w->size_help);
            }
            return 1;
        } else if (!strcmp(name, "--list-devices")) {
            int n = weft_device_print_all(stdout);
            if (n < 0) printf("no OpenCL platform could be queried: %s: %s\n", weft_err_name(n), weft_last_error_message());
            return 1;
        } else if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "weft-bench: unknown option %s\n", a);
            usage(stderr);
            return 3;
        }
    }
    if (o->workload && !known_selection(o->workload)) return 3;
    o->size = (size_t)size;
    /* smoke: tiny; quick: 9 blocks of ~20 ms; full: 21 blocks of ~50 ms. */
    o->reps = reps ? (int)reps : o->smoke ? 1 : o->quick ? 9 : 21;
    o->warmup = o->smoke ? 0 : o->quick ? 1 : 2;
    o->block_s = o->smoke ? 0.001 : o->quick ? 0.02 : 0.05;
    o->settle_s = o->smoke ? 0.0 : o->quick ? 0.03 : 0.05;
    return 0;
}

/* A folder of adaptive speed models of this run only (unless the user named
 * one in WEFT_CACHE_DIR): the adaptive cases calibrate in this run, and a run
 * leaves the user's models alone. */
static void remove_models(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0 && depth > 0) remove_models(path, depth - 1);
    }
    closedir(d);
    rmdir(dir);
}

/* Run the selected workloads, each between two measures of effective cores. */
static int run_workloads(bench_ctx *b)
{
    const bench_options *o = b->opt;
    int status = 0;
    for (size_t i = 0; i < NWORKLOADS; i++) {
        const bench_workload *w = workloads[i];
        if (!selected(o->workload, name_of(w), strlen(name_of(w)))) continue;
        bench_progress("workload %s", name_of(w));
        size_t first = b->nrecords;
        double e0 = o->smoke ? NAN : bench_effective_cores(0.02);
        if (w->op ? bench_op_workload(b, w->op) : w->run(b)) {
            fprintf(stderr, "weft-bench: workload %s could not run\n", name_of(w));
            status = 1;
        }
        double e = o->smoke ? NAN : fmin(e0, bench_effective_cores(0.02));
        /* The co-execution child measured its own, around each operation. */
        for (size_t r = first; r < b->nrecords && !o->smoke; r++)
            if (!isfinite(b->records[r].eff_cores) || b->records[r].eff_cores > e) b->records[r].eff_cores = e;
    }
    return status;
}

static int write_file(const char *path, int (*writer)(const char *, const bench_ctx *), const bench_ctx *b)
{
    if (!path) return 0;
    if (writer(path, b) == 0) {
        printf("wrote %s\n", path);
        return 0;
    }
    fprintf(stderr, "weft-bench: could not write %s: %s\n", path, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    /* Before anything may load OpenBLAS (it reads the variable once). */
    bench_machine m = {.weft_version = WEFT_BENCH_WEFT_VERSION};
    bench_openblas_env_setup(&m.openblas, argv);
    /* --mpi: the same operations across MPI ranks, by the companion program. */
    if (bench_mpi_is_requested(argc, argv)) return bench_mpi_run(argc, argv);
    bench_options o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc - 1;
    /* The co-execution child (workloads/coexec.c) measures, writes its
     * records to a file, and reports nothing. */
    int child = o.coexec_child != NULL;
    char cache_dir[64] = "";
    const char *user_cache = getenv("WEFT_CACHE_DIR");
    if (!child && !(user_cache && *user_cache)) {
        snprintf(cache_dir, sizeof cache_dir, "/tmp/weft-bench-models-XXXXXX");
        if (!mkdtemp(cache_dir) || setenv("WEFT_CACHE_DIR", cache_dir, 1) != 0) cache_dir[0] = '\0';
    }
    bench_machine_probe(&m);
    double spin_s = o.smoke ? 0.002 : o.quick ? 0.05 : 0.1;
    if (!child) {
        bench_progress("measuring effective cores (start)");
        m.eff_cores_start = bench_effective_cores(spin_s);
    }
    weft_runtime_t *rt;
    if ((rc = weft_runtime_create(NULL, &rt)) != 0) {
        fprintf(stderr, "weft-bench: weft_runtime_create: %s: %s\n", weft_err_name(rc), weft_last_error_message());
        if (cache_dir[0]) remove_models(cache_dir, 1);
        return 1;
    }
    m.workers = weft_runtime_cpu_threads(rt);
    /* The caller works too while it waits in a join, a scope or a parallel
     * op: weft uses one thread more than its pool has workers. */
    m.threads = m.workers + 1;
    bench_machine_devices(&m, rt);
    bench_ctx b = {.opt = &o, .machine = &m, .rt = rt, .workers = m.workers, .threads = m.threads};
    if (child) {
        rc = bench_coexec_child(&b);
        weft_runtime_destroy(rt);
        free(m.devices);
        return rc;
    }
    bench_print_conditions(stdout, &b);

    int status = run_workloads(&b);
    /* The timelines, for the JSON file: after every measurement. */
    if (o.json_path && bench_timelines_run(&b)) status = 1;
    if (b.rt_sep) weft_runtime_destroy(b.rt_sep);
    b.rt_sep = NULL;
    weft_runtime_destroy(rt);
    b.rt = NULL;
    bench_progress("measuring effective cores (end)");
    m.eff_cores_end = bench_effective_cores(spin_s);

    bench_print_table(stdout, &b);
    bench_print_targets(stdout, &b);
    for (int i = 0; i < b.ntimelines; i++) bench_print_timeline(stdout, &b.timelines[i]);
    printf("\neffective cores: %.2f at start, %.2f at end%s\n", m.eff_cores_start, m.eff_cores_end,
           bench_busy_machine(&m, m.eff_cores_start) || bench_busy_machine(&m, m.eff_cores_end)
               ? " (WARNING: the machine was busy; rerun for trustworthy ratios)"
               : "");
    if (b.failures) {
        printf("%d result(s) FAILED their check: their times are not reported\n", b.failures);
        status = 1;
    }
    status |= write_file(o.json_path, bench_write_json, &b) | write_file(o.csv_path, bench_write_csv, &b);
    bench_timelines_free(&b);
    if (cache_dir[0]) remove_models(cache_dir, 1);
    free(b.records);
    free(m.devices);
    return status;
}

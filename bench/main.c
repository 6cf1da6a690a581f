/* bench/main.c — weft-bench: the bundled benchmark program.
 *
 *   weft-bench [--quick] [--workload NAME] [--size N] [--reps N]
 *              [--json FILE] [--csv FILE] [--svg FILE] [--list] [--list-devices]
 *
 * (--coexec-child FILE is internal: the co-execution workload runs this
 * program again with it, see coexec.c.)
 *
 * Progress goes to stderr; stdout holds the run conditions, the table and the
 * names of the files written. Exit status: 0; 1 when a result failed its check
 * or a workload could not run; 2 for a usage error. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ops.h"
#include "report.h"
#include "workloads.h"

#ifndef WEFT_BENCH_WEFT_VERSION
#define WEFT_BENCH_WEFT_VERSION "unknown"
#endif

/* The workload registry, in the order they run. */
static const bench_workload *const bench_workloads[] = {
    &bench_workload_spawn,
    &bench_workload_scope,
    &bench_workload_launch,
    &bench_workload_saxpy,
    &bench_workload_sdot,
    &bench_workload_mandelbrot,
    &bench_workload_stencil5,
    &bench_workload_histogram,
    &bench_workload_nbody,
    &bench_workload_sgemm,
    &bench_workload_coexec,
};
#define NWORKLOADS (sizeof bench_workloads / sizeof bench_workloads[0])

static void usage(FILE *f)
{
    fputs("usage: weft-bench [options]\n"
          "  --quick          fewer and shorter timed blocks, smaller problems (scripts/bench.sh runs it)\n"
          "  --workload NAME  run only NAME (see --list); may be repeated as a comma list\n"
          "  --size N         problem size; its meaning depends on the workload (--list)\n"
          "  --reps N         timed blocks per case (default 21, quick 9)\n"
          "  --json FILE      write every measurement as JSON\n"
          "  --csv FILE       write every measurement as CSV\n"
          "  --svg FILE       draw throughput per placement for each workload, co-execution\n"
          "                   efficiency, and the timelines of a Mandelbrot split across the CPU\n"
          "                   and every device under each policy\n"
          "  --list           list the workloads and exit\n"
          "  --list-devices   list every OpenCL platform and device (weft_device_print_all) and exit\n"
          "  --smoke          a tiny run that only checks results (for the test suite)\n"
          "  --help           this text\n",
          f);
}

static const char *wl_description(const bench_workload *w)
{
    return w->description ? w->description : w->def ? w->def->description : "";
}

static const char *wl_size_help(const bench_workload *w)
{
    return w->size_help ? w->size_help : w->def ? w->def->size_help : "";
}

static void list_workloads(void)
{
    for (size_t i = 0; i < NWORKLOADS; i++)
        printf("%-10s %s\n           --size N: %s\n", bench_workloads[i]->name, wl_description(bench_workloads[i]),
               wl_size_help(bench_workloads[i]));
}

/* A folder of adaptive speed models of this run only (unless the user named
 * one in WEFT_CACHE_DIR): the adaptive cases calibrate in this run, and a run
 * leaves the user's models alone. */
static char cache_dir[64];

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

static int parse_count(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *s == '-' || errno || *end || v == 0 || v > max) {
        fprintf(stderr, "weft-bench: %s needs a whole number from 1 to %llu\n", opt, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Is workload name in the comma list sel (NULL: all)? */
static int selected(const char *sel, const char *name)
{
    if (!sel) return 1;
    size_t n = strlen(name);
    for (const char *p = sel; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static int known_selection(const char *sel)
{
    for (const char *p = sel; *p;) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (size_t i = 0; i < NWORKLOADS; i++)
            if (strlen(bench_workloads[i]->name) == len && strncmp(p, bench_workloads[i]->name, len) == 0)
                found = 1;
        if (!found) {
            fprintf(stderr, "weft-bench: unknown workload \"%.*s\" (--list shows them)\n", (int)len, p);
            return 0;
        }
        p += len;
        if (*p == ',') p++;
    }
    return 1;
}

int main(int argc, char **argv)
{
    /* Before anything may load OpenBLAS (it reads the variable once). */
    bench_openblas_env ob;
    bench_openblas_env_setup(&ob, argv);

    bench_options o = {0};
    int want_list = 0, want_devices = 0;
    unsigned long long reps = 0, size = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        char name[32];
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name) nlen = sizeof name - 1;
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        int takes_value = !strcmp(name, "--workload") || !strcmp(name, "--size") ||
                          !strcmp(name, "--reps") || !strcmp(name, "--json") || !strcmp(name, "--csv") ||
                          !strcmp(name, "--svg") || !strcmp(name, "--coexec-child");
        if (takes_value) {
            val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val) {
                fprintf(stderr, "weft-bench: %s needs a value\n", name);
                return 2;
            }
        } else if (eq) {
            fprintf(stderr, "weft-bench: %s takes no value\n", name);
            return 2;
        }
        if (!strcmp(name, "--quick")) o.quick = 1;
        else if (!strcmp(name, "--smoke")) o.smoke = 1;
        else if (!strcmp(name, "--list")) want_list = 1;
        else if (!strcmp(name, "--list-devices")) want_devices = 1;
        else if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(name, "--workload")) o.workload = val;
        else if (!strcmp(name, "--json")) o.json_path = val;
        else if (!strcmp(name, "--csv")) o.csv_path = val;
        else if (!strcmp(name, "--svg")) o.svg_path = val;
        else if (!strcmp(name, "--coexec-child")) o.coexec_child = val;
        else if (!strcmp(name, "--size")) {
            if (parse_count("--size", val, 1u << 30, &size)) return 2;
        } else if (!strcmp(name, "--reps")) {
            if (parse_count("--reps", val, 10000, &reps)) return 2;
        } else {
            fprintf(stderr, "weft-bench: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (want_list) {
        list_workloads();
        return 0;
    }
    if (want_devices) {
        int n = weft_device_print_all(stdout);
        if (n < 0) printf("no OpenCL platform could be queried: %s: %s\n", weft_err_name(n), weft_last_error_message());
        return 0;
    }
    if (o.workload && !known_selection(o.workload)) return 2;

    o.size = (size_t)size;
    if (o.smoke) {
        o.reps = 1;
        o.warmup = 0;
        o.block_s = 0.001;
        o.settle_s = 0.0;
    } else if (o.quick) {
        o.reps = 9;
        o.warmup = 1;
        o.block_s = 0.02;
        o.settle_s = 0.03;
    } else {
        o.reps = 21;
        o.warmup = 2;
        o.block_s = 0.05;
        o.settle_s = 0.05;
    }
    if (reps) o.reps = (int)reps;
    if (o.coexec_child) return bench_coexec_child(&o);

    const char *user_cache = getenv("WEFT_CACHE_DIR");
    if (!(user_cache && *user_cache)) {
        snprintf(cache_dir, sizeof cache_dir, "/tmp/weft-bench-models-XXXXXX");
        if (mkdtemp(cache_dir) && setenv("WEFT_CACHE_DIR", cache_dir, 1) == 0) {
        } else {
            cache_dir[0] = '\0';
        }
    }

    bench_machine m = {0};
    m.weft_version = WEFT_BENCH_WEFT_VERSION;
    m.openblas = ob;
    bench_machine_probe(&m);
    bench_progress("measuring effective cores (start)");
    m.eff_cores_start = bench_effective_cores(o.smoke ? 0.002 : o.quick ? 0.05 : 0.1);

    weft_runtime_t *rt;
    int rc = weft_runtime_create(NULL, &rt);
    if (rc) {
        fprintf(stderr, "weft-bench: weft_runtime_create: %s: %s\n", weft_err_name(rc),
                weft_last_error_message());
        if (cache_dir[0]) remove_models(cache_dir, 1);
        return 1;
    }
    m.workers = weft_runtime_cpu_threads(rt);
    bench_machine_devices(&m, rt);

    bench_ctx b = {.opt = &o, .machine = &m, .rt = rt, .workers = m.workers};
    bench_print_conditions(stdout, &b);

    int status = 0, svg_written = 0, svg_errno = 0;
    for (size_t i = 0; i < NWORKLOADS; i++) {
        const bench_workload *w = bench_workloads[i];
        if (!selected(o.workload, w->name)) continue;
        bench_progress("workload %s", w->name);
        /* Effective cores just before and after: were other processes running? */
        size_t first = b.nrecords;
        double e0 = o.smoke ? NAN : bench_effective_cores(0.02);
        if (w->run(&b)) {
            fprintf(stderr, "weft-bench: workload %s could not run\n", w->name);
            status = 1;
        }
        double e1 = o.smoke ? NAN : bench_effective_cores(0.02);
        for (size_t r = first; r < b.nrecords && !o.smoke; r++) {
            double e = e0 < e1 ? e0 : e1;
            /* The co-execution child measured its own, around each operation. */
            if (!isfinite(b.records[r].eff_cores) || b.records[r].eff_cores > e) b.records[r].eff_cores = e;
        }
    }
    /* The timelines: one split run per policy, traced, after every measurement. */
    bench_timeline tl[BENCH_TIMELINES];
    memset(tl, 0, sizeof tl);
    int have_tl = 0;
    if (o.svg_path && weft_device_count(rt) > 0) {
        static const int kinds[BENCH_TIMELINES] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                                   WEFT_POLICY_ADAPTIVE};
        bench_progress("timelines: a traced weft_k_mandelbrot across the CPU and every device, per policy");
        for (int i = 0; i < BENCH_TIMELINES; i++) {
            if (bench_timeline_run(&b, &tl[i], kinds[i]) == 0) have_tl++;
            else status = 1;
        }
    } else if (o.svg_path) {
        bench_progress("timelines: no OpenCL device opened: no split run to draw");
    }
    weft_runtime_destroy(rt);
    b.rt = NULL;
    for (int i = 0; i < BENCH_TIMELINES; i++)
        bench_timeline_cleanup(&tl[i]); /* after destroy, which writes the last trace once more */

    bench_progress("measuring effective cores (end)");
    m.eff_cores_end = bench_effective_cores(o.smoke ? 0.002 : o.quick ? 0.05 : 0.1);
    if (o.svg_path) {
        if (bench_write_svg(o.svg_path, &b, tl, BENCH_TIMELINES) == 0) svg_written = 1;
        else svg_errno = errno;
    }

    bench_print_table(stdout, &b);
    bench_print_targets(stdout, &b);
    for (int i = 0; i < BENCH_TIMELINES; i++)
        if (tl[i].nspans) bench_timeline_print(stdout, &tl[i]);
    printf("\neffective cores: %.2f at start, %.2f at end%s\n", m.eff_cores_start, m.eff_cores_end,
           bench_busy_machine(&m, m.eff_cores_start) || bench_busy_machine(&m, m.eff_cores_end)
               ? " (WARNING: the machine was busy; rerun for trustworthy ratios)"
               : "");
    if (b.failures) {
        printf("%d result(s) FAILED their check: their times are not reported\n", b.failures);
        status = 1;
    }
    if (o.json_path) {
        if (bench_write_json(o.json_path, &b) == 0) printf("wrote %s\n", o.json_path);
        else {
            fprintf(stderr, "weft-bench: could not write %s: %s\n", o.json_path, strerror(errno));
            status = 1;
        }
    }
    if (o.svg_path) {
        if (svg_written) printf("wrote %s%s\n", o.svg_path, have_tl ? "" : " (without timelines: no split run)");
        else {
            fprintf(stderr, "weft-bench: could not write %s: %s\n", o.svg_path, strerror(svg_errno));
            status = 1;
        }
    }
    if (o.csv_path) {
        if (bench_write_csv(o.csv_path, &b) == 0) printf("wrote %s\n", o.csv_path);
        else {
            fprintf(stderr, "weft-bench: could not write %s: %s\n", o.csv_path, strerror(errno));
            status = 1;
        }
    }
    for (int i = 0; i < BENCH_TIMELINES; i++) bench_timeline_free(&tl[i]);
    if (cache_dir[0]) remove_models(cache_dir, 1);
    free(b.records);
    free(m.devices);
    return status;
}

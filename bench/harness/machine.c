/* bench/harness/machine.c — the run conditions: CPU, compiler, devices,
 * libraries and effective cores, printed first and written into the files. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void cpu_model(char *buf, size_t cap)
{
    /* x86: "model name"; elsewhere "Model", "Hardware", ... at best: the first key found wins. */
    static const char *const keys[] = {"model name", "Model", "Hardware", "cpu model", "Processor"};
    char line[512];
    int best = (int)(sizeof keys / sizeof keys[0]);
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        for (int k = 0; colon && k < best; k++) {
            size_t n = strlen(keys[k]);
            if (strncmp(line, keys[k], n) != 0 || line + n + strspn(line + n, " \t") != colon) continue;
            snprintf(buf, cap, "%s", colon + 1 + strspn(colon + 1, " \t"));
            buf[strcspn(buf, "\n")] = '\0';
            best = k;
        }
    }
    if (f) fclose(f);
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
const char bench_openblas_installed[] = WEFT_BENCH_OPENBLAS_INSTALLED;
const char bench_clblast_installed[] = WEFT_BENCH_CLBLAST_INSTALLED;

static int describe_device(weft_runtime_t *rt, int index, bench_device_desc *d)
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
        if (describe_device(rt, i, &m->devices[m->ndevices]) == 0) m->ndevices++;
}

const char *bench_device_type_name(weft_device_type_t t)
{
    switch (t) {
    case WEFT_DEVICE_CPU: return "CPU";
    case WEFT_DEVICE_GPU: return "GPU";
    case WEFT_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
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
    fprintf(f, "runtime:   %d CPU workers, %d CPU threads weft uses (the workers + the calling thread; the OpenMP and "
               "oneTBB baselines use as many)%s%s%s%s\n",
            m->workers, m->threads,
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
                bench_device_type_name(d.info.type), d.info.compute_units,
                (double)d.info.global_mem_bytes / (1024.0 * 1024.0 * 1024.0),
                d.info.unified_memory ? "unified (zero-copy)" : "separate (copies)");
        fprintf(f, "      platform %s, %s; device %s; driver %s\n", d.info.platform,
                d.platform_version[0] ? d.platform_version : "?", d.info.version, d.driver[0] ? d.driver : "?");
        if (d.pocl[0] && !pocl[0]) snprintf(pocl, sizeof pocl, "%s", d.pocl);
    }
    const bench_openblas_env *ob = &m->openblas;
    fprintf(f, "libraries: weft %s; %s", m->weft_version, pocl[0] ? pocl : "PoCL not in use");
    fprintf(f, "; %s (core %s); %s\n", ob->linked, ob->corename,
            bench_clblast_installed[0] ? bench_clblast_installed : "CLBlast (version unknown)");
    bench_openblas_env_print(f, ob);
    const char *cache = getenv("WEFT_CACHE_DIR");
    fprintf(f, "method:    per-op median of %d timed blocks (launch: at least %d) of ~%.0f ms, after %d warm-up "
               "block%s; a workload's cases (weft on each placement and\n"
               "           policy, and its baselines) are timed in interleaved rounds; every block's result is checked "
               "before its time counts;\n"
               "           the CPU alone and splits run each policy, a device alone the default (guided); voluntary context "
               "switches (getrusage,\n"
               "           the whole process) counted over the timed blocks; adaptive speed models in %s\n\n",
            o->reps, o->smoke ? o->reps : o->reps > BENCH_LAUNCH_MIN_REPS ? o->reps : BENCH_LAUNCH_MIN_REPS,
            o->block_s * 1e3, o->warmup, o->warmup == 1 ? "" : "s", cache && *cache ? cache : "the default folder");
    fflush(f);
}

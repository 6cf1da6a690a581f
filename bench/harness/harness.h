/* bench/harness/harness.h — the measuring side of weft-bench: timed blocks
 * and their medians, the run conditions, records and their output.
 *
 * A workload measures sets of cases: weft on some placement, and baselines
 * doing the same work another way (pthreads, OpenMP, raw OpenCL, ...). Each
 * case is a body that runs `iters` iterations and checks its own result. The
 * harness sizes a block of iterations to the target block time, warms up,
 * then times blocks of every case of the set in interleaved rounds and keeps
 * per-op medians with min and max. Each comparison becomes a record: a line
 * of the table, an object of the JSON file, a line of the CSV file. */
#ifndef WEFT_BENCH_HARNESS_H
#define WEFT_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/opencl.h"
#include "weft/weft.h"

/* Timed blocks the launch workload takes at least (outside smoke runs): its
 * saxpy blocks are one op of tens of ms, whose medians need more samples. */
#define BENCH_LAUNCH_MIN_REPS 15
/* Voluntary context switches per op (the whole process) that weft's spawn
 * + join, scope and CPU parallel_for rows aim to stay below. */
#define BENCH_SWITCHES_GOAL 0.05
/* The policies the CPU alone and a split run, in order; a device alone runs the default. */
#define BENCH_NPOLICIES 4
extern const int bench_policies[BENCH_NPOLICIES];
#define BENCH_SINGLE_POLICY WEFT_POLICY_GUIDED

typedef struct bench_ctx bench_ctx;

/* Command-line settings (main.c fills them). */
typedef struct bench_options {
    int quick;                /* --quick: fewer, shorter blocks */
    int smoke;                /* --smoke: tiny run for the test suite */
    const char *coexec_child; /* --coexec-child FILE (internal, coexec.c) */
    const char *workload;     /* --workload NAME[,NAME], NULL for all */
    size_t size;              /* --size N, 0: each workload's default */
    int reps;                 /* timed blocks per case */
    int warmup;               /* untimed blocks per case before timing */
    double block_s;           /* target duration of one block */
    double settle_s;          /* pause between blocks (lets spinning threads park) */
    const char *json_path;    /* --json FILE or NULL (records and timelines) */
    const char *csv_path;     /* --csv FILE or NULL */
} bench_options;

/* ---- run conditions (machine.c, openblas_env.c) ---------------------------- */

/* OPENBLAS_CORETYPE. OpenBLAS 0.3.21 (Debian 12) built with DYNAMIC_ARCH
 * takes CPUs newer than its table (recent Xeons) for "Prescott", SSE3 kernels
 * about 6x slower at GEMM, unless the variable names the core; it reads it
 * once, in its load-time constructor. */
typedef struct bench_openblas_env {
    int found;             /* OPENBLAS_CORETYPE was in the environment */
    char found_value[64];  /* its value then */
    char detected[32];     /* the core this CPU should use ("" off x86-64) */
    char why[96];          /* what chose it: "avx512f in /proc/cpuinfo flags" */
    int set_here;          /* weft-bench set it (it was unset) */
    int reexeced;          /* weft-bench re-ran itself so a linked OpenBLAS sees it */
    int smoke;             /* --smoke: no re-run (results only) */
    char linked[160];      /* openblas_get_config(): the OpenBLAS linked */
    char corename[32];     /* openblas_get_corename(): the core OpenBLAS uses */
} bench_openblas_env;

/* Call first in main: detects the core from /proc/cpuinfo and, when the
 * variable is unset, sets it and re-executes /proc/self/exe once (OpenBLAS
 * is linked: its constructor already ran). Never fails; says what it did. */
void bench_openblas_env_setup(bench_openblas_env *e, char **argv);
void bench_openblas_env_print(FILE *f, const bench_openblas_env *e);

typedef struct bench_device_desc {
    weft_device_info_t info;
    char platform_version[192]; /* CL_PLATFORM_VERSION */
    char driver[96];            /* CL_DRIVER_VERSION */
    char pocl[64];              /* "PoCL 3.1+debian" when the platform is PoCL, else "" */
} bench_device_desc;

typedef struct bench_machine {
    char cpu_model[160];
    int online_cpus;
    int usable_cpus;             /* CPUs in this process's affinity mask */
    double eff_cores_start;      /* 2 * t(1 thread) / t(2 threads), same work each */
    double eff_cores_end;
    char compiler[128];
    char hostname[128];
    const char *weft_version;
    int workers;                 /* CPU workers of the weft runtime (weft_runtime_cpu_threads) */
    int threads;                 /* CPU threads weft uses: the workers + the calling thread,
                                    which works while it waits; the CPU baselines use as many */
    bench_openblas_env openblas;
    bench_device_desc *devices;  /* the runtime's devices, described at start */
    int ndevices;
} bench_machine;

void bench_machine_probe(bench_machine *m);
/* Describe rt's devices into m->devices (outlives the runtime). */
void bench_machine_devices(bench_machine *m, weft_runtime_t *rt);
/* Effective parallel cores: a fixed spin loop on 1 thread, then on 2 at
 * once; 2 * t1 / t2 (about 2.0 on two free cores). */
double bench_effective_cores(double target_s);
/* 1 when eff_cores is below 85% of what the usable CPUs allow (at most 2),
 * or could not be measured: something else was using the CPUs. */
int bench_busy_machine(const bench_machine *m, double eff_cores);
const char *bench_device_type_name(weft_device_type_t t);
void bench_print_conditions(FILE *f, const bench_ctx *b);
/* The libraries' versions as built against (CMake passes them). */
extern const char bench_openblas_installed[], bench_clblast_installed[];

/* ---- measuring (measure.c) ------------------------------------------------ */

typedef struct bench_stats {
    double median, min, max; /* seconds per op */
    int n;                   /* blocks timed */
} bench_stats;

/* Run iters iterations; 0 when the result checked out, else -1. */
typedef int (*bench_body_fn)(void *ctx, uint64_t iters);

typedef struct bench_case {
    const char *name;        /* "weft", "pthread", "openmp", ... */
    bench_body_fn body;
    void *ctx;
    double ops_per_iter;     /* ops one iteration does: times are per op */
    /* Optional: called after every block, outside the timed span, to check
     * (and reset) what the block computed when that costs too much to sit
     * inside it. 0: right; -1: wrong. */
    bench_body_fn check;
} bench_case;

typedef struct bench_measure {
    bench_stats s;
    int verified;            /* every block's result checked out */
    int missing;             /* not measured: the case is not built in (a baseline whose library
                                was not found); not a failure */
    uint64_t iters;          /* iterations per timed block */
    double switches_per_op;  /* voluntary context switches of the whole process (getrusage
                                RUSAGE_SELF, every thread) over the timed blocks, per op */
} bench_measure;

double bench_now(void);      /* monotonic clock, seconds */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void bench_progress(const char *fmt, ...); /* "weft-bench: ..." on stderr */

/* Measure n cases, their blocks interleaved: each timed round runs every
 * case once, the order rotating from round to round, so that drift and the
 * after-effects of one case's threads fall on all alike. A case whose body
 * or check fails is marked unverified. */
void bench_measure_set(bench_ctx *b, const char *label, const bench_case *cases, int n, bench_measure *out);

/* ---- records (record.c) --------------------------------------------------- */

typedef struct bench_record {
    char workload[32];
    char variant[48];        /* "case": loop, batch, cpu, device, split, coexec, ... */
    char placement[128];     /* "cpu", a device's name, "all: cpu + N devices", ... */
    char device[256];        /* the CPU model for "cpu", else the device name(s) */
    int device_index;        /* weft's device number, -1 for the CPU workers or several */
    char policy[16];         /* scheduling policy, "-" when none */
    size_t size;
    int threads;             /* CPU threads weft uses (workers + caller), or compute units, or their sum */
    bench_measure subject;   /* weft */
    double work_per_op;      /* units of work one op does */
    double throughput;       /* work per second at the median */
    double base_throughput;
    char unit[24];           /* "tasks/s", "GB/s", ... */
    char baseline[32];
    bench_measure base;
    double ratio;            /* baseline median / weft median: > 1, weft is faster */
    double goal;             /* ratio aimed at (0: none) */
    double switches_goal;    /* weft's voluntary context switches per op kept below this (0: none) */
    char target[128];        /* what the goal stands for */
    char goal_kind;          /* 't' weft time <= baseline's / goal, 'x' ratio >= goal,
                                'e' efficiency >= goal */
    double efficiency;       /* co-execution efficiency, NAN when not measured */
    double eff_cores;        /* effective cores around the record's workload (NAN: not measured) */
    char note[512];          /* how it was measured, when the table cannot say */
} bench_record;

/* Place ids of trace chunks: 0 the CPU, 1 + n device n. */
#define BENCH_MAX_PLACE_ID 64

/* One traced split run: the chunks weft recorded (weft_trace_chunks). */
typedef struct bench_timeline {
    char title[256];
    char policy[16];
    size_t n;                   /* split indices (rows) of the run */
    double wall_ms;             /* weft_k_run start to return */
    weft_trace_chunk_t *chunks; /* in the order they ended */
    size_t nchunks;
} bench_timeline;

struct bench_ctx {
    const bench_options *opt;
    bench_machine *machine;
    weft_runtime_t *rt;
    weft_runtime_t *rt_sep;  /* separate_memory = 1: the sepmem rows' runtime, made on first use */
    int rt_sep_failed;       /* ... and it could not be made */
    int workers;             /* weft's CPU workers */
    int threads;             /* CPU threads weft uses (workers + caller), and its CPU baselines */
    bench_record *records;
    size_t nrecords, cap;
    int failures;            /* unverified results, failed cases */
    int min_reps;            /* a workload may ask for more timed blocks than --reps (0: no) */
    int max_reps;            /* ... or fewer (0: no cap) */
    bench_timeline timelines[BENCH_NPOLICIES];
    int ntimelines;
};

/* Append a record of weft (subject) against base; counts unverified results
 * as failures. goal: the ratio aimed at, 0 for none. NULL: no memory. */
bench_record *bench_add_record(bench_ctx *b, const char *workload, const char *variant, size_t size, int threads,
                               const bench_measure *subject, const char *unit, const char *baseline,
                               const bench_measure *base, double goal);
/* Append a copy of r (failures counted as bench_add_record does). */
bench_record *bench_append_record(bench_ctx *b, const bench_record *r);
void bench_record_policy(bench_record *r, int policy_kind);
/* Ran on one device: placement and device = its name. */
void bench_record_place(bench_record *r, const char *device_name, int device_index);
/* Ran on every place: device = the CPU model and every device's name. */
void bench_record_all_places(const bench_ctx *b, bench_record *r, const char *placement);
/* Throughput in `unit`s: each op does work_per_op of them. */
void bench_record_work(bench_record *r, double work_per_op, const char *unit);
int bench_record_busy(const bench_ctx *b, const bench_record *r);
int bench_goal_met(const bench_record *r);
/* Whether weft's context switches per op stayed below r->switches_goal (0 when over or unmeasured). */
int bench_switches_goal_met(const bench_record *r);
/* A baseline that is not built in: its measure, and the row's note says why. */
bench_measure bench_missing_measure(void);
/* Voluntary context switches per op as the table shows them: "0.003", "-". */
const char *bench_fmt_switches(const bench_measure *m, char *buf, size_t cap);
const char *bench_policy_name(int kind);
const char *bench_fmt_time(double s, char *buf, size_t cap); /* "1.23 us" */
const char *bench_fmt_si(double v, char *buf, size_t cap);   /* "12.3k" */

/* ---- output (report.c, files.c) ------------------------------------------- */

void bench_print_table(FILE *f, const bench_ctx *b);
void bench_print_targets(FILE *f, const bench_ctx *b);
/* One line per place of a timeline: chunks, rows, busy time. */
void bench_print_timeline(FILE *f, const bench_timeline *tl);
/* 0, or -1 with errno set. */
int bench_write_json(const char *path, const bench_ctx *b);
int bench_write_csv(const char *path, const bench_ctx *b);

#endif

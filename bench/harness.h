/* bench/harness.h — the common harness of weft-bench: timing, statistics,
 * baselines measured in the same run, run conditions, table and file output.
 *
 * A workload measures pairs of cases: a weft case and a baseline doing the
 * same work another way (pthreads, OpenMP, ...). Each case is a body that runs
 * `iters` iterations and checks its own result. The harness sizes a block of
 * iterations to the target block time, warms up, then times blocks of the two
 * cases alternately, and reports per-op medians with min and max. */
#ifndef WEFT_BENCH_HARNESS_H
#define WEFT_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "openblas_env.h"
#include "weft/weft.h"
#include "weft/opencl.h"

/* Timed blocks the launch workload takes at least (outside smoke runs): its
 * saxpy blocks are one op of tens of ms, whose medians need more samples. */
#define BENCH_LAUNCH_MIN_REPS 15

/* Command-line settings (main.c fills them). */
typedef struct bench_options {
    int quick;              /* --quick: fewer, shorter blocks */
    const char *coexec_child; /* --coexec-child FILE (internal): measure co-execution, write records to FILE */
    int smoke;              /* --smoke: tiny run for the test suite */
    const char *workload;   /* --workload NAME, NULL for all */
    size_t size;            /* --size N, 0: each workload's default */
    int reps;               /* timed blocks per case */
    int warmup;             /* untimed blocks per case before timing */
    double block_s;         /* target duration of one block */
    double settle_s;        /* pause between blocks (lets spinning threads park) */
    const char *json_path;  /* --json FILE or NULL */
    const char *csv_path;   /* --csv FILE or NULL */
    const char *svg_path;   /* --svg FILE or NULL: charts, and a split run's timeline */
} bench_options;

/* What the run conditions say of one device. */
typedef struct bench_device_desc {
    weft_device_info_t info;
    char platform_version[192]; /* CL_PLATFORM_VERSION */
    char driver[96];            /* CL_DRIVER_VERSION */
    char pocl[64];              /* "PoCL 3.1+debian" when the platform is PoCL, else "" */
} bench_device_desc;
int bench_device_describe(weft_runtime_t *rt, int index, bench_device_desc *d);

/* Run conditions, printed first and written with the results. */
typedef struct bench_machine {
    char cpu_model[160];
    int online_cpus;
    int usable_cpus;        /* CPUs in this process's affinity mask */
    double eff_cores_start; /* 2 * t(1 thread) / t(2 threads), same work each */
    double eff_cores_end;
    char compiler[128];
    char hostname[128];
    const char *weft_version;
    int workers;            /* CPU workers of the weft runtime */
    bench_openblas_env openblas; /* OPENBLAS_CORETYPE: found, detected, set */
    bench_device_desc *devices;  /* the runtime's devices, described at start */
    int ndevices;
} bench_machine;

typedef struct bench_stats {
    double median, min, max; /* seconds per op */
    int n;                   /* blocks timed */
} bench_stats;

/* Run iters iterations; return 0 when the result checked out, else -1. */
typedef int (*bench_body_fn)(void *ctx, uint64_t iters);

typedef struct bench_case {
    const char *name;        /* "weft", "pthread", "openmp", ... */
    bench_body_fn body;
    void *ctx;
    double ops_per_iter;     /* ops one iteration does: times are per op */
    /* Optional: called after every block with the block's iters, outside the
     * timed span: checks (and may reset) what the block computed when the
     * check costs too much to sit inside the block. 0: right; -1: wrong. */
    bench_body_fn check;
} bench_case;

typedef struct bench_measure {
    bench_stats s;
    int verified;            /* every block's result checked out */
    uint64_t iters;          /* iterations per timed block */
} bench_measure;

/* One line of the table, one record of the JSON and CSV files. */
typedef struct bench_record {
    char workload[32];
    char variant[48];        /* "case": loop, batch, ... */
    char placement[128];     /* "cpu", or the name of the device that ran it */
    char device[256];        /* the CPU model for "cpu", else the device name */
    int device_index;        /* weft's device number, -1 for the CPU workers */
    char policy[16];         /* scheduling policy of a parallel operation, "-" when none */
    size_t size;
    int threads;             /* CPU workers, or the device's compute units */
    bench_measure subject;   /* weft */
    double work_per_op;      /* units of work one op does (1: ops; bytes/1e9: GB) */
    double throughput;       /* work per second at the median */
    double base_throughput;  /* the same for the baseline */
    char unit[24];           /* "tasks/s", "scopes/s", "GB/s", ... */
    char baseline[32];
    bench_measure base;
    double ratio;            /* baseline median / weft median: > 1, weft is faster */
    double goal;             /* ratio aimed at (0: none) */
    char target[128];        /* what the goal stands for, for the targets list ("" : generic) */
    char goal_kind;          /* how the goal reads: 't' weft time <= baseline time / goal (goal < 1),
                                'x' ratio >= goal (speedup or throughput share), 'e' efficiency >= goal */
    double efficiency;       /* co-execution efficiency (EngineCL), NAN when not measured */
    double eff_cores;        /* effective cores around the record's workload (the lower of before
                                and after; NAN: not measured) */
    char note[384];          /* how it was measured, when the table cannot say */
} bench_record;

typedef struct bench_ctx {
    const bench_options *opt;
    bench_machine *machine;
    weft_runtime_t *rt;
    int workers;
    bench_record *records;
    size_t nrecords, cap;
    int failures;            /* unverified results, failed cases */
    int min_reps;            /* a workload may ask for more timed blocks than --reps (0: no) */
    int max_reps;            /* ... or fewer, for long operations in quick runs (0: no cap) */
} bench_ctx;

/* Monotonic clock in seconds. */
double bench_now(void);
/* Sleep for s seconds (no-op for s <= 0). */
void bench_sleep(double s);
/* A progress line on stderr ("weft-bench: ..."). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void bench_progress(const char *fmt, ...);

/* Median, min and max of n samples (samples are reordered). */
bench_stats bench_stats_of(double *samples, int n);

/* Measure subject and baseline the same way, alternating their blocks.
 * Fills ms and mb; a case whose body fails is marked unverified. */
void bench_compare(bench_ctx *b, const char *label, const bench_case *subject,
                   const bench_case *baseline, bench_measure *ms, bench_measure *mb);

/* Measure n cases the same way, their blocks interleaved: every timed round
 * runs each case once, the order rotating from round to round, so that drift
 * and the after-effects of one case's threads fall on all alike. Fills
 * out[0..n-1]; a case whose body or check fails is marked unverified. */
void bench_measure_set(bench_ctx *b, const char *label, const bench_case *cases, int n, bench_measure *out);

/* Append a record for a comparison; counts unverified results as failures.
 * goal: the ratio aimed at, 0 for none. Returns the record or NULL (no memory). */
bench_record *bench_add_record(bench_ctx *b, const char *workload, const char *variant,
                               size_t size, int threads, const bench_measure *subject,
                               const char *unit, const char *baseline,
                               const bench_measure *base, double goal);

/* Set the record's policy name ("static", ...). */
void bench_record_policy(bench_record *r, const char *policy);
/* Say which device ran a record (placement = its name). */
void bench_record_place(bench_record *r, const char *device_name, int device_index);
/* A split over every place: device = the CPU model and every device's name. */
void bench_record_all_places(const bench_ctx *b, bench_record *r);
/* Throughput in other units than ops/s: each op does `work_per_op` units. */
void bench_record_work(bench_record *r, double work_per_op, const char *unit);

/* Run conditions. */
void bench_machine_probe(bench_machine *m);
/* Describe rt's devices into m->devices (outlives the runtime). */
void bench_machine_devices(bench_machine *m, weft_runtime_t *rt);
/* Effective parallel cores: time a fixed spin loop on 1 thread and on 2
 * threads at once; returns 2 * t1 / t2 (about 2.0 on two free cores). */
double bench_effective_cores(double target_s);
/* 1 when eff_cores is below 85% of what m's usable CPUs allow (at most 2):
 * something else is using the CPUs, or it could not be measured. */
int bench_busy_machine(const bench_machine *m, double eff_cores);

/* Records across processes (the co-execution child writes them, the parent
 * reads them back): one line of tab-separated fields per record. */
void bench_record_save(FILE *f, const bench_record *r);
/* Parse one line written by bench_record_save into r. 0, or -1. */
int bench_record_load(char *line, bench_record *r);
/* Append a copy of r to b's records (failures counted as bench_add_record does). */
bench_record *bench_append_record(bench_ctx *b, const bench_record *r);

/* 1 when the record's workload ran with fewer effective cores than the machine has. */
int record_busy(const bench_ctx *b, const bench_record *r);

/* Output. */
void bench_print_conditions(FILE *f, const bench_ctx *b);
void bench_print_table(FILE *f, const bench_ctx *b);
/* One line per record with a goal of "within X of the baseline" (goal < 1):
 * weft/baseline time and the verdict. */
void bench_print_targets(FILE *f, const bench_ctx *b);
/* The name of a policy kind ("static", "dynamic", "guided", "adaptive"). */
const char *bench_policy_name(int kind);
int bench_write_json(const char *path, const bench_ctx *b);
int bench_write_csv(const char *path, const bench_ctx *b);

/* Human-readable duration ("1.23 us") into buf. */
const char *bench_fmt_time(double s, char *buf, size_t cap);
/* A number with an SI prefix ("12.3k", "4.56M") into buf. */
const char *bench_fmt_si(double v, char *buf, size_t cap);


#endif

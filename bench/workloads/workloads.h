/* bench/workloads/workloads.h — what weft-bench measures: the workload
 * registry, the bundled operations as workloads, and their device baselines.
 *
 * A workload lives in one file and exports a bench_workload (spawn.c,
 * scope.c, launch.c, coexec.c) or a bench_op_def (op_<name>.c), listed in
 * main.c and bench/CMakeLists.txt.
 *
 * A bundled operation (include/weft/kernels.h) is described once: its inputs,
 * a reference computed independently of weft, a check of the output after a
 * block of ops, its CPU baseline (an OpenMP loop; OpenBLAS for sgemm) and its
 * device baseline (the same kernel through raw OpenCL, rawcl.c; CLBlast for
 * sgemm). The driver (ops.c) measures it on every placement — the CPU alone
 * under each policy, each device alone, and split across all places under
 * each policy —
 * with its baselines in the same interleaved set; and, when the op names one
 * (sepmem), in separate-memory mode on the first device against its device
 * baseline making the same copies (and, when that form keeps its data on
 * registered arrays, against the same operations on plain host arrays). */
#ifndef WEFT_BENCH_WORKLOADS_H
#define WEFT_BENCH_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "weft/kernels.h"
#include "weft/opencl.h"

typedef struct bench_op_def bench_op_def;
typedef struct bench_op bench_op;
/* weft's side of a bundled operation: one op under pol; 0, or a weft error
 * code (with *panic when a chunk failed). */
typedef int (*bench_weft_fn)(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic);

typedef struct bench_workload {
    const char *name;        /* what --workload selects */
    const char *description; /* one line for --list */
    const char *size_help;   /* what --size N means for it */
    /* Measure and add records to b: 0, or -1 when it could not run at all
     * (failures of single cases are recorded as unverified). */
    int (*run)(bench_ctx *b);
    const bench_op_def *op;  /* a bundled operation: the fields above come from it */
} bench_workload;

extern const bench_workload bench_workload_spawn, bench_workload_scope, bench_workload_launch,
    bench_workload_coexec;
/* The co-execution child (--coexec-child FILE, main.c runs it in place of
 * the workloads): measure, write the records to FILE. The exit status. */
int bench_coexec_child(bench_ctx *b);

/* ---- bundled operations ------------------------------------------------------ */

struct bench_op {
    const bench_op_def *def;
    size_t size;
    int threads, cores;      /* threads of the OpenMP baseline (as many as weft uses); of OpenBLAS
                                (usable CPUs) */
    weft_k_args_t args;      /* filled in place by setup: do not copy */
    void *state;             /* the op's arrays and reference (bench_op_alloc) */
    void *mem[12];           /* what bench_op_alloc gave, freed by bench_op_free */
};

/* A device baseline's objects on one device's own context and queue
 * (weft_device_cl); bench_devbase_free releases them. */
typedef struct bench_devbase {
    int dev, unified;        /* unified: buffers wrap the host arrays */
    int upload_writes;       /* not unified: write-only outputs go up too before each
                                launch, as weft's copying places send them (sepmem rows) */
    int read_write;          /* every buffer CL_MEM_READ_WRITE (a ping-pong swaps their roles) */
    cl_device_id id;
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_kernel k;
    cl_mem mem[WEFT_K_MAX_ARGS];
    void *partials[WEFT_K_MAX_ARGS]; /* reductions: one partial per work-group */
    size_t nblocks, global[2], local[2];
    char err[512];           /* what failed */
} bench_devbase;

struct bench_op_def {
    const char *name, *description, *size_help, *unit;
    size_t size_full, size_quick, size_smoke, size_max;
    /* Inputs for w->size (bench_op_alloc), the reference, and w->args. */
    int (*setup)(bench_op *w);
    /* After `ops` ops since the last check: is the output right? Then put
     * the arrays back so that the next block starts from the same inputs.
     * 0, or -1 with the first wrong value in why. */
    int (*check)(bench_op *w, uint64_t ops, char *why, size_t cap);
    double (*work)(const bench_op *w);                       /* of one op, in `unit`s */
    void (*describe)(const bench_op *w, char *buf, size_t cap); /* "1024x768, 256 iterations" */
    /* weft's side: NULL runs weft_k_run on w->args. */
    bench_weft_fn run;
    const char *cpu_baseline;                                /* NULL: "openmp" */
    void (*cpu_base)(bench_op *w);                           /* one op */
    const char *cpu_note;
    const char *dev_baseline;                                /* NULL: "opencl", rawcl.c */
    int (*dev_init)(bench_devbase *d, bench_op *w);          /* NULL: bench_rawcl_init */
    int (*dev_run)(bench_devbase *d, bench_op *w);           /* NULL: bench_rawcl_run */
    const char *dev_note;                                    /* NULL: the raw OpenCL note */
    double cpu_goal, device_goal, split_goal;                /* 0: none; cpu: every policy; split: guided only */
    int cpu_goal_is_ratio;   /* cpu_goal reads "ratio >= goal" (else "weft's time <= the baseline's / goal") */
    const char *cpu_target, *device_target, *split_target;   /* the cpu rows add the op and the policy */
    int target_apart; /* a quick run measures the split's target at size_full on its own */
    /* The separate-memory row (case "sepmem"): the op it measures (this def,
     * or an iterated form of it) on device 0 of a runtime made with
     * separate_memory = 1, against its device baseline making the same
     * copies; NULL: no such row. */
    const bench_op_def *sepmem;
    /* Set in a sepmem def whose run keeps its data on registered arrays
     * (weft/array.h): the same operations on plain host arrays, each
     * copying its inputs up and its outputs back. In the sepmem set it is a
     * third case, and one more record (case "arrays", baseline "weft,
     * unregistered") compares run with it; unregistered_note says how. */
    bench_weft_fn unregistered;
    const char *unregistered_note;
};

/* The goal of every CPU row against its OpenMP loop, under every policy. */
#define BENCH_OMP_GOAL (1.0 / 1.05)
#define BENCH_OMP_TARGET "parallel_for CPU-only within 1.05x of the OpenMP loop"

extern const bench_op_def bench_op_saxpy, bench_op_sdot, bench_op_mandelbrot, bench_op_stencil5,
    bench_op_histogram, bench_op_nbody, bench_op_sgemm;

uint32_t bench_hash32(uint32_t x); /* deterministic pseudo-random inputs */
/* The first of n elements of `size` bytes where a and b differ; n when none. */
size_t bench_first_diff(const void *a, const void *b, size_t n, size_t size);
/* Page-aligned (zero-copy wraps want it), zeroed, freed by bench_op_free;
 * NULL when out of memory (setup then fails). */
void *bench_op_alloc(bench_op *w, size_t bytes);
/* The default size for the run's mode (--size wins). */
size_t bench_op_size(const bench_op_def *d, const bench_options *o);
/* A new op of size n: inputs, reference and arguments (def->setup); NULL,
 * with a progress line, when it cannot be set up. */
bench_op *bench_op_new(const bench_op_def *d, size_t n, const bench_ctx *b);
void bench_op_free(bench_op *w);
/* One weft op under pol, by run (NULL: the op's def->run, or weft_k_run on
 * w->args when that is NULL too); -1 with a progress line on failure. */
int bench_op_run_weft(bench_op *w, bench_weft_fn run, weft_runtime_t *rt, const weft_policy_t *pol, const char *who);
/* Non-zero: bench_op_run_weft runs an operation without its own run
 * function so that the calling thread does not work on it (it waits apart,
 * sleeping): the coexec child sets it, to give the CPU place exactly its
 * WEFT_CPU_THREADS workers. */
extern int bench_caller_apart;
weft_policy_t bench_policy(int kind, int use_cpu, uint64_t devices);

/* The cases of one interleaved set, in order: weft on the CPU workers
 * (then its baseline when `baselines`); for each device (when `devices`),
 * weft on it (then its baseline); weft split across the default places
 * (WEFT_DEFAULT_DEVICES), per policy (only guided when `guided_only`); then,
 * when the default set leaves some device out (a CPU device sharing the
 * workers' cores), the explicit mix of the CPU and every device, per policy;
 * then, with CPU devices and baselines, the kernel with its CPU body taken
 * away under the default policy (the CPU's share through a CPU device). */
typedef struct bench_op_case {
    bench_op *w;
    bench_ctx *b;
    int kind;                /* BENCH_WEFT, BENCH_CPU_BASE, BENCH_DEV_BASE */
    bench_weft_fn run;       /* BENCH_WEFT: weft's side, NULL for the op's (def->run) */
    int place;               /* -1 the CPU, d device d, BENCH_SPLIT the default
                                places, BENCH_MIX the CPU and every device,
                                BENCH_CLONLY the default places of the kernel
                                with only its OpenCL source */
    int policy;
    weft_policy_t pol;       /* weft's: policy on place */
    weft_runtime_t *rt;      /* the runtime weft's case runs on, and the baseline's device comes from */
    bench_devbase dev;
    int ready;               /* dev was set up */
    char who[64];
    int said;                /* failures reported so far */
} bench_op_case;
enum { BENCH_WEFT, BENCH_CPU_BASE, BENCH_DEV_BASE };
#define BENCH_SPLIT 1000
#define BENCH_MIX 1001
#define BENCH_CLONLY 1002   /* the kernel without its CPU body, default policy */
typedef struct bench_op_set {
    bench_op_case *cs;
    bench_measure *m;
    int n;
} bench_op_set;
int bench_op_measure(bench_ctx *b, bench_op *w, const char *label, int baselines, int devices, int guided_only,
                     bench_op_set *s);
void bench_op_set_free(bench_op_set *s);
/* The workload of a bundled operation: every placement and policy, with baselines. */
int bench_op_workload(bench_ctx *b, const bench_op_def *d);

/* Device baselines: open d on device `dev` (its context and queue; unified
 * as weft describes the device, so not in separate-memory mode), make a buffer (wrapping `host` when
 * unified), say what failed (-1). */
int bench_devbase_open(bench_devbase *d, weft_runtime_t *rt, int dev);
cl_mem bench_devbase_buffer(bench_devbase *d, cl_mem_flags flags, void *host, size_t bytes, cl_int *err);
int bench_devbase_fail(bench_devbase *d, const char *what, cl_int err);
void bench_devbase_free(bench_devbase *d);
/* The raw OpenCL baseline of a bundled operation (rawcl.c): the kernel's own
 * source built with clBuildProgram, one launch over the whole range. */
int bench_rawcl_init(bench_devbase *d, bench_op *w);
int bench_rawcl_run(bench_devbase *d, bench_op *w);

/* saxpy's inputs, shared by op_saxpy.c and launch.c: x and y hold small
 * whole numbers and a = 2, so after k ops y = y0 + 2k*x exactly, whatever
 * the order or the place. The check puts y back to y0. */
#define BENCH_SAXPY_A 2.0f
void bench_saxpy_fill(float *x, float *y, size_t n);
int bench_saxpy_check(float *y, size_t n, uint64_t ops, char *why, size_t cap);

/* The timelines (timeline.c): the bundled Mandelbrot split across the CPU
 * and every device, one traced run per policy, into b->timelines. */
int bench_timelines_run(bench_ctx *b);
void bench_timelines_free(bench_ctx *b);

#endif

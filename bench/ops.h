/* bench/ops.h — the bundled operations (include/weft/kernels.h) as
 * benchmark workloads.
 *
 * Each operation is described once (ops_defs.c): its inputs, a reference
 * computed independently of weft, a check of the output after a block of ops,
 * the same loop written with OpenMP, and its weft_k_<op>_args() arguments.
 * The driver (ops.c) measures it on every placement — the CPU workers alone,
 * each device alone, and split across all places under each policy — with
 * its baselines in the same interleaved set: OpenMP for the CPU (and the
 * split), the same kernel through raw OpenCL for each device (rawcl.h). */
#ifndef WEFT_BENCH_OPS_H
#define WEFT_BENCH_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "weft/kernels.h"
#include "weft/opencl.h"

typedef struct bench_op bench_op;

/* A cheap integer hash: deterministic pseudo-random inputs. */
uint32_t bench_hash32(uint32_t x);
/* Page-aligned (zero-copy wrapping wants it), rounded up to whole pages;
 * free() it. */
void *bench_page_alloc(size_t bytes);

typedef struct bench_op_def {
    const char *name;            /* workload name: "saxpy", ... */
    const char *description;     /* one line for --list */
    const char *size_help;       /* what --size N means */
    const char *unit;            /* throughput unit */
    size_t size_full, size_quick, size_smoke, size_min, size_max;
    /* Allocate and fill the inputs for w->size, compute the reference, fill
     * w->args (weft_k_<op>_args). 0, or -1 with a progress line. */
    int (*setup)(bench_op *w);
    void (*teardown)(bench_op *w);
    /* One op with OpenMP on `threads` threads, in the arrays weft uses. */
    void (*omp)(bench_op *w, int threads);
    /* After `ops` ops since the last check: is the output right? Then put
     * the arrays back so the next block starts from the same inputs. 0, or
     * -1 with the first wrong value in why. */
    int (*check)(bench_op *w, uint64_t ops, char *why, size_t cap);
    /* Work of one op in `unit`s (bytes/1e9 for GB/s, pixels/1e6, ...). */
    double (*work)(const bench_op *w);
    /* A short description of the size for tables ("1024x768, 256 iterations"). */
    void (*describe)(const bench_op *w, char *buf, size_t cap);
    const char *omp_note;        /* how the OpenMP loop is written */
    double cpu_goal;             /* goal of the CPU row vs OpenMP (0: none) */
    const char *cpu_target;
    double device_goal;          /* goal of a device row vs raw OpenCL (0: none) */
    const char *device_target;
} bench_op_def;

struct bench_op {
    const bench_op_def *def;
    size_t size;
    weft_k_args_t args;          /* built in place by setup: do not copy */
    void *state;                 /* the op's arrays and reference */
};

/* The definitions (ops_defs.c). */
extern const bench_op_def bench_op_saxpy, bench_op_sdot, bench_op_mandelbrot, bench_op_stencil5,
    bench_op_histogram, bench_op_nbody;

/* The policy of single-place cases (the CPU alone, a device alone): the
 * library's default, guided, what a user gets without choosing. Splits run
 * every policy. */
#define BENCH_SINGLE_POLICY WEFT_POLICY_GUIDED

/* Default size of an op for the run's mode (--size wins). */
size_t bench_op_size(const bench_op_def *d, const bench_options *o);

/* Set up / tear down an op of size n (heap state; w stays where it is). */
int bench_op_setup(bench_op *w, const bench_op_def *d, size_t n);
void bench_op_teardown(bench_op *w);

/* One weft op: weft_k_run with the policy; -1 with a progress line on failure. */
int bench_op_run_weft(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, const char *who);

/* A policy: kind, the CPU workers or not, the devices (bit mask). */
weft_policy_t bench_policy(int kind, int use_cpu, uint64_t devices);

/* Run the op's workload: every placement and policy, with baselines. */
int bench_op_workload(bench_ctx *b, const bench_op_def *d);

#endif

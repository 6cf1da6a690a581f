/* bench/workloads.h — the workload registry of weft-bench.
 *
 * A workload group lives in one file (spawn.c, scope.c, ...) and exports one
 * bench_workload. To add one: write the file, declare it here, list it in
 * bench_workloads[] (main.c) and in bench/CMakeLists.txt. */
#ifndef WEFT_BENCH_WORKLOADS_H
#define WEFT_BENCH_WORKLOADS_H

#include "harness.h"

typedef struct bench_workload {
    const char *name;        /* what --workload selects */
    const char *description; /* one line for --list */
    const char *size_help;   /* what --size N means for it */
    /* Measure and add records to b. Returns 0, or -1 when it could not run
     * at all (failures of single cases are recorded as unverified). */
    int (*run)(bench_ctx *b);
    /* A bundled operation (ops.h): name, description and size help come
     * from it when the fields above are NULL. */
    const struct bench_op_def *def;
} bench_workload;

extern const bench_workload bench_workload_spawn;
extern const bench_workload bench_workload_scope;
extern const bench_workload bench_workload_launch;
extern const bench_workload bench_workload_saxpy;
extern const bench_workload bench_workload_sdot;
extern const bench_workload bench_workload_mandelbrot;
extern const bench_workload bench_workload_stencil5;
extern const bench_workload bench_workload_histogram;
extern const bench_workload bench_workload_nbody;
extern const bench_workload bench_workload_sgemm;
extern const bench_workload bench_workload_coexec;

/* The co-execution child (--coexec-child FILE): measure, write records to
 * FILE. Returns the exit status. */
int bench_coexec_child(const bench_options *o);

#endif

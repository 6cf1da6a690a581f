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
} bench_workload;

extern const bench_workload bench_workload_spawn;
extern const bench_workload bench_workload_scope;
extern const bench_workload bench_workload_launch;

#endif

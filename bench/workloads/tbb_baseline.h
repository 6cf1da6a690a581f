/* bench/workloads/tbb_baseline.h — the oneTBB baseline of the spawn
 * workload (tbb_baseline.cpp, the bench's only C++): rounds of tasks run in
 * a tbb::task_group, then waited for, in an arena of a given width. Built
 * without oneTBB, it says so and measures nothing. */
#ifndef WEFT_BENCH_TBB_BASELINE_H
#define WEFT_BENCH_TBB_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_tbb bench_tbb;

/* An arena of `threads` threads, the calling one among them, described in
 * `about` (oneTBB's version, the width); NULL, with the reason in `about`,
 * when weft-bench was built without oneTBB or oneTBB failed. */
bench_tbb *bench_tbb_new(int threads, char *about, size_t cap);
/* iters rounds of: `batch` tasks run in one task_group (task i stores i + 1
 * in its slot), then one wait for them all; batch 1 is one task at a time.
 * Each round's sum of the slots is checked. 0, or -1 when a sum was wrong
 * or oneTBB threw. */
int bench_tbb_spawn_join(bench_tbb *t, size_t batch, uint64_t iters);
void bench_tbb_free(bench_tbb *t);

#ifdef __cplusplus
}
#endif

#endif

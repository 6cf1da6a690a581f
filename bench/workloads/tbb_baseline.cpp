// bench/workloads/tbb_baseline.cpp — the oneTBB baseline of the spawn
// workload (see tbb_baseline.h): tbb::task_group run + wait, in a task_arena
// as wide as the CPU threads weft uses. bench/CMakeLists.txt defines
// WEFT_BENCH_TBB when it found oneTBB; without it every call says so.
#include "tbb_baseline.h"

#include <cstdio>
#include <exception>
#include <vector>

#ifdef WEFT_BENCH_TBB
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/version.h>

struct bench_tbb {
    // oneTBB lends at most (hardware threads - 1) workers to all arenas
    // unless told otherwise: allow as many as the arena asks for.
    tbb::global_control width;
    tbb::task_arena arena; // `threads` slots, one kept for the calling thread
    std::vector<uintptr_t> slots;
    explicit bench_tbb(int threads)
        : width(tbb::global_control::max_allowed_parallelism, (size_t)threads), arena(threads)
    {
    }
};

extern "C" bench_tbb *bench_tbb_new(int threads, char *about, size_t cap)
{
    try {
        bench_tbb *t = new bench_tbb(threads < 1 ? 1 : threads);
        t->arena.initialize();
        std::snprintf(about, cap, "oneTBB %s, a task_arena of %d threads", TBB_VERSION_STRING,
                      t->arena.max_concurrency());
        return t;
    } catch (const std::exception &e) {
        std::snprintf(about, cap, "oneTBB %s failed: %s", TBB_VERSION_STRING, e.what());
        return nullptr;
    }
}

extern "C" int bench_tbb_spawn_join(bench_tbb *t, size_t batch, uint64_t iters)
{
    try {
        if (t->slots.size() < batch) t->slots.assign(batch, 0);
        uintptr_t *out = t->slots.data();
        const uint64_t want = (uint64_t)batch * (batch + 1) / 2;
        int rc = 0;
        t->arena.execute([&] {
            tbb::task_group g;
            for (uint64_t it = 0; it < iters && rc == 0; it++) {
                for (size_t i = 0; i < batch; i++) g.run([out, i] { out[i] = i + 1; });
                g.wait();
                uint64_t sum = 0;
                for (size_t i = 0; i < batch; i++) {
                    sum += out[i];
                    out[i] = 0; // a task that did not run cannot pass the next round
                }
                if (sum != want) rc = -1;
            }
        });
        return rc;
    } catch (...) {
        return -1;
    }
}

extern "C" void bench_tbb_free(bench_tbb *t) { delete t; }

#else

struct bench_tbb {
};

extern "C" bench_tbb *bench_tbb_new(int, char *about, size_t cap)
{
    std::snprintf(about, cap,
                  "oneTBB was not found when weft-bench was built (Debian: libtbb-dev; then configure again)");
    return nullptr;
}

extern "C" int bench_tbb_spawn_join(bench_tbb *, size_t, uint64_t) { return -1; }

extern "C" void bench_tbb_free(bench_tbb *t) { delete t; }

#endif

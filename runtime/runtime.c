/* runtime/runtime.c — the composition root: the one file that knows every
 * layer. A runtime is the scheduler's pool, with the OpenCL host layer and
 * the co-execution engine set in its layer slots; this file brings them up
 * in that order and takes them down in the reverse one. */
#include <string.h>

#include "../scheduler/internal.h"
#include "../host/host.h"
#include "../coexec/engine.h"

void weft_runtime_options_init(weft_runtime_options_t *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
}

/* Everything the layers made, after the workers have stopped (or never ran). */
static void take_down(weft_runtime_t *rt)
{
    weft__engine_destroy(rt);
    weft__host_destroy(rt);
    weft__pool_free(rt);
}

int weft_runtime_create(const weft_runtime_options_t *o, weft_runtime_t **out)
{
    if (out) *out = NULL;
    if (!out) return weft__fail(WEFT_EINVAL, "weft_runtime_create: out is NULL");
    weft_runtime_options_t defaults;
    if (!o) {
        weft_runtime_options_init(&defaults);
        o = &defaults;
    }
    if (o->separate_memory < -1 || o->separate_memory > 1 || o->check_writes < -1 || o->check_writes > 1)
        return weft__fail(WEFT_EINVAL, "weft_runtime_create: %s is %d, must be -1, 0 or 1",
                          o->check_writes < -1 || o->check_writes > 1 ? "check_writes" : "separate_memory",
                          o->check_writes < -1 || o->check_writes > 1 ? o->check_writes : o->separate_memory);
    weft_runtime_t *rt;
    int rc = weft__pool_create(o->cpu_threads, &rt);
    if (rc) return rc;
    rc = weft__host_create(rt, o->devices, o->separate_memory);
    if (rc == 0) rc = weft__engine_create(rt, o->check_writes);
    if (rc == 0) rc = weft__pool_start(rt);
    if (rc) {
        take_down(rt);
        return rc;
    }
    *out = rt;
    return 0;
}

int weft_runtime_destroy_report(weft_runtime_t *rt, weft_runtime_report_t *report)
{
    if (report) memset(report, 0, sizeof *report);
    if (!rt) return 0;
    /* From its own threads the destroy would wait for itself (or free the
     * worker under its own feet): refuse it, leaving rt whole. */
    if (weft__runtime_is_current(rt))
        return weft__fail(WEFT_EINVAL, "weft_runtime_destroy: called from a task or worker of the runtime it destroys");
    weft__pool_stop(rt);
    uint64_t handles, panics;
    weft__handles_release(rt, &handles, &panics); /* before the layers their ops state may use go */
    if (report) {
        report->unconsumed_handles = handles;
        report->unconsumed_panics = panics;
        report->detached_panics = weft_runtime_detached_panics(rt);
    }
    take_down(rt);
    return 0;
}

int weft_runtime_destroy(weft_runtime_t *rt) { return weft_runtime_destroy_report(rt, NULL); }

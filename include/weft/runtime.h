/* weft/runtime.h — the runtime: a pool of CPU workers plus OpenCL devices. */
#ifndef WEFT_RUNTIME_H
#define WEFT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_runtime weft_runtime_t;

/** Options for weft_runtime_create(). Always call weft_runtime_options_init()
 *  first: new fields may be added, and init gives each its default. */
typedef struct weft_runtime_options {
    /** Number of CPU worker threads. 0 means: $WEFT_CPU_THREADS if set, else
     *  the number of online CPUs. */
    int cpu_threads;
    /** Device selection, same syntax as $WEFT_DEVICES ("all", "none", "cpu",
     *  "gpu", "0,2", or a name substring). NULL means: $WEFT_DEVICES if set,
     *  else "all". The string is copied. */
    const char *devices;
    /** Reserved for future options; keep zeroed. */
    void *reserved[8];
} weft_runtime_options_t;

/** Fill *o with defaults. Does nothing when o is NULL. */
void weft_runtime_options_init(weft_runtime_options_t *o);

/** Create a runtime: start the CPU workers (and discover OpenCL devices when
 *  the library was built with them).
 *  @param o    options, or NULL for defaults.
 *  @param out  receives the runtime; set to NULL on failure.
 *  @return 0; WEFT_EINVAL for a NULL out, a worker count <= 0 (from options
 *          or $WEFT_CPU_THREADS) or a bad device selection; WEFT_ENOMEM;
 *          WEFT_EAGAIN when a worker thread cannot start. The reason is in
 *          weft_last_error_message(). */
int weft_runtime_create(const weft_runtime_options_t *o, weft_runtime_t **out);

/** Wait for every task still queued or running (detached ones included), stop
 *  the workers and free the runtime. Must not be called from a task of this
 *  runtime. NULL is a no-op. */
void weft_runtime_destroy(weft_runtime_t *rt);

/** Number of CPU worker threads of rt (0 for NULL). */
int weft_runtime_cpu_threads(const weft_runtime_t *rt);

/** Number of panics of detached tasks seen by rt so far (0 for NULL). Such
 *  panics also reach the panic hook: they are never lost. */
uint64_t weft_runtime_detached_panics(const weft_runtime_t *rt);

/** Index of the CPU worker running the caller, in [0, cpu_threads), or -1 when
 *  the caller is not a worker of any runtime (main thread, dedicated thread). */
int weft_current_worker(void);

#ifdef __cplusplus
}
#endif
#endif

/** @file
 *  @brief The runtime: a pool of CPU workers plus OpenCL devices.
 */
#ifndef WEFT_RUNTIME_H
#define WEFT_RUNTIME_H

#include "weft/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Spare threads per CPU worker, at most. A worker whose task blocks —
 *  sleeping in weft_sleep_ns() (100 µs or more), waiting for a contended
 *  weft_mutex_t, or waiting parked (see weft_join()) — keeps its place in
 *  the pool: while tasks are queued, a spare thread runs them meanwhile, as
 *  Go's scheduler hands a blocked thread's processor to another. Spares are
 *  started when needed, leave when the blocked worker is back or they find
 *  nothing to do, and number at most this many times the worker count; in a
 *  spare, weft_current_worker() is a caller slot's index (the worker count or
 *  more). */
#define WEFT_SPARES_PER_WORKER 4

/** How a thread waits in weft_join(), weft_scope() and a parallel
 *  operation's join. Normally it runs the runtime's queued tasks meanwhile
 *  (so nested joins never deadlock a pool, even of one worker). It parks
 *  instead — running nothing, its place in the pool taken by a spare — when:
 *   - it waits for what the pool cannot run: a device launch or a task on a
 *     dedicated thread (weft_builder_t::stack_size);
 *   - it holds a weft_mutex_t (a task it ran could need the same lock);
 *   - it is a worker (or in a caller slot) of another runtime: a wait on
 *     another runtime's task never runs that runtime's tasks, and never
 *     stops serving its own (A→B→A waits complete, one worker each);
 *   - it already runs this many tasks nested inside its waits: past it, it
 *     runs only tasks it spawned itself (its own deque: a recursion nests as
 *     deep as it would run sequentially), else it parks.
 *  A program whose waiting tasks all park with every spare in use waits
 *  until one of them ends. */
#define WEFT_HELP_DEPTH_MAX 64

/** A runtime (opaque): the CPU worker threads, the OpenCL devices it opened
 *  and everything shared by the tasks, launches and parallel operations
 *  started on it (program cache, injected faults, trace, statistics).
 *  Created by weft_runtime_create(), owned by the caller, destroyed by
 *  weft_runtime_destroy(). Any thread may spawn onto it. */
typedef struct weft_runtime weft_runtime_t;

/** Options for weft_runtime_create(). Always call weft_runtime_options_init()
 *  first: new fields may be added, and init gives each its default. */
typedef struct weft_runtime_options {
    /** Number of CPU worker threads. 0 means: $WEFT_NUM_THREADS if set (a
     *  whole number from 1 to 4096), else $WEFT_CPU_THREADS (its older
     *  name), else one less than the number of CPUs in the process's
     *  affinity mask, and at least one (under `taskset -c 0,1`, 1): a thread
     *  that blocks in weft (a join, a scope, a parallel operation) runs the
     *  runtime's tasks while it waits, so N-1 workers and the caller keep N
     *  CPUs busy. Values below 0 or above 4096 are refused. */
    int cpu_threads;
    /** Device selection, same syntax as $WEFT_DEVICES: comma-separated terms
     *  whose selections add up, each "all", "none", "cpu", "gpu",
     *  "accelerator", an index as weft_device_print_all() numbers devices, or
     *  a case-insensitive substring of a device name. An index or name that
     *  matches no device is an error; "cpu", "gpu" or "accelerator" with no
     *  such device selects nothing. NULL means: $WEFT_DEVICES if set, else
     *  "all"; "" means "all". Only read during weft_runtime_create(). */
    const char *devices;
    /** Separate-memory mode, for testing on any machine the copy paths that
     *  only devices with memory of their own (discrete GPUs) take otherwise:
     *  1 treats every device as having its own memory (private device
     *  buffers, real uploads and read-backs, nothing shared with the host;
     *  weft_device_info() then reports unified_memory 0); -1 keeps each
     *  device as it is; 0 means: $WEFT_SEPARATE_MEMORY if set ("1" on, "0"
     *  off), else off. */
    int separate_memory;
    /** Write-set checking, for finding on a laptop the wrong declaration that
     *  would corrupt data on a GPU: 1 makes every device that copies (in
     *  separate-memory mode, PoCL's too) fill each written split array
     *  outside the chunk's declared bytes with a canary before the chunk, and
     *  verify after it that none of those bytes changed; a chunk that wrote
     *  outside its declaration fails (a panic naming the argument, the chunk
     *  and the first offending byte offset). It costs a whole-array copy each
     *  way per chunk. -1 off; 0 means: $WEFT_CHECK_WRITES ("1" on), else off. */
    int check_writes;
    /** Reserved for future options; keep zeroed. */
    void *reserved[8];
} weft_runtime_options_t;

/** Fill *o with defaults (every field 0 or NULL: a worker per usable CPU
 *  but one, for the caller,
 *  device selection and separate-memory mode from the environment).
 *  @param o  the options to fill; NULL does nothing. */
WEFT_API void weft_runtime_options_init(weft_runtime_options_t *o);

/** Create a runtime: discover and open the selected OpenCL devices (one
 *  context and one in-order queue each), apply $WEFT_TRACE (and, in a
 *  WEFT_TESTING build, $WEFT_FAULT),
 *  then start the CPU workers.
 *  @param o    options, or NULL for defaults.
 *  @param out  receives the runtime, which the caller owns and frees with
 *              weft_runtime_destroy(); set to NULL on failure.
 *  @return 0; WEFT_EINVAL for a NULL out, a cpu_threads below 0 or above 4096, a bad
 *          $WEFT_NUM_THREADS or $WEFT_CPU_THREADS, a separate_memory or
 *          check_writes other than -1, 0 or 1, a $WEFT_SEPARATE_MEMORY or
 *          $WEFT_CHECK_WRITES other than 0 or 1, a bad device selection (empty term, index out
 *          of range, name that matches nothing), a bad $WEFT_FAULT or a
 *          $WEFT_TRACE file that cannot be written;
 *          WEFT_ECL when the OpenCL platforms cannot be listed or a selected
 *          device cannot be opened; WEFT_ENOMEM (also when more than 64
 *          devices are selected); WEFT_EAGAIN when a worker thread cannot
 *          start. Nothing is left behind on failure; the reason is in
 *          weft_last_error_message(). */
WEFT_API int weft_runtime_create(const weft_runtime_options_t *o, weft_runtime_t **out);

/** Wait for all work of rt, then free it. It waits for every task still
 *  queued or running (detached ones included), every dedicated thread,
 *  device launch and parallel operation, and for the work those start in
 *  turn (a dedicated thread that a task starts meanwhile may still spawn
 *  onto the pool and join: the workers run until nothing is left); then
 *  stops the workers, writes the
 *  trace file (if a trace is on), destroys the worker-local keys still alive
 *  (running their destructors), and releases the program cache and the
 *  devices (weft's references to adopted contexts and queues included).
 *
 *  Handles never joined or detached are not lost: their work is waited for
 *  (a device launch nobody armed included), each of their panics goes to the
 *  panic hook, once, wrapped in a payload with the message "a task panicked
 *  and its handle was never joined or detached (found by
 *  weft_runtime_destroy)" whose weft_panic_cause() is the task's panic, and
 *  the handles are freed; weft_runtime_destroy_report() counts them. Such a
 *  handle must not be used afterwards.
 *
 *  It does not free the rest of what the caller owns: destroy buffers
 *  (weft_buffer_destroy()), program handles (weft_program_destroy()) and
 *  task-local keys yourself.
 *
 *  It must not be called from rt's own threads: a worker, a caller slot of
 *  rt (a task run while waiting), or a dedicated thread of one of its tasks
 *  (it would wait for itself). That is refused: rt is left as it is, and
 *  WEFT_EINVAL returned.
 *  @param rt  the runtime; NULL does nothing.
 *  @return 0 (also for NULL); WEFT_EINVAL when called from one of rt's own
 *          tasks or threads, with the message "weft_runtime_destroy: called
 *          from a task or worker of the runtime it destroys" in
 *          weft_last_error_message(). */
WEFT_API int weft_runtime_destroy(weft_runtime_t *rt);

/** What weft_runtime_destroy_report() found. */
typedef struct weft_runtime_report {
    /** Handles never joined or detached (weft_spawn(), weft_builder_spawn(),
     *  weft_launch(), weft_parallel_for(); a scope's handles are the scope's
     *  to release), freed by the destroy. */
    uint64_t unconsumed_handles;
    /** Those of them whose task panicked: each such panic went to the
     *  panic hook at the destroy (see weft_runtime_destroy()). */
    uint64_t unconsumed_panics;
    /** weft_runtime_detached_panics() at the end. */
    uint64_t detached_panics;
} weft_runtime_report_t;

/** weft_runtime_destroy() that also says what was left behind.
 *  @param rt      the runtime; NULL does nothing (report zeroed).
 *  @param report  receives the counts when the destroy happens (zeroed
 *                 otherwise); may be NULL.
 *  @return as weft_runtime_destroy(). */
WEFT_API int weft_runtime_destroy_report(weft_runtime_t *rt, weft_runtime_report_t *report);

/** Number of CPU worker threads (the pool's own threads; a thread blocked
 *  in weft works beside them, see weft_current_worker()).
 *  @param rt  the runtime.
 *  @return the worker count of rt, 0 for NULL. */
WEFT_API int weft_runtime_cpu_threads(const weft_runtime_t *rt);

/** Number of panics of detached tasks (and detached launches and parallel
 *  operations) seen by rt so far. Such panics also reach the panic hook:
 *  they are never lost. Tasks of a scope do not count: their scope reports
 *  them.
 *  @param rt  the runtime.
 *  @return the count, 0 for NULL. */
WEFT_API uint64_t weft_runtime_detached_panics(const weft_runtime_t *rt);

/** Index of the CPU worker running the caller.
 *
 *  A thread from outside the pool that blocks in weft (weft_join,
 *  weft_scope, a parallel operation's join) runs the runtime's tasks while
 *  it waits, in a caller slot lent to it for the wait. A task it runs there
 *  sees the slot's index: cpu_threads or more, one per slot, stable for the
 *  runtime's life; a slot is lent to one thread at a time, and each has its
 *  own worker-local values (weft_worker_local_get). In its own code, outside
 *  such a wait, the thread is not a worker (-1).
 *  @return the index in [0, cpu_threads) of the calling pool worker, the
 *          index (>= cpu_threads) of the caller slot a blocked thread runs
 *          the task in, or -1 when the caller is not running a pool task
 *          (main thread, dedicated thread of a builder task, a driver's
 *          callback thread). Any worker of whichever runtime. */
WEFT_API int weft_current_worker(void);

#ifdef __cplusplus
}
#endif
#endif

/* coexec/array.h — registered arrays (weft/array.h) as the engine sees them:
 * per array, which bytes each copy holds current (0: the host's, 1 + d:
 * device d's own buffer, for a device that does not share the host's
 * memory), and the moves that make a chunk's bytes current where it runs.
 *
 * Moves: an upload to a device is enqueued on its in-order queue, and its
 * bytes count as current there from then on (what comes after on that queue
 * sees them). A read-back is waited for before the host's bytes count as
 * current, so nothing ever waits on another device's events: a device chunk
 * that needs bytes only another device holds is first staged — read back to
 * the host — by a thread that may wait (a worker), never inside a driver's
 * callback. Two operations that need the same missing bytes at the same
 * moment may both move them: the same bytes, harmlessly.
 *
 * Locking: a->m guards the state and is held only for bookkeeping, never
 * across an OpenCL call (a chunk's completion callback takes it, and PoCL's
 * basic device runs commands, and their callbacks, inside enqueues).
 * Internal. */
#ifndef WEFT_COEXEC_ARRAY_H
#define WEFT_COEXEC_ARRAY_H

#include <pthread.h>

#include "../host/host.h"
#include "weft/array.h"
#include "op.h"
#include "ranges.h"

#define WEFT__ARRAY_SPACES (1 + WEFT__MAX_DEVICES)

struct weft_array {
    weft_runtime_t *rt;           /* NULL once the runtime is gone */
    char *host;
    size_t bytes;
    pthread_mutex_t m;            /* guards what follows */
    int users;                    /* running operations that use it */
    weft__ranges valid[WEFT__ARRAY_SPACES];
    cl_mem mem[WEFT__MAX_DEVICES]; /* device copies, made on first use */
    /* The static split of the last operation that split it, in groups,
     * with its places (-1: the CPU) in place order. */
    size_t part_total;
    int part_n;
    int part_dev[WEFT__MAX_PLACES];
    size_t part_b[WEFT__MAX_PLACES], part_e[WEFT__MAX_PLACES];
    struct weft_array *next;      /* the engine's list of live arrays */
};

/* Where device d keeps a registered array: 0 (the host's copy) when it
 * shares the host's memory, else 1 + d. The CPU (d = -1) is 0. */
int weft__array_space(const weft_runtime_t *rt, int device);

/* At an operation's start (after its arguments are checked): every
 * registered argument belongs to op's runtime (else WEFT_EINVAL); each array
 * counts op as a user. With failover, the read-write rows are made current
 * on the host, for the failover snapshots (a blocking read-back; WEFT_ECL
 * when it fails). On failure nothing is held. */
int weft__arrays_begin(weft__op *op);
/* At its end: no longer a user; with ok and a static policy, the split is
 * remembered in the arrays it split. */
void weft__arrays_end(weft__op *op, int ok);
/* The static split to prefer for op (from the first registered split
 * array whose remembered split has op's total and places): 1 with b and e
 * filled per place, else 0. */
int weft__arrays_static_split(const weft__op *op, size_t *b, size_t *e);

/* Before pl's chunk (groups pl->gb..ge) runs: make every registered
 * argument's bytes it reads or partly writes current where it runs, with
 * *err CL_SUCCESS or the status of what failed. The CPU (dev NULL) reads
 * back what the host lacks and waits: returns 0. A device never waits: it
 * enqueues the uploads and returns 0, or, when some bytes must first come
 * back from another device, enqueues nothing and returns 1 — then
 * weft__arrays_stage() on a thread that may wait, and fetch again. Bytes
 * moved are added to pl->bytes and op's per-place counts. */
int weft__arrays_fetch(weft__op *op, weft__place *pl, weft__device *dev, cl_int *err);
/* Blocking: read back to the host what device pl's copy lacks for its
 * chunk. CL_SUCCESS or the status of what failed. */
cl_int weft__arrays_stage(weft__op *op, weft__place *pl);
/* After pl's chunk: ok, its copy of the written bytes is now the only
 * current one; failed, its copy of the bytes the chunk touched is dropped
 * wherever another copy is current. */
void weft__arrays_done(weft__op *op, weft__place *pl, int ok);
/* Failover put the host rows of argument i [lo, hi) back: they are current
 * there and nowhere else. */
void weft__array_host_restored(weft_array_t *a, size_t lo, size_t hi);
/* Device d's copy of a (made on first use, size a->bytes); NULL with *err. */
cl_mem weft__array_mem(weft_array_t *a, weft__device *dev, int d, cl_int *err);

/* Runtime destroy: make every live array's host copy current, release its
 * device copies, and cut it loose (weft_array_destroy() still frees it). */
void weft__arrays_orphan(weft_runtime_t *rt);

#endif

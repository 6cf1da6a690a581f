/* coexec/parallel_op.h — one running parallel operation, shared by its driver
 * (coexec/parallel_for.c), its device chunks (coexec/chunk_device.c) and its CPU
 * chunks (coexec/chunk_cpu.c). Internal. */
#ifndef WEFT_COEXEC_PARALLEL_OP_H
#define WEFT_COEXEC_PARALLEL_OP_H

#include "weft/parallel.h"
#include "../host/host.h"
#include "engine.h"
#include "split.h"

enum { PLACE_IDLE = 0, PLACE_ACTIVE = 1, PLACE_RETIRED = 2 };

typedef struct pf_place {
    struct pf_op *op;
    int device;                   /* -1: the CPU pool */
    int trace_id;                 /* 0: CPU, 1 + device */
    char name[256];
    int state;
    /* device resources */
    weft__device *dev;
    weft__built *built;
    cl_kernel kernel;
    cl_uint kernel_nargs;         /* its argument count, as the pool knows it */
    cl_mem *mems;                 /* per argument, NULL where none */
    int unified;
    int whole_uploaded;
    cl_event kernel_event;
    /* the chunk in flight */
    size_t gb, ge;
    uint64_t t_start;
    uint64_t bytes;
    void **snapshot;              /* per argument, failover copies of RW ranges */
    size_t items;                 /* split indices done */
    int owed;                     /* a chunk finished; the pump that follows has not
                                     run yet: the op may not finish before it does */
} pf_place;

typedef struct pf_op {
    weft_runtime_t *rt;
    struct weft_task *task;
    unsigned long id;
    char *name;
    const char *file;             /* the caller's, for device failures' panics */
    int line;
    char *launcher;               /* name of the task that started it, or NULL */
    weft_range_fn cpu;
    char *cl_entry;
    char *cl_source;             /* the user's source with the whole-range preamble */
    char *cl_options;
    weft_range_t range;
    unsigned split_dim;           /* dims - 1 */
    size_t n;                     /* indices along the split dimension */
    size_t group;                 /* group size along it */
    size_t ngroups;               /* groups along it (rounded up) */
    size_t blocks_per_group;      /* reduce partials per split group (2-D: groups in x) */
    weft_arg_t *args;
    size_t nargs;
    void **argv;                  /* what the CPU body sees */
    void **partials;              /* per argument: reduce partials, else NULL */
    int on_fault;
    int kind;
    pthread_mutex_t m;
    weft__split sp;
    pf_place places[WEFT__MAX_PLACES];
    int nplaces;
    int in_flight;
    int stopped;
    int finalizing;
    weft_panic_t *failure;
    weft_run_stats_t stats;
} pf_op;

/* Indices [*ib, *ie) that split groups [gb, ge) cover. */
static inline void pf_indices(const pf_op *op, size_t gb, size_t ge, size_t *ib, size_t *ie)
{
    *ib = gb * op->group;
    *ie = ge * op->group < op->n ? ge * op->group : op->n;
}

/* Device side (chunk_device.c). */
char *pf_whole_range_source(const pf_op *op, const char *src);
int pf_device_setup(pf_op *op, pf_place *pl, weft_panic_t **why);
void pf_device_release(pf_op *op, pf_place *pl);
/* Start the chunk in pl->gb..ge; 0 when it runs (pf_chunk_done follows from the
 * driver's callback), else the failure as a panic in *failed. */
int pf_device_submit(pf_op *op, pf_place *pl, weft_panic_t **failed);

/* CPU side (chunk_cpu.c): run pl's chunk on the pool, NULL or panic. */
weft_panic_t *pf_cpu_run(pf_op *op, pf_place *pl);

/* Driver (parallel_for.c). */
/* Places whose chunk completed inline while the calling thread was starting
 * an operation's places (PoCL's basic driver runs commands at clFlush, and
 * the completion callback then runs inside clSetEventCallback). Pumping them
 * there would let the first device take the whole range before the other
 * places are even started; they are pumped once every place has started.
 * Non-NULL only on a thread inside start(). */
#define PF_DEFERRED_MAX 256
typedef struct pf_deferred {
    pf_place *v[PF_DEFERRED_MAX];
    int n;
} pf_deferred;
extern _Thread_local pf_deferred *pf_trampoline;
/* Pump every deferred place, and those deferred meanwhile, until none is left. */
void pf_drain(pf_deferred *d);
void pf_chunk_done(pf_op *op, pf_place *pl, weft_panic_t *failure);
void pf_pump(pf_op *op, pf_place *pl);
/* Failover: copy (save=1) or put back (save=0) the RW split ranges of pl's chunk. */
int pf_snapshot(pf_op *op, pf_place *pl, int save);

#endif

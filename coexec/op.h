/* coexec/op.h — one running parallel operation and its places, as the
 * driver (driver.c) keeps them, the argument code (args.c) fills them and
 * the places (place_*.c) read them. Internal. */
#ifndef WEFT_COEXEC_OP_H
#define WEFT_COEXEC_OP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/parallel.h"
#include "engine.h"
#include "place.h"
#include "scatter.h"
#include "split.h"

/* Driver-side state of a place (weft__place::state). */
enum { WEFT__PLACE_IDLE = 0, WEFT__PLACE_ACTIVE = 1, WEFT__PLACE_RETIRED = 2 };

typedef struct weft__place {
    struct weft__op *op;
    const weft__place_ops *ops;
    int device;                   /* -1: the CPU pool */
    int trace_id;                 /* 0: CPU, 1 + device */
    char name[256];               /* display name (setup sets it) */
    double prior;                 /* relative speed before any measurement (setup) */
    void *impl;                   /* the place kind's own state (setup makes it) */
    /* driver bookkeeping, under op->m */
    int state;
    size_t items;                 /* split indices done */
    int owed;                     /* a chunk finished; the pump that follows has not
                                     run yet: the op may not finish before it does */
    atomic_int phase;             /* the submit handshake (driver.c) */
    /* the chunk in flight */
    int reserved;                 /* gb..ge is the place's first chunk, handed out
                                     (and counted in flight) when the op started */
    size_t gb, ge;                /* work-groups along the split dimension */
    uint64_t t_start;
    uint64_t bytes;               /* moved for it (the place adds) */
    uint64_t bytes_up, bytes_down; /* of which host->device, device->host */
    void **snapshot;              /* per argument, failover copies of RW rows */
} weft__place;

typedef struct weft__op {
    weft_runtime_t *rt;
    struct weft_task *task;
    unsigned long id;
    char *name;
    const char *file;             /* the caller's, for device failures' panics */
    int line;
    char *launcher;               /* name of the task that started it, or NULL */
    /* the kernel, copied */
    weft_range_fn cpu;            /* at most one of cpu and cpu_ctx */
    weft_chunk_fn cpu_ctx;
    void *user;                   /* weft_chunk_ctx_t::user */
    weft_cl_body_fn cl_body;
    char *cl_entry;
    char *cl_source;              /* the user's source (place_cl.c builds it with
                                     whole-range builtins, cl_rewrite.h) */
    char *cl_options;
    /* the range */
    weft_range_t range;
    size_t n;                     /* indices along the split dimension (the last) */
    size_t group;                 /* group size along it */
    size_t ngroups;               /* groups along it (rounded up) */
    size_t g0, g1;                /* the groups that run (weft_policy_t::part_begin,
                                     part_end): the split hands out [0, g1 - g0),
                                     the driver adds g0 */
    size_t blocks_per_group;      /* reduce partials per split group (2-D: groups in x) */
    /* the arguments, copied (args.c) */
    weft_arg_t *args;
    size_t nargs;
    void **argv;                  /* what the bodies see */
    void **partials;              /* per argument: reduce partials, else NULL */
    weft__scatter scatter;        /* scattered arguments' starting bytes, merges */
    /* the policy */
    int on_fault;
    int kind;
    weft_recovered_fn on_recovered; /* may be NULL */
    void *recovered_data;
    /* running */
    pthread_mutex_t m;
    weft__split sp;
    weft__place places[WEFT__MAX_PLACES];
    int nplaces;
    int in_flight;
    int stopped;
    int finalizing;
    int failed;                   /* the op failed: set with failure, which is never
                                     NULL then (weft__panic_oom() when no payload
                                     could be had), so that a failure whose payload
                                     ran out of memory is never a success */
    weft_panic_t *failure;
    weft_run_stats_t stats;
    /* adaptive's choice of places (driver.c, choose_set): the set run and
     * the set it was preferred to, as trace-id bits (0: none), and when the
     * first round started */
    uint64_t set_run, set_rejected;
    uint64_t t_first;
    /* registered arrays' moves (array.c), per place as stats index them:
     * host->device into the device, device->host out of it */
    _Atomic uint64_t moved_up[WEFT__MAX_PLACES], moved_down[WEFT__MAX_PLACES];
} weft__op;

/* Indices [*ib, *ie) that split groups [gb, ge) cover. */
static inline void weft__op_indices(const weft__op *op, size_t gb, size_t ge, size_t *ib, size_t *ie)
{
    *ib = gb * op->group;
    *ie = ge * op->group < op->n ? ge * op->group : op->n;
}

/* The context of split groups [gb, ge) of op: block is their first. */
static inline void weft__op_ctx(const weft__op *op, size_t gb, size_t ge, weft_chunk_ctx_t *c)
{
    c->range = op->range;
    weft__op_indices(op, gb, ge, &c->begin, &c->end);
    c->group_begin = gb;
    c->group_end = ge;
    c->group = op->group;
    c->num_groups = op->ngroups;
    c->groups_across = op->blocks_per_group;
    c->num_blocks = op->ngroups * op->blocks_per_group;
    c->block = gb * op->blocks_per_group;
    c->user = op->user;
}

#endif

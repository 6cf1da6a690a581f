/* coexec/place_cpu.c — the CPU threads as a place. A chunk runs inside
 * submit, which reports before it returns, as a fork–join tree over its
 * work-groups split lazily (rayon's adaptive splitter, oneTBB's
 * auto_partitioner): a range of two groups or more with split budget left is
 * cut in two halves on a group boundary (so no reduction block is shared by
 * two pieces); the right half is spawned as a task, the left one recursed
 * into here, then the right one joined. The budget starts at the number of
 * CPU threads (the workers, and a thread blocked in a join, which runs pool
 * tasks while it waits) and halves at each cut; a half that starts on
 * another thread than the one that spawned it was stolen (some thread was
 * hungry), and its budget starts again at the thread count. Even work thus
 * makes one or two pieces per thread (a budget of T allows floor(log2 T) + 1
 * levels of cuts) and uneven work (Mandelbrot rows) is cut further only
 * where threads run out of it, with no barrier per fixed piece. A piece is
 * never cut once it runs: a chunk's tail is at most one piece long. The
 * first panic of the chunk's pieces (the leftmost) is the chunk's; the
 * others are destroyed. No piece's panic goes to the panic hook here: the
 * driver decides whether the chunk's is recovered or the operation's. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../host/host.h"
#include "array.h"
#include "op.h"

/* One leaf: the CPU body over some groups. */
typedef struct piece {
    const weft__op *op;
    size_t gb, ge;
} piece;

/* The plain body gets its indices; the body with context gets them in a
 * context filled here, on this stack: neither allocates. */
static void *run_piece(void *arg)
{
    const piece *p = arg;
    const weft__op *op = p->op;
    if (op->cpu) {
        size_t begin, end;
        weft__op_indices(op, p->gb, p->ge, &begin, &end);
        op->cpu(begin, end, op->argv);
    } else {
        weft_chunk_ctx_t c;
        weft__op_ctx(op, p->gb, p->ge, &c);
        op->cpu_ctx(&c, op->argv);
    }
    return NULL;
}

/* A spawned right half, on the spawner's stack until it is joined. */
typedef struct half {
    const weft__op *op;
    size_t gb, ge;                /* work-groups */
    size_t splits;                /* budget it got */
    size_t threads;               /* the budget a stolen half starts again with */
    pthread_t spawner;
    weft_panic_t *panic;          /* its first panic, or NULL */
} half;

/* Keep the first panic in *first, destroy a later one. */
static void keep_first(weft_panic_t **first, weft_panic_t *p)
{
    if (!p) return;
    if (!*first) *first = p;
    else weft_panic_destroy(p);
}

static void *run_half(void *arg);

/* Run groups [gb, ge) of op on this thread and the tasks it spawns; the
 * first panic (leftmost), or NULL. Never panics itself. */
static weft_panic_t *run_groups(const weft__op *op, size_t gb, size_t ge, size_t splits, size_t threads)
{
    if (ge - gb < 2 || splits == 0) {
        piece p = {.op = op, .gb = gb, .ge = ge};
        return weft__run_caught_quiet(run_piece, &p, NULL, weft_current_name()); /* the driver notifies */
    }
    size_t mid = gb + (ge - gb) / 2;
    splits /= 2;
    half right = {.op = op, .gb = mid, .ge = ge, .splits = splits, .threads = threads,
                  .spawner = pthread_self(), .panic = NULL};
    weft_handle_t *h = NULL;
    if (weft_spawn(op->rt, run_half, &right, &h) != 0) h = NULL;
    weft_panic_t *first = run_groups(op, gb, mid, splits, threads);
    if (!h) {
        run_half(&right); /* could not spawn it: run it here */
    } else {
        weft_panic_t *p = NULL;
        if (weft_join(h, NULL, &p) == WEFT_EPANIC) keep_first(&right.panic, p);
    }
    keep_first(&first, right.panic);
    return first;
}

static void *run_half(void *arg)
{
    half *r = arg;
    size_t splits = pthread_equal(r->spawner, pthread_self()) ? r->splits : r->threads;
    r->panic = run_groups(r->op, r->gb, r->ge, splits, r->threads);
    return NULL;
}

/* The threads that run the CPU place: the workers, and the thread that
 * joins the operation, which runs pool tasks while it waits. */
static int cpu_threads(const weft__op *op) { return weft_runtime_cpu_threads(op->rt) + 1; }

static weft_panic_t *run_chunk(weft__op *op, weft__place *pl)
{
    size_t threads = (size_t)cpu_threads(op);
    weft_panic_t *failure = run_groups(op, pl->gb, pl->ge, threads, threads);
    size_t range[2];
    weft__op_indices(op, pl->gb, pl->ge, &range[0], &range[1]);
    weft__panic_fill(failure, op->name, range, NULL, 0);
    return failure;
}

static int cpu_setup(weft__op *op, weft__place *pl, weft_panic_t **why)
{
    int workers = weft_runtime_cpu_threads(op->rt);
    *why = NULL;
    snprintf(pl->name, sizeof pl->name, "CPU (%d worker%s)", workers, workers == 1 ? "" : "s");
    pl->prior = (double)cpu_threads(op);
    return 0;
}

/* Registered arrays: the host's copy of the chunk's bytes made current
 * first (this runs on a worker or the starting thread, which may wait), and
 * the written bytes the only current ones after. */
static void cpu_submit(weft__op *op, weft__place *pl, weft__report_fn report)
{
    cl_int err;
    weft__arrays_fetch(op, pl, NULL, &err);
    if (err != CL_SUCCESS) {
        size_t ib, ie;
        weft__op_indices(op, pl->gb, pl->ge, &ib, &ie);
        weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                           .kernel = op->name, .cl_status = err, .cl_status_name = weft_cl_status_name(err),
                           .has_range = 1, .begin = ib, .end = ie};
        weft_panic_t *why = weft__panic_failure(&f, "kernel '%s': a registered array's bytes for chunk [%zu, %zu) "
                                                "could not be read back: %s (%d)", op->name, ib, ie,
                                                weft_cl_status_name(err), err);
        report(op, pl, why);
        return;
    }
    weft_panic_t *failure = run_chunk(op, pl);
    weft__arrays_done(op, pl, failure == NULL);
    report(op, pl, failure);
}

const weft__place_ops weft__place_cpu = {
    .setup = cpu_setup,
    .submit = cpu_submit,
    .release = NULL, /* nothing to free */
};

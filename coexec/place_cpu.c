/* coexec/place_cpu.c — the CPU workers as a place: a chunk is cut into a
 * few pieces per worker, on work-group boundaries so that no reduction block
 * is shared by two pieces, run as tasks of a scope (the first on the calling
 * worker). The chunk runs inside submit, which reports before it returns. */
#include <stdio.h>
#include <stdlib.h>

#include "../host/host.h"
#include "array.h"
#include "op.h"

typedef struct piece {
    weft__op *op;
    size_t begin, end;
    weft_handle_t *h;
} piece;

static void *run_piece(void *arg)
{
    piece *p = arg;
    p->op->cpu(p->begin, p->end, p->op->argv);
    return NULL;
}

typedef struct pieces {
    piece *v;
    size_t n;
    weft_panic_t *first;
} pieces;

/* Scope body: spawn every piece but the first, run that one here, join all
 * (joined panics do not fail the scope: the first is kept for the chunk). */
static int run_pieces(weft_scope_t *s, void *arg)
{
    pieces *ps = arg;
    for (size_t i = 1; i < ps->n; i++)
        if (weft_scope_spawn(s, run_piece, &ps->v[i], &ps->v[i].h)) ps->v[i].h = NULL;
    ps->first = weft__run_caught(run_piece, &ps->v[0], NULL, weft_current_name());
    for (size_t i = 1; i < ps->n; i++) {
        weft_panic_t *p = NULL;
        if (!ps->v[i].h) {
            run_piece(&ps->v[i]); /* could not spawn: run it here */
            continue;
        }
        if (weft_join(ps->v[i].h, NULL, &p) == WEFT_EPANIC) {
            if (!ps->first) ps->first = p;
            else weft_panic_destroy(p);
        }
    }
    return 0;
}

static weft_panic_t *run_chunk(weft__op *op, weft__place *pl)
{
    size_t groups = pl->ge - pl->gb;
    size_t workers = (size_t)weft_runtime_cpu_threads(op->rt);
    /* A few pieces per worker, not one: the workers steal them, so a chunk
     * of uneven work (Mandelbrot rows) does not wait for its slowest piece. */
    size_t want = workers > 1 ? 4 * workers : 1;
    size_t n = want < groups ? want : groups;
    piece stack[8];
    piece *v = n <= 8 ? stack : malloc(n * sizeof *v);
    if (!v) n = 1, v = stack;
    /* Piece i gets groups/n groups, one more for the first groups%n pieces
     * (groups * i / n would overflow for ranges of more than SIZE_MAX/n). */
    size_t q = n ? groups / n : 0, rem = n ? groups % n : 0;
    for (size_t i = 0; i < n; i++) {
        size_t gb = pl->gb + q * i + (i < rem ? i : rem), ge = gb + q + (i < rem);
        v[i].op = op;
        weft__op_indices(op, gb, ge, &v[i].begin, &v[i].end);
        v[i].h = NULL;
    }
    weft_panic_t *failure = NULL;
    if (n == 1) {
        failure = weft__run_caught(run_piece, &v[0], NULL, weft_current_name());
    } else {
        pieces ps = {.v = v, .n = n, .first = NULL};
        weft_panic_t *scope_panic = NULL;
        weft_scope(op->rt, run_pieces, &ps, &scope_panic);
        failure = ps.first;
        if (scope_panic && !failure) failure = scope_panic;
        else weft_panic_destroy(scope_panic);
    }
    if (v != stack) free(v);
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
    pl->prior = (double)workers;
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
        weft__panic_notify(why);
        report(op, pl, why);
        return;
    }
    weft_panic_t *failure = run_chunk(op, pl);
    weft__arrays_done(op, pl, failure == NULL);
    report(op, pl, failure); /* a CPU body's panic was heard already */
}

const weft__place_ops weft__place_cpu = {
    .setup = cpu_setup,
    .submit = cpu_submit,
    .release = NULL, /* nothing to free */
};

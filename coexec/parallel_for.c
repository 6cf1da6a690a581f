/* coexec/parallel_for.c — drive one parallel operation: check its arguments,
 * bring up its places, hand out chunks until none is left, then finish.
 *
 * Places pull chunks: the CPU place from a pool task that loops, each device
 * from the completion callback of its previous chunk. op->m serialises the
 * policy and the place states. The operation finishes, exactly once, when no
 * place is active and no chunk is in flight. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel_op.h"

static atomic_ulong next_op_id = 1;

_Thread_local pf_deferred *pf_trampoline;

void pf_drain(pf_deferred *d)
{
    while (d->n > 0) {
        pf_place *pl = d->v[--d->n];
        pf_pump(pl->op, pl);
    }
}

weft_range_t weft_range_1d(size_t n, size_t group)
{
    weft_range_t r = {.dims = 1, .size = {n, 1}, .group = {group ? group : 64, 1}};
    return r;
}

weft_range_t weft_range_2d(size_t width, size_t height, size_t gx, size_t gy)
{
    weft_range_t r = {.dims = 2, .size = {width, height}, .group = {gx ? gx : 16, gy ? gy : 4}};
    return r;
}

weft_arg_t weft_arg_split(void *data, size_t bytes, size_t unit, weft_access_t access)
{
    weft_arg_t a = {.kind = WEFT_ARG_SPLIT, .access = access, .data = data, .bytes = bytes, .unit = unit};
    return a;
}

weft_arg_t weft_arg_split_halo(const void *data, size_t bytes, size_t unit, size_t halo)
{
    weft_arg_t a = weft_arg_split((void *)(uintptr_t)data, bytes, unit, WEFT_READ);
    a.halo = halo;
    return a;
}

weft_arg_t weft_arg_whole(const void *data, size_t bytes)
{
    weft_arg_t a = {.kind = WEFT_ARG_WHOLE, .access = WEFT_READ, .data = (void *)(uintptr_t)data, .bytes = bytes};
    return a;
}

weft_arg_t weft_arg_reduce(void *result, size_t elem_size, const void *identity,
                           void (*combine)(void *acc, const void *partial))
{
    weft_arg_t a = {.kind = WEFT_ARG_REDUCE, .access = WEFT_WRITE, .data = result, .unit = elem_size,
                    .value = identity, .combine = combine};
    return a;
}

weft_arg_t weft_arg_scalar(const void *value, size_t size)
{
    weft_arg_t a = {.kind = WEFT_ARG_SCALAR, .value = value, .size = size};
    return a;
}

weft_arg_t weft_arg_local(size_t bytes)
{
    weft_arg_t a = {.kind = WEFT_ARG_LOCAL, .size = bytes};
    return a;
}

void weft_policy_init(weft_policy_t *p)
{
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->kind = WEFT_POLICY_GUIDED;
    p->use_cpu = 1;
    p->devices = WEFT_ALL_DEVICES;
    p->on_fault = WEFT_FAULT_PROPAGATE;
}

/* ---- checking the request ------------------------------------------------ */

static int check_mul(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b) return -1;
    *out = a * b;
    return 0;
}

static int validate(const weft_kernel_t *k, weft_range_t r, const weft_arg_t *args, size_t nargs,
                    const weft_policy_t *pol)
{
    const char *c = "weft_parallel_for";
    if (!k) return weft__fail(WEFT_EINVAL, "%s: kernel is NULL", c);
    if (!k->name || !*k->name) return weft__fail(WEFT_EINVAL, "%s: kernel has no name", c);
    if (!k->cpu && !k->cl_source) return weft__fail(WEFT_EINVAL, "%s: kernel '%s' has neither a CPU nor an OpenCL body", c, k->name);
    if (k->cl_source && (!k->cl_entry || !*k->cl_entry))
        return weft__fail(WEFT_EINVAL, "%s: kernel '%s' has OpenCL source but no entry name", c, k->name);
    if (r.dims != 1 && r.dims != 2) return weft__fail(WEFT_EINVAL, "%s: range has %u dimensions, must be 1 or 2", c, r.dims);
    for (unsigned d = 0; d < r.dims; d++)
        if (r.group[d] == 0) return weft__fail(WEFT_EINVAL, "%s: work-group size of dimension %u is 0", c, d);
    size_t rows = r.size[r.dims - 1], total;
    if (r.dims == 2 && (check_mul(r.size[0], r.size[1], &total) || r.size[0] == 0) && rows)
        return weft__fail(WEFT_EINVAL, "%s: 2-D range %zu x %zu is empty in x or overflows", c, r.size[0], r.size[1]);
    /* Sizes are rounded up to whole work-groups: that must not overflow. */
    for (unsigned d = 0; d < r.dims; d++)
        if (r.size[d] > SIZE_MAX - r.group[d])
            return weft__fail(WEFT_EINVAL, "%s: range size %zu in work-groups of %zu overflows (dimension %u)", c,
                              r.size[d], r.group[d], d);
    size_t nblocks = 0; /* reduction partials: groups along the split times groups across (2-D) */
    size_t blocks_across = r.dims == 2 ? (r.size[0] + r.group[0] - 1) / r.group[0] : 1;
    int blocks_overflow = check_mul((rows + r.group[r.dims - 1] - 1) / r.group[r.dims - 1], blocks_across, &nblocks);
    if (nargs && !args) return weft__fail(WEFT_EINVAL, "%s: nargs is %zu but args is NULL", c, nargs);
    for (size_t i = 0; i < nargs; i++) {
        const weft_arg_t *a = &args[i];
        size_t need;
        switch (a->kind) {
        case WEFT_ARG_SPLIT:
            if (a->unit == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: unit is 0 bytes", c, i);
            if (a->access < WEFT_READ || a->access > WEFT_READ_WRITE)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: access %d is not valid", c, i, (int)a->access);
            if (check_mul(rows, a->unit, &need))
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: %zu x %zu bytes overflows", c, i, rows, a->unit);
            if (need && !a->data) return weft__fail(WEFT_EINVAL, "%s: argument %zu: data is NULL", c, i);
            if (a->bytes < need)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: array of %zu bytes is smaller than the %zu the range needs",
                                  c, i, a->bytes, need);
            break;
        case WEFT_ARG_WHOLE:
            if (!a->data || a->bytes == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: whole array is NULL or empty", c, i);
            if (a->access != WEFT_READ)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: whole arrays are read-only; split outputs instead", c, i);
            break;
        case WEFT_ARG_REDUCE:
            if (!a->data || !a->value || !a->combine || a->unit == 0)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: a reduction needs result, identity, combine and elem_size",
                                  c, i);
            if (blocks_overflow || check_mul(nblocks, a->unit, &need))
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: the range's partials (%zu-byte each) overflow", c, i,
                                  a->unit);
            break;
        case WEFT_ARG_SCALAR:
            if (!a->value || a->size == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: scalar needs a value and a size", c, i);
            break;
        case WEFT_ARG_LOCAL:
            if (a->size == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: __local size is 0", c, i);
            break;
        default:
            return weft__fail(WEFT_EINVAL, "%s: argument %zu: unknown kind %d", c, i, (int)a->kind);
        }
    }
    if (pol && (pol->kind < WEFT_POLICY_STATIC || pol->kind > WEFT_POLICY_ADAPTIVE))
        return weft__fail(WEFT_EINVAL, "%s: unknown policy kind %d", c, (int)pol->kind);
    if (pol && pol->on_fault != WEFT_FAULT_PROPAGATE && pol->on_fault != WEFT_FAULT_FAILOVER)
        return weft__fail(WEFT_EINVAL, "%s: unknown on_fault %d", c, (int)pol->on_fault);
    return 0;
}

/* ---- op lifetime --------------------------------------------------------- */

static void op_free(pf_op *op)
{
    for (int p = 0; p < op->nplaces; p++) {
        pf_place *pl = &op->places[p];
        if (pl->device >= 0) pf_device_release(op, pl);
        if (pl->snapshot) {
            for (size_t i = 0; i < op->nargs; i++) free(pl->snapshot[i]);
            free(pl->snapshot);
        }
    }
    for (size_t i = 0; op->args && i < op->nargs; i++) {
        if (op->args[i].kind == WEFT_ARG_SCALAR) free((void *)(uintptr_t)op->args[i].value);
        if (op->partials) free(op->partials[i]);
    }
    free(op->partials);
    free(op->argv);
    free(op->args);
    free(op->name);
    free(op->launcher);
    free(op->cl_entry);
    free(op->cl_source);
    free(op->cl_options);
    weft__split_free(&op->sp);
    pthread_mutex_destroy(&op->m);
    free(op);
}

static void place_key(const pf_op *op, const pf_place *pl, char *buf, size_t cap)
{
    if (pl->device < 0) snprintf(buf, cap, "cpu:%d", weft_runtime_cpu_threads(op->rt));
    else snprintf(buf, cap, "%s", pl->name);
}

/* Everything has stopped: fold reductions, publish stats, complete the handle. */
static void finish(pf_op *op)
{
    weft_runtime_t *rt = op->rt;
    weft_panic_t *failure = op->failure;
    if (!failure) {
        for (size_t i = 0; i < op->nargs; i++) {
            const weft_arg_t *a = &op->args[i];
            if (a->kind != WEFT_ARG_REDUCE) continue;
            /* Block order, whatever place computed which block. */
            char *acc = op->partials[i] ? op->partials[i] : NULL;
            unsigned char small[256];
            unsigned char *tmp = a->unit <= sizeof small ? small : malloc(a->unit);
            if (!tmp) continue;
            memcpy(tmp, a->value, a->unit);
            size_t nblocks = op->ngroups * op->blocks_per_group;
            for (size_t b = 0; b < nblocks; b++) a->combine(tmp, acc + b * a->unit);
            memcpy(a->data, tmp, a->unit);
            if (tmp != small) free(tmp);
        }
    }
    /* Static splits by measured speed too: it reads and keeps the same model. */
    if ((op->kind == WEFT_POLICY_ADAPTIVE || op->kind == WEFT_POLICY_STATIC) && !failure) {
        for (int p = 0; p < op->nplaces; p++) {
            char key[200];
            if (!op->sp.measured[p]) continue;
            place_key(op, &op->places[p], key, sizeof key);
            weft__model_store(op->name, key, op->sp.speed[p] * (double)op->group);
        }
    }
    for (int p = 0; p < op->nplaces; p++) op->stats.items[op->places[p].trace_id] = op->places[p].items;
    weft__engine_publish_stats(rt, &op->stats);
    weft__borrow_release(rt, op->id);

    struct weft_task *t = op->task;
    op->failure = NULL;
    op_free(op);
    if (failure) weft__task_store_panic(t, failure); /* the hook heard of it when it happened */
    weft__task_complete(t);
    weft__runtime_external_end(rt);
}

/* ---- places -------------------------------------------------------------- */

static void *cpu_driver(void *arg)
{
    pf_place *pl = arg;
    pf_pump(pl->op, pl);
    return NULL;
}

/* Set pl going (its state is already ACTIVE). */
static void start_place(pf_op *op, pf_place *pl)
{
    if (pl->device >= 0) {
        pf_pump(op, pl);
        return;
    }
    weft_handle_t *h;
    if (weft_spawn(op->rt, cpu_driver, pl, &h) == 0) weft_handle_detach(h);
    else pf_pump(op, pl); /* cannot queue: drive it from here */
}

int pf_snapshot(pf_op *op, pf_place *pl, int save)
{
    size_t ib, ie;
    pf_indices(op, pl->gb, pl->ge, &ib, &ie);
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->kind != WEFT_ARG_SPLIT || a->access != WEFT_READ_WRITE) continue;
        size_t off = ib * a->unit, len = (ie - ib) * a->unit;
        if (!pl->snapshot && !(pl->snapshot = calloc(op->nargs, sizeof *pl->snapshot))) return -1;
        if (save) {
            free(pl->snapshot[i]);
            if (!(pl->snapshot[i] = malloc(len ? len : 1))) return -1;
            memcpy(pl->snapshot[i], (char *)a->data + off, len);
        } else if (pl->snapshot[i]) {
            memcpy((char *)a->data + off, pl->snapshot[i], len);
        }
    }
    return 0;
}

static int other_live_place(const pf_op *op, const pf_place *pl)
{
    for (int p = 0; p < op->nplaces; p++)
        if (&op->places[p] != pl && op->places[p].state != PLACE_RETIRED) return 1;
    return 0;
}

void pf_chunk_done(pf_op *op, pf_place *pl, weft_panic_t *failure)
{
    uint64_t now = weft__now_ns();
    size_t ib, ie;
    pf_indices(op, pl->gb, pl->ge, &ib, &ie);
    weft__trace_chunk(op->rt, op->name, pl->name, pl->trace_id, ib, ie, pl->bytes, pl->t_start, now, failure != NULL);
    if (failure && pl->device >= 0) weft__panic_notify(failure); /* CPU panics were heard already */
    int kick[WEFT__MAX_PLACES], nkick = 0;

    pthread_mutex_lock(&op->m);
    op->in_flight--;
    /* The caller pumps pl next (pf_pump, perhaps later from a pool task). A
     * failed chunk retires pl, and without this another place could find the
     * op done and free it before that pump runs. */
    pl->owed = 1;
    op->stats.chunks++;
    op->stats.bytes_moved += pl->bytes;
    if (!failure) {
        pl->items += ie - ib;
        weft__split_record(&op->sp, (int)(pl - op->places), pl->ge - pl->gb, (double)(now - pl->t_start) / 1e9);
    } else {
        op->stats.failed_chunks++;
        if (op->on_fault == WEFT_FAULT_FAILOVER && !op->stopped && other_live_place(op, pl)) {
            pthread_mutex_unlock(&op->m);
            pf_snapshot(op, pl, 0); /* restore the rows the failed chunk may have dirtied */
            weft_panic_destroy(failure);
            failure = NULL;
            pthread_mutex_lock(&op->m);
            weft__split_requeue(&op->sp, (int)(pl - op->places), pl->gb, pl->ge);
            pl->state = PLACE_RETIRED;
            for (int p = 0; p < op->nplaces; p++) {
                if (op->places[p].state == PLACE_IDLE) {
                    op->places[p].state = PLACE_ACTIVE;
                    kick[nkick++] = p;
                }
            }
        } else {
            op->stopped = 1;
            weft__split_retire(&op->sp, (int)(pl - op->places));
            pl->state = PLACE_RETIRED;
            if (!op->failure) op->failure = failure;
            else weft_panic_destroy(failure);
        }
    }
    pthread_mutex_unlock(&op->m);
    for (int i = 0; i < nkick; i++) start_place(op, &op->places[kick[i]]);
}

void pf_pump(pf_op *op, pf_place *pl)
{
    int p = (int)(pl - op->places);
    for (;;) {
        pthread_mutex_lock(&op->m);
        pl->owed = 0;
        size_t gb, ge;
        if (pl->state == PLACE_ACTIVE && !op->stopped && weft__split_next(&op->sp, p, &gb, &ge)) {
            op->in_flight++;
            pl->gb = gb;
            pl->ge = ge;
            pl->bytes = 0;
            pthread_mutex_unlock(&op->m);
            pl->t_start = weft__now_ns();
            if (op->on_fault == WEFT_FAULT_FAILOVER) pf_snapshot(op, pl, 1);
            weft_panic_t *failure = NULL;
            if (pl->device >= 0) {
                if (pf_device_submit(op, pl, &failure) == 0) return; /* the callback goes on */
            } else {
                failure = pf_cpu_run(op, pl);
            }
            pf_chunk_done(op, pl, failure);
            continue;
        }
        if (pl->state != PLACE_RETIRED) pl->state = PLACE_IDLE;
        int done = 1;
        for (int q = 0; q < op->nplaces; q++) done &= op->places[q].state != PLACE_ACTIVE && !op->places[q].owed;
        done = done && op->in_flight == 0 && !op->finalizing;
        if (done) {
            op->finalizing = 1;
            if (!op->failure && op->sp.nrequeued) {
                char msg[256];
                snprintf(msg, sizeof msg, "kernel '%s': chunk [%zu, %zu) failed on every place that could run it",
                         op->name, op->sp.requeued[0].gb * op->group, op->sp.requeued[0].ge * op->group);
                op->failure = weft__panic_new(op->launcher, op->file, op->line, msg);
            }
        }
        pthread_mutex_unlock(&op->m);
        if (done) finish(op);
        return;
    }
}

/* ---- starting ------------------------------------------------------------ */

static int copy_args(pf_op *op, const weft_arg_t *args, size_t nargs)
{
    op->nargs = nargs;
    op->args = calloc(nargs ? nargs : 1, sizeof *op->args);
    op->argv = calloc(nargs ? nargs : 1, sizeof *op->argv);
    op->partials = calloc(nargs ? nargs : 1, sizeof *op->partials);
    if (!op->args || !op->argv || !op->partials) return -1;
    for (size_t i = 0; i < nargs; i++) {
        weft_arg_t a = args[i];
        if (a.kind == WEFT_ARG_SCALAR) {
            void *v = malloc(a.size);
            if (!v) return -1;
            memcpy(v, a.value, a.size);
            a.value = v;
            op->argv[i] = v;
        } else if (a.kind == WEFT_ARG_REDUCE) {
            size_t nblocks = op->ngroups * op->blocks_per_group;
            /* Every block starts as the identity: a block no place reached
             * (an empty range) folds to nothing. */
            if (!(op->partials[i] = malloc(nblocks ? nblocks * a.unit : 1))) return -1;
            for (size_t b = 0; b < nblocks; b++) memcpy((char *)op->partials[i] + b * a.unit, a.value, a.unit);
            op->argv[i] = op->partials[i];
        } else if (a.kind != WEFT_ARG_LOCAL) {
            op->argv[i] = a.data;
        }
        op->args[i] = a;
    }
    return 0;
}

/* Write ranges this op takes; refused when a running op writes them too. */
static int take_borrows(pf_op *op)
{
    const char *b[64], *e[64];
    size_t n = 0;
    for (size_t i = 0; i < op->nargs && n < 64; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE) && op->n) {
            b[n] = a->data;
            e[n++] = (const char *)a->data + op->n * a->unit;
        } else if (a->kind == WEFT_ARG_REDUCE) {
            b[n] = a->data;
            e[n++] = (const char *)a->data + a->unit;
        }
    }
    return weft__borrow_take(op->rt, op->id, op->name, b, e, n);
}

static void add_place(pf_op *op, int device)
{
    pf_place *pl = &op->places[op->nplaces++];
    pl->op = op;
    pl->device = device;
    pl->trace_id = device + 1;
    pl->state = PLACE_ACTIVE;
    if (device < 0)
        snprintf(pl->name, sizeof pl->name, "CPU (%d worker%s)", weft_runtime_cpu_threads(op->rt),
                 weft_runtime_cpu_threads(op->rt) == 1 ? "" : "s");
}

/* Relative speed before anything is measured: the model on disk (adaptive),
 * else cores for the CPU and compute units for a device. */
static void priors(pf_op *op, double *speed, int *measured)
{
    for (int p = 0; p < op->nplaces; p++) {
        pf_place *pl = &op->places[p];
        measured[p] = 0;
        speed[p] = pl->device < 0 ? (double)weft_runtime_cpu_threads(op->rt)
                                  : (double)(pl->dev ? pl->dev->info.compute_units : 1);
        if (op->kind == WEFT_POLICY_ADAPTIVE || op->kind == WEFT_POLICY_STATIC) {
            char key[200];
            double v;
            place_key(op, pl, key, sizeof key);
            if (weft__model_load(op->name, key, &v)) {
                speed[p] = v / (double)op->group;
                measured[p] = 1;
            }
        }
    }
    /* Known and unknown speeds cannot be mixed: calibrate all if any is unknown. */
    int all = 1;
    for (int p = 0; p < op->nplaces; p++) all &= measured[p];
    if (!all)
        for (int p = 0; p < op->nplaces; p++) measured[p] = 0;
}

static int start(const char *file, int line, weft_runtime_t *rt, weft_scope_t *s, const weft_kernel_t *k, weft_range_t r,
                 const weft_arg_t *args, size_t nargs, const weft_policy_t *pol, weft_handle_t **out)
{
    int rc = validate(k, r, args, nargs, pol);
    if (rc) return rc;
    weft_policy_t defaults;
    if (!pol) {
        weft_policy_init(&defaults);
        pol = &defaults;
    }
    pf_op *op = calloc(1, sizeof *op);
    if (!op) return weft__fail(WEFT_ENOMEM, "weft_parallel_for: out of memory");
    pthread_mutex_init(&op->m, NULL);
    op->rt = rt;
    op->id = atomic_fetch_add(&next_op_id, 1);
    op->file = file;
    op->line = line;
    op->cpu = k->cpu;
    op->range = r;
    op->split_dim = r.dims - 1;
    op->n = r.size[r.dims - 1];
    op->group = r.group[r.dims - 1];
    op->ngroups = (op->n + op->group - 1) / op->group;
    op->blocks_per_group = r.dims == 2 ? (r.size[0] + r.group[0] - 1) / r.group[0] : 1;
    op->on_fault = pol->on_fault;
    op->kind = pol->kind;
    const char *launcher = weft_current_name();
    if (!(op->name = weft__strdup(k->name)) || copy_args(op, args, nargs) ||
        (launcher && !(op->launcher = weft__strdup(launcher))) ||
        (k->cl_source && (!(op->cl_entry = weft__strdup(k->cl_entry)) ||
                          !(op->cl_source = pf_whole_range_source(op, k->cl_source)) ||
                          (k->cl_options && !(op->cl_options = weft__strdup(k->cl_options)))))) {
        op_free(op);
        return weft__fail(WEFT_ENOMEM, "weft_parallel_for: out of memory");
    }

    /* Places: the CPU, then devices in order; each needs its body. */
    if (pol->use_cpu && k->cpu) add_place(op, -1);
    int ndev = weft_device_count(rt);
    for (int d = 0; d < ndev && d < 64 && k->cl_source; d++)
        if (pol->devices >> d & 1) add_place(op, d);
    if (op->nplaces == 0) {
        op_free(op);
        return weft__fail(WEFT_EINVAL, "weft_parallel_for: no place can run kernel '%s' (%s)", k->name,
                          !k->cpu && !ndev ? "it has no CPU body and the runtime has no device"
                          : !pol->use_cpu && !pol->devices ? "the policy allows no place"
                                                           : "the policy's places lack the body they need");
    }
    if ((rc = take_borrows(op))) {
        op_free(op);
        return rc;
    }
    weft_builder_t b;
    weft_builder_init(&b);
    if ((rc = weft__task_new(rt, &b, NULL, NULL, &op->task))) {
        weft__borrow_release(rt, op->id);
        op_free(op);
        return rc;
    }

    /* Device set-up: a device that cannot take part is a failure of the op
     * (propagate) or simply left out (failover, if another place remains). */
    for (int p = 0; p < op->nplaces && op->n; p++) {
        pf_place *pl = &op->places[p];
        weft_panic_t *why = NULL;
        if (pl->device < 0 || pf_device_setup(op, pl, &why) == 0) continue;
        if (why) weft__panic_notify(why);
        pl->state = PLACE_RETIRED;
        if (op->on_fault == WEFT_FAULT_FAILOVER && other_live_place(op, pl)) {
            weft_panic_destroy(why);
        } else {
            op->stopped = 1;
            if (!op->failure) op->failure = why;
            else weft_panic_destroy(why);
        }
    }
    double speed[WEFT__MAX_PLACES];
    int measured[WEFT__MAX_PLACES];
    priors(op, speed, measured);
    size_t chunk_groups = pol->chunk ? (pol->chunk + op->group - 1) / op->group : 0;
    weft__split_init(&op->sp, op->kind, op->ngroups, op->nplaces, speed, measured, chunk_groups);
    for (int p = 0; p < op->nplaces; p++)
        if (op->places[p].state == PLACE_RETIRED) weft__split_retire(&op->sp, p);

    struct weft_task *t = op->task;
    if (s) weft__scope_add(s, t);
    weft__runtime_external_begin(rt);
    if (out) *out = t;
    /* From here the op may finish (and be freed) at any moment: touch only the
     * places we start, each of which holds it open while active. */
    int nplaces = op->nplaces, active[WEFT__MAX_PLACES], nactive = 0;
    for (int p = 0; p < nplaces; p++)
        if (op->places[p].state == PLACE_ACTIVE) active[nactive++] = p;
    if (nactive == 0) {
        pthread_mutex_lock(&op->m);
        op->finalizing = 1;
        pthread_mutex_unlock(&op->m);
        finish(op);
        return 0;
    }
    pf_place *places[WEFT__MAX_PLACES];
    for (int i = 0; i < nactive; i++) places[i] = &op->places[active[i]];
    /* Every place gets its first chunk before any goes on (see pf_deferred). */
    pf_deferred deferred = {.n = 0}, *outer = pf_trampoline;
    pf_trampoline = &deferred;
    for (int i = 0; i < nactive; i++) start_place(op, places[i]);
    pf_drain(&deferred);
    pf_trampoline = outer;
    return 0;
}

int weft_scope_parallel_for_at(const char *file, int line, weft_scope_t *s, const weft_kernel_t *k,
                               weft_range_t r, const weft_arg_t *args, size_t nargs,
                               const weft_policy_t *pol, weft_handle_t **out)
{
    if (out) *out = NULL;
    if (!s) return weft__fail(WEFT_EINVAL, "weft_scope_parallel_for: scope is NULL");
    return start(file, line, weft_scope_runtime(s), s, k, r, args, nargs, pol, out);
}

int weft_parallel_for_at(const char *file, int line, weft_runtime_t *rt, const weft_kernel_t *k,
                         weft_range_t r, const weft_arg_t *args, size_t nargs,
                         const weft_policy_t *pol, weft_handle_t **out)
{
    if (out) *out = NULL;
    if (!rt || !out) return weft__fail(WEFT_EINVAL, "weft_parallel_for: %s is NULL", !rt ? "runtime" : "out");
    return start(file, line, rt, NULL, k, r, args, nargs, pol, out);
}

int weft_parallel_run_at(const char *file, int line, weft_runtime_t *rt, const weft_kernel_t *k,
                         weft_range_t r, const weft_arg_t *args, size_t nargs,
                         const weft_policy_t *pol, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    weft_handle_t *h;
    int rc = weft_parallel_for_at(file, line, rt, k, r, args, nargs, pol, &h);
    if (rc) return rc;
    return weft_join(h, NULL, panic);
}

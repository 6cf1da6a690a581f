/* coexec/driver.c — drive one parallel operation: start it (checked
 * arguments, borrows, places set up, speeds), hand out chunks until none is
 * left, take each chunk's report, then finish (fold reductions, store
 * models, publish statistics, release borrows, complete the handle).
 *
 * Places pull chunks: the CPU place from a pool task that loops, each device
 * from the report of its previous chunk (the completion callback). op->m
 * serialises the policy and the place states. The operation finishes,
 * exactly once, when no place is active and no chunk is in flight. Places
 * only ever call back through the report function they are handed
 * (coexec/place.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "array.h"
#include "op.h"
#include "place.h"
#include "place_set.h"

static atomic_ulong next_op_id = 1;

/* ---- the trampoline ------------------------------------------------------- */

/* A driver may complete a chunk inline (PoCL's basic device runs commands at
 * clFlush, and the completion callback then runs inside clSetEventCallback),
 * so a report may arrive on a thread that is already pumping places or
 * starting an operation. Such a report does not recurse: its place goes on
 * this thread's trampoline, a short list the outer loop pumps when it gets
 * back (the place stays active meanwhile, so its op cannot finish). During
 * start() this also means that every place is started before an
 * inline-completing device takes its second chunk, so that it cannot take
 * the whole range before the others begin. Set on a thread inside start()
 * and while it pumps a device place; not while it runs CPU chunks (a task
 * run meanwhile may wait for places it would defer), but for start() driving
 * the CPU place itself when it cannot be queued. */
#define DEFERRED_MAX 256
typedef struct deferred {
    weft__place *v[DEFERRED_MAX];
    int n;
} deferred;
static _Thread_local deferred *trampoline;

/* The submit handshake (weft__place::phase): whichever of the pump (after
 * submit returns) and the report comes second goes on with the place. */
enum { PHASE_SUBMITTING = 0, PHASE_SUBMITTED = 1, PHASE_REPORTED = 2 };

static void pump(weft__op *op, weft__place *pl);
static void pump_here(weft__place *pl);

static void *pump_task(void *arg)
{
    pump_here(arg);
    return NULL;
}

/* Leave pl to this thread's outer loop (or, that full, to a pool task).
 * 0 when there is none: the caller pumps. */
static int defer(weft__place *pl)
{
    deferred *d = trampoline;
    if (!d) return 0;
    if (d->n < DEFERRED_MAX) {
        d->v[d->n++] = pl;
        return 1;
    }
    weft_handle_t *h;
    if (weft_spawn(pl->op->rt, pump_task, pl, &h) != 0) return 0;
    weft_handle_detach(h);
    return 1;
}

/* Pump every deferred place, and those deferred meanwhile, until none is left. */
static void drain(deferred *d)
{
    while (d->n > 0) {
        weft__place *pl = d->v[--d->n];
        pump(pl->op, pl);
    }
}

/* Pump pl with a trampoline of this thread's own, then what it collected. */
static void pump_here(weft__place *pl)
{
    deferred local = {.n = 0}, *outer = trampoline;
    trampoline = &local;
    pump(pl->op, pl);
    drain(&local);
    trampoline = outer;
}

/* ---- op lifetime ------------------------------------------------------------ */

static void op_free(weft__op *op)
{
    for (int p = 0; p < op->nplaces; p++) {
        weft__place *pl = &op->places[p];
        if (pl->ops->release) pl->ops->release(op, pl);
        weft__args_snapshot_free(op, pl);
    }
    weft__args_free(op);
    free(op->name);
    free(op->launcher);
    free(op->cl_entry);
    free(op->cl_source);
    free(op->cl_options);
    weft__split_free(&op->sp);
    pthread_mutex_destroy(&op->m);
    free(op);
}

/* The key of pl's speed in the models on disk: the operation's size class
 * (its work-groups, rounded down to a power of two: speeds, and which places
 * pay off, change with the size), then the place. */
static int blocks_class(size_t blocks)
{
    int cls = 0;
    for (size_t g = blocks; g > 1; g >>= 1) cls++;
    return cls;
}

static int size_class(const weft__op *op)
{
    return blocks_class((op->g1 - op->g0) * op->blocks_per_group);
}

/* name: a device's display name (its CL_DEVICE_NAME); the CPU's key names
 * its thread count instead. */
static void key_of(weft_runtime_t *rt, int cls, int device, const char *name, char *buf, size_t cap)
{
    if (device < 0) snprintf(buf, cap, "2^%d cpu:%d", cls, weft_runtime_cpu_threads(rt));
    else snprintf(buf, cap, "2^%d %s", cls, name);
}

static void place_key(const weft__op *op, const weft__place *pl, char *buf, size_t cap)
{
    key_of(op->rt, size_class(op), pl->device, pl->name, buf, cap);
}

/* The key of a place set's throughput (groups per second of a whole
 * operation), the set as trace-id bits. */
static void set_key(const weft__op *op, uint64_t set, char *buf, size_t cap)
{
    snprintf(buf, cap, "2^%d set:%llx", size_class(op), (unsigned long long)set);
}

/* Adaptive: a smaller place set replaces a larger one when it was measured
 * this much faster (operations of milliseconds measure with noise), and the
 * stored throughput of the set it replaced rises by SET_RETRY_DRIFT per
 * operation, so that the larger set is measured again now and then (one that
 * ran at two thirds of the speed, after about 20 operations: a few percent of
 * the time). */
#define SET_MARGIN 1.03
#define SET_RETRY_DRIFT 1.02

/* Adaptive: which live places run. A place's speed is measured while the
 * others run, so it cannot tell that two places slow each other down (PoCL
 * and the workers on the same cores): the sum of their speeds looks fine
 * while the operation runs slower than on one of them. The model therefore
 * also keeps each place set's throughput over whole operations, and the
 * choice is greedy: from the live set, drop the slowest place while the
 * smaller set was measured faster; a set not measured yet is run, once
 * every place's speed is known (a calibrating run measures nothing fair).
 * Returns the set to run (trace-id bits) and, in *rejected, the larger set
 * it was preferred to (0: none). */
static uint64_t choose_set(weft__op *op, const double *speed, const int *measured, uint64_t *rejected)
{
    uint64_t set = 0;
    *rejected = 0;
    for (int p = 0; p < op->nplaces; p++) {
        if (op->places[p].state == WEFT__PLACE_RETIRED) continue;
        if (op->places[p].trace_id >= 64 || !measured[p]) return 0; /* no choice: run them all */
        set |= (uint64_t)1 << op->places[p].trace_id;
    }
    for (;;) {
        char key[96];
        double t_set, t_sub;
        set_key(op, set, key, sizeof key);
        if (!weft__model_load(op->rt, op->name, key, &t_set)) return set; /* measure it */
        int slowest = -1, n = 0;
        for (int p = 0; p < op->nplaces; p++) {
            if (!(set >> op->places[p].trace_id & 1) || op->places[p].state == WEFT__PLACE_RETIRED) continue;
            n++;
            if (slowest < 0 || speed[p] < speed[slowest]) slowest = p;
        }
        if (n < 2) return set;
        uint64_t sub = set & ~((uint64_t)1 << op->places[slowest].trace_id);
        set_key(op, sub, key, sizeof key);
        if (!weft__model_load(op->rt, op->name, key, &t_sub)) return sub; /* measure it */
        if (t_sub <= SET_MARGIN * t_set) return set;
        *rejected = set;
        set = sub;
    }
}

/* Adaptive: a place the stored speeds dropped before it ran a chunk gets no
 * new measurement, so its stored speed moves up a quarter per operation
 * instead; once it no longer predicts a loss the place runs a chunk again
 * and is measured (a place ten times too slow is tried again after about
 * ten operations). */
#define RETRY_DRIFT 1.25

/* Everything has stopped: fold reductions, store models, publish stats,
 * release borrows, complete the handle. */
static void finish(weft__op *op)
{
    weft_runtime_t *rt = op->rt;
    weft_panic_t *failure = op->failed ? op->failure : NULL;
    /* A combine that panics fails the op like a chunk would: the handle
     * panics with it, everything is released as for any failure. */
    if (!failure && (failure = weft__args_fold(op))) weft__panic_notify(failure);
    /* Static splits by measured speed too: it reads and keeps the same model. */
    if ((op->kind == WEFT_POLICY_ADAPTIVE || op->kind == WEFT_POLICY_STATIC) && !failure) {
        for (int p = 0; p < op->nplaces; p++) {
            char key[300];
            if (!op->sp.measured[p]) continue;
            double speed = op->sp.speed[p];
            if (op->kind == WEFT_POLICY_ADAPTIVE && op->sp.dropped[p] && op->sp.handed[p] == 0) speed *= RETRY_DRIFT;
            place_key(op, &op->places[p], key, sizeof key);
            weft__model_store(rt, op->name, key, speed * (double)op->group);
        }
    }
    if (op->kind == WEFT_POLICY_ADAPTIVE && !failure && op->set_run) {
        char key[96];
        double seconds = (double)(weft__now_ns() - op->t_first) / 1e9, old;
        if (seconds > 0) {
            double t = (double)(op->g1 - op->g0) / seconds;
            set_key(op, op->set_run, key, sizeof key);
            if (weft__model_load(rt, op->name, key, &old)) t = 0.5 * old + 0.5 * t;
            weft__model_store(rt, op->name, key, t);
        }
        set_key(op, op->set_rejected, key, sizeof key);
        if (op->set_rejected && weft__model_load(rt, op->name, key, &old))
            weft__model_store(rt, op->name, key, old * SET_RETRY_DRIFT);
    }
    for (int p = 0; p < op->nplaces; p++) {
        op->stats.items[op->places[p].trace_id] = op->places[p].items;
        op->stats.dropped[op->places[p].trace_id] = op->sp.dropped[p];
    }
    op->stats.bytes_moved = 0;
    for (int i = 0; i < WEFT__MAX_PLACES; i++) {
        op->stats.bytes_up[i] += atomic_load(&op->moved_up[i]);
        op->stats.bytes_down[i] += atomic_load(&op->moved_down[i]);
        op->stats.bytes_moved += op->stats.bytes_up[i] + op->stats.bytes_down[i];
    }
    weft__arrays_end(op, failure == NULL);
    weft__engine_publish_stats(rt, &op->stats);
    weft__borrow_release(rt, op->id);

    struct weft_task *t = op->task;
    op->failure = NULL;
    op_free(op);
    if (failure) weft__task_store_panic(t, failure); /* the hook heard of it when it became the op's */
    weft__task_complete(t);
    weft__runtime_external_end(rt);
}

/* ---- chunks ----------------------------------------------------------------- */

static void *cpu_driver(void *arg)
{
    weft__place *pl = arg;
    pump(pl->op, pl); /* no trampoline: CPU chunks loop here */
    return NULL;
}

/* Set pl going (its state is already ACTIVE). A device is pumped under a
 * trampoline, like every device pump: a report that a driver makes inline
 * while this thread enqueues (inside a device body, say) is deferred, never
 * nested. */
static void start_place(weft__op *op, weft__place *pl)
{
    if (pl->device >= 0) {
        if (trampoline) pump(op, pl);
        else pump_here(pl);
        return;
    }
    weft_handle_t *h;
    if (weft_spawn(op->rt, cpu_driver, pl, &h) == 0) weft_handle_detach(h);
    else pump(op, pl); /* cannot queue: drive it from here */
}

static int other_live_place(const weft__op *op, const weft__place *pl)
{
    for (int p = 0; p < op->nplaces; p++)
        if (&op->places[p] != pl && op->places[p].state != WEFT__PLACE_RETIRED) return 1;
    return 0;
}

/* ---- failures ---------------------------------------------------------------- */

/* A failure the op recovers from (failover): told to the policy's
 * on_recovered, then freed; the panic hook never hears of it. Called without
 * op->m held (on_recovered is the user's code). */
static void recovered(weft__op *op, weft_panic_t *failure)
{
    if (failure && op->on_recovered) op->on_recovered(failure, op->recovered_data);
    weft_panic_destroy(failure);
}

/* Make p the failure the handle panics with, if the op has none yet (else
 * free p: only the first reaches the caller). p NULL (memory ran out making
 * it) is the static out-of-memory payload: the op fails all the same.
 * Returns p when it became the op's, for the caller to pass to the panic
 * hook once it holds no lock. */
static weft_panic_t *take_failure(weft__op *op, weft_panic_t *p)
{
    if (!p) p = weft__panic_oom();
    if (op->failed) {
        weft_panic_destroy(p);
        return NULL;
    }
    op->failed = 1;
    op->failure = p;
    return p;
}

/* Record pl's chunk: its speed, or its failure (failover or stop). */
static void chunk_done(weft__op *op, weft__place *pl, weft_panic_t *failure)
{
    uint64_t now = weft__now_ns();
    size_t ib, ie;
    weft__op_indices(op, pl->gb, pl->ge, &ib, &ie);
    weft__trace_chunk(op->rt, op->name, pl->name, pl->trace_id, ib, ie, pl->bytes, pl->t_start, now, failure != NULL);
    int kick[WEFT__MAX_PLACES], nkick = 0;
    weft_panic_t *final = NULL;

    pthread_mutex_lock(&op->m);
    op->in_flight--;
    /* pl is pumped next (perhaps later, from a pool task). A failed chunk
     * retires pl, and without this another place could find the op done and
     * free it before that pump runs. */
    pl->owed = 1;
    op->stats.chunks++;
    op->stats.bytes_up[pl->trace_id] += pl->bytes_up;
    op->stats.bytes_down[pl->trace_id] += pl->bytes_down;
    if (!failure) {
        pl->items += ie - ib;
        weft__split_record(&op->sp, (int)(pl - op->places), pl->ge - pl->gb, (double)(now - pl->t_start) / 1e9);
    } else {
        op->stats.failed_chunks++;
        if (op->on_fault == WEFT_FAULT_FAILOVER && !op->stopped && other_live_place(op, pl)) {
            op->stats.recovered_chunks++;
            pthread_mutex_unlock(&op->m);
            weft__args_snapshot(op, pl, 0); /* restore the rows the failed chunk may have dirtied */
            recovered(op, failure); /* before another place can take the chunk */
            failure = NULL;
            pthread_mutex_lock(&op->m);
            weft__split_requeue(&op->sp, (int)(pl - op->places), pl->gb - op->g0, pl->ge - op->g0);
            pl->state = WEFT__PLACE_RETIRED;
            for (int p = 0; p < op->nplaces; p++) {
                if (op->places[p].state == WEFT__PLACE_IDLE) {
                    op->places[p].state = WEFT__PLACE_ACTIVE;
                    kick[nkick++] = p;
                }
            }
        } else {
            op->stopped = 1;
            weft__split_retire(&op->sp, (int)(pl - op->places));
            pl->state = WEFT__PLACE_RETIRED;
            final = take_failure(op, failure);
        }
    }
    pthread_mutex_unlock(&op->m);
    /* pl is owed a pump: the op, and so its failure, stays until then. */
    if (final) weft__panic_notify(final);
    for (int i = 0; i < nkick; i++) start_place(op, &op->places[kick[i]]);
}

/* What places call when a chunk ends (weft__report_fn). */
static void report(weft__op *op, weft__place *pl, weft_panic_t *failure)
{
    chunk_done(op, pl, failure);
    /* Still inside submit (or racing with its return): the pump goes on. */
    int phase = PHASE_SUBMITTING;
    if (atomic_compare_exchange_strong(&pl->phase, &phase, PHASE_REPORTED)) return;
    /* Later, from a driver's thread: go on from here, without nesting. */
    if (!defer(pl)) pump_here(pl);
}

/* Hand pl chunks while there are any for it; the last place out finishes. */
static void pump(weft__op *op, weft__place *pl)
{
    int p = (int)(pl - op->places);
    for (;;) {
        pthread_mutex_lock(&op->m);
        pl->owed = 0;
        size_t gb = pl->gb, ge = pl->ge;
        int got;
        if (pl->reserved) {
            /* The first chunk, counted in flight since start: run it, or
             * (the op stopped meanwhile) let it go. */
            pl->reserved = 0;
            got = pl->state == WEFT__PLACE_ACTIVE && !op->stopped;
            if (!got) op->in_flight--;
        } else {
            got = pl->state == WEFT__PLACE_ACTIVE && !op->stopped && weft__split_next(&op->sp, p, &gb, &ge);
            if (got) {
                op->in_flight++;
                gb += op->g0;
                ge += op->g0;
            }
        }
        if (got) {
            pl->gb = gb;
            pl->ge = ge;
            pl->bytes = pl->bytes_up = pl->bytes_down = 0;
            pthread_mutex_unlock(&op->m);
            pl->t_start = weft__now_ns();
            if (op->on_fault == WEFT_FAULT_FAILOVER) weft__args_snapshot(op, pl, 1);
            atomic_store(&pl->phase, PHASE_SUBMITTING);
            pl->ops->submit(op, pl, report);
            /* Not reported yet: the report goes on with pl, and the op may be
             * gone by then — touch nothing more. */
            if (atomic_exchange(&pl->phase, PHASE_SUBMITTED) != PHASE_REPORTED) return;
            /* Reported inside submit (a CPU chunk, an inline completion, a
             * failure to start): pl is owed a pump, which keeps the op. */
            if (defer(pl)) return;
            continue;
        }
        if (pl->state != WEFT__PLACE_RETIRED) pl->state = WEFT__PLACE_IDLE;
        int done = 1;
        weft_panic_t *final = NULL;
        for (int q = 0; q < op->nplaces; q++) done &= op->places[q].state != WEFT__PLACE_ACTIVE && !op->places[q].owed;
        done = done && op->in_flight == 0 && !op->finalizing;
        if (done) {
            op->finalizing = 1;
            if (!op->failed && op->sp.nrequeued) {
                char msg[256];
                snprintf(msg, sizeof msg, "kernel '%s': chunk [%zu, %zu) failed on every place that could run it",
                         op->name, (op->g0 + op->sp.requeued[0].gb) * op->group,
                         (op->g0 + op->sp.requeued[0].ge) * op->group);
                /* Its causes went to on_recovered: this is the one the hook hears of. */
                final = take_failure(op, weft__panic_new(op->launcher, op->file, op->line, msg));
            }
        }
        pthread_mutex_unlock(&op->m);
        if (final) weft__panic_notify(final);
        if (done) finish(op);
        return;
    }
}

/* ---- starting --------------------------------------------------------------- */

static void add_place(weft__op *op, int device, const weft__place_ops *ops)
{
    weft__place *pl = &op->places[op->nplaces++];
    pl->op = op;
    pl->ops = ops;
    pl->device = device;
    pl->trace_id = device + 1;
    pl->prior = 1.0;
    pl->state = WEFT__PLACE_ACTIVE;
    atomic_init(&pl->phase, PHASE_SUBMITTED);
}

/* Relative speed before anything is measured: the model on disk (adaptive
 * and static), else the place's prior (cores, compute units). */
static void priors(weft__op *op, double *speed, int *measured)
{
    for (int p = 0; p < op->nplaces; p++) {
        weft__place *pl = &op->places[p];
        measured[p] = 0;
        speed[p] = pl->prior;
        if (op->kind == WEFT_POLICY_ADAPTIVE || op->kind == WEFT_POLICY_STATIC) {
            char key[300];
            double v;
            place_key(op, pl, key, sizeof key);
            if (weft__model_load(op->rt, op->name, key, &v)) {
                speed[p] = v / (double)op->group;
                measured[p] = 1;
            }
        }
    }
    /* Known and unknown speeds cannot be mixed: a stored speed is in groups
     * per second, a prior in cores or compute units. If any is unknown, all
     * start from their priors and are calibrated (a stored CPU speed set
     * against a device's compute units gave the device one group). */
    int all = 1;
    for (int p = 0; p < op->nplaces; p++) all &= measured[p];
    if (!all)
        for (int p = 0; p < op->nplaces; p++) {
            measured[p] = 0;
            speed[p] = op->places[p].prior;
        }
}

/* The devices that take part: the policy's mask, or the default set
 * (place_set.h). */
static uint64_t device_set(weft_runtime_t *rt, uint64_t requested, int cpu_place, int ndev)
{
    if (ndev > 64) ndev = 64;
    if (requested != WEFT_DEFAULT_DEVICES) return weft__place_set(requested, cpu_place, ndev, NULL, NULL);
    int is_cpu[64];
    unsigned cus[64];
    for (int d = 0; d < ndev; d++) {
        weft_device_info_t info;
        if (weft_device_info(rt, d, &info) != 0) info.type = WEFT_DEVICE_OTHER, info.compute_units = 0;
        is_cpu[d] = info.type == WEFT_DEVICE_CPU;
        cus[d] = info.compute_units;
    }
    return weft__place_set(requested, cpu_place, ndev, is_cpu, cus);
}

/* The places policy pol gives kernel k: the CPU place (*cpu_place: 1 when
 * it takes part: the policy asks for it and k has a CPU body) and the
 * devices (the mask; none without a device body). */
static uint64_t places_of(weft_runtime_t *rt, const weft_kernel_t *k, const weft_policy_t *pol, int *cpu_place)
{
    *cpu_place = pol->use_cpu && (k->cpu || k->cpu_ctx);
    return k->cl_source || k->cl_body ? device_set(rt, pol->devices, *cpu_place, weft_device_count(rt)) : 0;
}

/* The op's own copy of the kernel and the request; -1 when memory ran out. */
static int copy_request(weft__op *op, const weft_kernel_t *k, const weft_arg_t *args, size_t nargs)
{
    const char *launcher = weft_current_name();
    op->cpu = k->cpu;
    op->cpu_ctx = k->cpu_ctx;
    op->user = k->user;
    op->cl_body = k->cl_body;
    if (!(op->name = weft__strdup(k->name)) || weft__args_copy(op, args, nargs) ||
        (launcher && !(op->launcher = weft__strdup(launcher))))
        return -1;
    if ((k->cl_source || k->cl_body) && !(op->cl_entry = weft__strdup(k->cl_entry))) return -1;
    if (k->cl_source && !(op->cl_source = weft__strdup(k->cl_source))) return -1;
    if (k->cl_source && k->cl_options && !(op->cl_options = weft__strdup(k->cl_options))) return -1;
    return 0;
}

static int start(const char *file, int line, weft_runtime_t *rt, weft_scope_t *s, const weft_kernel_t *k, weft_range_t r,
                 const weft_arg_t *args, size_t nargs, const weft_policy_t *pol, weft_handle_t **out)
{
    int rc = weft__args_validate(k, r, args, nargs, pol);
    if (rc) return rc;
    weft_policy_t defaults;
    if (!pol) {
        weft_policy_init(&defaults);
        pol = &defaults;
    }
    weft__op *op = calloc(1, sizeof *op);
    if (!op) return weft__fail(WEFT_ENOMEM, "weft_parallel_for: out of memory");
    pthread_mutex_init(&op->m, NULL);
    op->rt = rt;
    op->id = atomic_fetch_add(&next_op_id, 1);
    op->file = file;
    op->line = line;
    op->range = r;
    op->n = r.size[r.dims - 1];
    op->group = r.group[r.dims - 1];
    op->ngroups = (op->n + op->group - 1) / op->group;
    op->blocks_per_group = r.dims == 2 ? (r.size[0] + r.group[0] - 1) / r.group[0] : 1;
    op->g0 = 0;
    op->g1 = op->ngroups;
    if (pol->part_begin || pol->part_end) { /* checked: whole groups inside the range */
        op->g0 = pol->part_begin / op->group;
        op->g1 = (pol->part_end + op->group - 1) / op->group;
    }
    op->on_fault = pol->on_fault;
    op->kind = pol->kind;
    op->on_recovered = pol->on_recovered;
    op->recovered_data = pol->recovered_data;
    if (copy_request(op, k, args, nargs)) {
        op_free(op);
        return weft__fail(WEFT_ENOMEM, "weft_parallel_for: out of memory");
    }

    /* Places: the CPU, then devices in order; each needs its body. */
    int has_device_body = k->cl_source || k->cl_body, cpu_place, ndev = weft_device_count(rt);
    uint64_t devices = places_of(rt, k, pol, &cpu_place);
    if (cpu_place) add_place(op, -1, &weft__place_cpu);
    for (int d = 0; d < ndev && d < 64; d++)
        if (devices >> d & 1) add_place(op, d, k->cl_body ? &weft__place_cl_body : &weft__place_cl_kernel);
    if (op->nplaces == 0) {
        op_free(op);
        uint64_t present = ndev >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ndev) - 1;
        if (has_device_body && pol->devices && pol->devices != WEFT_DEFAULT_DEVICES && !(pol->devices & present) &&
            (!pol->use_cpu || (!k->cpu && !k->cpu_ctx)))
            return weft__fail(WEFT_EINVAL, "weft_parallel_for: no place can run kernel '%s' (the policy names only "
                              "absent devices: mask 0x%llx, and the runtime has %d device%s)", k->name,
                              (unsigned long long)pol->devices, ndev, ndev == 1 ? "" : "s");
        return weft__fail(WEFT_EINVAL, "weft_parallel_for: no place can run kernel '%s' (%s)", k->name,
                          !k->cpu && !k->cpu_ctx && !ndev ? "it has no CPU body and the runtime has no device"
                          : !pol->use_cpu && !pol->devices ? "the policy allows no place"
                                                           : "the policy's places lack the body they need");
    }
    if ((rc = weft__args_borrow(op))) {
        op_free(op);
        return rc;
    }
    if ((rc = weft__arrays_begin(op))) {
        weft__borrow_release(rt, op->id);
        op_free(op);
        return rc;
    }
    weft_builder_t b;
    weft_builder_init(&b);
    if ((rc = weft__task_new(rt, &b, NULL, NULL, &op->task))) {
        weft__arrays_end(op, 0);
        weft__borrow_release(rt, op->id);
        op_free(op);
        return rc;
    }

    /* Set-up: a place that cannot take part is a failure of the op
     * (propagate) or simply left out, a recovered failure (failover, if
     * another place remains). */
    for (int p = 0; p < op->nplaces && op->g1 > op->g0; p++) {
        weft__place *pl = &op->places[p];
        weft_panic_t *why = NULL;
        if (pl->ops->setup(op, pl, &why) == 0) continue;
        pl->state = WEFT__PLACE_RETIRED;
        if (op->on_fault == WEFT_FAULT_FAILOVER && other_live_place(op, pl)) {
            recovered(op, why);
        } else {
            op->stopped = 1;
            weft_panic_t *final = take_failure(op, why);
            if (final) weft__panic_notify(final);
        }
    }
    double speed[WEFT__MAX_PLACES];
    int measured[WEFT__MAX_PLACES];
    priors(op, speed, measured);
    /* Rounded up to whole groups without overflow: a chunk near SIZE_MAX
     * stays huge (the whole range), never wraps to 0 (automatic). */
    size_t chunk_groups = pol->chunk / op->group + (pol->chunk % op->group != 0);
    weft__split_init(&op->sp, op->kind, op->g1 - op->g0, op->nplaces, speed, measured, chunk_groups);
    /* Registered arrays: keep each place's rows where the last static split
     * of them left them. */
    size_t keep_b[WEFT__MAX_PLACES], keep_e[WEFT__MAX_PLACES];
    if (op->sp.kind == WEFT_POLICY_STATIC && weft__arrays_static_split(op, keep_b, keep_e))
        weft__split_prefer_static(&op->sp, keep_b, keep_e);
    for (int p = 0; p < op->nplaces; p++)
        if (op->places[p].state == WEFT__PLACE_RETIRED) weft__split_retire(&op->sp, p);
    if (op->kind == WEFT_POLICY_ADAPTIVE && op->nplaces > 1) {
        op->set_run = choose_set(op, speed, measured, &op->set_rejected);
        for (int p = 0; p < op->nplaces && op->set_run; p++)
            if (!(op->set_run >> op->places[p].trace_id & 1)) weft__split_exclude(&op->sp, p);
    }
    op->t_first = weft__now_ns();

    struct weft_task *t = op->task;
    if (s) weft__scope_add(s, t);
    weft__runtime_external_begin(rt);
    if (out) *out = t;
    /* From here the op may finish (and be freed) at any moment: touch only the
     * places we start, each of which holds it open while active. */
    int nplaces = op->nplaces, active[WEFT__MAX_PLACES], nactive = 0;
    for (int p = 0; p < nplaces; p++)
        if (op->places[p].state == WEFT__PLACE_ACTIVE) active[nactive++] = p;
    if (nactive == 0) {
        pthread_mutex_lock(&op->m);
        op->finalizing = 1;
        pthread_mutex_unlock(&op->m);
        finish(op);
        return 0;
    }
    weft__place *places[WEFT__MAX_PLACES];
    for (int i = 0; i < nactive; i++) places[i] = &op->places[active[i]];
    /* Every place's first chunk is handed out before any place starts: a
     * place whose submit takes long (PoCL's basic device runs the chunk,
     * and compiles its kernel, inside clFlush on this thread) would
     * otherwise leave the places after it nothing, the CPU place taking
     * the range meanwhile. Counted in flight, so the op stays open. */
    pthread_mutex_lock(&op->m);
    for (int i = 0; i < nactive; i++) {
        weft__place *pl = places[i];
        if (weft__split_next(&op->sp, active[i], &pl->gb, &pl->ge)) {
            pl->gb += op->g0;
            pl->ge += op->g0;
            pl->reserved = 1;
            op->in_flight++;
        }
    }
    pthread_mutex_unlock(&op->m);
    /* Every place gets its first chunk before any goes on (see the trampoline). */
    deferred started = {.n = 0}, *outer = trampoline;
    trampoline = &started;
    for (int i = 0; i < nactive; i++) start_place(op, places[i]);
    drain(&started);
    trampoline = outer;
    return 0;
}

/* ---- the public entry points ------------------------------------------------ */

int weft_parallel_speed(weft_runtime_t *rt, const weft_kernel_t *k, weft_range_t r, const weft_policy_t *pol,
                        size_t part, double *speed)
{
    if (speed) *speed = 0;
    if (!rt || !k || !k->name || !speed || (r.dims != 1 && r.dims != 2) || !r.group[r.dims - 1] ||
        (r.dims == 2 && !r.group[0]))
        return weft__fail(WEFT_EINVAL, "weft_parallel_speed: %s", !rt ? "runtime is NULL" : !k ? "kernel is NULL"
                          : !k->name ? "kernel has no name" : !speed ? "speed is NULL" : "bad range");
    weft_policy_t defaults;
    if (!pol) {
        weft_policy_init(&defaults);
        pol = &defaults;
    }
    size_t group = r.group[r.dims - 1], across = r.dims == 2 ? (r.size[0] + r.group[0] - 1) / r.group[0] : 1;
    int cls = blocks_class((part + group - 1) / group * across);
    int cpu_place, ndev = weft_device_count(rt), nplaces = 0;
    uint64_t devices = places_of(rt, k, pol, &cpu_place);
    double sum = 0, v;
    char key[300];
    for (int d = -1; d < ndev && d < 64; d++) {
        weft_device_info_t info = {0};
        if (d < 0 ? !cpu_place : !(devices >> d & 1) || weft_device_info(rt, d, &info) != 0) continue;
        key_of(rt, cls, d, info.name, key, sizeof key);
        if (!weft__model_load(rt, k->name, key, &v)) return 0;
        sum += v;
        nplaces++;
    }
    if (!nplaces) return 0;
    *speed = sum;
    return 1;
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

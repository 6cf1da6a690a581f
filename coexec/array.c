/* coexec/array.c — registered arrays: the public calls (weft/array.h), the
 * state of each copy, and the moves a chunk needs before it runs. See
 * array.h for the locking rules. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "array.h"
#include "engine.h"

/* ---- small pieces ----------------------------------------------------------- */

int weft__array_space(const weft_runtime_t *rt, int device)
{
    if (device < 0) return 0;
    return weft__host_of(rt)->devices[device]->info.unified_memory ? 0 : 1 + device;
}

static int check_range(const weft_array_t *a, size_t offset, size_t bytes, const char *caller)
{
    if (!a) return weft__fail(WEFT_EINVAL, "%s: array is NULL", caller);
    if (offset > a->bytes || bytes > a->bytes - offset)
        return weft__fail(WEFT_EINVAL, "%s: bytes [%zu, %zu + %zu) lie outside the %zu-byte array", caller, offset,
                          offset, bytes, a->bytes);
    return 0;
}

/* Read-backs to make: bytes [lo, hi) from the copy of space `from`. */
typedef struct move {
    size_t lo, hi;
    int from;
    cl_event ev;
} move;

typedef struct plan {
    move *v;
    size_t n, cap;
    int oom;
} plan;

static void plan_move(plan *p, size_t lo, size_t hi, int from)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        move *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            p->oom = 1;
            return;
        }
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (move){lo, hi, from, NULL};
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].ev) clReleaseEvent(p->v[i].ev);
    free(p->v);
    *p = (plan){0};
}

/* ---- planning read-backs (under a->m) ----------------------------------------- */

typedef struct holder {
    plan *p;
    int space;
    weft__ranges *todo;           /* the host-missing bytes no holder has given yet */
} holder;

static int plan_from(size_t lo, size_t hi, void *ctx)
{
    holder *h = ctx;
    plan_move(h->p, lo, hi, h->space);
    return 0;
}

/* Bytes [lo, hi) that copy h->space holds: those still to find come from it. */
static int take_from(size_t lo, size_t hi, void *ctx)
{
    holder *h = ctx;
    weft__ranges_each(h->todo, lo, hi, 1, plan_from, h);
    if (weft__ranges_remove(h->todo, lo, hi)) h->p->oom = 1;
    return 0;
}

typedef struct gather {
    weft_array_t *a;
    plan *p;
} gather;

/* Host-missing bytes [lo, hi): read back from whichever devices hold them.
 * Bytes no copy holds were never written anywhere: the host's are as good. */
static int from_devices(size_t lo, size_t hi, void *ctx)
{
    gather *g = ctx;
    weft__ranges todo = {0};
    if (weft__ranges_add(&todo, lo, hi)) {
        g->p->oom = 1;
        return 1;
    }
    for (int s = 1; s < WEFT__ARRAY_SPACES && todo.n; s++) {
        holder h = {g->p, s, &todo};
        weft__ranges_each(&g->a->valid[s], lo, hi, 1, take_from, &h);
    }
    weft__ranges_free(&todo);
    return 0;
}

/* ---- moving (no lock held) ------------------------------------------------------ */

typedef struct ledger {
    weft__op *op;                 /* NULL: outside an operation */
    weft__place *pl;              /* the chunk that moves them, or NULL */
} ledger;

static void count(const ledger *l, int space, int up, size_t bytes)
{
    if (!l->op) return;
    if (l->pl) l->pl->bytes += bytes;
    if (up) atomic_fetch_add(&l->op->moved_up[space], bytes);
    else atomic_fetch_add(&l->op->moved_down[space], bytes);
}

static weft__device *space_device(const weft_array_t *a, int space)
{
    return weft__host_of(a->rt)->devices[space - 1];
}

/* Blocking: [lo, hi) current on the host. The host's copy is marked current
 * only once the read-backs have landed: nothing else ever waits for them. */
static cl_int to_host(weft_array_t *a, const ledger *l, size_t lo, size_t hi)
{
    plan p = {0};
    gather g = {a, &p};
    pthread_mutex_lock(&a->m);
    weft__ranges_each(&a->valid[0], lo, hi, 0, from_devices, &g);
    pthread_mutex_unlock(&a->m);
    cl_int err = p.oom ? CL_OUT_OF_HOST_MEMORY : CL_SUCCESS;
    for (size_t i = 0; i < p.n && err == CL_SUCCESS; i++) {
        move *m = &p.v[i];
        weft__device *d = space_device(a, m->from);
        weft__queue_lock(d);
        err = clEnqueueReadBuffer(d->queue, a->mem[m->from - 1], CL_FALSE, m->lo, m->hi - m->lo, a->host + m->lo, 0,
                                  NULL, &m->ev);
        if (err == CL_SUCCESS) {
            count(l, m->from, 0, m->hi - m->lo);
            clFlush(d->queue);
        }
        weft__queue_unlock(d);
    }
    for (size_t i = 0; i < p.n; i++) {
        if (!p.v[i].ev) continue;
        cl_int st = clWaitForEvents(1, &p.v[i].ev);
        if (st == CL_SUCCESS) clGetEventInfo(p.v[i].ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
        if (st < 0 && err == CL_SUCCESS) err = st;
    }
    if (err == CL_SUCCESS) {
        pthread_mutex_lock(&a->m);
        for (size_t i = 0; i < p.n; i++) weft__ranges_add(&a->valid[0], p.v[i].lo, p.v[i].hi);
        pthread_mutex_unlock(&a->m);
    }
    plan_free(&p);
    return err;
}

cl_mem weft__array_mem(weft_array_t *a, weft__device *dev, int d, cl_int *err)
{
    *err = CL_SUCCESS;
    pthread_mutex_lock(&a->m);
    cl_mem m = a->mem[d];
    pthread_mutex_unlock(&a->m);
    if (m) return m;
    /* Made outside the lock; a racing maker's buffer loses and goes. */
    m = clCreateBuffer(dev->ctx, CL_MEM_READ_WRITE, a->bytes, NULL, err);
    if (!m) return NULL;
    pthread_mutex_lock(&a->m);
    if (a->mem[d]) {
        pthread_mutex_unlock(&a->m);
        clReleaseMemObject(m);
        return a->mem[d];
    }
    a->mem[d] = m;
    pthread_mutex_unlock(&a->m);
    return m;
}

static int add_to(size_t lo, size_t hi, void *ctx)
{
    return weft__ranges_add(ctx, lo, hi) ? 1 : 0;
}

/* The bytes of [lo, hi) that copy s lacks, as a set (malloc'd; -1 when
 * memory ran out). Under a->m. */
static int lacking(const weft_array_t *a, int s, size_t lo, size_t hi, weft__ranges *out)
{
    *out = (weft__ranges){0};
    return weft__ranges_each(&a->valid[s], lo, hi, 0, add_to, out) ? -1 : 0;
}

/* The bytes of registered argument a a chunk of groups [gb, ge) needs
 * current before it runs, and those it writes. */
static void spans(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, size_t *need_off, size_t *need_len,
                  size_t *w_off, size_t *w_len)
{
    *w_off = *w_len = 0;
    if (a->kind == WEFT_ARG_WHOLE) {
        *need_off = 0;
        *need_len = a->bytes;
        return;
    }
    /* A write-only chunk needs its rows current too: the bytes its kernel
     * leaves alone keep the array's values. */
    weft__args_span(op, a, gb, ge, (a->access & WEFT_READ) != 0, need_off, need_len);
    if (a->access & WEFT_WRITE) weft__args_span(op, a, gb, ge, 0, w_off, w_len);
}

/* What copy s lacks of the bytes registered argument arg's chunk of pl
 * needs, into *miss (the caller frees it). With host_has not NULL, also
 * whether the host holds all of that current (*host_has: 1), taken under
 * the same lock. 0, or -1 when memory ran out. */
static int chunk_lacks(const weft__op *op, const weft__place *pl, const weft_arg_t *arg, int s, weft__ranges *miss,
                       int *host_has)
{
    size_t off, len, woff, wlen;
    spans(op, arg, pl->gb, pl->ge, &off, &len, &woff, &wlen);
    weft_array_t *a = arg->array;
    pthread_mutex_lock(&a->m);
    int rc = lacking(a, s, off, off + len, miss);
    if (host_has) {
        *host_has = 1;
        for (size_t i = 0; i < miss->n; i++)
            if (!weft__ranges_covers(&a->valid[0], miss->v[i].lo, miss->v[i].hi)) *host_has = 0;
    }
    pthread_mutex_unlock(&a->m);
    return rc;
}

/* 1 when everything device space s lacks of argument a's bytes for pl's
 * chunk is current on the host (uploads will do); 0 when some must be read
 * back from another device first; -1 when memory ran out. */
static int host_has(const weft__op *op, const weft__place *pl, const weft_arg_t *arg, int s)
{
    weft__ranges miss;
    int has = 0, rc = chunk_lacks(op, pl, arg, s, &miss, &has);
    weft__ranges_free(&miss);
    return rc < 0 ? -1 : has;
}

int weft__arrays_fetch(weft__op *op, weft__place *pl, weft__device *dev, cl_int *err)
{
    *err = CL_SUCCESS;
    int s = weft__array_space(op->rt, pl->device);
    ledger l = {op, pl};
    if (!dev) {
        /* The CPU: read back whatever the host's copy lacks, and wait. */
        for (size_t i = 0; i < op->nargs && *err == CL_SUCCESS; i++) {
            const weft_arg_t *a = &op->args[i];
            size_t off, len, woff, wlen;
            if (!a->array) continue;
            spans(op, a, pl->gb, pl->ge, &off, &len, &woff, &wlen);
            *err = to_host(a->array, &l, off, off + len);
        }
        return 0;
    }
    /* A device: first see that uploads from the host will do (nothing is
     * enqueued unless all will), since it must not wait here. */
    for (size_t i = 0; i < op->nargs; i++) {
        if (!op->args[i].array) continue;
        int has = host_has(op, pl, &op->args[i], s);
        if (has < 0) {
            *err = CL_OUT_OF_HOST_MEMORY;
            return 0;
        }
        if (!has) return 1;
    }
    if (s == 0) return 0; /* it works in the host's memory, which is current */
    for (size_t i = 0; i < op->nargs && *err == CL_SUCCESS; i++) {
        const weft_arg_t *arg = &op->args[i];
        if (!arg->array) continue;
        weft_array_t *a = arg->array;
        cl_mem mem = weft__array_mem(a, dev, pl->device, err);
        if (!mem) break;
        weft__ranges miss;
        if (chunk_lacks(op, pl, arg, s, &miss, NULL)) *err = CL_OUT_OF_HOST_MEMORY;
        for (size_t k = 0; k < miss.n && *err == CL_SUCCESS; k++) {
            size_t b = miss.v[k].lo, n = miss.v[k].hi - b;
            cl_event ev = NULL;
            *err = clEnqueueWriteBuffer(dev->queue, mem, CL_FALSE, b, n, a->host + b, 0, NULL, &ev);
            if (ev) clReleaseEvent(ev);
            if (*err == CL_SUCCESS) count(&l, s, 1, n);
        }
        if (*err == CL_SUCCESS) {
            /* Enqueued on its in-order queue: what comes after sees them. */
            pthread_mutex_lock(&a->m);
            for (size_t k = 0; k < miss.n; k++) weft__ranges_add(&a->valid[s], miss.v[k].lo, miss.v[k].hi);
            pthread_mutex_unlock(&a->m);
        }
        weft__ranges_free(&miss);
    }
    return 0;
}

cl_int weft__arrays_stage(weft__op *op, weft__place *pl)
{
    int s = weft__array_space(op->rt, pl->device);
    ledger l = {op, pl};
    cl_int err = CL_SUCCESS;
    for (size_t i = 0; i < op->nargs && err == CL_SUCCESS; i++) {
        const weft_arg_t *arg = &op->args[i];
        if (!arg->array) continue;
        weft__ranges miss;
        if (chunk_lacks(op, pl, arg, s, &miss, NULL)) err = CL_OUT_OF_HOST_MEMORY;
        for (size_t k = 0; k < miss.n && err == CL_SUCCESS; k++) err = to_host(arg->array, &l, miss.v[k].lo, miss.v[k].hi);
        weft__ranges_free(&miss);
    }
    return err;
}

/* Whether some copy other than `space` holds [lo, hi)'s bytes current:
 * removes from `space` only those. */
typedef struct drop_ctx {
    weft_array_t *a;
    int space;
} drop_ctx;

static int drop_if_elsewhere(size_t lo, size_t hi, void *ctx)
{
    drop_ctx *d = ctx;
    for (int s = 0; s < WEFT__ARRAY_SPACES; s++) {
        if (s == d->space) continue;
        /* each part another copy holds goes from this one */
        weft__ranges *v = &d->a->valid[s];
        for (size_t i = 0; i < v->n; i++) {
            size_t b = v->v[i].lo > lo ? v->v[i].lo : lo, e = v->v[i].hi < hi ? v->v[i].hi : hi;
            if (b < e) weft__ranges_remove(&d->a->valid[d->space], b, e);
        }
    }
    return 0;
}

static void wrote(weft_array_t *a, int space, size_t lo, size_t hi)
{
    if (lo >= hi) return;
    weft__ranges_add(&a->valid[space], lo, hi); /* out of memory: the bytes are lost (rare) */
    for (int s = 0; s < WEFT__ARRAY_SPACES; s++)
        if (s != space) weft__ranges_remove(&a->valid[s], lo, hi);
}

void weft__arrays_done(weft__op *op, weft__place *pl, int ok)
{
    int s = weft__array_space(op->rt, pl->device);
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (!a->array) continue;
        size_t off, len, woff, wlen;
        spans(op, a, pl->gb, pl->ge, &off, &len, &woff, &wlen);
        pthread_mutex_lock(&a->array->m);
        if (ok) {
            wrote(a->array, s, woff, woff + wlen);
        } else if (len) {
            weft__ranges mine = {0};
            drop_ctx d = {a->array, s};
            /* iterate over a copy: dropping edits the set walked */
            for (size_t k = 0; k < a->array->valid[s].n; k++)
                weft__ranges_add(&mine, a->array->valid[s].v[k].lo, a->array->valid[s].v[k].hi);
            weft__ranges_each(&mine, off, off + len, 1, drop_if_elsewhere, &d);
            weft__ranges_free(&mine);
        }
        pthread_mutex_unlock(&a->array->m);
    }
}

void weft__array_host_restored(weft_array_t *a, size_t lo, size_t hi)
{
    pthread_mutex_lock(&a->m);
    wrote(a, 0, lo, hi);
    pthread_mutex_unlock(&a->m);
}

/* ---- operations: start and end ---------------------------------------------- */

static int part_matches(const weft_array_t *a, const weft__op *op)
{
    if (a->part_n != op->nplaces || a->part_total != op->ngroups) return 0;
    for (int p = 0; p < op->nplaces; p++)
        if (a->part_dev[p] != op->places[p].device) return 0;
    return 1;
}

int weft__arrays_static_split(const weft__op *op, size_t *b, size_t *e)
{
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (!a->array || a->kind != WEFT_ARG_SPLIT) continue;
        pthread_mutex_lock(&a->array->m);
        int ok = part_matches(a->array, op);
        if (ok) {
            memcpy(b, a->array->part_b, (size_t)op->nplaces * sizeof *b);
            memcpy(e, a->array->part_e, (size_t)op->nplaces * sizeof *e);
        }
        pthread_mutex_unlock(&a->array->m);
        if (ok) return 1;
    }
    return 0;
}

static void users_drop(weft__op *op, size_t upto)
{
    for (size_t i = 0; i < upto; i++) {
        weft_array_t *a = op->args[i].array;
        if (!a) continue;
        pthread_mutex_lock(&a->m);
        a->users--;
        pthread_mutex_unlock(&a->m);
    }
}

int weft__arrays_begin(weft__op *op)
{
    for (size_t i = 0; i < op->nargs; i++) {
        weft_array_t *a = op->args[i].array;
        if (!a) continue;
        pthread_mutex_lock(&a->m);
        int mine = a->rt == op->rt;
        if (mine) a->users++;
        pthread_mutex_unlock(&a->m);
        if (!mine) {
            users_drop(op, i);
            return weft__fail(WEFT_EINVAL, "weft_parallel_for: argument %zu: its array is registered with %s", i,
                              a->rt ? "another runtime" : "a runtime that is gone");
        }
    }
    if (op->on_fault != WEFT_FAULT_FAILOVER) return 0;
    ledger l = {op, NULL};
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (!a->array || a->kind != WEFT_ARG_SPLIT || a->access != WEFT_READ_WRITE || !op->n) continue;
        size_t off, len;
        weft__args_span(op, a, 0, op->ngroups, 0, &off, &len);
        cl_int err = to_host(a->array, &l, off, off + len);
        if (err != CL_SUCCESS) {
            users_drop(op, op->nargs);
            return weft__fail(WEFT_ECL, "weft_parallel_for: argument %zu: its rows could not be read back for "
                              "failover: %s", i, weft_cl_status_name(err));
        }
    }
    return 0;
}

void weft__arrays_end(weft__op *op, int ok)
{
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *arg = &op->args[i];
        weft_array_t *a = arg->array;
        if (!a) continue;
        pthread_mutex_lock(&a->m);
        a->users--;
        /* Every split array remembers it, read ones too: the next operation
         * of a ping-pong writes what this one read. */
        if (ok && op->kind == WEFT_POLICY_STATIC && op->sp.kind == WEFT_POLICY_STATIC && arg->kind == WEFT_ARG_SPLIT) {
            a->part_total = op->ngroups;
            a->part_n = op->nplaces;
            for (int p = 0; p < op->nplaces; p++) {
                a->part_dev[p] = op->places[p].device;
                a->part_b[p] = op->sp.static_b[p];
                a->part_e[p] = op->sp.static_e[p];
            }
        }
        pthread_mutex_unlock(&a->m);
    }
}

/* ---- the public calls --------------------------------------------------------- */

int weft_array_create(weft_runtime_t *rt, void *data, size_t bytes, weft_array_t **out)
{
    if (out) *out = NULL;
    if (!rt || !data || !out)
        return weft__fail(WEFT_EINVAL, "weft_array_create: %s is NULL", !rt ? "runtime" : !data ? "data" : "out");
    if (!bytes) return weft__fail(WEFT_EINVAL, "weft_array_create: size is 0 bytes");
    weft_array_t *a = calloc(1, sizeof *a);
    if (!a || weft__ranges_add(&a->valid[0], 0, bytes)) {
        free(a);
        return weft__fail(WEFT_ENOMEM, "weft_array_create: out of memory");
    }
    pthread_mutex_init(&a->m, NULL);
    a->rt = rt;
    a->host = data;
    a->bytes = bytes;
    weft__engine *e = weft__engine_of(rt);
    pthread_mutex_lock(&e->m);
    a->next = e->arrays;
    e->arrays = a;
    pthread_mutex_unlock(&e->m);
    *out = a;
    return 0;
}

void *weft_array_data(const weft_array_t *a) { return a ? a->host : NULL; }
size_t weft_array_bytes(const weft_array_t *a) { return a ? a->bytes : 0; }

weft_arg_t weft_arg_on(weft_arg_t arg, weft_array_t *a)
{
    arg.array = a;
    return arg;
}

static int idle_or_fail(weft_array_t *a, const char *caller)
{
    pthread_mutex_lock(&a->m);
    int users = a->users;
    pthread_mutex_unlock(&a->m);
    if (users)
        return weft__fail(WEFT_ESTATE, "%s: %d running operation%s use%s the array: join %s first", caller, users,
                          users == 1 ? "" : "s", users == 1 ? "s" : "", users == 1 ? "it" : "them");
    return 0;
}

/* The name of the first device holding bytes of [lo, hi) the host lacks. */
static const char *holder_name(weft_array_t *a, size_t lo, size_t hi)
{
    for (int s = 1; s < WEFT__ARRAY_SPACES; s++)
        if (a->mem[s - 1] && weft__ranges_count(&a->valid[s], lo, hi)) return space_device(a, s)->info.name;
    return "a device";
}

int weft_array_to_host(weft_array_t *a, size_t offset, size_t bytes)
{
    const char *c = "weft_array_to_host";
    int rc = check_range(a, offset, bytes, c);
    if (rc || !bytes) return rc;
    if (!a->rt) return 0; /* the runtime made it current when it went */
    if ((rc = idle_or_fail(a, c))) return rc;
    ledger l = {NULL, NULL};
    cl_int err = to_host(a, &l, offset, offset + bytes);
    if (err == CL_SUCCESS) return 0;
    pthread_mutex_lock(&a->m);
    const char *dev = holder_name(a, offset, offset + bytes);
    pthread_mutex_unlock(&a->m);
    return weft__fail(WEFT_ECL, "%s: reading bytes [%zu, %zu) back from '%s' failed: %s (%d)", c, offset,
                      offset + bytes, dev, weft_cl_status_name(err), err);
}

int weft_array_host_changed(weft_array_t *a, size_t offset, size_t bytes)
{
    const char *c = "weft_array_host_changed";
    int rc = check_range(a, offset, bytes, c);
    if (rc || !bytes) return rc;
    if (a->rt && (rc = idle_or_fail(a, c))) return rc;
    pthread_mutex_lock(&a->m);
    wrote(a, 0, offset, offset + bytes);
    int ok = weft__ranges_covers(&a->valid[0], offset, offset + bytes);
    pthread_mutex_unlock(&a->m);
    return ok ? 0 : weft__fail(WEFT_ENOMEM, "%s: out of memory", c);
}

/* Release the device copies (no command uses them: no operation runs). */
static void release_copies(weft_array_t *a)
{
    for (int d = 0; d < WEFT__MAX_DEVICES; d++) {
        if (a->mem[d]) clReleaseMemObject(a->mem[d]);
        a->mem[d] = NULL;
        weft__ranges_clear(&a->valid[1 + d]);
    }
}

static void unlink_array(weft_array_t *a)
{
    weft__engine *e = weft__engine_of(a->rt);
    pthread_mutex_lock(&e->m);
    for (weft_array_t **p = &e->arrays; *p; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            break;
        }
    }
    pthread_mutex_unlock(&e->m);
}

int weft_array_destroy(weft_array_t *a)
{
    if (!a) return 0;
    int rc = 0;
    if (a->rt) {
        if ((rc = idle_or_fail(a, "weft_array_destroy"))) return rc;
        rc = weft_array_to_host(a, 0, a->bytes);
        unlink_array(a);
        release_copies(a);
    }
    for (int s = 0; s < WEFT__ARRAY_SPACES; s++) weft__ranges_free(&a->valid[s]);
    pthread_mutex_destroy(&a->m);
    free(a);
    return rc;
}

void weft__arrays_orphan(weft_runtime_t *rt)
{
    weft__engine *e = weft__engine_of(rt);
    pthread_mutex_lock(&e->m);
    weft_array_t *a = e->arrays;
    e->arrays = NULL;
    pthread_mutex_unlock(&e->m);
    for (; a; a = a->next) {
        ledger l = {NULL, NULL};
        to_host(a, &l, 0, a->bytes); /* best effort: nothing can report a failure here */
        release_copies(a);
        a->rt = NULL;
    }
}

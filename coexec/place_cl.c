/* coexec/place_cl.c — a device as a place, in one of two modes:
 *   - kernel: the operation's OpenCL kernel, built with whole-range
 *     builtins (cl_rewrite.h: once per source, the range's geometry a hidden
 *     argument) and launched over the chunk's rows (an NDRange with a global
 *     offset);
 *   - body: the operation's device body (weft_kernel_t::cl_body) enqueues
 *     the work itself, on the same buffers.
 * Both bind the arrays once, move only the bytes a chunk touches (its rows
 * with halo, whole arrays once, written rows and partials back; nothing on
 * unified-memory devices, whose buffers wrap the host arrays), and report
 * the chunk's end from the completion callback of its last command. A
 * registered array (array.h) is the device's own copy of it instead: only
 * the bytes that copy lacks move, and written rows stay there. On a GPU, a
 * chunk that moves enough bytes runs in pieces: each piece's uploads go on
 * the device's copy queue while the previous piece computes on its compute
 * queue, and its read-backs follow on the copy queue once it has computed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "args.h"
#include "array.h"
#include "cl_rewrite.h"
#include "op.h"
#include "write_check.h"

/* A chunk that copies is cut into up to this many pieces, pipelined: a
 * piece's uploads run on the copy queue while the previous piece computes. */
#define PIECES_MAX 4
/* ... each moving at least this many bytes (smaller ones are not worth the
 * extra commands). */
#define PIECE_MIN_BYTES (256u * 1024u)

typedef struct cl_place {
    int body;                     /* 1: the device body computes, 0: the kernel */
    weft__device *dev;
    weft__built *built;           /* kernel mode */
    cl_kernel kernel;             /* kernel mode */
    cl_uint kernel_nargs;         /* its argument count, as the pool knows it */
    int geometry;                 /* 1: the entry takes the geometry as a hidden
                                     last argument (cl_rewrite.h) */
    cl_mem *mems;                 /* per argument, NULL where none */
    int unified;                  /* the buffers wrap the host arrays */
    int whole_uploaded;
    cl_event compute[PIECES_MAX]; /* per piece: its kernel, or the body's done event */
    int ncompute;
    weft__report_fn report;       /* where the chunk in flight reports */
    unsigned char **scattered;    /* per scattered argument: the device copy read back */
    int checking;                 /* the chunk in flight checks its write set */
    weft__write_check wc;         /* its images (write_check.c) */
} cl_place;

/* ---- failures ------------------------------------------------------------ */

static weft_panic_t *setup_panic(const weft__op *op, const weft__place *pl, cl_int err, const char *what)
{
    weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                       .kernel = op->cl_entry, .cl_status = err, .cl_status_name = weft_cl_status_name(err)};
    return weft__panic_failure(&f, "kernel '%s': %s on device '%s': %s (%d)", op->name, what, pl->name,
                               weft_cl_status_name(err), err);
}

/* status_name: NULL for weft_cl_status_name(status). */
static weft_panic_t *chunk_panic(const weft__op *op, const weft__place *pl, cl_int status, const char *status_name,
                                 const char *when)
{
    size_t ib, ie;
    weft__op_indices(op, pl->gb, pl->ge, &ib, &ie);
    if (!status_name) status_name = weft_cl_status_name(status);
    weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                       .kernel = op->cl_entry, .cl_status = status, .cl_status_name = status_name,
                       .has_range = 1, .begin = ib, .end = ie};
    weft_panic_t *p = weft__panic_failure(&f, "kernel '%s' %s on device '%s': %s (%d), chunk [%zu, %zu)", op->name,
                                          when, pl->name, status_name, status, ib, ie);
    return p;
}

/* The chunk failed: the driver gets it (and decides whether the hook hears
 * of it). */
static void fail(weft__op *op, weft__place *pl, weft_panic_t *why)
{
    cl_place *c = pl->impl;
    c->report(op, pl, why);
}

/* ---- setting up ---------------------------------------------------------- */

/* Inside a chunk the kernel must see the unsplit launch. A global offset
 * already makes get_global_id absolute; the rest comes from the whole
 * range's global sizes: at launch, through one hidden last argument of the
 * entry (the source is then the same for every range, and so is the build),
 * or, where cl_rewrite.c cannot make that form safely, written into the
 * source as numbers (a build per range size). */
static void whole_size(const weft__op *op, size_t gs[2])
{
    gs[1] = 1;
    if (op->range.dims == 1) {
        gs[0] = op->ngroups * op->group;
    } else {
        size_t g0 = op->range.group[0];
        gs[0] = (op->range.size[0] + g0 - 1) / g0 * g0;
        gs[1] = op->ngroups * op->group;
    }
}

/* The entry form of (source, entry, options) — cl_rewrite.c's scan, which
 * costs more than the rest of an operation's start — remembered for the
 * runtime's last few sources, so that an iterated operation scans once.
 * Returns a copy (the caller frees it), or NULL with *why_not as the scan's
 * (NULL alone: out of memory). */
struct weft__form {
    char *source, *entry, *options; /* options may be NULL */
    char *form;                   /* NULL: refused */
    const char *why_not;          /* a static string of cl_rewrite.c */
    struct weft__form *next;
};

#define FORMS_KEPT 8

static int same_opt(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* Free f and the forms after it. */
static void forms_drop(struct weft__form *f)
{
    while (f) {
        struct weft__form *next = f->next;
        free(f->source);
        free(f->entry);
        free(f->options);
        free(f->form);
        free(f);
        f = next;
    }
}

static char *entry_form(weft_runtime_t *rt, const char *source, const char *entry, const char *options,
                        const char **why_not)
{
    weft__engine *e = weft__engine_of(rt);
    *why_not = NULL;
    pthread_mutex_lock(&e->forms_m);
    for (struct weft__form **p = &e->forms; *p; p = &(*p)->next) {
        struct weft__form *f = *p;
        if (strcmp(f->entry, entry) || !same_opt(f->options, options) || strcmp(f->source, source)) continue;
        *p = f->next; /* to the front */
        f->next = e->forms;
        e->forms = f;
        char *copy = f->form ? weft__strdup(f->form) : NULL;
        *why_not = f->why_not;
        pthread_mutex_unlock(&e->forms_m);
        return copy;
    }
    pthread_mutex_unlock(&e->forms_m);
    char *form = weft__cl_rewrite_entry(source, entry, options, why_not);
    if (!form && !*why_not) return NULL; /* out of memory: nothing to keep */
    struct weft__form *f = calloc(1, sizeof *f);
    if (f && (f->source = weft__strdup(source)) && (f->entry = weft__strdup(entry)) &&
        (!options || (f->options = weft__strdup(options))) && (!form || (f->form = weft__strdup(form)))) {
        f->why_not = *why_not;
        pthread_mutex_lock(&e->forms_m);
        f->next = e->forms;
        e->forms = f;
        /* keep the newest FORMS_KEPT */
        struct weft__form *cut = e->forms;
        for (int n = 1; cut && n < FORMS_KEPT; n++) cut = cut->next;
        struct weft__form *drop = cut ? cut->next : NULL;
        if (cut) cut->next = NULL;
        pthread_mutex_unlock(&e->forms_m);
        f = drop;
    }
    forms_drop(f);
    return form;
}

void weft__forms_free(weft_runtime_t *rt)
{
    weft__engine *e = weft__engine_of(rt);
    forms_drop(e->forms);
    e->forms = NULL;
}

/* Kernel mode: the program (cached by the host layer), a kernel object and,
 * in the entry form, the geometry argument. */
static int setup_kernel(weft__op *op, weft__place *pl, cl_place *c, weft_panic_t **why)
{
    weft_runtime_t *rt = op->rt;
    size_t gs[2];
    whole_size(op, gs);
    const char *why_not = NULL;
    char *source = entry_form(rt, op->cl_source, op->cl_entry, op->cl_options, &why_not);
    c->geometry = source != NULL;
    if (!source && why_not) source = weft__cl_sized_source(op->cl_source, gs[0], gs[1]);
    if (!source) {
        *why = setup_panic(op, pl, CL_OUT_OF_HOST_MEMORY, "out of memory");
        return -1;
    }
    int status = 0;
    c->built = weft__program_get(rt, pl->device, source, op->cl_options, why, &status);
    free(source);
    if (!c->built) {
        if (*why) {
            weft__panic_fill(*why, op->cl_entry, NULL, NULL, 0);
            weft__panic_set_origin(*why, NULL, op->file, op->line);
        } else {
            *why = setup_panic(op, pl, CL_BUILD_PROGRAM_FAILURE, "program could not be built");
        }
        return -1;
    }
    cl_int err;
    c->kernel = weft__kernel_take(rt, c->built, op->cl_entry, &c->kernel_nargs, &err);
    if (!c->kernel) {
        *why = setup_panic(op, pl, err, "kernel could not be created");
        return -1;
    }
    /* Pooled kernels keep an earlier operation's arguments: every one must be
     * set again, so the counts must match (the hidden one aside). */
    if (c->kernel_nargs != op->nargs + (cl_uint)c->geometry) {
        char what[128];
        *why = setup_panic(op, pl, CL_INVALID_KERNEL_ARGS,
                           weft__args_mismatch(what, sizeof what, -1, c->kernel_nargs - (cl_uint)c->geometry, op->nargs));
        return -1;
    }
    if (c->geometry) {
        cl_ulong4 g = {{(cl_ulong)gs[0], (cl_ulong)gs[1], 1, 0}};
        err = clSetKernelArg(c->kernel, (cl_uint)op->nargs, sizeof g, &g);
        if (err != CL_SUCCESS) {
            *why = setup_panic(op, pl, err, "the range's geometry could not be set");
            return -1;
        }
    }
    return 0;
}

static cl_mem_flags mem_flags(const weft_arg_t *a, int body)
{
    if (a->kind == WEFT_ARG_SCATTERED) return CL_MEM_READ_WRITE; /* a write-only one is still read back whole */
    if (a->kind == WEFT_ARG_WHOLE || (a->kind == WEFT_ARG_SPLIT && a->access == WEFT_READ)) return CL_MEM_READ_ONLY;
    /* A device body's library may read what it writes (CLBlast reads C). */
    if (body) return CL_MEM_READ_WRITE;
    if (a->kind == WEFT_ARG_REDUCE) return CL_MEM_WRITE_ONLY;
    return a->access == WEFT_WRITE ? CL_MEM_WRITE_ONLY : CL_MEM_READ_WRITE;
}

/* The bytes of argument a's device buffer: its reduction partials, or the array. */
static size_t buffer_bytes(const weft__op *op, const weft_arg_t *a)
{
    return a->kind == WEFT_ARG_REDUCE ? op->ngroups * op->blocks_per_group * a->unit : a->bytes;
}

/* One buffer per array argument (and the kernel's arguments, kernel mode). */
static int setup_buffers(weft__op *op, weft__place *pl, cl_place *c, weft_panic_t **why)
{
    c->mems = calloc(op->nargs ? op->nargs : 1, sizeof *c->mems);
    if (!c->mems) {
        *why = setup_panic(op, pl, CL_OUT_OF_HOST_MEMORY, "out of memory");
        return -1;
    }
    size_t local_sum = 0; /* __local bytes asked so far: the driver may not check (PoCL crashes) */
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        cl_int err = CL_SUCCESS;
        char what[256];
        if (a->kind == WEFT_ARG_LOCAL && !c->body && weft__local_add(c->dev, &local_sum, i, a->size, what, sizeof what)) {
            *why = setup_panic(op, pl, CL_OUT_OF_RESOURCES, what);
            return -1;
        }
        if (a->kind == WEFT_ARG_SCATTERED && !c->unified) {
            /* Each chunk reads the array back whole: changed bytes are merged. */
            if (!c->scattered && !(c->scattered = calloc(op->nargs, sizeof *c->scattered))) err = CL_OUT_OF_HOST_MEMORY;
            else if (!(c->scattered[i] = malloc(a->bytes))) err = CL_OUT_OF_HOST_MEMORY;
        }
        if (err != CL_SUCCESS) {
            /* reported below */
        } else if (a->kind == WEFT_ARG_SPLIT || a->kind == WEFT_ARG_WHOLE || a->kind == WEFT_ARG_REDUCE ||
                   a->kind == WEFT_ARG_SCATTERED) {
            void *host = a->kind == WEFT_ARG_REDUCE ? op->partials[i] : a->data;
            size_t bytes = buffer_bytes(op, a);
            if (bytes > c->dev->info.max_alloc_bytes) {
                *why = setup_panic(op, pl, CL_INVALID_BUFFER_SIZE, "argument above CL_DEVICE_MAX_MEM_ALLOC_SIZE");
                return -1;
            }
            /* Unified memory: the device works in the host's own pages.
             * Otherwise a buffer of the device's pool: the same arrays come
             * back operation after operation. */
            if (c->unified)
                c->mems[i] = clCreateBuffer(c->dev->ctx, mem_flags(a, c->body) | CL_MEM_USE_HOST_PTR, bytes, host, &err);
            else if (a->array)
                c->mems[i] = weft__array_mem(a->array, c->dev, pl->device, &err); /* the array's, kept */
            else
                c->mems[i] = weft__devmem_take(c->dev, mem_flags(a, c->body), bytes, &err);
            if (err == CL_SUCCESS && !c->body) err = clSetKernelArg(c->kernel, (cl_uint)i, sizeof(cl_mem), &c->mems[i]);
        } else if (c->body) {
            continue; /* scalars reach a body through argv; __local means nothing to it */
        } else if (a->kind == WEFT_ARG_SCALAR) {
            err = clSetKernelArg(c->kernel, (cl_uint)i, a->size, a->value);
        } else {
            err = clSetKernelArg(c->kernel, (cl_uint)i, a->size, NULL);
        }
        if (err != CL_SUCCESS) {
            if (c->body) snprintf(what, sizeof what, "argument %zu could not be set", i);
            else weft__args_mismatch(what, sizeof what, (long)i, c->kernel_nargs - (cl_uint)c->geometry, op->nargs);
            *why = setup_panic(op, pl, err, what);
            return -1;
        }
    }
    return 0;
}

static int setup(weft__op *op, weft__place *pl, weft_panic_t **why, int body)
{
    *why = NULL;
    weft__device *dev = weft__host_of(op->rt)->devices[pl->device];
    snprintf(pl->name, sizeof pl->name, "%s", dev->info.name);
    pl->prior = (double)dev->info.compute_units;
    cl_place *c = calloc(1, sizeof *c);
    if (!c) {
        *why = setup_panic(op, pl, CL_OUT_OF_HOST_MEMORY, "out of memory");
        return -1;
    }
    pl->impl = c;
    c->body = body;
    c->dev = dev;
    c->unified = dev->info.unified_memory;
    if (!body && setup_kernel(op, pl, c, why)) return -1;
    return setup_buffers(op, pl, c, why);
}

static int setup_kernel_place(weft__op *op, weft__place *pl, weft_panic_t **why) { return setup(op, pl, why, 0); }
static int setup_body_place(weft__op *op, weft__place *pl, weft_panic_t **why) { return setup(op, pl, why, 1); }

static void release(weft__op *op, weft__place *pl)
{
    cl_place *c = pl->impl;
    if (!c) return;
    if (c->mems) {
        for (size_t i = 0; i < op->nargs; i++) {
            if (!c->mems[i]) continue;
            const weft_arg_t *a = &op->args[i];
            /* Every command on it has finished: the chunks' callbacks ran. */
            if (c->unified) clReleaseMemObject(c->mems[i]);
            else if (a->array) continue; /* the array's own copy */
            else weft__devmem_give(c->dev, c->mems[i], mem_flags(a, c->body), buffer_bytes(op, a));
        }
        free(c->mems);
    }
    if (c->kernel) weft__kernel_give_back(op->rt, c->built, op->cl_entry, c->kernel, c->kernel_nargs);
    for (size_t i = 0; c->scattered && i < op->nargs; i++) free(c->scattered[i]);
    free(c->scattered);
    free(c);
    pl->impl = NULL;
}

/* ---- a chunk ------------------------------------------------------------- */

static void CL_CALLBACK on_chunk_event(cl_event ev, cl_int status, void *user)
{
    weft__place *pl = user;
    weft__op *op = pl->op;
    cl_place *c = pl->impl;
    /* Report the compute step's own status when it is the command that failed. */
    cl_int kstatus = CL_COMPLETE;
    for (int i = 0; i < c->ncompute; i++) {
        cl_int st = CL_COMPLETE;
        if (c->compute[i] != ev)
            clGetEventInfo(c->compute[i], CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
        if (st < 0 && kstatus >= 0) kstatus = st;
        clReleaseEvent(c->compute[i]); /* its own reference; ev may hold another */
    }
    c->ncompute = 0;
    clReleaseEvent(ev);
    weft_panic_t *failure = NULL;
    if (status < 0 || kstatus < 0)
        failure = chunk_panic(op, pl, kstatus < 0 ? kstatus : status, NULL, "failed during execution");
    if (c->checking) {
        c->checking = 0;
        if (failure) weft__write_check_free(op, &c->wc);
        else failure = weft__write_check_finish(op, pl, &c->wc); /* also copies the written bytes home */
    }
    for (size_t i = 0; !failure && c->scattered && i < op->nargs; i++)
        if (c->scattered[i]) failure = weft__scatter_merge(op, pl, i, c->scattered[i]);
    weft__arrays_done(op, pl, failure == NULL);
    /* Only bookkeeping and non-blocking enqueues happen from here on (the
     * driver takes the next chunk, perhaps on this thread). */
    if (failure) fail(op, pl, failure);
    else c->report(op, pl, NULL);
}

/* Non-blocking copy between host memory and c's buffer for argument i, on
 * queue q after `wait` (may be NULL); *ev becomes its event. */
static cl_int copy(weft__place *pl, cl_place *c, size_t i, int to_device, size_t offset, size_t bytes, void *host,
                   cl_command_queue q, cl_event wait, cl_event *ev)
{
    if (bytes == 0) return CL_SUCCESS;
    pl->bytes += bytes;
    if (to_device) pl->bytes_up += bytes;
    else pl->bytes_down += bytes;
    cl_event prev = *ev;
    *ev = NULL;
    cl_uint nw = wait ? 1 : 0;
    const cl_event *list = wait ? &wait : NULL;
    char *at = (char *)host + offset;
    cl_int err = to_device ? clEnqueueWriteBuffer(q, c->mems[i], CL_FALSE, offset, bytes, at, nw, list, ev)
                           : clEnqueueReadBuffer(q, c->mems[i], CL_FALSE, offset, bytes, at, nw, list, ev);
    if (prev) clReleaseEvent(prev);
    return err;
}

/* copy() for rows [first, first + rows) of rectangle argument i: one rect
 * copy, the buffer laid out as the host array. */
static cl_int copy_rows(weft__place *pl, cl_place *c, size_t i, int to_device, size_t first, size_t rows,
                        cl_command_queue q, cl_event wait, cl_event *ev)
{
    const weft_arg_t *a = &pl->op->args[i];
    if (rows == 0) return CL_SUCCESS;
    size_t bytes = rows * a->width;
    pl->bytes += bytes;
    if (to_device) pl->bytes_up += bytes;
    else pl->bytes_down += bytes;
    cl_event prev = *ev;
    *ev = NULL;
    size_t origin[3] = {a->origin + first * a->unit, 0, 0}, region[3] = {a->width, rows, 1};
    cl_uint nw = wait ? 1 : 0;
    const cl_event *list = wait ? &wait : NULL;
    cl_int err = to_device ? clEnqueueWriteBufferRect(q, c->mems[i], CL_FALSE, origin, origin, region, a->unit, 0,
                                                      a->unit, 0, a->data, nw, list, ev)
                           : clEnqueueReadBufferRect(q, c->mems[i], CL_FALSE, origin, origin, region, a->unit, 0,
                                                     a->unit, 0, a->data, nw, list, ev);
    if (prev) clReleaseEvent(prev);
    return err;
}

/* Kernel mode: the NDRange over the chunk's work-groups, with a global offset. */
static cl_int enqueue_kernel(weft__op *op, size_t gb, size_t ge, cl_place *c, cl_event *done)
{
    size_t offset[2] = {0, 0}, global[2], local[2];
    unsigned d = op->range.dims - 1;
    if (op->range.dims == 2) {
        local[0] = op->range.group[0];
        global[0] = (op->range.size[0] + local[0] - 1) / local[0] * local[0];
    }
    local[d] = op->group;
    offset[d] = gb * op->group;
    global[d] = (ge - gb) * op->group;
    return clEnqueueNDRangeKernel(c->dev->queue, c->kernel, op->range.dims, offset, global, local, 0, NULL, done);
}

/* Body mode: the body enqueues; its done event (or a marker) ends the step.
 * A nonzero status the body returns sets *failed, and its name goes to name
 * (cap bytes) when the body gives one. */
static cl_int enqueue_body(weft__op *op, weft__place *pl, size_t gb, size_t ge, cl_place *c, cl_event *done,
                           int *failed, char *name, size_t cap)
{
    weft_cl_chunk_t ch = {
        .context = c->dev->ctx,
        .queue = c->dev->queue,
        .device_id = c->dev->id,
        .device = pl->device,
        .nargs = op->nargs,
        .mem = c->mems,
        .argv = op->argv,
        .range = op->range,
    };
    weft__op_indices(op, gb, ge, &ch.begin, &ch.end);
    int st = op->cl_body(&ch);
    if (st != 0) {
        *failed = 1;
        if (ch.status_name) snprintf(name, cap, "%s", ch.status_name);
        if (ch.done) clReleaseEvent(ch.done);
        return st;
    }
    cl_int err = CL_SUCCESS;
    if (!ch.done) err = clEnqueueMarkerWithWaitList(c->dev->queue, 0, NULL, &ch.done);
    *done = ch.done;
    return err;
}

static void go(weft__op *op, weft__place *pl, int may_wait);

/* Arguments a pipelined chunk can track (more: one piece). */
#define PIECES_ARGS_MAX 64

/* Pieces in order: [*at, *at + *n) less what earlier pieces sent (*sent, the
 * end of what went up so far: 0 before the first piece), which grows to
 * cover it. */
static void skip_sent(size_t *sent, size_t *at, size_t *n)
{
    if (*sent > *at) {
        size_t skip = *sent - *at < *n ? *sent - *at : *n;
        *at += skip;
        *n -= skip;
    }
    if (*at + *n > *sent) *sent = *at + *n;
}

/* How many pieces pl's chunk runs in: one on unified memory, with write
 * checking or a scattered argument (both copy whole arrays per chunk),
 * without a copy queue, or on a CPU device (its copies are memcpy on the
 * cores its kernels run on: nothing to overlap, and a library body such as
 * CLBlast loses more to smaller calls than it could win); else one per
 * PIECE_MIN_BYTES moved, up to PIECES_MAX and the chunk's work-groups. */
static size_t pieces_for(const weft__op *op, const weft__place *pl, const cl_place *c)
{
    if (c->unified || c->checking || !c->dev->copy_queue || op->nargs > PIECES_ARGS_MAX) return 1;
    if (c->dev->info.type == WEFT_DEVICE_CPU && !weft__test_pieces()) return 1;
    size_t bytes = 0;
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        size_t off, len;
        if (a->array) continue;
        if (a->kind == WEFT_ARG_SCATTERED) return 1;
        if (a->kind == WEFT_ARG_SPLIT) {
            weft__args_span(op, a, pl->gb, pl->ge, (a->access & WEFT_READ) != 0, &off, &len);
            bytes += len * ((a->access & WEFT_WRITE) ? 2 : 1);
        }
    }
    size_t n = bytes / PIECE_MIN_BYTES, groups = pl->ge - pl->gb;
    if (n > PIECES_MAX) n = PIECES_MAX;
    if (n > groups) n = groups;
    return n ? n : 1;
}

/* A pool task: read back to the host what the device's copy of registered
 * arrays lacks and only other devices hold, then enqueue the chunk. */
static void *stage_task(void *arg)
{
    weft__place *pl = arg;
    go(pl->op, pl, 1);
    return NULL;
}

static void submit(weft__op *op, weft__place *pl, weft__report_fn report)
{
    cl_place *c = pl->impl;
    c->report = report;
    int injected = weft__fault_check(op->rt, pl->device, op->cl_entry);
    if (injected) {
        fail(op, pl, chunk_panic(op, pl, injected, NULL, "failed during execution (injected fault)"));
        return;
    }
    go(op, pl, 0);
}

/* The chunk's moves, compute and read-backs, enqueued. may_wait: this
 * thread may block (a pool task), else it is perhaps a driver's callback. */
static void go(weft__op *op, weft__place *pl, int may_wait)
{
    cl_place *c = pl->impl;
    weft__device *dev = c->dev; /* c may be gone once the callback is set */
    cl_int err = CL_SUCCESS;
    cl_event last = NULL;
    /* Registered arrays first: the bytes the device's copy lacks go up; bytes
     * that must first come back from another device are staged by a thread
     * that may wait (twice at most: only an operation racing on the same
     * array could take them away again meanwhile). From the first upload to
     * the callback's registration this thread alone enqueues on the queue. */
    for (int tries = 0;; tries++) {
        weft__queue_lock(dev);
        if (weft__arrays_fetch(op, pl, dev, &err) != 1) break;
        weft__queue_unlock(dev);
        weft_handle_t *h;
        if (!may_wait && weft_spawn(op->rt, stage_task, pl, &h) == 0) {
            weft_handle_detach(h);
            return;
        }
        err = tries < 2 ? weft__arrays_stage(op, pl) : CL_INVALID_OPERATION;
        if (err != CL_SUCCESS) {
            weft__arrays_done(op, pl, 0);
            fail(op, pl, chunk_panic(op, pl, err, NULL, "could not read a registered array's bytes back from "
                                     "another device"));
            return;
        }
    }
    /* Write-set checking: only where the device copies (its own memory, or
     * separate-memory mode): on shared memory there is nothing to compare. */
    c->checking = 0;
    if (!c->unified && weft__engine_of(op->rt)->check_writes) {
        if (weft__write_check_prepare(op, pl->gb, pl->ge, &c->wc)) {
            weft__queue_unlock(dev);
            fail(op, pl, chunk_panic(op, pl, CL_OUT_OF_HOST_MEMORY, NULL, "could not set up write checking"));
            return;
        }
        c->checking = 1;
    }
    /* Arrays that go up whole: whole arguments once per operation, a
     * scattered array as the operation found it (what this chunk changes is
     * told apart from that when it comes back), a checked split's image (a
     * canary around the real bytes). */
    cl_command_queue q = dev->queue;
    for (size_t i = 0; i < op->nargs && err == CL_SUCCESS && !c->unified; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->array) continue;
        if (a->kind == WEFT_ARG_SPLIT && c->checking && c->wc.image[i])
            err = copy(pl, c, i, 1, 0, a->bytes, c->wc.image[i], q, NULL, &last);
        else if (a->kind == WEFT_ARG_SCATTERED)
            err = copy(pl, c, i, 1, 0, a->bytes, op->scatter.original[i], q, NULL, &last);
        else if (a->kind == WEFT_ARG_WHOLE && !c->whole_uploaded)
            err = copy(pl, c, i, 1, 0, a->bytes, a->data, q, NULL, &last);
    }
    if (err == CL_SUCCESS) c->whole_uploaded = 1;

    /* Then the chunk, in pieces when it moves enough (pipelined: a piece's
     * rows go up on the copy queue while the previous piece computes, its
     * results come back there after it). Per piece: the rows it reads (with
     * halo, never again those an earlier piece sent: the kernel may have
     * written them since), the compute, the rows it wrote and its partials.
     * A write-only split goes up too, without halo: the bytes the kernel
     * never writes (a border) must come back as the host had them. */
    size_t pieces = pieces_for(op, pl, c);
    cl_command_queue cq = pieces > 1 ? dev->copy_queue : q;
    size_t sent[PIECES_ARGS_MAX] = {0}; /* per argument: end of the bytes (a rectangle: rows) sent so far */
    const char *when = "could not be enqueued";
    char body_status[128] = "";
    cl_event up = NULL, down = NULL;
    size_t groups = pl->ge - pl->gb;
    c->ncompute = 0;
    for (size_t k = 0; k < pieces && err == CL_SUCCESS; k++) {
        size_t gb = pl->gb + groups * k / pieces, ge = pl->gb + groups * (k + 1) / pieces;
        for (size_t i = 0; i < op->nargs && err == CL_SUCCESS && !c->unified; i++) {
            const weft_arg_t *a = &op->args[i];
            if (a->array || a->kind != WEFT_ARG_SPLIT || (c->checking && c->wc.image[i])) continue;
            if (a->span == WEFT_SPAN_RECT) {
                /* the same in rows: sent[i] is the first row not yet sent */
                size_t first, rows;
                weft__args_rows(op, a, gb, ge, (a->access & WEFT_READ) != 0, &first, &rows);
                if (i < PIECES_ARGS_MAX) skip_sent(&sent[i], &first, &rows);
                err = copy_rows(pl, c, i, 1, first, rows, cq, NULL, &up);
                continue;
            }
            size_t off, len;
            weft__args_span(op, a, gb, ge, (a->access & WEFT_READ) != 0, &off, &len);
            if (i < PIECES_ARGS_MAX) skip_sent(&sent[i], &off, &len);
            err = copy(pl, c, i, 1, off, len, a->data, cq, NULL, &up);
        }
        /* The compute waits for its piece's rows (same queue: in order). */
        if (err == CL_SUCCESS && up && cq != q) err = clEnqueueMarkerWithWaitList(q, 1, &up, NULL);
        cl_event done = NULL;
        if (err == CL_SUCCESS) {
            if (c->body) {
                int failed = 0;
                err = enqueue_body(op, pl, gb, ge, c, &done, &failed, body_status, sizeof body_status);
                if (failed) when = "failed in its device body";
            } else {
                err = enqueue_kernel(op, gb, ge, c, &done);
            }
            if (err == CL_SUCCESS) c->compute[c->ncompute++] = done;
        }
        /* Its results, once it has computed. */
        cl_event after = cq != q ? done : NULL;
        for (size_t i = 0; i < op->nargs && err == CL_SUCCESS && !c->unified; i++) {
            const weft_arg_t *a = &op->args[i];
            if (a->array) continue; /* written rows stay on the device */
            if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE) && c->checking) {
                err = copy(pl, c, i, 0, 0, a->bytes, c->wc.after[i], cq, after, &down); /* checked in the callback */
            } else if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE) && a->span == WEFT_SPAN_RECT) {
                size_t first, rows;
                weft__args_rows(op, a, gb, ge, 0, &first, &rows);
                err = copy_rows(pl, c, i, 0, first, rows, cq, after, &down);
            } else if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE)) {
                size_t off, len;
                weft__args_span(op, a, gb, ge, 0, &off, &len);
                err = copy(pl, c, i, 0, off, len, a->data, cq, after, &down);
            } else if (a->kind == WEFT_ARG_SCATTERED) {
                err = copy(pl, c, i, 0, 0, a->bytes, c->scattered[i], cq, after, &down); /* merged in the callback */
            } else if (a->kind == WEFT_ARG_REDUCE) {
                size_t unit = op->blocks_per_group * a->unit;
                err = copy(pl, c, i, 0, gb * unit, (ge - gb) * unit, op->partials[i], cq, after, &down);
            }
        }
    }
    /* The chunk's last command: on one queue, whatever came last; pipelined,
     * a marker on the compute queue after the copy queue's last read-back. */
    if (err == CL_SUCCESS) {
        cl_event tail = down ? down : up;
        if (cq != q) {
            if (last) clReleaseEvent(last);
            last = NULL;
            err = clEnqueueMarkerWithWaitList(q, tail ? 1 : 0, tail ? &tail : NULL, &last);
        } else if (down) {
            if (last) clReleaseEvent(last);
            last = down;
            down = NULL;
        } else if (c->ncompute) {
            if (last) clReleaseEvent(last);
            last = c->compute[c->ncompute - 1];
            clRetainEvent(last);
        }
    }
    if (up) clReleaseEvent(up);
    if (down) clReleaseEvent(down);
    if (err == CL_SUCCESS) {
        if (cq != q) clFlush(cq);
        clFlush(q);
    }
    /* The callback may run at once, on this thread, and the driver may then
     * finish the whole op: nothing of op or pl may be touched after it is set. */
    if (err == CL_SUCCESS) err = clSetEventCallback(last, CL_COMPLETE, on_chunk_event, pl);
    weft__queue_unlock(dev);
    if (err != CL_SUCCESS) {
        /* Whatever was queued must finish before the chunk can be retried. */
        if (dev->copy_queue) clFinish(dev->copy_queue);
        clFinish(q);
        if (last) clReleaseEvent(last);
        for (int i = 0; i < c->ncompute; i++) clReleaseEvent(c->compute[i]);
        c->ncompute = 0;
        if (c->checking) weft__write_check_free(op, &c->wc);
        c->checking = 0;
        weft__arrays_done(op, pl, 0);
        fail(op, pl, chunk_panic(op, pl, err, body_status[0] ? body_status : NULL, when));
    }
}

const weft__place_ops weft__place_cl_kernel = {
    .setup = setup_kernel_place,
    .submit = submit,
    .release = release,
};

const weft__place_ops weft__place_cl_body = {
    .setup = setup_body_place,
    .submit = submit,
    .release = release,
};

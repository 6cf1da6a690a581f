/* coexec/chunk_device.c — the device half of a parallel operation: build the
 * kernel with whole-range semantics, bind the arrays, move only the bytes a
 * chunk touches, and report back from the event callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel_op.h"

/* Inside a chunk the kernel must see the unsplit launch. A global offset
 * already makes get_global_id absolute; these make the rest agree. #line keeps
 * build-log line numbers those of the user's source. */
char *pf_whole_range_source(const pf_op *op, const char *src)
{
    size_t gs0, gs1 = 1;
    if (op->range.dims == 1) {
        gs0 = op->ngroups * op->group;
    } else {
        size_t g0 = op->range.group[0];
        gs0 = (op->range.size[0] + g0 - 1) / g0 * g0;
        gs1 = op->ngroups * op->group;
    }
    static const char fmt[] =
        "#define WEFT_GLOBAL_SIZE_0 %zuUL\n"
        "#define WEFT_GLOBAL_SIZE_1 %zuUL\n"
        "#define get_global_size(d) ((size_t)((d) == 0 ? WEFT_GLOBAL_SIZE_0 : (d) == 1 ? WEFT_GLOBAL_SIZE_1 : 1))\n"
        "#define get_num_groups(d) (get_global_size(d) / get_local_size(d))\n"
        "#define get_group_id(d) (get_global_id(d) / get_local_size(d))\n"
        "#line 1\n";
    int head = snprintf(NULL, 0, fmt, gs0, gs1);
    size_t len = (size_t)head + strlen(src) + 1;
    char *out = malloc(len);
    if (!out) return NULL;
    snprintf(out, len, fmt, gs0, gs1);
    strcpy(out + head, src);
    return out;
}

static weft_panic_t *setup_panic(const pf_op *op, const pf_place *pl, cl_int err, const char *what)
{
    weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                       .kernel = op->cl_entry, .cl_status = err, .cl_status_name = weft_cl_status_name(err)};
    return weft__panic_failure(&f, "kernel '%s': %s on device '%s': %s (%d)", op->name, what, pl->name,
                               weft_cl_status_name(err), err);
}

static cl_mem_flags mem_flags(const weft_arg_t *a)
{
    if (a->kind == WEFT_ARG_REDUCE) return CL_MEM_WRITE_ONLY;
    if (a->kind == WEFT_ARG_WHOLE) return CL_MEM_READ_ONLY;
    return a->access == WEFT_READ ? CL_MEM_READ_ONLY : a->access == WEFT_WRITE ? CL_MEM_WRITE_ONLY : CL_MEM_READ_WRITE;
}

int pf_device_setup(pf_op *op, pf_place *pl, weft_panic_t **why)
{
    *why = NULL;
    weft_runtime_t *rt = op->rt;
    pl->dev = weft__host_of(rt)->devices[pl->device];
    pl->unified = pl->dev->info.unified_memory;
    snprintf(pl->name, sizeof pl->name, "%s", pl->dev->info.name);
    int status = 0;
    pl->built = weft__program_get(rt, pl->device, op->cl_source, op->cl_options, why, &status);
    if (!pl->built) {
        if (*why) {
            weft__panic_fill(*why, op->cl_entry, NULL, NULL, 0);
            weft__panic_set_origin(*why, NULL, op->file, op->line);
        }
        else *why = setup_panic(op, pl, CL_BUILD_PROGRAM_FAILURE, "program could not be built");
        return -1;
    }
    cl_int err;
    pl->kernel = weft__kernel_take(rt, pl->built, op->cl_entry, &pl->kernel_nargs, &err);
    if (!pl->kernel) {
        *why = setup_panic(op, pl, err, "kernel could not be created");
        return -1;
    }
    /* Pooled kernels keep an earlier operation's arguments: every one must be
     * set again, so the counts must match. */
    if (pl->kernel_nargs != op->nargs) {
        err = CL_INVALID_KERNEL_ARGS;
        *why = setup_panic(op, pl, err, "kernel takes a different number of arguments than were given");
        return -1;
    }
    pl->mems = calloc(op->nargs ? op->nargs : 1, sizeof *pl->mems);
    if (!pl->mems) {
        *why = setup_panic(op, pl, CL_OUT_OF_HOST_MEMORY, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        err = CL_SUCCESS;
        if (a->kind == WEFT_ARG_SPLIT || a->kind == WEFT_ARG_WHOLE || a->kind == WEFT_ARG_REDUCE) {
            void *host = a->kind == WEFT_ARG_REDUCE ? op->partials[i] : a->data;
            size_t bytes = a->kind == WEFT_ARG_REDUCE ? op->ngroups * op->blocks_per_group * a->unit : a->bytes;
            if (bytes > pl->dev->info.max_alloc_bytes) {
                *why = setup_panic(op, pl, CL_INVALID_BUFFER_SIZE, "argument above CL_DEVICE_MAX_MEM_ALLOC_SIZE");
                return -1;
            }
            /* Unified memory: the device works in the host's own pages. */
            cl_mem_flags flags = mem_flags(a) | (pl->unified ? CL_MEM_USE_HOST_PTR : 0);
            pl->mems[i] = clCreateBuffer(pl->dev->ctx, flags, bytes, pl->unified ? host : NULL, &err);
            if (err == CL_SUCCESS) err = clSetKernelArg(pl->kernel, (cl_uint)i, sizeof(cl_mem), &pl->mems[i]);
        } else if (a->kind == WEFT_ARG_SCALAR) {
            err = clSetKernelArg(pl->kernel, (cl_uint)i, a->size, a->value);
        } else {
            err = clSetKernelArg(pl->kernel, (cl_uint)i, a->size, NULL);
        }
        if (err != CL_SUCCESS) {
            char what[64];
            snprintf(what, sizeof what, "argument %zu could not be set", i);
            *why = setup_panic(op, pl, err, what);
            return -1;
        }
    }
    return 0;
}

void pf_device_release(pf_op *op, pf_place *pl)
{
    if (pl->mems) {
        for (size_t i = 0; i < op->nargs; i++)
            if (pl->mems[i]) clReleaseMemObject(pl->mems[i]);
        free(pl->mems);
        pl->mems = NULL;
    }
    if (pl->kernel) weft__kernel_give_back(op->rt, pl->built, op->cl_entry, pl->kernel, pl->kernel_nargs);
    pl->kernel = NULL;
}

static weft_panic_t *chunk_panic(const pf_op *op, const pf_place *pl, cl_int status, const char *when)
{
    size_t ib, ie;
    pf_indices(op, pl->gb, pl->ge, &ib, &ie);
    weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                       .kernel = op->cl_entry, .cl_status = status, .cl_status_name = weft_cl_status_name(status),
                       .has_range = 1, .begin = ib, .end = ie};
    return weft__panic_failure(&f, "kernel '%s' %s on device '%s': %s (%d), chunk [%zu, %zu)", op->name, when,
                               pl->name, weft_cl_status_name(status), status, ib, ie);
}

static void *pump_task(void *arg)
{
    pf_place *pl = arg;
    pf_pump(pl->op, pl);
    return NULL;
}

static void CL_CALLBACK on_chunk_event(cl_event ev, cl_int status, void *user)
{
    pf_place *pl = user;
    pf_op *op = pl->op;
    /* Report the kernel's own status when it is the command that failed. */
    cl_int kstatus = CL_COMPLETE;
    if (pl->kernel_event) {
        if (pl->kernel_event != ev)
            clGetEventInfo(pl->kernel_event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof kstatus, &kstatus, NULL);
        clReleaseEvent(pl->kernel_event); /* its own reference; ev holds another */
    }
    pl->kernel_event = NULL;
    clReleaseEvent(ev);
    weft_panic_t *failure = NULL;
    if (status < 0 || kstatus < 0)
        failure = chunk_panic(op, pl, kstatus < 0 ? kstatus : status, "failed during execution");
    /* Only bookkeeping and non-blocking enqueues happen from here on. */
    pf_chunk_done(op, pl, failure);
    /* A driver may run this callback inline (PoCL's basic device executes at
     * clFlush, and clSetEventCallback on a finished event calls back at once).
     * Inside another pump or start() on this thread, leave the next chunk to
     * that outer loop — the place stays active meanwhile, so its op cannot
     * finish — instead of nesting ever deeper. */
    pf_deferred *d = pf_trampoline;
    if (d) {
        if (d->n < PF_DEFERRED_MAX) {
            d->v[d->n++] = pl;
            return;
        }
        weft_handle_t *h; /* full: go on from a pool task */
        if (weft_spawn(op->rt, pump_task, pl, &h) == 0) {
            weft_handle_detach(h);
            return;
        }
    }
    pf_deferred local = {.n = 0};
    pf_trampoline = &local;
    pf_pump(op, pl);
    pf_drain(&local);
    pf_trampoline = d;
}

/* Non-blocking copy between host memory and pl's buffer for argument i. */
static cl_int copy(pf_place *pl, size_t i, int to_device, size_t offset, size_t bytes, void *host,
                   cl_event *ev)
{
    if (bytes == 0) return CL_SUCCESS;
    pl->bytes += bytes;
    if (*ev) clReleaseEvent(*ev);
    *ev = NULL;
    return to_device
               ? clEnqueueWriteBuffer(pl->dev->queue, pl->mems[i], CL_FALSE, offset, bytes, (char *)host + offset, 0, NULL, ev)
               : clEnqueueReadBuffer(pl->dev->queue, pl->mems[i], CL_FALSE, offset, bytes, (char *)host + offset, 0, NULL, ev);
}

int pf_device_submit(pf_op *op, pf_place *pl, weft_panic_t **failed)
{
    *failed = NULL;
    size_t ib, ie;
    pf_indices(op, pl->gb, pl->ge, &ib, &ie);
    cl_int err = CL_SUCCESS;
    cl_event last = NULL;
    pl->kernel_event = NULL;

    int injected = weft__fault_check(op->rt, pl->device, op->cl_entry);
    if (injected) {
        *failed = chunk_panic(op, pl, injected, "failed during execution (injected fault)");
        return -1;
    }
    /* Inputs: only the rows this chunk reads (with halo), whole arrays once. */
    for (size_t i = 0; i < op->nargs && err == CL_SUCCESS && !pl->unified; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_READ)) {
            size_t lo = ib > a->halo ? ib - a->halo : 0;
            size_t hi = ie + a->halo < op->n ? ie + a->halo : op->n;
            err = copy(pl, i, 1, lo * a->unit, (hi - lo) * a->unit, a->data, &last);
        } else if (a->kind == WEFT_ARG_WHOLE && !pl->whole_uploaded) {
            err = copy(pl, i, 1, 0, a->bytes, a->data, &last);
        }
    }
    if (err == CL_SUCCESS) pl->whole_uploaded = 1;

    size_t offset[2] = {0, 0}, global[2], local[2];
    unsigned d = op->split_dim;
    if (op->range.dims == 2) {
        local[0] = op->range.group[0];
        global[0] = (op->range.size[0] + local[0] - 1) / local[0] * local[0];
    }
    local[d] = op->group;
    offset[d] = pl->gb * op->group;
    global[d] = (pl->ge - pl->gb) * op->group;
    if (err == CL_SUCCESS) {
        err = clEnqueueNDRangeKernel(pl->dev->queue, pl->kernel, op->range.dims, offset, global, local, 0,
                                     NULL, &pl->kernel_event);
        if (err == CL_SUCCESS) {
            if (last) clReleaseEvent(last);
            last = NULL;
            clRetainEvent(pl->kernel_event);
            last = pl->kernel_event;
        }
    }
    /* Outputs: only the rows this chunk wrote, and its partials. */
    for (size_t i = 0; i < op->nargs && err == CL_SUCCESS && !pl->unified; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE))
            err = copy(pl, i, 0, ib * a->unit, (ie - ib) * a->unit, a->data, &last);
        else if (a->kind == WEFT_ARG_REDUCE)
            err = copy(pl, i, 0, pl->gb * op->blocks_per_group * a->unit,
                       (pl->ge - pl->gb) * op->blocks_per_group * a->unit, op->partials[i], &last);
    }
    cl_command_queue queue = pl->dev->queue;
    if (err == CL_SUCCESS) clFlush(queue);
    /* The callback may run at once, on this thread, and finish the whole op:
     * nothing of op or pl may be touched after it is set. */
    if (err == CL_SUCCESS) err = clSetEventCallback(last, CL_COMPLETE, on_chunk_event, pl);
    if (err != CL_SUCCESS) {
        /* Whatever was queued must finish before the chunk can be retried. */
        clFinish(pl->dev->queue);
        if (last) clReleaseEvent(last);
        if (pl->kernel_event) clReleaseEvent(pl->kernel_event);
        pl->kernel_event = NULL;
        *failed = chunk_panic(op, pl, err, "could not be enqueued");
        return -1;
    }
    return 0;
}

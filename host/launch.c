/* host/launch.c — kernel launches as tasks. Every failure on the way
 * becomes a panic on the launch's handle.
 *
 * Completing a launch. The kernel is enqueued and flushed; its task then
 * completes in one of two ways, and a completion callback is registered only
 * for the second (on some drivers a callback runs tens of microseconds after
 * the event completes, and registering one costs as much again):
 *
 *   - A thread outside the pool that joins the handle and may block
 *     (weft_join's join_wait: nothing queued it could run meanwhile) waits
 *     on the event with clWaitForEvents and completes the task itself.
 *   - Otherwise the task must complete without anyone blocking on its event:
 *     arm() registers the callback, which completes it. The owner of the
 *     handle arms it before it stops being able to block: weft_join from a
 *     worker or a caller slot that runs pool tasks (or after a failed wait),
 *     weft_handle_detach, weft_handle_is_finished (a poller), and
 *     weft_scope_launch at once (the scope's end waits on its latch, running
 *     tasks). A handle that is never consumed is never armed: like any
 *     leaked handle, its task is then never freed.
 *
 * Two flags in launch_state settle who does what, whichever thread gets
 * there first:
 *   armed    exchanged to 1 by the one arm() that acts (arm() may be called
 *            again, from another thread for a scope's handle: it returns).
 *            Before it registers, arm() looks at the event: a command that
 *            has already ended completes the task there, with no callback.
 *   claimed  exchanged to 1 by the one thread that completes the task: the
 *            joiner after clWaitForEvents, arm() on an ended event, the
 *            callback, or arm() when registration fails (it then waits for
 *            the event and panics "could not report completion"). The
 *            failure panic is stored by the claimer only, just before it
 *            calls weft__task_complete.
 * A callback registered on an event that has already completed runs at
 * once, perhaps inside clSetEventCallback: arm() touches nothing of the task
 * after registering, and the handle's reference (held by the caller of
 * arm()) keeps it alive until then.
 *
 * References and the runtime's external work: the callback holds a task
 * reference and one weft__runtime_external_begin, both taken by arm() just
 * before it registers; the callback gives both back after its completion
 * attempt (it runs even when the joiner won), so weft_runtime_destroy waits
 * for every registered callback. A launch completed without a callback is
 * completed on the handle owner's thread inside weft_join, weft_handle_detach
 * or weft_handle_is_finished and leaves nothing behind to wait for. The
 * event's one reference belongs to launch_state, freed with the task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

typedef struct launch_state {
    weft__device *dev;
    char *kernel;
    unsigned dims;
    size_t begin[3], end[3];
    const char *file;
    int line;
    char *launcher;               /* name of the task that launched, or NULL */
    cl_event ev;                  /* the kernel's event (this state's reference), once enqueued */
    atomic_int armed;             /* 1 once arm() has acted (see the top of the file) */
    atomic_int claimed;           /* 1 once a thread has taken the task's completion */
} launch_state;

static void launch_state_free(void *p)
{
    launch_state *ls = p;
    if (!ls) return;
    if (ls->ev) clReleaseEvent(ls->ev);
    free(ls->kernel);
    free(ls->launcher);
    free(ls);
}

void weft_launch_init(weft_launch_t *l)
{
    if (!l) return;
    memset(l, 0, sizeof *l);
    l->dims = 1;
}

weft_karg_t weft_karg_buffer(weft_buffer_t *b)
{
    weft_karg_t a = {.kind = WEFT_KARG_BUFFER, .buffer = b};
    return a;
}

weft_karg_t weft_karg_scalar(const void *value, size_t size)
{
    weft_karg_t a = {.kind = WEFT_KARG_SCALAR, .value = value, .size = size};
    return a;
}

weft_karg_t weft_karg_local(size_t bytes)
{
    weft_karg_t a = {.kind = WEFT_KARG_LOCAL, .size = bytes};
    return a;
}

/* Store a device failure on t as its panic (the hook hears of it now);
 * detail (or NULL) says more after the status. */
static void device_panic(struct weft_task *t, const launch_state *ls, cl_int status, const char *when,
                         const char *detail)
{
    char range[256];
    size_t n = 0;
    range[0] = '\0';
    for (unsigned d = 0; d < ls->dims && n < sizeof range; d++)
        n += (size_t)snprintf(range + n, sizeof range - n, "%s[%zu, %zu)", d ? " x " : "", ls->begin[d], ls->end[d]);
    weft__failure f = {.thread = ls->launcher, .file = ls->file, .line = ls->line, .device = ls->dev->info.name,
                       .kernel = ls->kernel, .cl_status = status, .cl_status_name = weft_cl_status_name(status),
                       .has_range = 1, .begin = ls->begin[0], .end = ls->end[0]};
    weft_panic_t *p = weft__panic_failure(&f, "kernel '%s' %s on device '%s': %s (%d)%s%s, range %s", ls->kernel, when,
                                          ls->dev->info.name, weft_cl_status_name(status), status,
                                          detail ? ", " : "", detail ? detail : "", range);
    weft__task_set_panic(t, p); /* never NULL: out of memory gives the static payload */
}

/* Complete t from the event's outcome, unless another thread already did. */
static void complete_from_event(struct weft_task *t, cl_int status)
{
    launch_state *ls = weft__task_state(t);
    if (atomic_exchange(&ls->claimed, 1)) return;
    if (status < 0) device_panic(t, ls, status, "failed during execution", NULL);
    weft__task_complete(t);
}

static void CL_CALLBACK on_event(cl_event ev, cl_int status, void *user)
{
    (void)ev;
    struct weft_task *t = user;
    weft_runtime_t *rt = weft__task_runtime(t);
    /* Only records the outcome: no jumps, no waiting, in the driver's thread. */
    complete_from_event(t, status);
    weft__task_unref(t); /* the callback's own reference */
    weft__runtime_external_end(rt);
}

/* The event's status: CL_COMPLETE, a failure (< 0), or CL_QUEUED when it
 * cannot be read. */
static cl_int event_status(cl_event ev)
{
    cl_int status = CL_QUEUED;
    if (clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL) != CL_SUCCESS)
        return CL_QUEUED;
    return status;
}

/* weft_join's fast path for a thread outside the pool that may block: wait
 * on the event and complete t here. When even the wait fails, t stays
 * unfinished and weft_join arms it. */
static void join_wait(struct weft_task *t, void *state)
{
    launch_state *ls = state;
    if (!ls->ev) return; /* completed before weft_launch returned */
    cl_int err = clWaitForEvents(1, &ls->ev);
    cl_int status = event_status(ls->ev);
    /* clWaitForEvents reports a failed command as an error too. */
    if (err == CL_SUCCESS) complete_from_event(t, status < 0 ? status : CL_COMPLETE);
    else if (status < 0) complete_from_event(t, status);
}

/* Make t complete with nobody blocking on its event (see the top of the
 * file). The caller holds a reference to t. */
static void arm(struct weft_task *t, void *state)
{
    launch_state *ls = state;
    if (!ls->ev || atomic_load(&ls->claimed) || atomic_exchange(&ls->armed, 1)) return;
    cl_int status = event_status(ls->ev);
    if (status <= CL_COMPLETE) {
        complete_from_event(t, status);
        return;
    }
    weft_runtime_t *rt = weft__task_runtime(t);
    weft__device *dev = ls->dev;
    weft__runtime_external_begin(rt);
    weft__task_ref(t); /* the callback's */
    atomic_fetch_add_explicit(&dev->callbacks, 1, memory_order_relaxed);
    weft__queue_lock(dev);
    /* The callback may run at once and finish t: touch nothing of it after. */
    cl_int err = clSetEventCallback(ls->ev, CL_COMPLETE, on_event, t);
    weft__queue_unlock(dev);
    if (err == CL_SUCCESS) return;
    weft__task_unref(t);
    weft__runtime_external_end(rt);
    /* Queued but cannot report back: wait for it here. */
    clWaitForEvents(1, &ls->ev);
    if (atomic_exchange(&ls->claimed, 1)) return;
    device_panic(t, ls, err, "could not report completion", NULL);
    weft__task_complete(t);
}

static int validate(weft_runtime_t *rt, const weft_launch_t *l, const char *caller)
{
    if (!l) return weft__fail(WEFT_EINVAL, "%s: launch is NULL", caller);
    weft__device *dev = weft__device_get(rt, l->device, caller);
    if (!dev) return WEFT_EINVAL;
    if (!l->kernel || !*l->kernel) return weft__fail(WEFT_EINVAL, "%s: no kernel name", caller);
    if (!l->program == !l->source)
        return weft__fail(WEFT_EINVAL, "%s: give exactly one of program and source", caller);
    if (l->program && weft__program_runtime(l->program) != rt)
        return weft__fail(WEFT_EINVAL, "%s: the program belongs to another runtime", caller);
    if (l->program && !weft__program_built(l->program, l->device))
        return weft__fail(WEFT_EINVAL, "%s: the program was not built for device %d", caller, l->device);
    if (l->dims < 1 || l->dims > 3) return weft__fail(WEFT_EINVAL, "%s: dims is %u, must be 1, 2 or 3", caller, l->dims);
    int has_local = l->local[0] != 0;
    for (unsigned d = 0; d < l->dims; d++) {
        if (l->global[d] == 0) return weft__fail(WEFT_EINVAL, "%s: global size of dimension %u is 0", caller, d);
        if (l->offset[d] > SIZE_MAX - l->global[d])
            return weft__fail(WEFT_EINVAL, "%s: offset + global size of dimension %u overflows", caller, d);
        if ((l->local[d] != 0) != has_local)
            return weft__fail(WEFT_EINVAL, "%s: give a local size for every dimension or for none", caller);
        if (has_local && l->global[d] % l->local[d] != 0)
            return weft__fail(WEFT_EINVAL, "%s: local size %zu does not divide global size %zu (dimension %u)",
                              caller, l->local[d], l->global[d], d);
    }
    if (l->nargs && !l->args) return weft__fail(WEFT_EINVAL, "%s: nargs is %zu but args is NULL", caller, l->nargs);
    size_t local_sum = 0; /* __local bytes asked so far: the driver may not check (PoCL crashes) */
    char why[256];
    for (size_t i = 0; i < l->nargs; i++) {
        const weft_karg_t *a = &l->args[i];
        switch (a->kind) {
        case WEFT_KARG_BUFFER:
            if (!a->buffer) return weft__fail(WEFT_EINVAL, "%s: argument %zu: buffer is NULL", caller, i);
            if (weft__buffer_runtime(a->buffer) != rt)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: the buffer belongs to another runtime", caller, i);
            if (weft_buffer_device(a->buffer) != l->device)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: buffer lives on device %d, launch is on device %d",
                                  caller, i, weft_buffer_device(a->buffer), l->device);
            break;
        case WEFT_KARG_SCALAR:
            if (!a->value || a->size == 0)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: scalar needs a value and a size", caller, i);
            break;
        case WEFT_KARG_LOCAL:
            if (a->size == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: __local size is 0", caller, i);
            if (weft__local_add(dev, &local_sum, i, a->size, why, sizeof why))
                return weft__fail(WEFT_EINVAL, "%s: %s", caller, why);
            break;
        default:
            return weft__fail(WEFT_EINVAL, "%s: argument %zu: unknown kind %d", caller, i, (int)a->kind);
        }
    }
    return 0;
}

static cl_int set_args(cl_kernel k, const weft_launch_t *l, cl_uint *failed)
{
    for (size_t i = 0; i < l->nargs; i++) {
        const weft_karg_t *a = &l->args[i];
        cl_int err;
        if (a->kind == WEFT_KARG_BUFFER) {
            cl_mem m = weft_buffer_cl(a->buffer);
            err = clSetKernelArg(k, (cl_uint)i, sizeof m, &m);
        } else if (a->kind == WEFT_KARG_SCALAR) {
            err = clSetKernelArg(k, (cl_uint)i, a->size, a->value);
        } else {
            err = clSetKernelArg(k, (cl_uint)i, a->size, NULL);
        }
        if (err != CL_SUCCESS) {
            *failed = (cl_uint)i;
            return err;
        }
    }
    return CL_SUCCESS;
}

/* What a launch runs: its built program (NULL when `source` failed to
 * build: why then holds the failure, or NULL when memory ran out), and a
 * kernel object taken from the pool for it (NULL with kerr when it could not
 * be made). Resolved before any handle exists, so that an entry point the
 * program lacks is refused as bad input. */
typedef struct resolved {
    weft__built *built;
    weft_panic_t *why;
    cl_kernel k;
    cl_uint nargs;
    cl_int kerr;
} resolved;

/* Give back what resolve_program took, for a launch that will not run. */
static void resolved_release(weft_runtime_t *rt, const weft_launch_t *l, resolved *r)
{
    if (r->k) weft__kernel_give_back(rt, r->built, l->kernel, r->k, r->nargs);
    r->k = NULL;
    weft_panic_destroy(r->why);
    r->why = NULL;
}

static int resolve_program(weft_runtime_t *rt, const weft_launch_t *l, const char *caller, resolved *r)
{
    int status = 0;
    r->why = NULL;
    r->k = NULL;
    r->built = l->program ? weft__program_built(l->program, l->device)
                          : weft__program_get(rt, l->device, l->source, l->options, &r->why, &status);
    if (!r->built) return 0;
    r->k = weft__kernel_take(rt, r->built, l->kernel, &r->nargs, &r->kerr);
    if (r->k || r->kerr != CL_INVALID_KERNEL_NAME) return 0; /* other failures panic the handle */
    char names[512] = "";
    clGetProgramInfo(r->built->program, CL_PROGRAM_KERNEL_NAMES, sizeof names, names, NULL);
    names[sizeof names - 1] = '\0';
    return weft__fail(WEFT_EINVAL, "%s: the program has no kernel '%s' (it defines: %s)", caller, l->kernel,
                      names[0] ? names : "none");
}

/* Fault-check, set arguments and enqueue. Either t is left in flight with
 * its event (completed as the top of the file says), or it is completed here
 * with a panic. */
static void submit(weft_runtime_t *rt, struct weft_task *t, const weft_launch_t *l, resolved *r)
{
    launch_state *ls = weft__task_state(t);
    if (!r->built) {
        weft_panic_t *why = r->why;
        if (why) {
            weft__panic_fill(why, l->kernel, NULL, NULL, 0);
            weft__panic_set_origin(why, ls->launcher ? ls->launcher : "<unnamed>", ls->file, ls->line);
            weft__task_set_panic(t, why);
        } else {
            device_panic(t, ls, CL_OUT_OF_HOST_MEMORY, "could not be built", NULL);
        }
        weft__task_complete(t);
        return;
    }
    weft__built *built = r->built;
    int injected = weft__fault_check(rt, l->device, l->kernel);
    if (injected) {
        resolved_release(rt, l, r);
        device_panic(t, ls, injected, "failed during execution (injected fault)", NULL);
        weft__task_complete(t);
        return;
    }
    cl_int err = CL_SUCCESS;
    cl_uint want = r->nargs;
    cl_kernel k = r->k;
    if (!k) {
        device_panic(t, ls, r->kerr, "could not be created", NULL);
        weft__task_complete(t);
        return;
    }
    /* Kernel objects are reused: one from an earlier launch still holds that
     * launch's arguments, so a launch that gives too few would silently run
     * with stale ones. Refuse it as a fresh kernel would. */
    if (l->nargs < want) err = CL_INVALID_KERNEL_ARGS;
    cl_uint bad = 0;
    if (err == CL_SUCCESS) err = set_args(k, l, &bad);
    char mismatch[128];
    const char *detail = NULL; /* the arguments' failure, named */
    if (err != CL_SUCCESS)
        detail = weft__args_mismatch(mismatch, sizeof mismatch, l->nargs < want ? -1 : (long)bad, want, l->nargs);
    cl_event ev = NULL;
    weft__queue_lock(ls->dev);
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(ls->dev->queue, k, l->dims, l->offset, l->global,
                                     l->local[0] ? l->local : NULL, 0, NULL, &ev);
    weft__kernel_give_back(rt, built, l->kernel, k, want);
    /* Flushed now, so that the kernel runs whether or not anyone waits. */
    if (err == CL_SUCCESS) clFlush(ls->dev->queue);
    weft__queue_unlock(ls->dev);
    if (err == CL_SUCCESS) {
        ls->ev = ev;
        return;
    }
    device_panic(t, ls, err, "could not be enqueued", detail);
    weft__task_complete(t);
}

static int launch_common(const char *file, int line, weft_runtime_t *rt, weft_scope_t *s,
                         const weft_launch_t *l, weft_handle_t **out, const char *caller)
{
    int rc = validate(rt, l, caller);
    if (rc) return rc;
    resolved r;
    if ((rc = resolve_program(rt, l, caller, &r))) return rc;
    weft_builder_t b;
    weft_builder_init(&b);
    struct weft_task *t;
    rc = weft__task_new(rt, &b, NULL, NULL, &t);
    if (rc) {
        resolved_release(rt, l, &r);
        return rc;
    }
    launch_state *ls = calloc(1, sizeof *ls);
    const char *launcher = weft_current_name();
    if (!ls || !(ls->kernel = weft__strdup(l->kernel)) ||
        (launcher && !(ls->launcher = weft__strdup(launcher)))) {
        launch_state_free(ls);
        weft__task_discard(t);
        resolved_release(rt, l, &r);
        return weft__fail(WEFT_ENOMEM, "%s: out of memory", caller);
    }
    ls->dev = weft__host_of(rt)->devices[l->device];
    ls->dims = l->dims;
    for (unsigned d = 0; d < l->dims; d++) {
        ls->begin[d] = l->offset[d];
        ls->end[d] = l->offset[d] + l->global[d];
    }
    ls->file = file;
    ls->line = line;
    static const weft__task_ops launch_ops = {.free = launch_state_free, .join_wait = join_wait, .arm = arm};
    weft__task_set_ops(t, &launch_ops, ls);
    if (s) weft__scope_add(s, t);
    if (out) *out = t;
    submit(rt, t, l, &r);
    /* The scope's end waits on its latch, not on the event. The scope holds
     * the handle's reference until it ends, which is not before this returns. */
    if (s) arm(t, ls);
    return 0;
}

int weft_launch_at(const char *file, int line, weft_runtime_t *rt, const weft_launch_t *l,
                   weft_handle_t **out)
{
    if (out) *out = NULL;
    if (!rt || !out) return weft__fail(WEFT_EINVAL, "weft_launch: %s is NULL", !rt ? "runtime" : "out");
    return launch_common(file, line, rt, NULL, l, out, "weft_launch");
}

int weft_scope_launch_at(const char *file, int line, weft_scope_t *s, const weft_launch_t *l,
                         weft_handle_t **out)
{
    if (out) *out = NULL;
    if (!s) return weft__fail(WEFT_EINVAL, "weft_scope_launch: scope is NULL");
    return launch_common(file, line, weft_scope_runtime(s), s, l, out, "weft_scope_launch");
}

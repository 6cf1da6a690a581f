/* coexec/place.h — the place interface: what the driver (coexec/driver.c)
 * asks of a place that runs chunks of an operation — the CPU pool
 * (place_cpu.c), a device running an OpenCL kernel or a device body
 * (place_cl.c) — and the callback through which a place reports a chunk's
 * end. Places never call the driver otherwise. Internal. */
#ifndef WEFT_COEXEC_PLACE_H
#define WEFT_COEXEC_PLACE_H

#include "weft/panic.h"

struct weft__op;
struct weft__place;

/* A chunk of pl ended: failure is NULL, or its panic (which the panic hook
 * has not heard of: the driver decides whether it is recovered or becomes
 * the operation's; the callee takes it over). Called exactly once per
 * submitted chunk, from any thread: inside submit (the chunk ran there, or
 * failed to start) or later (a driver's callback thread). Once it is
 * called, the place may not touch op or pl any more for that chunk. */
typedef void (*weft__report_fn)(struct weft__op *op, struct weft__place *pl, weft_panic_t *failure);

typedef struct weft__place_ops {
    /* Bring pl up for op (its device: build, buffers; its name and prior
     * speed). 0, or -1 with the reason as a panic in *why (may be NULL when
     * memory ran out; not yet heard by the panic hook). Not called for an
     * empty range. */
    int (*setup)(struct weft__op *op, struct weft__place *pl, weft_panic_t **why);
    /* Run the chunk pl->gb..ge (work-groups along the split dimension),
     * adding the bytes it moves to pl->bytes, and report its end. */
    void (*submit)(struct weft__op *op, struct weft__place *pl, weft__report_fn report);
    /* Free what setup made (also after a failed or skipped setup); NULL
     * when the place never has anything to free. */
    void (*release)(struct weft__op *op, struct weft__place *pl);
} weft__place_ops;

/* The CPU threads: a chunk runs as a fork–join tree over its work-groups,
 * split lazily (place_cpu.c). */
extern const weft__place_ops weft__place_cpu;
/* A device running the operation's OpenCL kernel. */
extern const weft__place_ops weft__place_cl_kernel;
/* A device running the operation's device body (weft_kernel_t::cl_body):
 * the same buffers and data movement, the body enqueues the compute. */
extern const weft__place_ops weft__place_cl_body;

#endif

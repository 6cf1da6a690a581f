/* scheduler/deque.h — a worker's own task queue: the lock-free work-stealing
 * deque of Chase and Lev, with the C11 memory orders of Lê, Pop, Cohen and
 * Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory
 * Models" (PPoPP 2013), made quiet under ThreadSanitizer (below).
 *
 * Who may call what:
 *   - init and destroy: one thread, while no other uses the deque (destroy
 *     frees every array the deque ever had);
 *   - push and pop: the owner only, one thread for the deque's life (a
 *     worker on its own deque). They work at the bottom: newest first, its
 *     data still in the owner's cache;
 *   - steal and len: any thread, at any time. Steal takes at the top: the
 *     oldest task, usually the biggest piece of work left.
 *
 * The items sit at indices [top, bottom) of a circular array (a power of
 * two of slots, index i at slot i & (cap - 1)). Only the owner writes
 * `bottom` and the slots; the owner and thieves move `top` up by
 * compare-and-swap, so each item is taken once: by the owner alone while
 * more than one is left, by whoever wins the CAS on top for the last one.
 * A thief may lose that CAS to the owner or another thief: steal then
 * returns NULL, though the deque may not be empty (callers look again).
 *
 * Memory orders, and why:
 *   - push writes the slot (relaxed) and publishes it with a release store of
 *     bottom; a thief's acquire load of bottom therefore sees the slot and
 *     everything the pusher wrote into the task before pushing it. (The
 *     paper has a release fence and a relaxed store: ThreadSanitizer does
 *     not model fences, and GCC refuses them under -fsanitize=thread, so
 *     this is the equivalent release store.)
 *   - pop stores bottom - 1 and then reads top; steal reads top and then
 *     bottom. Each pair must not be reordered, or the owner and a thief
 *     could both take the last item without either one's CAS. The paper
 *     puts a seq_cst fence between the two accesses on each side; here
 *     both accesses are seq_cst operations instead (same reasoning as the
 *     original Chase-Lev proof under sequential consistency: whichever of
 *     the owner's store of bottom and the thief's load of bottom comes
 *     first in the single total order, one side sees the other), for the
 *     same ThreadSanitizer reason. On x86 this costs what the fence costs:
 *     one locked instruction in pop.
 *   - the CAS on top is seq_cst (as in the paper): the last item goes to
 *     exactly one of owner and thieves.
 *   - growing copies the live items into an array twice as large and
 *     publishes it with a release store; a thief loads the array (acquire)
 *     after bottom, so any index below the bottom it saw is in the array it
 *     reads. A thief may still be reading the old array, so retired arrays
 *     are kept (each links to the one before) and freed only by destroy:
 *     they add up to less than the current array's size. */
#ifndef WEFT_SCHEDULER_DEQUE_H
#define WEFT_SCHEDULER_DEQUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct weft_task;
struct weft__deque_array;

typedef struct weft__deque {
    _Atomic(int64_t) top;         /* oldest item: thieves take here */
    /* top and bottom on different cache lines: thieves bang on top, the
     * owner on bottom (padding, not _Alignas: workers live in calloc'ed
     * memory, which is not 64-byte aligned) */
    char pad[64 - sizeof(_Atomic(int64_t))];
    _Atomic(int64_t) bottom;      /* one past the newest item: owner's end */
    _Atomic(struct weft__deque_array *) array; /* NULL until the first push */
} weft__deque;

/* An empty deque; its array comes with the first push. */
void weft__deque_init(weft__deque *q);
/* Free q's arrays, the retired ones too. Items still queued are dropped. */
void weft__deque_destroy(weft__deque *q);
/* Owner only. 0, or WEFT_ENOMEM when the deque could not grow (t is not
 * queued then). */
int weft__deque_push(weft__deque *q, struct weft_task *t);
/* Owner only. The newest task, or NULL when empty. */
struct weft_task *weft__deque_pop(weft__deque *q);
/* Any thread. The oldest task; NULL when empty or when it lost a race;
 * callers look again. */
struct weft_task *weft__deque_steal(weft__deque *q);
/* Any thread. The number of tasks queued: a snapshot that may already be
 * stale (and 0 while the owner's pop is deciding on the last one). */
size_t weft__deque_len(const weft__deque *q);

#endif

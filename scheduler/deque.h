/* scheduler/deque.h — task queue used by each worker and for outside spawns. */
#ifndef WEFT_SCHEDULER_DEQUE_H
#define WEFT_SCHEDULER_DEQUE_H

#include "internal.h"

void weft__deque_init(weft__deque *q);
void weft__deque_destroy(weft__deque *q);
/* 0, or WEFT_ENOMEM when the queue could not grow (t is not queued then). */
int weft__deque_push(weft__deque *q, struct weft_task *t);
/* Newest task, or NULL. */
struct weft_task *weft__deque_pop(weft__deque *q);
/* Oldest task, or NULL. */
struct weft_task *weft__deque_steal(weft__deque *q);

#endif

/* scheduler/task.c — tasks: spawn, join, detach, builders, dedicated
 * threads, and the lifecycle (references, completion) that tasks driven from
 * outside the pool share. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

/* ---- task objects, recycled per thread ------------------------------------
 * A spawn+join costs a few hundred nanoseconds; malloc and free of the task
 * object would be a good part of that. Each thread keeps the tasks it freed
 * (up to a batch of a thousand: a loop that spawns a batch and joins it
 * frees its tasks on the joining thread) for its next spawns; a task freed
 * on another thread goes to that thread's list. Under AddressSanitizer
 * every task is a fresh allocation, so a use after free is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define TASK_CACHE_MAX 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASK_CACHE_MAX 0
#endif
#endif
#ifndef TASK_CACHE_MAX
#define TASK_CACHE_MAX 1024
#endif

typedef struct task_cache {
    struct weft_task *v[TASK_CACHE_MAX > 0 ? TASK_CACHE_MAX : 1];
    int n;
} task_cache;

static _Thread_local task_cache *cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    task_cache *c = p;
    for (int i = 0; i < c->n; i++) free(c->v[i]);
    free(c);
}

static void cache_key_create(void) { pthread_key_create(&cache_key, cache_free); }

/* The calling thread's cache, made on first use; NULL without memory. */
static task_cache *my_cache(void)
{
    if (cache || TASK_CACHE_MAX == 0) return cache;
    pthread_once(&cache_once, cache_key_create);
    task_cache *c = calloc(1, sizeof *c);
    if (c && pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return cache = c;
}

struct weft_task *weft__task_alloc(void)
{
    task_cache *c = my_cache();
    struct weft_task *t = c && c->n > 0 ? c->v[--c->n] : malloc(sizeof *t);
    if (t) memset(t, 0, sizeof *t);
    return t;
}

void weft__task_free(struct weft_task *t)
{
    task_cache *c = my_cache();
    if (c && c->n < TASK_CACHE_MAX) c->v[c->n++] = t;
    else free(t);
}

/* ---- handles not yet consumed --------------------------------------------
 * Every task not in a scope is on one stripe of its runtime's list from
 * weft__task_new until its handle is joined, detached or discarded, so that
 * weft_runtime_destroy can find the handles nobody consumed (and their
 * panics, which nobody saw). The links are the scope list's: a task on a
 * scope's list is never on the runtime's. */
static struct weft__handle_stripe *stripe_of(const struct weft_task *t)
{
    return &t->rt->handles[((uintptr_t)t >> 8) % WEFT__HANDLE_STRIPES];
}

static void stripe_lock(struct weft__handle_stripe *st)
{
    /* Held for a few stores; a holder preempted mid-way is waited for with
     * yields, not a spin through its time slice. */
    for (unsigned n = 0; atomic_exchange_explicit(&st->lock, 1, memory_order_acquire);)
        while (atomic_load_explicit(&st->lock, memory_order_relaxed)) {
            if (++n % 64 == 0) sched_yield();
            else weft__cpu_relax();
        }
}

static void stripe_unlock(struct weft__handle_stripe *st) { atomic_store_explicit(&st->lock, 0, memory_order_release); }

static void track(struct weft_task *t)
{
    struct weft__handle_stripe *st = stripe_of(t);
    stripe_lock(st);
    t->tracked = 1;
    t->scope_prev = NULL;
    t->scope_next = st->head;
    if (st->head) st->head->scope_prev = t;
    st->head = t;
    stripe_unlock(st);
}

/* Take t off its runtime's list (its handle is consumed, or a scope owns it). */
void weft__task_untrack(struct weft_task *t)
{
    if (!t->tracked) return;
    struct weft__handle_stripe *st = stripe_of(t);
    stripe_lock(st);
    if (t->scope_prev) t->scope_prev->scope_next = t->scope_next;
    else st->head = t->scope_next;
    if (t->scope_next) t->scope_next->scope_prev = t->scope_prev;
    t->scope_prev = t->scope_next = NULL;
    t->tracked = 0;
    stripe_unlock(st);
}

void weft_builder_init(weft_builder_t *b)
{
    if (!b) return;
    memset(b, 0, sizeof *b);
}

int weft__task_new(weft_runtime_t *rt, const weft_builder_t *b, weft_task_fn fn, void *arg,
                   struct weft_task **out)
{
    if (b && b->name && !weft__name_is_valid(b->name))
        return weft__fail(WEFT_EINVAL, "task name is not valid UTF-8 or holds control characters");
    if (b && b->stack_size && b->stack_size < (size_t)PTHREAD_STACK_MIN)
        return weft__fail(WEFT_EINVAL, "stack size %zu is below the system minimum %zu",
                          b->stack_size, (size_t)PTHREAD_STACK_MIN);
    struct weft_task *t = weft__task_alloc();
    if (!t) return weft__fail(WEFT_ENOMEM, "out of memory for a task");
    if (b && b->name && !(t->name = weft__strdup(b->name))) {
        weft__task_free(t);
        return weft__fail(WEFT_ENOMEM, "out of memory for a task name");
    }
    t->rt = rt;
    t->fn = fn;
    t->arg = arg;
    t->stack_size = b ? b->stack_size : 0;
    t->dedicated = b && (b->stack_size || b->dedicated);
    atomic_init(&t->refs, 2);
    atomic_init(&t->flags, 0);
    weft__latch_init(&t->done);
    track(t);
    *out = t;
    return 0;
}

void weft__task_unref(struct weft_task *t)
{
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
    weft_panic_destroy(t->panic);
    if (t->ops && t->ops->free) t->ops->free(t->ops_state);
    free(t->name);
    weft__task_free(t);
}

void weft__task_set_ops(struct weft_task *t, const weft__task_ops *ops, void *state)
{
    t->ops = ops;
    t->ops_state = state;
}

void *weft__task_state(const struct weft_task *t) { return t->ops_state; }

weft_runtime_t *weft__task_runtime(const struct weft_task *t) { return t->rt; }

void weft__task_ref(struct weft_task *t) { atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed); }

void weft__task_store_panic(struct weft_task *t, weft_panic_t *p)
{
    weft_panic_destroy(t->panic);
    t->panic = p;
}

void weft__task_set_panic(struct weft_task *t, weft_panic_t *p)
{
    weft__panic_notify(p);
    weft__task_store_panic(t, p);
}

void weft__task_execute(struct weft_task *t)
{
    weft_runtime_t *rt = t->rt; /* t may be freed once complete */
    weft__thread_ctx *ctx = weft__ctx();
    struct weft_task *saved_task = ctx->task;
    jmp_buf *saved_boundary = ctx->boundary;
    ctx->task = t;
    weft_panic_t *p = weft__run_caught(t->fn, t->arg, &t->result, t->name);
    if (p) t->panic = p;
    ctx->boundary = NULL; /* a panic in a local's destructor has no boundary */
    weft__task_locals_destroy(t);
    ctx->boundary = saved_boundary;
    ctx->task = saved_task;
    weft__task_complete(t);
    weft__runtime_task_end(rt);
}

void weft__task_complete(struct weft_task *t)
{
    weft_runtime_t *rt = t->rt;
    weft_scope_t *scope = t->scope;
    if (scope && t->panic) t->panic_seq = weft__scope_panic_seq(scope);
    weft__latch_set(&t->done);
    int prev = atomic_fetch_or(&t->flags, WEFT__TASK_DONE);
    if ((prev & WEFT__TASK_DETACHED) && t->panic) atomic_fetch_add(&rt->detached_panics, 1);
    weft__task_unref(t);
    if (scope) weft__scope_task_done(scope);
}

/* Copy the first bytes of name into buf for the OS (16 bytes with the NUL),
 * never cutting a UTF-8 sequence in half. */
static void os_thread_name(const char *name, char buf[16])
{
    size_t n = strlen(name);
    if (n > 15) {
        n = 15;
        while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80) n--;
    }
    memcpy(buf, name, n);
    buf[n] = '\0';
}

static void *dedicated_main(void *arg)
{
    struct weft_task *t = arg;
    weft_runtime_t *rt = t->rt;
    /* Name the thread from inside, before the body runs: the creator cannot
     * do it after pthread_create, as this detached thread may already have
     * exited (and the body would race with the rename). */
    if (t->name) {
        char os_name[16];
        os_thread_name(t->name, os_name);
        pthread_setname_np(pthread_self(), os_name);
    }
    weft__task_execute(t);
    weft__runtime_external_end(rt);
    return NULL;
}

/* Whether the system can give a stack of size bytes at all: a mapping as a
 * thread's stack is (committed, never touched: it costs no memory). */
static int stack_fits(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    munmap(p, size);
    return 1;
}

static int start_dedicated(struct weft_task *t)
{
    pthread_attr_t attr;
    int err = pthread_attr_init(&attr);
    if (err) return weft__fail(WEFT_ENOMEM, "could not set up thread attributes: %s", strerror(err));
    if (t->stack_size) err = pthread_attr_setstacksize(&attr, t->stack_size);
    if (!err) err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (err) {
        pthread_attr_destroy(&attr);
        return weft__fail(WEFT_EINVAL, "stack size %zu refused: %s", t->stack_size, strerror(err));
    }
    weft__runtime_external_begin(t->rt);
    pthread_t th;
    err = pthread_create(&th, &attr, dedicated_main, t);
    pthread_attr_destroy(&attr);
    if (err) {
        weft__runtime_external_end(t->rt);
        /* A size no stack can have (more than the address space) is refused,
         * as one below the minimum is; otherwise the system is out of
         * threads or memory for now. */
        if (t->stack_size && (err == EINVAL || !stack_fits(t->stack_size)))
            return weft__fail(WEFT_EINVAL, "stack size %zu refused by the system: no stack of that size can be had (%s)",
                              t->stack_size, strerror(err));
        if (!t->stack_size)
            return weft__fail(WEFT_EAGAIN, "could not start a thread with the default stack: %s", strerror(err));
        return weft__fail(WEFT_EAGAIN, "could not start a thread with a %zu-byte stack: %s",
                          t->stack_size, strerror(err));
    }
    return 0;
}

int weft__task_start(struct weft_task *t)
{
    weft__runtime_task_begin(t->rt);
    int rc = t->dedicated ? start_dedicated(t) : weft__pool_push(t->rt, t);
    if (rc == WEFT_ENOMEM && !t->dedicated) weft__fail(rc, "out of memory queueing a task");
    if (rc) weft__runtime_task_end(t->rt);
    return rc;
}

void weft__task_discard(struct weft_task *t)
{
    weft__task_untrack(t);
    weft__task_unref(t);
    weft__task_unref(t);
}

int weft_builder_spawn(const weft_builder_t *b, weft_runtime_t *rt, weft_task_fn fn, void *arg,
                       weft_handle_t **out)
{
    if (out) *out = NULL;
    if (!rt || !fn || !out)
        return weft__fail(WEFT_EINVAL, "weft_spawn: %s is NULL", !rt ? "runtime" : !fn ? "fn" : "out");
    struct weft_task *t;
    int rc = weft__task_new(rt, b, fn, arg, &t);
    if (rc) return rc;
    rc = weft__task_start(t);
    if (rc) {
        weft__task_discard(t);
        return rc;
    }
    *out = t;
    return 0;
}

int weft_spawn(weft_runtime_t *rt, weft_task_fn fn, void *arg, weft_handle_t **out)
{
    return weft_builder_spawn(NULL, rt, fn, arg, out);
}

/* Nobody will block in join_wait for h now (a join that runs pool tasks
 * while it waits, a detach, a poll): work driven from outside the pool must
 * complete by itself. */
static void arm(struct weft_task *h)
{
    if (h->ops && h->ops->arm && !weft__latch_is_set(&h->done)) h->ops->arm(h, h->ops_state);
}

int weft_join(weft_handle_t *h, void **result, weft_panic_t **panic)
{
    if (result) *result = NULL;
    if (panic) *panic = NULL;
    if (!h) return weft__fail(WEFT_EINVAL, "weft_join: handle is NULL");
    /* Work driven from outside the pool (a device launch) has a faster wait
     * of its own, in the driver. A thread from outside takes it when the
     * pool has nothing queued that it could run meanwhile (or when its stack
     * lets it only block anyway); a worker keeps helping, and the work must
     * then complete by itself. */
    if (h->ops && !weft__latch_is_set(&h->done)) {
        if (h->ops->join_wait && !weft__ctx()->worker &&
            (atomic_load_explicit(&h->rt->queued, memory_order_relaxed) == 0 || !weft__stack_can_help()))
            h->ops->join_wait(h, h->ops_state);
        arm(h);
    }
    /* What the pool cannot run (a device launch, a dedicated thread): park,
     * and run no pool task meanwhile (worker.c). */
    if (h->stack_size || (h->ops && h->ops->join_wait)) weft__wait_parked(h->rt, &h->done);
    else weft__wait(h->rt, &h->done);
    weft_panic_t *p = h->panic;
    h->panic = NULL;
    if (result) *result = h->result;
    if (h->scope) weft__scope_remove(h->scope, h);
    else weft__task_untrack(h);
    weft__task_unref(h);
    if (!p) return 0;
    if (panic) *panic = p;
    else weft_panic_destroy(p);
    return WEFT_EPANIC;
}

int weft_handle_is_finished(const weft_handle_t *h)
{
    if (!h) return 0;
    if (weft__latch_is_set(&h->done)) return 1;
    /* The handle is const to the caller; arming changes only how the task
     * completes, which the scheduler owns. */
    arm((struct weft_task *)h);
    return weft__latch_is_set(&h->done);
}

void weft_handle_detach(weft_handle_t *h)
{
    if (!h) return;
    /* A scope still waits for its tasks and reports their panics itself. */
    if (h->scope) return;
    weft__task_untrack(h);
    arm(h);
    int prev = atomic_fetch_or(&h->flags, WEFT__TASK_DETACHED);
    if ((prev & WEFT__TASK_DONE) && h->panic) atomic_fetch_add(&h->rt->detached_panics, 1);
    weft__task_unref(h);
}

int weft__runtime_is_current(const weft_runtime_t *rt)
{
    const weft__thread_ctx *ctx = weft__ctx();
    return (ctx->worker && ctx->worker->rt == rt) || (ctx->task && ctx->task->rt == rt);
}

int weft__handles_arm(weft_runtime_t *rt)
{
    int armed = 0;
    for (int i = 0; i < WEFT__HANDLE_STRIPES; i++) {
        struct weft__handle_stripe *st = &rt->handles[i];
        stripe_lock(st);
        for (struct weft_task *t = st->head; t; t = t->scope_next) {
            if (!t->ops || !t->ops->arm || weft__latch_is_set(&t->done)) continue;
            arm(t);
            armed++;
        }
        stripe_unlock(st);
    }
    return armed;
}

void weft__handles_release(weft_runtime_t *rt, uint64_t *handles, uint64_t *panics)
{
    *handles = *panics = 0;
    for (int i = 0; i < WEFT__HANDLE_STRIPES; i++) {
        struct weft__handle_stripe *st = &rt->handles[i];
        /* Nothing runs any more: no lock needed, and the hook may do as it likes. */
        struct weft_task *t = st->head;
        st->head = NULL;
        while (t) {
            struct weft_task *next = t->scope_next;
            (*handles)++;
            if (t->panic) {
                (*panics)++;
                /* Its joiner would have received it: the hook gets it now,
                 * once, saying where it was found. */
                weft_panic_t *p = weft__panic_wrap(weft_panic_thread(t->panic), weft_panic_file(t->panic),
                                                   weft_panic_line(t->panic),
                                                   "a task panicked and its handle was never joined or "
                                                   "detached (found by weft_runtime_destroy)",
                                                   t->panic, 0);
                t->panic = NULL;
                weft__panic_notify(p);
                weft_panic_destroy(p);
            }
            t->tracked = 0;
            weft__task_unref(t);
            t = next;
        }
    }
}

/* 07_scope.c — scopes: tasks that borrow the caller's data, all joined
 * before weft_scope returns, including tasks spawned by tasks. */
#include <stdatomic.h>
#include <stdio.h>

#include <weft/weft.h>

#define N 100000
#define LEAF 10000 /* ranges at most this long are summed directly */

struct request;

struct job {
    struct request *r;
    size_t begin, end;
};

/* Everything the tasks use lives in main's stack frame: they borrow it. */
struct request {
    weft_scope_t *scope;      /* tasks spawn more tasks into it */
    const int *data;
    atomic_long total;
    atomic_int tasks;
    struct job jobs[64];      /* the tasks' arguments */
};

static void *sum_range(void *arg);

/* Spawn a task of the scope for [begin, end). */
static int spawn_range(struct request *r, size_t begin, size_t end)
{
    struct job *j = &r->jobs[atomic_fetch_add(&r->tasks, 1)];
    j->r = r;
    j->begin = begin;
    j->end = end;
    return weft_scope_spawn(r->scope, sum_range, j, NULL); /* NULL: the scope joins it */
}

/* Split a big range in two new tasks of the same scope; sum a small one. */
static void *sum_range(void *arg)
{
    struct job *j = arg;
    if (j->end - j->begin > LEAF) {
        size_t mid = j->begin + (j->end - j->begin) / 2;
        spawn_range(j->r, j->begin, mid);
        spawn_range(j->r, mid, j->end);
        return NULL; /* no need to wait for them: the scope does */
    }
    long s = 0;
    for (size_t i = j->begin; i < j->end; i++) s += j->r->data[i];
    atomic_fetch_add(&j->r->total, s);
    return NULL;
}

static int body(weft_scope_t *s, void *arg)
{
    struct request *r = arg;
    r->scope = s;
    if (spawn_range(r, 0, N) != 0) return -1; /* the body's own error code */
    return 0;
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    static int data[N]; /* static for its size only: anything that outlives the scope will do */
    for (int i = 0; i < N; i++) data[i] = i % 10;

    struct request r = {.data = data};
    weft_panic_t *panic;
    int rc = weft_scope(rt, body, &r, &panic);
    /* Every task has finished here: the results can be read without a join. */
    printf("scope returned %d after %d tasks; sum = %ld\n", rc, atomic_load(&r.tasks),
           atomic_load(&r.total));
    weft_panic_destroy(panic); /* NULL unless the scope panicked */

    weft_runtime_destroy(rt);
    return 0;
}

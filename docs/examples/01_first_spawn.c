/* 01_first_spawn.c — start a task, wait for it, and know who owns what. */
#include <stdio.h>
#include <stdlib.h>

#include <weft/weft.h>

struct greeting {
    const char *who;
    int times;
};

/* A task body takes one pointer and returns one. weft copies nothing: the
 * task gets exactly the pointer given to weft_spawn. */
static void *greet(void *arg)
{
    struct greeting *g = arg;
    for (int i = 1; i <= g->times; i++) printf("hello, %s (%d of %d)\n", g->who, i, g->times);
    free(g); /* this task was handed heap memory: it owns it, it frees it */
    return NULL;
}

static void *count_up(void *arg)
{
    int *counter = arg; /* borrowed from main, see below */
    for (int i = 0; i < 1000; i++) (*counter)++;
    return NULL;
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }

    /* 1. Hand the task its own copy of the data, on the heap. */
    struct greeting *g = malloc(sizeof *g);
    if (!g) return 1;
    g->who = "weft";
    g->times = 2;
    weft_handle_t *h;
    int rc = weft_spawn(rt, greet, g, &h);
    if (rc != 0) {
        /* Not started: the argument is still ours to free. */
        fprintf(stderr, "weft_spawn: %s: %s\n", weft_err_name(rc), weft_last_error_message());
        free(g);
        weft_runtime_destroy(rt);
        return 1;
    }
    /* g now belongs to the task: main must not touch it again. */
    weft_join(h, NULL, NULL); /* wait; the handle is consumed */
    printf("greeter joined\n");

    /* 2. Lend the task main's own variable. Safe only because main joins
     *    before `counter` goes away and reads it only after the join. */
    int counter = 0;
    if (weft_spawn(rt, count_up, &counter, &h) == 0) weft_join(h, NULL, NULL);
    printf("counter = %d\n", counter);

    weft_runtime_destroy(rt);
    return 0;
}

/* 02_join_value.c — weft_join returns what the task returned. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <weft/weft.h>

/* Small values travel inside the pointer itself. */
static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    return (void *)(x * x);
}

struct summary {
    double mean;
    int min, max;
};

struct samples {
    const int *v;
    int n;
};

/* Bigger results go on the heap: the joiner receives them and frees them. */
static void *summarise(void *arg)
{
    const struct samples *s = arg;
    struct summary *r = malloc(sizeof *r);
    if (!r) return NULL;
    long total = 0;
    r->min = r->max = s->v[0];
    for (int i = 0; i < s->n; i++) {
        total += s->v[i];
        if (s->v[i] < r->min) r->min = s->v[i];
        if (s->v[i] > r->max) r->max = s->v[i];
    }
    r->mean = (double)total / s->n;
    return r;
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }

    weft_handle_t *h;
    void *result;
    if (weft_spawn(rt, square, (void *)(intptr_t)12, &h) != 0) return 1;
    if (weft_join(h, &result, NULL) == 0) printf("12 squared is %ld\n", (long)(intptr_t)result);

    int v[] = {4, 8, 15, 16, 23, 42};
    struct samples s = {v, 6};
    if (weft_spawn(rt, summarise, &s, &h) != 0) return 1;
    /* The handle can be polled without being consumed... */
    while (!weft_handle_is_finished(h)) weft_sleep_ns(100000);
    printf("finished before join: %s\n", weft_handle_is_finished(h) ? "yes" : "no");
    /* ...and joining a finished task returns at once. */
    if (weft_join(h, &result, NULL) == 0 && result) {
        struct summary *r = result;
        printf("mean %.2f, min %d, max %d\n", r->mean, r->min, r->max);
        free(r);
    }

    weft_runtime_destroy(rt);
    return 0;
}

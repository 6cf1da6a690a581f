/* 09_borrows.c — what weft checks in place of Rust's Send and Sync: how each
 * operation uses each array is declared, whole arrays are read-only, and two
 * running operations may not write the same bytes. */
#include <stdatomic.h>
#include <stdio.h>

#include <weft/weft.h>

#define N 1024

static atomic_int go; /* holds the first operation until main says go */

/* CPU body: indices [begin, end) of the split dimension; argv[i] is the
 * base of argument i's whole array, indexed with absolute indices. */
static void fill(size_t begin, size_t end, void *const *argv)
{
    float *out = argv[0];
    while (!atomic_load(&go)) weft_sleep_ns(100000);
    for (size_t i = begin; i < end; i++) out[i] = 1.0f;
}

static void scale(size_t begin, size_t end, void *const *argv)
{
    float *out = argv[0];
    const float *factor = argv[1];
    for (size_t i = begin; i < end; i++) out[i] *= *factor;
}

static void report(const char *what, int rc)
{
    if (rc == 0) printf("%s: accepted\n", what);
    else printf("%s: %s: %s\n", what, weft_err_name(rc), weft_last_error_message());
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    static float v[N];
    float two = 2.0f;
    const weft_kernel_t k_fill = {.name = "fill", .cpu = fill};
    const weft_kernel_t k_scale = {.name = "scale", .cpu = scale};

    /* "whole" arguments are read by every chunk, so they may not be written. */
    weft_arg_t shared = weft_arg_whole(v, sizeof v);
    shared.access = WEFT_READ_WRITE;
    weft_handle_t *h1, *h2, *h3;
    report("whole array written", weft_parallel_for(rt, &k_fill, weft_range_1d(N, 64), &shared, 1, NULL, &h1));

    /* The first operation writes all of v, and is still running... */
    weft_arg_t all = weft_arg_split(v, sizeof v, sizeof(float), WEFT_WRITE);
    report("fill all of v", weft_parallel_for(rt, &k_fill, weft_range_1d(N, 64), &all, 1, NULL, &h1));

    /* ...so a second one that writes the same bytes is refused, */
    weft_arg_t args[2] = {weft_arg_split(v, sizeof v, sizeof(float), WEFT_READ_WRITE),
                          weft_arg_scalar(&two, sizeof two)};
    report("scale v", weft_parallel_for(rt, &k_scale, weft_range_1d(N, 64), args, 2, NULL, &h2));

    /* ...and so is a write to part of them. Writes elsewhere are fine. */
    static float w[N];
    args[0] = weft_arg_split(v + N / 2, sizeof v / 2, sizeof(float), WEFT_READ_WRITE);
    report("scale the second half of v", weft_parallel_for(rt, &k_scale, weft_range_1d(N / 2, 64), args, 2, NULL, &h2));
    args[0] = weft_arg_split(w, sizeof w, sizeof(float), WEFT_READ_WRITE);
    report("scale w", weft_parallel_for(rt, &k_scale, weft_range_1d(N, 64), args, 2, NULL, &h3));

    atomic_store(&go, 1);
    weft_join(h1, NULL, NULL);
    weft_join(h3, NULL, NULL);
    /* Once the first is joined, its bytes are free to write again. */
    args[0] = weft_arg_split(v, sizeof v, sizeof(float), WEFT_READ_WRITE);
    report("scale v after the join", weft_parallel_run(rt, &k_scale, weft_range_1d(N, 64), args, 2, NULL, NULL));
    printf("v[0] = %.1f, w[0] = %.1f\n", v[0], w[0]);
    weft_runtime_destroy(rt);
    return 0;
}

/* 14_parallel_for.c — one data-parallel operation split across the CPU
 * workers and the devices at once.
 *
 * y[i] = w[i % 4] * x[i] for every i, and the sum of all y. The kernel has
 * two bodies, one for the CPU and one in OpenCL C; weft cuts the range into
 * chunks and hands them to the places that are free. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <weft/weft.h>

#define N 100000
#define GROUP 64 /* work-group size: one partial sum per group of 64 indices */

/* The OpenCL body. Inside any chunk, get_global_id and get_group_id are
 * those of the whole range; indices past n (the range is rounded up to whole
 * groups) must be ignored. */
static const char source[] =
    "__kernel void scale_sum(__global const float *x, __global const float *w,\n"
    "                        __global float *y, __global float *partials,\n"
    "                        const ulong n, __local float *scratch)\n"
    "{\n"
    "    size_t i = get_global_id(0), l = get_local_id(0);\n"
    "    float v = 0.0f;\n"
    "    if (i < n) {\n"
    "        v = w[i % 4] * x[i];\n"
    "        y[i] = v;\n"
    "    }\n"
    "    scratch[l] = v;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    if (l == 0) { /* the group's partial, summed in index order */\n"
    "        float s = 0.0f;\n"
    "        for (size_t k = 0; k < get_local_size(0); k++) s += scratch[k];\n"
    "        partials[get_group_id(0)] = s;\n"
    "    }\n"
    "}\n";

/* The CPU body: the same work for indices [begin, end), which always start on
 * a group boundary. argv holds, per argument: the base of a split or whole
 * array, the per-group partials of a reduction, a pointer to a scalar, and
 * NULL for __local memory. */
static void scale_sum_cpu(size_t begin, size_t end, void *const *argv)
{
    const float *x = argv[0], *w = argv[1];
    float *y = argv[2], *partials = argv[3];
    for (size_t g = begin / GROUP; g * GROUP < end; g++) {
        float s = 0.0f;
        for (size_t i = g * GROUP; i < (g + 1) * GROUP && i < end; i++) {
            y[i] = w[i % 4] * x[i];
            s += y[i];
        }
        partials[g] = s; /* summed in the same order as the device does */
    }
}

static void add_float(void *acc, const void *partial) { *(float *)acc += *(const float *)partial; }

static const weft_kernel_t scale_sum = {
    .name = "scale_sum",
    .cpu = scale_sum_cpu,
    .cl_source = source,
    .cl_entry = "scale_sum",
};

static float x[N], y[N];
static const float w[4] = {0.5f, 1.0f, 2.0f, 4.0f};

/* Run the operation with policy pol; returns the sum, or -1 on failure. */
static float run(weft_runtime_t *rt, const weft_kernel_t *k, const weft_policy_t *pol)
{
    uint64_t n = N;
    float sum = 0.0f, zero = 0.0f;
    weft_arg_t args[] = {
        weft_arg_split(x, sizeof x, sizeof x[0], WEFT_READ),  /* chunk [b,e) reads x[b..e)  */
        weft_arg_whole(w, sizeof w),                           /* every chunk reads all of w */
        weft_arg_split(y, sizeof y, sizeof y[0], WEFT_WRITE), /* chunk [b,e) writes y[b..e) */
        weft_arg_reduce(&sum, sizeof sum, &zero, add_float),   /* one partial per group      */
        weft_arg_scalar(&n, sizeof n),
        weft_arg_local(GROUP * sizeof(float)),
    };
    weft_panic_t *p;
    int rc = weft_parallel_run(rt, k, weft_range_1d(N, GROUP), args, 6, pol, &p);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", weft_err_name(rc), p ? weft_panic_message(p) : weft_last_error_message());
        weft_panic_destroy(p);
        return -1.0f;
    }
    return sum;
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    for (int i = 0; i < N; i++) x[i] = (float)(i % 7); /* small whole numbers: exact products */

    /* Default policy: guided, the CPU and the default devices together
     * (PoCL's CPU devices stand aside while the CPU workers run). */
    float together = run(rt, &scale_sum, NULL);
    weft_run_stats_t st;
    weft_runtime_last_run_stats(rt, &st);
    size_t done = 0;
    for (int place = 0; place <= weft_device_count(rt); place++) done += st.items[place];
    printf("CPU + %d device(s): sum = %.1f, %zu of %d indices done, y[10] = %.1f\n",
           weft_device_count(rt), together, done, N, y[10]);
    printf("bytes copied to and from devices: %llu\n", (unsigned long long)st.bytes_moved);

    /* The same operation on the CPU alone gives the same bits: each group's
     * partial is computed the same way wherever it runs, and the partials
     * are combined in group order. */
    weft_policy_t cpu_only;
    weft_policy_init(&cpu_only);
    cpu_only.devices = 0;
    memset(y, 0, sizeof y);
    float alone = run(rt, &scale_sum, &cpu_only);
    printf("CPU alone: sum = %.1f, bit-identical: %s\n", alone,
           memcmp(&alone, &together, sizeof alone) == 0 ? "yes" : "no");

    weft_runtime_destroy(rt);
    return 0;
}

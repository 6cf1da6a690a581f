/* 17_registered_arrays.c — data that stays on a device between operations.
 *
 * 100 steps of a 1-D 3-point smoothing, ping-pong between two arrays, on a
 * device with memory of its own (here PoCL in separate-memory mode, as a
 * discrete GPU behaves). First with plain host arrays: every step uploads
 * what it reads and reads back what it writes. Then with both arrays
 * registered: the first step uploads, the next 99 move nothing, and one
 * read-back at the end brings the result home. */
#include <stdio.h>
#include <string.h>

#include <weft/weft.h>

#define N 65536
#define STEPS 100

static const char source[] =
    "__kernel void smooth(__global const float *in, __global float *out, const ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i >= n) return;\n"
    "    out[i] = i == 0 || i == n - 1 ? in[i] : (in[i - 1] + in[i] + in[i + 1]) / 3.0f;\n"
    "}\n";

static void smooth_cpu(size_t begin, size_t end, void *const *argv)
{
    const float *in = argv[0];
    float *out = argv[1];
    size_t n = (size_t)*(const unsigned long long *)argv[2];
    for (size_t i = begin; i < end; i++) out[i] = i == 0 || i == n - 1 ? in[i] : (in[i - 1] + in[i] + in[i + 1]) / 3.0f;
}

static const weft_kernel_t smooth = {.name = "smooth", .cpu = smooth_cpu, .cl_source = source, .cl_entry = "smooth"};

static float a[N], b[N];

/* STEPS operations; with arrays (ra, rb not NULL) the arguments are on them.
 * Returns the bytes moved in all, or 0 after printing a failure. */
static unsigned long long run(weft_runtime_t *rt, weft_array_t *ra, weft_array_t *rb)
{
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0; /* device 0 alone */
    pol.devices = 1;
    unsigned long long n = N, moved = 0;
    float *in = a, *out = b;
    weft_array_t *rin = ra, *rout = rb;
    for (int s = 0; s < STEPS; s++) {
        weft_arg_t args[] = {
            weft_arg_split_halo(in, sizeof a, sizeof(float), 1),
            weft_arg_split(out, sizeof b, sizeof(float), WEFT_WRITE),
            weft_arg_scalar(&n, sizeof n),
        };
        if (ra) {
            args[0] = weft_arg_on(args[0], rin);
            args[1] = weft_arg_on(args[1], rout);
        }
        weft_panic_t *panic = NULL;
        if (weft_parallel_run(rt, &smooth, weft_range_1d(N, 64), args, 3, &pol, &panic) != 0) {
            fprintf(stderr, "step %d: %s\n", s, panic ? weft_panic_message(panic) : weft_last_error_message());
            weft_panic_destroy(panic);
            return 0;
        }
        weft_run_stats_t st;
        weft_runtime_last_run_stats(rt, &st);
        if (ra && s < 2) printf("  step %d moved %llu bytes\n", s + 1, (unsigned long long)st.bytes_moved);
        moved += st.bytes_moved;
        float *t = in;
        in = out;
        out = t;
        weft_array_t *rt_ = rin;
        rin = rout;
        rout = rt_;
    }
    return moved;
}

int main(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.separate_memory = 1; /* copy as a discrete GPU must */
    weft_runtime_t *rt;
    if (weft_runtime_create(&o, &rt) != 0 || weft_device_count(rt) < 1) {
        fprintf(stderr, "no runtime with a device: %s\n", weft_last_error_message());
        return 1;
    }
    for (size_t i = 0; i < N; i++) a[i] = (float)(i % 100);
    printf("plain arrays: %llu bytes moved in %d steps\n", run(rt, NULL, NULL), STEPS);
    float plain = a[12345]; /* STEPS is even: the result is back in a */

    for (size_t i = 0; i < N; i++) a[i] = (float)(i % 100);
    weft_array_t *ra, *rb;
    weft_array_create(rt, a, sizeof a, &ra);
    weft_array_create(rt, b, sizeof b, &rb);
    printf("registered arrays:\n");
    unsigned long long moved = run(rt, ra, rb);
    printf("  all %d steps moved %llu bytes\n", STEPS, moved);
    /* The result is on the device: bring it home before reading a. */
    weft_array_to_host(ra, 0, sizeof a);
    printf("same result: %s\n", a[12345] == plain ? "yes" : "no");
    weft_array_destroy(ra);
    weft_array_destroy(rb);
    weft_runtime_destroy(rt);
    return 0;
}

/* test_parallel_writes.c — what a split written by a kernel looks like
 * afterwards, on every kind of memory: bytes the kernel never writes keep the
 * host's values. A 2-D convolution writes only the interior of its output,
 * and with a write-only split a device with memory of its own must not send
 * back whatever its buffer held for the border. Run as the devices are and in
 * separate-memory mode (test_parallel_writes_separate), where every device
 * copies. */
#define _GNU_SOURCE /* mkdtemp, setenv (parallel_kernels.h) */
#include "weft_test.h"
#include "parallel_kernels.h"

#define W 61   /* columns: not a multiple of the group size */
#define H 83   /* rows, split across places */
#define BORDER_VALUE -7.0f

/* out[y][x] = 2 * in[y][x] + 1 on the interior only; the border is left. */
static void interior_cpu(size_t begin, size_t end, void *const *argv)
{
    const float *in = argv[0];
    float *out = argv[1];
    for (size_t y = begin; y < end; y++) {
        if (y == 0 || y == H - 1) continue;
        for (size_t x = 1; x + 1 < W; x++) out[y * W + x] = 2.0f * in[y * W + x] + 1.0f;
    }
}

static const char interior_src[] =
    "__kernel void interior(__global const float *in, __global float *out) {\n"
    "    size_t x = get_global_id(0), y = get_global_id(1);\n"
    "    if (x == 0 || y == 0 || x >= 60 || y >= 82) return; /* border and padding */\n"
    "    out[y * 61 + x] = 2.0f * in[y * 61 + x] + 1.0f;\n"
    "}\n";

static const weft_kernel_t interior = {
    .name = "interior", .cpu = interior_cpu, .cl_source = interior_src, .cl_entry = "interior"};

static void write_only_border_kept(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    float *in = malloc(W * H * sizeof *in), *out = malloc(W * H * sizeof *out);
    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < W * H; i++) in[i] = (float)(i % 97);
    const weft_policy_kind_t kinds[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED};
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            for (size_t i = 0; i < W * H; i++) out[i] = BORDER_VALUE;
            weft_arg_t args[] = {
                weft_arg_split(in, W * H * sizeof *in, W * sizeof *in, WEFT_READ),
                weft_arg_split(out, W * H * sizeof *out, W * sizeof *out, WEFT_WRITE),
            };
            weft_policy_t pol = wt_mix_policy(kinds[k], &mixes[m], 8);
            WT_CHECK(weft_parallel_run(rt, &interior, weft_range_2d(W, H, 16, 4), args, 2, &pol, WT_PANIC));
            wt_check_stats(rt, H, &pol, mixes[m].name);
            for (size_t y = 0; y < H; y++) {
                for (size_t x = 0; x < W; x++) {
                    int border = x == 0 || y == 0 || x == W - 1 || y == H - 1;
                    float want = border ? BORDER_VALUE : 2.0f * in[y * W + x] + 1.0f;
                    if (out[y * W + x] != want)
                        fail_msg("%s, %s: out[%zu][%zu] = %g, want %g (%s)", mixes[m].name,
                                 wt_policy_name(kinds[k]), y, x, (double)out[y * W + x], (double)want,
                                 border ? "a border cell the kernel never writes" : "interior");
                }
            }
        }
    }
    free(in);
    free(out);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_only_border_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_parallel_pipeline.c — chunks that move enough bytes run in pieces
 * on a device with memory of its own (separate-memory mode here): a
 * piece's rows go up on the copy queue while the previous piece computes.
 * One kernel over 2^20 elements uses every kind of argument a piece moves —
 * a read split with a halo of 2 (no row sent twice), a write-only split with
 * a border the kernel never writes (kept), a read-write split (each element
 * incremented once), a reduction (one partial per group, folded in order) —
 * on device 0 alone (one chunk, four pieces) and split with the CPU; every
 * element checked, and the bytes moved are those of an unpieced chunk. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#define N (1u << 20)
#define G 64

static float five(const float *in, size_t i) { return in[i - 2] + in[i - 1] + in[i] + in[i + 1] + in[i + 2]; }

static void blur_cpu(size_t b, size_t e, void *const *argv)
{
    const float *in = argv[0];
    float *out = argv[1], *partials = argv[3];
    uint32_t *cnt = argv[2];
    for (size_t i = b; i < e; i++) {
        if (i >= 2 && i + 2 < N) out[i] = five(in, i);
        cnt[i] += 1;
    }
    for (size_t g = b / G; g * G < e; g++) {
        float s = 0;
        for (size_t k = g * G; k < (g + 1) * G && k < N; k++) s += in[k];
        partials[g] = s;
    }
}

static const weft_kernel_t BLUR = {
    .name = "pp_blur",
    .cpu = blur_cpu,
    .cl_source =
        "__kernel void pp_blur(__global const float *in, __global float *out, __global uint *cnt,\n"
        "                      __global float *partials)\n"
        "{\n"
        "    size_t i = get_global_id(0), n = 1u << 20;\n"
        "    if (i >= 2 && i + 2 < n) out[i] = in[i - 2] + in[i - 1] + in[i] + in[i + 1] + in[i + 2];\n"
        "    cnt[i] += 1;\n"
        "    if (get_local_id(0) == 0) {\n"
        "        float s = 0;\n"
        "        for (size_t k = i; k < i + 64; k++) s += in[k];\n"
        "        partials[get_group_id(0)] = s;\n"
        "    }\n"
        "}\n",
    .cl_entry = "pp_blur"};

static void add(void *acc, const void *partial) { *(float *)acc += *(const float *)partial; }

static void run(weft_runtime_t *rt, const wt_mix *m)
{
    float *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out), sum = 0, zero = 0;
    uint32_t *cnt = malloc(N * sizeof *cnt);
    assert_true(in && out && cnt);
    for (size_t i = 0; i < N; i++) {
        in[i] = (float)(i % 7);
        out[i] = -1.0f;
        cnt[i] = (uint32_t)i;
    }
    weft_arg_t args[] = {
        weft_arg_split_halo(in, N * sizeof *in, sizeof *in, 2),
        weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE),
        weft_arg_split(cnt, N * sizeof *cnt, sizeof *cnt, WEFT_READ_WRITE),
        weft_arg_reduce(&sum, sizeof sum, &zero, add),
    };
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_GUIDED, m, 0);
    WT_CHECK(weft_parallel_run(rt, &BLUR, weft_range_1d(N, G), args, 4, &pol, WT_PANIC));
    weft_run_stats_t st = wt_check_stats(rt, N, &pol, m->name);
    float want = 0;
    for (size_t g = 0; g < N / G; g++) {
        float s = 0;
        for (size_t k = g * G; k < (g + 1) * G; k++) s += in[k];
        want += s;
    }
    if (sum != want) fail_msg("%s: the sum is %.9g, want %.9g", m->name, (double)sum, (double)want);
    for (size_t i = 0; i < N; i++) {
        float o = i >= 2 && i + 2 < N ? five(in, i) : -1.0f;
        if (out[i] != o) fail_msg("%s: out[%zu] = %g, want %g", m->name, i, (double)out[i], (double)o);
        if (cnt[i] != (uint32_t)i + 1) fail_msg("%s: cnt[%zu] = %u, want %zu", m->name, i, cnt[i], i + 1);
    }
    /* A device alone runs one chunk: up go in (no halo past the ends), out
     * and cnt, once each however many pieces; back come out, cnt and the
     * partials. */
    if (!m->use_cpu && wt_separate_memory()) {
        assert_int_equal(st.bytes_up[1], 3 * (uint64_t)N * 4);
        assert_int_equal(st.bytes_down[1], 2 * (uint64_t)N * 4 + (N / G) * sizeof(float));
    }
    free(in);
    free(out);
    free(cnt);
}

static void pieces(void **state)
{
    weft_runtime_t *rt = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    for (int i = 0; i < nm; i++) run(rt, &mixes[i]);
}

static int setup(void **state)
{
    *state = wt_runtime(2, WT_ALL_DEVICES, 0);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    weft_runtime_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(pieces)};
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_parallel_places.c — which places take part by default: never two on
 * the same cores. The rule alone (coexec/place_set.h, white-box), then on
 * the runtime's devices: with a CPU body the CPU workers run and no OpenCL
 * CPU device does; a kernel with only OpenCL source (work-group barriers,
 * __local tiles) still uses the CPU, through the largest CPU device; an
 * explicit mask is taken as it is. The expectations are computed from the
 * devices' kinds, so a GPU machine checks its own default set. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coexec/place_set.h"
#include "parallel_kernels.h"

/* ---- the rule alone ---------------------------------------------------------- */

static void rule(void **state)
{
    (void)state;
    /* basic (1 CU), pthread (2 CUs), a GPU (80 CUs), another CPU device (2 CUs). */
    const int is_cpu[] = {1, 1, 0, 1};
    const unsigned cus[] = {1, 2, 80, 2};
    /* The CPU place runs: no CPU device, the GPU. */
    assert_int_equal(weft__place_set(WEFT_DEFAULT_DEVICES, 1, 4, is_cpu, cus), 0x4);
    /* It does not: the GPU and the largest CPU device, the first of equals. */
    assert_int_equal(weft__place_set(WEFT_DEFAULT_DEVICES, 0, 4, is_cpu, cus), 0x6);
    /* Only CPU devices, no CPU place: one of them. */
    assert_int_equal(weft__place_set(WEFT_DEFAULT_DEVICES, 0, 2, is_cpu, cus), 0x2);
    assert_int_equal(weft__place_set(WEFT_DEFAULT_DEVICES, 1, 2, is_cpu, cus), 0);
    /* Explicit masks stay, cut to the devices there are. */
    assert_int_equal(weft__place_set(0x3, 1, 4, is_cpu, cus), 0x3);
    assert_int_equal(weft__place_set(0xFF, 0, 4, is_cpu, cus), 0xF);
    assert_int_equal(weft__place_set(0, 1, 4, is_cpu, cus), 0);
    assert_int_equal(weft__place_set(WEFT_DEFAULT_DEVICES, 1, 0, NULL, NULL), 0);
}

/* ---- on the runtime's devices ------------------------------------------------------ */

enum { N = 32 * 1024, GROUP = 64 };

static void fill_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0];
    for (size_t i = b; i < e; i++) out[i] = (uint32_t)i * 7u + 3u;
}

static const char *const FILL_CL = "__kernel void fill(__global uint *out) {\n"
                                   "    size_t i = get_global_id(0);\n"
                                   "    out[i] = (uint)i * 7u + 3u;\n"
                                   "}\n";

/* Each work-group reverses its block of `in` through a __local tile, with a
 * barrier between the loads and the stores: no CPU body. */
static const char *const REVERSE_CL =
    "__kernel void reverse(__global const uint *in, __global uint *out, __local uint *tile) {\n"
    "    size_t l = get_local_id(0), g = get_local_size(0);\n"
    "    tile[l] = in[get_global_id(0)];\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    out[get_global_id(0)] = tile[g - 1 - l];\n"
    "}\n";

/* The default set computed from the devices' kinds: the GPUs and
 * accelerators, plus, without the CPU place, the CPU device with the most
 * compute units. */
static uint64_t expected_default(weft_runtime_t *rt, int cpu_place)
{
    uint64_t set = 0;
    int stand_in = -1;
    unsigned best = 0;
    for (int d = 0; d < weft_device_count(rt) && d < 64; d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        if (info.type != WEFT_DEVICE_CPU) set |= (uint64_t)1 << d;
        else if (!cpu_place && (stand_in < 0 || info.compute_units > best)) stand_in = d, best = info.compute_units;
    }
    if (stand_in >= 0) set |= (uint64_t)1 << stand_in;
    return set;
}

/* Places that did work in the last operation (bit 0: the CPU, bit 1 + d:
 * device d), all n items done. */
static uint64_t places_used(weft_runtime_t *rt, size_t n, const char *what)
{
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    uint64_t used = 0;
    size_t sum = 0;
    for (int i = 0; i < 65; i++) {
        sum += st.items[i];
        if (st.items[i] && i < 64) used |= (uint64_t)1 << i;
    }
    if (sum != n) fail_msg("%s: %zu items done, expected %zu", what, sum, (size_t)n);
    return used;
}

static void check_fill(const uint32_t *out, const char *what)
{
    for (size_t i = 0; i < N; i++)
        if (out[i] != (uint32_t)i * 7u + 3u) fail_msg("%s: out[%zu] = %u", what, i, out[i]);
}

static void cpu_body_runs_without_cpu_devices(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    if (!rt) skip();
    uint32_t *out = calloc(N, sizeof *out);
    assert_non_null(out);
    const weft_kernel_t k = {.name = "places_fill", .cpu = fill_cpu, .cl_source = FILL_CL, .cl_entry = "fill"};
    weft_arg_t a = weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE);
    static const weft_policy_kind_t kinds[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                               WEFT_POLICY_ADAPTIVE};
    uint64_t want = expected_default(rt, 1);
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.kind = kinds[i];
        assert_true(pol.devices == WEFT_DEFAULT_DEVICES);
        memset(out, 0, N * sizeof *out);
        WT_CHECK(weft_parallel_run(rt, &k, weft_range_1d(N, GROUP), &a, 1, &pol, WT_PANIC));
        check_fill(out, wt_policy_name(kinds[i]));
        uint64_t used = places_used(rt, N, wt_policy_name(kinds[i]));
        /* Only the CPU and default devices; on PoCL alone, the CPU alone. */
        if (used & ~(1 | want << 1))
            fail_msg("%s: places 0x%llx ran, the default set is the CPU and devices 0x%llx", wt_policy_name(kinds[i]),
                     (unsigned long long)used, (unsigned long long)want);
        if (!want) assert_int_equal(used, 1);
    }
    /* Named, CPU devices run beside the workers. */
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_STATIC;
    pol.devices = weft_device_mask(rt, 0);
    memset(out, 0, N * sizeof *out);
    WT_CHECK(weft_parallel_run(rt, &k, weft_range_1d(N, GROUP), &a, 1, &pol, WT_PANIC));
    check_fill(out, "every device named");
    uint64_t used = places_used(rt, N, "every device named");
    assert_int_equal(used, 1 | weft_device_mask(rt, 0) << 1); /* static gives every place a share */
    free(out);
    weft_runtime_destroy(rt);
}

/* Every place named gets work from the first round, under every policy
 * that measures or shares (dynamic hands fixed chunks to whoever asks
 * first): the CPU, started first, cannot take the range before a device
 * that completes inline has its first chunk. Ten runs each, from a fresh
 * model. */
static void every_place_gets_work(void **state)
{
    (void)state;
    char dir[256];
    pk_cache_begin(dir, sizeof dir, "places");
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    uint32_t *out = calloc(N, sizeof *out);
    assert_non_null(out);
    const weft_kernel_t k = {.name = "places_first_round", .cpu = fill_cpu, .cl_source = FILL_CL, .cl_entry = "fill"};
    weft_arg_t a = weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE);
    /* Adaptive first: its model is fresh only before the others store speeds. */
    static const weft_policy_kind_t kinds[] = {WEFT_POLICY_ADAPTIVE, WEFT_POLICY_STATIC, WEFT_POLICY_GUIDED};
    for (size_t i = 0; rt && i < sizeof kinds / sizeof *kinds; i++) {
        for (int run = 0; run < (kinds[i] == WEFT_POLICY_ADAPTIVE ? 1 : 10); run++) {
            weft_policy_t pol;
            weft_policy_init(&pol);
            pol.kind = kinds[i];
            pol.devices = weft_device_mask(rt, 0);
            memset(out, 0, N * sizeof *out);
            WT_CHECK(weft_parallel_run(rt, &k, weft_range_1d(N, GROUP), &a, 1, &pol, WT_PANIC));
            check_fill(out, wt_policy_name(kinds[i]));
            uint64_t used = places_used(rt, N, wt_policy_name(kinds[i]));
            if (used != (1 | weft_device_mask(rt, 0) << 1))
                fail_msg("%s, run %d: places 0x%llx did work, expected every one (0x%llx)", wt_policy_name(kinds[i]),
                         run, (unsigned long long)used, (unsigned long long)(1 | weft_device_mask(rt, 0) << 1));
        }
    }
    free(out);
    if (rt) weft_runtime_destroy(rt);
    pk_cache_end(dir);
    if (!rt) skip();
}

static void opencl_only_kernel_uses_the_cpu(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    if (!rt) skip();
    if (!weft_device_mask(rt, WEFT_DEVICE_CPU)) {
        weft_runtime_destroy(rt);
        skip(); /* no OpenCL CPU device to stand in for the workers */
    }
    uint32_t *in = malloc(N * sizeof *in), *out = calloc(N, sizeof *out);
    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < N; i++) in[i] = (uint32_t)(i * 2654435761u);
    const weft_kernel_t k = {.name = "places_reverse", .cl_source = REVERSE_CL, .cl_entry = "reverse"};
    weft_arg_t a[] = {weft_arg_split(in, N * sizeof *in, sizeof *in, WEFT_READ),
                      weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE),
                      weft_arg_local(GROUP * sizeof(uint32_t))};
    uint64_t want = expected_default(rt, 0);
    for (int use_cpu = 1; use_cpu >= 0; use_cpu--) {
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.use_cpu = use_cpu;
        memset(out, 0, N * sizeof *out);
        WT_CHECK(weft_parallel_run(rt, &k, weft_range_1d(N, GROUP), a, 3, &pol, WT_PANIC));
        for (size_t i = 0; i < N; i++) {
            size_t g = i / GROUP * GROUP, l = i % GROUP;
            if (out[i] != in[g + GROUP - 1 - l]) fail_msg("use_cpu %d: out[%zu] = %u", use_cpu, i, out[i]);
        }
        uint64_t used = places_used(rt, N, "OpenCL only");
        /* The CPU place never (no body); a CPU device did work; nothing
         * outside the default set. */
        assert_int_equal(used & 1, 0);
        if (used & ~(want << 1))
            fail_msg("use_cpu %d: places 0x%llx ran, the default set is devices 0x%llx", use_cpu,
                     (unsigned long long)used, (unsigned long long)want);
        assert_true((used >> 1) & weft_device_mask(rt, WEFT_DEVICE_CPU));
    }
    free(in);
    free(out);
    weft_runtime_destroy(rt);
}

static void device_masks(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_SELECTED_DEVICES, 0);
    int n = weft_device_count(rt);
    uint64_t all = weft_device_mask(rt, 0);
    assert_int_equal(all, n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1);
    uint64_t by_kind = 0;
    for (int d = 0; d < n && d < 64; d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        uint64_t bit = (uint64_t)1 << d;
        assert_true(!!(weft_device_mask(rt, (unsigned)info.type) & bit));
        by_kind |= weft_device_mask(rt, (unsigned)info.type);
    }
    assert_int_equal(by_kind, all);
    assert_int_equal(weft_device_mask(rt, WEFT_DEVICE_CPU | WEFT_DEVICE_GPU | WEFT_DEVICE_ACCELERATOR |
                                              WEFT_DEVICE_OTHER),
                     all);
    assert_int_equal(weft_device_mask(NULL, 0), 0);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule),
        cmocka_unit_test(device_masks),
        cmocka_unit_test(cpu_body_runs_without_cpu_devices),
        cmocka_unit_test(opencl_only_kernel_uses_the_cpu),
        cmocka_unit_test(every_place_gets_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_kernels_histogram.c — weft_k_histogram: 256 bins equal to a plain
 * counting loop on the CPU, the devices and both, whatever the policy and
 * chunk size; sizes below one segment, with and without a tail, empty;
 * values outside [lo, hi), at its edges and NaN count nowhere. */
#include "weft_test.h"
#include <weft/kernels.h>

#include "test_kernels_common.h"

#include <math.h>

#define BINS WEFT_K_HIST_BINS

static void reference(const float *v, size_t n, float lo, float hi, uint32_t *h)
{
    float scale = (float)BINS / (hi - lo);
    memset(h, 0, BINS * sizeof *h);
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= lo && v[i] < hi)) continue;
        uint32_t b = (uint32_t)((v[i] - lo) * scale);
        h[b < BINS - 1 ? b : BINS - 1]++;
    }
}

static void check(weft_runtime_t *rt, size_t n, float lo, float hi)
{
    float *v = kt_alloc(n * sizeof(float));
    /* Mostly inside, some outside on both sides, the edges, and NaN. */
    kt_fill(v, n, 31, lo - (hi - lo) * 0.1f, hi + (hi - lo) * 0.1f);
    for (size_t i = 0; i < n; i += 97) v[i] = lo;
    for (size_t i = 13; i < n; i += 101) v[i] = hi;
    for (size_t i = 29; i < n; i += 1009) v[i] = NAN;
    uint32_t want[BINS], got[BINS];
    reference(v, n, lo, hi, want);
    size_t total = 0;
    for (int b = 0; b < BINS; b++) total += want[b];
    if (n > 1000 && total < n / 2) fail_msg("reference counted only %zu of %zu", total, n);
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    static const struct {
        weft_policy_kind_t kind;
        size_t chunk;
    } pols[] = {{WEFT_POLICY_STATIC, 0}, {WEFT_POLICY_DYNAMIC, 64}, {WEFT_POLICY_DYNAMIC, 1000},
                {WEFT_POLICY_GUIDED, 0}, {WEFT_POLICY_ADAPTIVE, 0}};
    for (int m = 0; m < nm; m++) {
        for (size_t p = 0; p < sizeof pols / sizeof pols[0]; p++) {
            weft_policy_t pol = wt_mix_policy(pols[p].kind, &mixes[m], pols[p].chunk);
            char what[160];
            snprintf(what, sizeof what, "histogram n=%zu %s %s chunk=%zu", n, mixes[m].name,
                     wt_policy_name(pols[p].kind), pols[p].chunk);
            memset(got, 0xAB, sizeof got);
            WT_CHECK(weft_k_histogram(rt, &pol, n, v, lo, hi, got, WT_PANIC));
            for (int b = 0; b < BINS; b++)
                if (got[b] != want[b]) fail_msg("%s: bin %d is %u, expected %u", what, b, got[b], want[b]);
        }
    }
    free(v);
}

static void test_histogram_matches_reference(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check(rt, 0, 0.0f, 1.0f);
    check(rt, 1, 0.0f, 1.0f);
    check(rt, 63, -1.0f, 1.0f);
    check(rt, 64, -1.0f, 1.0f);
    check(rt, 100, -1.0f, 1.0f);
    check(rt, 4096, 10.0f, 20.0f);
    check(rt, 1000003, -3.5f, 7.25f);
    weft_runtime_destroy(rt);
}

static void test_histogram_bad_arguments(void **state)
{
    (void)state;
    weft_k_args_t a;
    float v[4] = {0};
    uint32_t h[BINS];
    assert_int_equal(weft_k_histogram_args(&a, 4, v, 0.0f, 1.0f, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_histogram_args(&a, 4, NULL, 0.0f, 1.0f, h), WEFT_EINVAL);
    assert_int_equal(weft_k_histogram_args(&a, 4, v, 1.0f, 1.0f, h), WEFT_EINVAL);
    assert_int_equal(weft_k_histogram_args(&a, 4, v, 2.0f, 1.0f, h), WEFT_EINVAL);
    assert_int_equal(weft_k_histogram_args(&a, 4, v, 0.0f, INFINITY, h), WEFT_EINVAL);
    assert_int_equal(weft_k_histogram_args(&a, 4, v, NAN, 1.0f, h), WEFT_EINVAL);
    assert_int_equal(weft_k_histogram_args(&a, 4, v, 0.0f, 1.0f, h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_matches_reference),
        cmocka_unit_test(test_histogram_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

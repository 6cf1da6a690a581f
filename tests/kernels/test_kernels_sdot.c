/* test_kernels_sdot.c — weft_k_sdot: the dot product is the same bits on the
 * CPU, the devices and both, under every policy and chunk size, equal to a
 * plain reference that sums each work-group by the documented pairwise tree
 * and folds the partials in block order; close to a double-precision dot. */
#include "weft_test.h"
#include <weft/kernels.h>

#include "test_kernels_common.h"

#include <math.h>

/* The documented order: per block of g, t[l] = x*y (0 past n), then
 * s = g/2..1: t[l] += t[l+s]; blocks folded in order from 0. */
static float reference(const float *x, const float *y, size_t n, size_t g)
{
    float acc = 0.0f, t[1024];
    for (size_t base = 0; base < n; base += g) {
        for (size_t l = 0; l < g; l++) t[l] = base + l < n ? x[base + l] * y[base + l] : 0.0f;
        for (size_t s = g / 2; s > 0; s /= 2)
            for (size_t l = 0; l < s; l++) t[l] += t[l + s];
        acc += t[0];
    }
    return acc;
}

static void check_size(weft_runtime_t *rt, size_t n, size_t group)
{
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    float *x = kt_alloc(n * sizeof(float)), *y = kt_alloc(n * sizeof(float));
    kt_fill(x, n, 11, -1.0f, 1.0f);
    kt_fill(y, n, 12, -100.0f, 100.0f);
    size_t g = group ? group : 256;
    float want = reference(x, y, n, g);
    double exact = 0.0, mag = 0.0;
    for (size_t i = 0; i < n; i++) {
        exact += (double)x[i] * y[i];
        mag += fabs((double)x[i] * y[i]);
    }
    if (fabs((double)want - exact) > 1e-5 * mag + 1e-30)
        fail_msg("n=%zu: reference %.9g is far from the double dot %.17g", n, (double)want, exact);

    static const struct {
        weft_policy_kind_t kind;
        size_t chunk;
    } pols[] = {{WEFT_POLICY_STATIC, 0},   {WEFT_POLICY_DYNAMIC, 256},   {WEFT_POLICY_DYNAMIC, 5000},
                {WEFT_POLICY_GUIDED, 0},   {WEFT_POLICY_GUIDED, 2048},   {WEFT_POLICY_ADAPTIVE, 0}};
    for (int m = 0; m < nm; m++) {
        for (size_t p = 0; p < sizeof pols / sizeof pols[0]; p++) {
            weft_policy_t pol = wt_mix_policy(pols[p].kind, &mixes[m], pols[p].chunk);
            char what[160];
            snprintf(what, sizeof what, "sdot n=%zu group=%zu %s %s chunk=%zu", n, g, mixes[m].name,
                     wt_policy_name(pols[p].kind), pols[p].chunk);
            float got = -1.0f;
            if (group) {
                weft_k_args_t a;
                WT_CHECK(weft_k_sdot_args(&a, n, x, y, &got, group));
                WT_CHECK(weft_k_run(rt, &a, &pol, WT_PANIC));
            } else {
                WT_CHECK(weft_k_sdot(rt, &pol, n, x, y, &got, WT_PANIC));
            }
            if (memcmp(&got, &want, sizeof got) != 0)
                fail_msg("%s: %.9g, expected %.9g bit for bit", what, (double)got, (double)want);
            wt_check_stats(rt, n, &pol, what);
        }
    }
    free(x);
    free(y);
}

static void test_sdot_bit_identical(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    static const size_t sizes[] = {0, 1, 255, 256, 257, 100003, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_size(rt, sizes[i], 0);
    weft_runtime_destroy(rt);
}

static void test_sdot_other_groups(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check_size(rt, 77777, 64);
    check_size(rt, 77777, 1024);
    check_size(rt, 1000, 1);
    weft_runtime_destroy(rt);
}

static void test_sdot_bad_arguments(void **state)
{
    (void)state;
    weft_k_args_t a;
    float x[4] = {1, 2, 3, 4}, r;
    assert_int_equal(weft_k_sdot_args(&a, 4, x, x, NULL, 0), WEFT_EINVAL);
    assert_int_equal(weft_k_sdot_args(&a, 4, NULL, x, &r, 0), WEFT_EINVAL);
    assert_int_equal(weft_k_sdot_args(&a, 4, x, x, &r, 100), WEFT_EINVAL);
    assert_int_equal(weft_k_sdot_args(&a, 4, x, x, &r, 2048), WEFT_EINVAL);
    assert_int_equal(weft_k_sdot_args(&a, 4, x, x, &r, 512), 0);
    assert_int_equal(a.range.group[0], 512);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdot_bit_identical),
        cmocka_unit_test(test_sdot_other_groups),
        cmocka_unit_test(test_sdot_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

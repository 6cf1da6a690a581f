/* test_kernels_stencil5.c — weft_k_stencil5: iterated 5-point stencil with
 * ping-pong grids equals a plain loop bit for bit on the CPU, the devices and
 * both, with chunks as small as one work-group of rows (every chunk boundary
 * needs its halo), odd and even step counts, thin and tiny grids. */
#include "weft_test.h"
#include <weft/kernels.h>

#include "test_kernels_common.h"

static void step(const float *in, float *out, size_t w, size_t h, float c0, float c1)
{
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++) {
            size_t i = y * w + x;
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) out[i] = in[i];
            else out[i] = c0 * in[i] + c1 * ((in[i - w] + in[i + w]) + (in[i - 1] + in[i + 1]));
        }
}

static void check(weft_runtime_t *rt, size_t w, size_t h, unsigned iters)
{
    const float c0 = 0.6f, c1 = 0.1f;
    size_t n = w * h;
    float *init = kt_alloc(n * sizeof(float)), *r0 = kt_alloc(n * sizeof(float)), *r1 = kt_alloc(n * sizeof(float));
    float *a = kt_alloc(n * sizeof(float)), *b = kt_alloc(n * sizeof(float));
    kt_fill(init, n, 21, 0.0f, 100.0f);
    memcpy(r0, init, n * sizeof(float));
    for (unsigned s = 0; s < iters; s++) {
        step(r0, r1, w, h, c0, c1);
        float *t = r0;
        r0 = r1;
        r1 = t;
    }
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    static const struct {
        weft_policy_kind_t kind;
        size_t chunk;
    } pols[] = {{WEFT_POLICY_STATIC, 0}, {WEFT_POLICY_DYNAMIC, 4}, {WEFT_POLICY_GUIDED, 0}};
    for (int m = 0; m < nm; m++) {
        for (size_t p = 0; p < sizeof pols / sizeof pols[0]; p++) {
            weft_policy_t pol = wt_mix_policy(pols[p].kind, &mixes[m], pols[p].chunk);
            char what[160];
            snprintf(what, sizeof what, "stencil5 %zux%zu x%u %s %s", w, h, iters, mixes[m].name,
                     wt_policy_name(pols[p].kind));
            memcpy(a, init, n * sizeof(float));
            memset(b, 0xFF, n * sizeof(float)); /* NaN: any cell not written shows */
            float *res = NULL;
            WT_CHECK(weft_k_stencil5(rt, &pol, w, h, c0, c1, a, b, iters, &res, WT_PANIC));
            assert_ptr_equal(res, iters % 2 ? b : a);
            kt_assert_same_floats(res, r0, n, what);
            if (iters) wt_check_stats(rt, h, &pol, what);
        }
    }
    free(init);
    free(r0);
    free(r1);
    free(a);
    free(b);
}

static void test_stencil5_matches_reference(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check(rt, 67, 45, 5);
    check(rt, 300, 201, 4);
    check(rt, 1, 1, 3);
    check(rt, 2, 9, 2);
    check(rt, 513, 3, 1);
    check(rt, 16, 16, 0);
    weft_runtime_destroy(rt);
}

static void test_stencil5_bad_arguments(void **state)
{
    (void)state;
    weft_k_args_t a;
    float g[4] = {0}, g2[4] = {0};
    assert_int_equal(weft_k_stencil5_args(&a, 2, 2, 1, 0, g, g), WEFT_EINVAL);
    assert_int_equal(weft_k_stencil5_args(&a, 2, 2, 1, 0, NULL, g), WEFT_EINVAL);
    assert_int_equal(weft_k_stencil5_args(&a, 0, 2, 1, 0, g, g2), WEFT_EINVAL);
    assert_int_equal(weft_k_stencil5_args(&a, 2, 2, 1, 0, g, g2), 0);
    assert_int_equal(a.args[4].halo, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stencil5_matches_reference),
        cmocka_unit_test(test_stencil5_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_kernels_mandelbrot.c — weft_k_mandelbrot: the iteration image equals a
 * plain per-pixel loop, pixel for pixel, on the CPU, the devices and both,
 * under static, dynamic and guided policies; image sizes that are not
 * multiples of the work-group; a tiny max_iter and max_iter 0. */
#include "weft_test.h"
#include <weft/kernels.h>

#include "test_kernels_common.h"

static void reference(uint32_t *out, size_t w, size_t h, float x0, float y0, float dx, float dy, uint32_t max_iter)
{
    for (size_t py = 0; py < h; py++) {
        for (size_t px = 0; px < w; px++) {
            float cx = x0 + (float)px * dx, cy = y0 + (float)py * dy;
            float x = 0.0f, y = 0.0f;
            uint32_t it = 0;
            while (it < max_iter && x * x + y * y <= 4.0f) {
                float xn = x * x - y * y + cx;
                y = 2.0f * x * y + cy;
                x = xn;
                it++;
            }
            out[py * w + px] = it;
        }
    }
}

static void check(weft_runtime_t *rt, size_t w, size_t h, uint32_t max_iter)
{
    const float x0 = -2.2f, y0 = -1.3f, dx = 3.2f / (float)w, dy = 2.6f / (float)h;
    uint32_t *want = kt_alloc(w * h * sizeof(uint32_t)), *got = kt_alloc(w * h * sizeof(uint32_t));
    reference(want, w, h, x0, y0, dx, dy, max_iter);
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    static const struct {
        weft_policy_kind_t kind;
        size_t chunk;
    } pols[] = {{WEFT_POLICY_STATIC, 0}, {WEFT_POLICY_DYNAMIC, 8}, {WEFT_POLICY_GUIDED, 0}};
    for (int m = 0; m < nm; m++) {
        for (size_t p = 0; p < sizeof pols / sizeof pols[0]; p++) {
            weft_policy_t pol = wt_mix_policy(pols[p].kind, &mixes[m], pols[p].chunk);
            char what[160];
            snprintf(what, sizeof what, "mandelbrot %zux%zu iter=%u %s %s", w, h, max_iter, mixes[m].name,
                     wt_policy_name(pols[p].kind));
            memset(got, 0xAB, w * h * sizeof(uint32_t));
            WT_CHECK(weft_k_mandelbrot(rt, &pol, w, h, x0, y0, dx, dy, max_iter, got, WT_PANIC));
            for (size_t i = 0; i < w * h; i++)
                if (got[i] != want[i])
                    fail_msg("%s: pixel (%zu, %zu) is %u, expected %u", what, i % w, i / w, got[i], want[i]);
            wt_check_stats(rt, h, &pol, what);
        }
    }
    free(want);
    free(got);
}

static void test_mandelbrot_matches_reference(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check(rt, 203, 117, 256);
    check(rt, 64, 64, 1000);
    check(rt, 1, 1, 50);
    check(rt, 37, 5, 3);
    check(rt, 40, 9, 0);
    weft_runtime_destroy(rt);
}

static void test_mandelbrot_bad_arguments(void **state)
{
    (void)state;
    weft_k_args_t a;
    uint32_t out[4];
    assert_int_equal(weft_k_mandelbrot_args(&a, 2, 2, 0, 0, 1, 1, 10, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_mandelbrot_args(&a, 0, 2, 0, 0, 1, 1, 10, out), WEFT_EINVAL);
    assert_int_equal(weft_k_mandelbrot_args(&a, 2, 0, 0, 0, 1, 1, 10, out), WEFT_EINVAL);
    assert_int_equal(weft_k_mandelbrot_args(&a, 2, 2, 0, 0, 1, 1, 10, out), 0);
    assert_int_equal(a.range.dims, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mandelbrot_matches_reference),
        cmocka_unit_test(test_mandelbrot_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

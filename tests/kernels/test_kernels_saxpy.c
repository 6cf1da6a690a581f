/* test_kernels_saxpy.c — weft_k_saxpy: y = a*x + y, bit-identical to a plain
 * loop on the CPU, the devices and both, under static, dynamic and guided
 * policies, for sizes that are and are not multiples of the work-group; the
 * descriptor and its arguments inside a scope; bad arguments. */
#include "weft_test.h"
#include <weft/kernels.h>

#include "test_kernels_common.h"

static const weft_policy_kind_t POLICIES[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED};

static void test_saxpy_matches_reference(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    static const size_t sizes[] = {0, 1, 1000, 100003};
    const float a = 1.7f;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        float *x = kt_alloc(n * sizeof(float)), *y0 = kt_alloc(n * sizeof(float));
        float *y = kt_alloc(n * sizeof(float)), *want = kt_alloc(n * sizeof(float));
        kt_fill(x, n, 1, -2.0f, 2.0f);
        kt_fill(y0, n, 2, -2.0f, 2.0f);
        for (size_t i = 0; i < n; i++) want[i] = a * x[i] + y0[i];
        for (int m = 0; m < nm; m++) {
            for (size_t p = 0; p < sizeof POLICIES / sizeof POLICIES[0]; p++) {
                weft_policy_t pol =
                    wt_mix_policy(POLICIES[p], &mixes[m], POLICIES[p] == WEFT_POLICY_DYNAMIC ? 4096 : 0);
                char what[128];
                snprintf(what, sizeof what, "saxpy n=%zu %s %s", n, mixes[m].name, wt_policy_name(POLICIES[p]));
                memcpy(y, y0, n * sizeof(float));
                WT_CHECK(weft_k_saxpy(rt, &pol, n, a, x, y, WT_PANIC));
                kt_assert_same_floats(y, want, n, what);
                wt_check_stats(rt, n, &pol, what);
            }
        }
        free(x);
        free(y0);
        free(y);
        free(want);
    }
    weft_runtime_destroy(rt);
}

/* Two saxpys on different arrays, started with the descriptor inside one scope. */
typedef struct two {
    float *x, *y1, *y2;
    size_t n;
    int rc1, rc2;
} two;

static int two_body(weft_scope_t *s, void *arg)
{
    two *t = arg;
    weft_k_args_t a1, a2;
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 1024;
    if ((t->rc1 = weft_k_saxpy_args(&a1, t->n, 2.0f, t->x, t->y1))) return t->rc1;
    if ((t->rc2 = weft_k_saxpy_args(&a2, t->n, -3.0f, t->x, t->y2))) return t->rc2;
    weft_handle_t *h1 = NULL;
    t->rc1 = weft_scope_parallel_for(s, a1.kernel, a1.range, a1.args, a1.nargs, &pol, &h1);
    t->rc2 = weft_k_start(s, &a2, &pol, NULL); /* joined by the scope */
    if (h1) t->rc1 = weft_join(h1, NULL, NULL);
    return 0;
}

static void test_saxpy_in_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    two t = {.n = 50001};
    t.x = kt_alloc(t.n * sizeof(float));
    t.y1 = kt_alloc(t.n * sizeof(float));
    t.y2 = kt_alloc(t.n * sizeof(float));
    kt_fill(t.x, t.n, 3, -1.0f, 1.0f);
    kt_fill(t.y1, t.n, 4, -1.0f, 1.0f);
    memcpy(t.y2, t.y1, t.n * sizeof(float));
    float *w1 = kt_alloc(t.n * sizeof(float)), *w2 = kt_alloc(t.n * sizeof(float));
    for (size_t i = 0; i < t.n; i++) {
        w1[i] = 2.0f * t.x[i] + t.y1[i];
        w2[i] = -3.0f * t.x[i] + t.y2[i];
    }
    weft_panic_t *p = NULL;
    int rc = weft_scope(rt, two_body, &t, &p);
    weft_panic_destroy(p);
    assert_int_equal(rc, 0);
    assert_int_equal(t.rc1, 0);
    assert_int_equal(t.rc2, 0);
    kt_assert_same_floats(t.y1, w1, t.n, "scope saxpy 1");
    kt_assert_same_floats(t.y2, w2, t.n, "scope saxpy 2");
    free(t.x);
    free(t.y1);
    free(t.y2);
    free(w1);
    free(w2);
    weft_runtime_destroy(rt);
}

static void test_saxpy_bad_arguments(void **state)
{
    (void)state;
    weft_k_args_t a;
    float x[4] = {0};
    assert_int_equal(weft_k_saxpy_args(NULL, 4, 1.0f, x, x), WEFT_EINVAL);
    assert_int_equal(weft_k_saxpy_args(&a, 4, 1.0f, NULL, x), WEFT_EINVAL);
    assert_int_equal(weft_k_saxpy_args(&a, 4, 1.0f, x, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_saxpy_args(&a, 0, 1.0f, NULL, NULL), 0);
    assert_int_equal(weft_k_saxpy_args(&a, SIZE_MAX / 2, 1.0f, x, x), WEFT_EINVAL);
    assert_int_equal(weft_k_run(NULL, NULL, NULL, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_start(NULL, NULL, NULL, NULL), WEFT_EINVAL);
    assert_int_equal(weft_k_saxpy(NULL, NULL, 4, 1.0f, x, x, NULL), WEFT_EINVAL);
    /* The descriptor names both bodies. */
    assert_non_null(weft_k_saxpy_kernel.cpu);
    assert_non_null(weft_k_saxpy_kernel.cl_source);
    assert_string_equal(weft_k_saxpy_kernel.cl_entry, "weft_saxpy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saxpy_matches_reference),
        cmocka_unit_test(test_saxpy_in_scope),
        cmocka_unit_test(test_saxpy_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

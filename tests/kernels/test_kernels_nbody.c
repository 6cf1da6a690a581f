/* test_kernels_nbody.c — weft_k_nbody: positions and velocities after a few
 * steps agree with a double-precision reference within float tolerance, on
 * the CPU, the devices and both, under static, dynamic and guided policies;
 * body counts that are not multiples of the work-group or of the CPU's 8
 * lanes; masses are carried over; bad arguments. */
#include "weft_test.h"
#include <weft/kernels.h>

#include "test_kernels_common.h"

#include <math.h>

/* steps of the documented update, in double. pos, vel: 4 per body. */
static void reference(double *pos, double *vel, size_t n, double dt, double eps2, unsigned steps)
{
    double *np = kt_alloc(4 * n * sizeof(double));
    for (unsigned s = 0; s < steps; s++) {
        for (size_t i = 0; i < n; i++) {
            double ax = 0, ay = 0, az = 0;
            for (size_t j = 0; j < n; j++) {
                double dx = pos[4 * j] - pos[4 * i], dy = pos[4 * j + 1] - pos[4 * i + 1];
                double dz = pos[4 * j + 2] - pos[4 * i + 2];
                double r2 = dx * dx + dy * dy + dz * dz + eps2;
                double inv = 1.0 / sqrt(r2), f = pos[4 * j + 3] * inv * inv * inv;
                ax += f * dx;
                ay += f * dy;
                az += f * dz;
            }
            vel[4 * i] += ax * dt;
            vel[4 * i + 1] += ay * dt;
            vel[4 * i + 2] += az * dt;
            for (int c = 0; c < 3; c++) np[4 * i + c] = pos[4 * i + c] + vel[4 * i + c] * dt;
            np[4 * i + 3] = pos[4 * i + 3];
        }
        memcpy(pos, np, 4 * n * sizeof(double));
    }
    free(np);
}

static void assert_close(const float *got, const double *want, size_t n, int stride_mask, const char *what)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        if ((1 << (i % 4)) & stride_mask) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        if (!((1 << (i % 4)) & stride_mask)) continue;
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= 2e-4 * scale + 1e-6))
            fail_msg("%s: body %zu component %zu is %.9g, expected %.9g (scale %.3g)", what, i / 4, i % 4,
                     (double)got[i], want[i], scale);
    }
}

static void check(weft_runtime_t *rt, size_t n, unsigned steps)
{
    const float dt = 0.001f, eps2 = 0.01f;
    float *pos0 = kt_alloc(4 * n * sizeof(float)), *vel0 = kt_alloc(4 * n * sizeof(float));
    kt_fill(pos0, 4 * n, 41, -1.0f, 1.0f);
    kt_fill(vel0, 4 * n, 42, -0.1f, 0.1f);
    for (size_t i = 0; i < n; i++) {
        pos0[4 * i + 3] = (0.5f + (float)(i % 7) / 7.0f) / (float)n; /* mass: total about 1 */
        vel0[4 * i + 3] = 0.0f;
    }
    double *rp = kt_alloc(4 * n * sizeof(double)), *rv = kt_alloc(4 * n * sizeof(double));
    for (size_t i = 0; i < 4 * n; i++) {
        rp[i] = pos0[i];
        rv[i] = vel0[i];
    }
    reference(rp, rv, n, dt, eps2, steps);
    float *pos = kt_alloc(4 * n * sizeof(float)), *tmp = kt_alloc(4 * n * sizeof(float));
    float *vel = kt_alloc(4 * n * sizeof(float));
    wt_mix mixes[3];
    int nm = kt_mixes(rt, mixes);
    static const struct {
        weft_policy_kind_t kind;
        size_t chunk;
    } pols[] = {{WEFT_POLICY_STATIC, 0}, {WEFT_POLICY_DYNAMIC, 64}, {WEFT_POLICY_GUIDED, 0}};
    for (int m = 0; m < nm; m++) {
        for (size_t p = 0; p < sizeof pols / sizeof pols[0]; p++) {
            weft_policy_t pol = wt_mix_policy(pols[p].kind, &mixes[m], pols[p].chunk);
            char what[160];
            snprintf(what, sizeof what, "nbody n=%zu steps=%u %s %s", n, steps, mixes[m].name,
                     wt_policy_name(pols[p].kind));
            memcpy(pos, pos0, 4 * n * sizeof(float));
            memcpy(vel, vel0, 4 * n * sizeof(float));
            float *res = NULL;
            WT_CHECK(weft_k_nbody(rt, &pol, n, dt, eps2, pos, tmp, vel, steps, &res, WT_PANIC));
            assert_ptr_equal(res, steps % 2 ? tmp : pos);
            char w2[200];
            snprintf(w2, sizeof w2, "%s: velocity", what);
            assert_close(vel, rv, 4 * n, 7, w2);
            snprintf(w2, sizeof w2, "%s: position", what);
            assert_close(res, rp, 4 * n, 7, w2);
            for (size_t i = 0; i < n; i++)
                if (res[4 * i + 3] != pos0[4 * i + 3]) fail_msg("%s: mass of body %zu changed", what, i);
            wt_check_stats(rt, n, &pol, what);
        }
    }
    free(pos0);
    free(vel0);
    free(rp);
    free(rv);
    free(pos);
    free(tmp);
    free(vel);
}

static void test_nbody_matches_reference(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    check(rt, 1, 2);
    check(rt, 5, 1);
    check(rt, 1003, 3);
    check(rt, 2048, 2);
    weft_runtime_destroy(rt);
}

static void test_nbody_bad_arguments(void **state)
{
    (void)state;
    weft_k_args_t a;
    float p[8] = {0}, v[8] = {0}, o[8];
    assert_int_equal(weft_k_nbody_args(&a, 2, 0.1f, 0.01f, p, v, p), WEFT_EINVAL);
    assert_int_equal(weft_k_nbody_args(&a, 0, 0.1f, 0.01f, p, v, o), WEFT_EINVAL);
    assert_int_equal(weft_k_nbody_args(&a, 2, 0.1f, 0.0f, p, v, o), WEFT_EINVAL);
    assert_int_equal(weft_k_nbody_args(&a, 2, 0.1f, 0.01f, NULL, v, o), WEFT_EINVAL);
    assert_int_equal(weft_k_nbody_args(&a, 2, 0.1f, 0.01f, p, v, o), 0);
    assert_int_equal(a.args[3].kind, WEFT_ARG_WHOLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nbody_matches_reference),
        cmocka_unit_test(test_nbody_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

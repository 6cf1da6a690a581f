/* tests/test_kernels_common.h — helpers shared by the bundled-kernel tests
 * (tests/test_kernels_*.c); not a test itself. Include after <cmocka.h>.
 *
 * Every test runs its operation over "place mixes": the CPU alone, the
 * devices alone (every device: two with POCL_DEVICES="pthread basic") and the
 * CPU with every device, under several policies, and checks every element.
 * Without an OpenCL device the device mixes are left out (a note says so). */
#ifndef WEFT_TEST_KERNELS_COMMON_H
#define WEFT_TEST_KERNELS_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>
#include <weft/opencl.h>
#include <weft/testing.h>
#include <weft/kernels.h>

#define KT_CHECK(call)                                                                        \
    do {                                                                                      \
        int kt_rc_ = (call);                                                                  \
        if (kt_rc_ != 0)                                                                      \
            fail_msg("%s:%d: %s: %s: %s", __FILE__, __LINE__, #call, weft_err_name(kt_rc_),  \
                     weft_last_error_message());                                              \
    } while (0)

/* A call taking a trailing `weft_panic_t **` that must succeed. */
#define KT_RUN(call_with_panic_arg)                                                           \
    do {                                                                                      \
        weft_panic_t *kt_p_ = NULL;                                                           \
        weft_panic_t **kt_pp_ = &kt_p_;                                                       \
        int kt_rc_ = (call_with_panic_arg);                                                   \
        (void)kt_pp_;                                                                         \
        if (kt_rc_ != 0) {                                                                    \
            char kt_buf_[2048] = "";                                                          \
            if (kt_p_) weft_panic_format(kt_p_, kt_buf_, sizeof kt_buf_);                     \
            weft_panic_destroy(kt_p_);                                                        \
            fail_msg("%s:%d: %s: %s: %s %s", __FILE__, __LINE__, #call_with_panic_arg,        \
                     weft_err_name(kt_rc_), weft_last_error_message(), kt_buf_);              \
        }                                                                                     \
    } while (0)
/* Use as: KT_RUN(weft_k_saxpy(rt, &pol, n, a, x, y, KT_PANIC)); */
#define KT_PANIC kt_pp_

/* A runtime with two CPU workers and every OpenCL device; with
 * POCL_DEVICES="pthread basic" there must be exactly two. */
static inline weft_runtime_t *kt_runtime(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.devices = "all";
    weft_runtime_t *rt = NULL;
    KT_CHECK(weft_runtime_create(&o, &rt));
    const char *pd = getenv("POCL_DEVICES");
    if (pd && strstr(pd, "pthread") && strstr(pd, "basic") && weft_device_count(rt) != 0)
        assert_int_equal(weft_device_count(rt), 2);
    return rt;
}

typedef struct kt_mix {
    const char *name;
    int use_cpu;
    uint64_t devices;
} kt_mix;

/* CPU only; devices only; CPU + devices. Returns how many this runtime can run. */
static inline int kt_mixes(weft_runtime_t *rt, kt_mix out[3])
{
    int n = 0, nd = weft_device_count(rt);
    out[n++] = (kt_mix){"cpu", 1, 0};
    if (nd > 0) {
        out[n++] = (kt_mix){"devices", 0, WEFT_ALL_DEVICES};
        out[n++] = (kt_mix){"cpu+devices", 1, WEFT_ALL_DEVICES};
    } else {
        fprintf(stderr, "note: no OpenCL device: only the CPU mix runs\n");
    }
    return n;
}

static inline const char *kt_policy_name(weft_policy_kind_t k)
{
    switch (k) {
    case WEFT_POLICY_STATIC: return "static";
    case WEFT_POLICY_DYNAMIC: return "dynamic";
    case WEFT_POLICY_GUIDED: return "guided";
    case WEFT_POLICY_ADAPTIVE: return "adaptive";
    }
    return "?";
}

static inline weft_policy_t kt_policy(weft_policy_kind_t kind, const kt_mix *m, size_t chunk)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.kind = kind;
    p.use_cpu = m->use_cpu;
    p.devices = m->devices;
    p.chunk = chunk;
    return p;
}

/* The last run's per-place split indices must sum to n, and only allowed
 * places may have done any. */
static inline void kt_check_places(weft_runtime_t *rt, size_t n, const weft_policy_t *pol, const char *what)
{
    weft_run_stats_t st;
    KT_CHECK(weft_runtime_last_run_stats(rt, &st));
    size_t sum = 0;
    for (int i = 0; i < 65; i++) {
        sum += st.items[i];
        int allowed = i == 0 ? pol->use_cpu : (int)((pol->devices >> (i - 1)) & 1u);
        if (st.items[i] && !allowed) fail_msg("%s: place %d did %zu items, not allowed", what, i, st.items[i]);
    }
    if (sum != n) fail_msg("%s: places did %zu items, expected %zu", what, sum, n);
    if (st.failed_chunks) fail_msg("%s: %zu failed chunks", what, st.failed_chunks);
}

/* Deterministic pseudo-random floats in [lo, hi). */
static inline void kt_fill(float *x, size_t n, uint32_t seed, float lo, float hi)
{
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / (float)(1u << 24);
    }
}

static inline void *kt_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) fail_msg("out of memory (%zu bytes)", bytes);
    return p;
}

/* Every float equal bit for bit; on a mismatch, say where. */
static inline void kt_assert_same_floats(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s: element %zu is %.9g, expected %.9g (bit-identical)", what, i, (double)got[i],
                     (double)want[i]);
}

#endif

/* tests/kernels/test_kernels_common.h — what the bundled-kernel tests
 * (tests/kernels/test_kernels_*.c) share besides weft_test.h: their place
 * mixes, input data and float comparison. Not a test itself; include after
 * weft_test.h.
 *
 * Every test runs its operation over "place mixes": the CPU alone, the
 * devices alone (every device: two with POCL_DEVICES="pthread basic") and the
 * CPU with every device, under several policies, and checks every element.
 * Without an OpenCL device the device mixes are left out (a note says so). */
#ifndef WEFT_TEST_KERNELS_COMMON_H
#define WEFT_TEST_KERNELS_COMMON_H

#include "weft_test.h"

/* CPU only; devices only; CPU + devices. Returns how many this runtime can run. */
static inline int kt_mixes(weft_runtime_t *rt, wt_mix out[3])
{
    int n = 0, nd = weft_device_count(rt);
    out[n++] = (wt_mix){"cpu", 1, 0};
    if (nd > 0) {
        out[n++] = (wt_mix){"devices", 0, weft_device_mask(rt, 0)};
        out[n++] = (wt_mix){"cpu+devices", 1, weft_device_mask(rt, 0)};
    } else {
        fprintf(stderr, "note: no OpenCL device: only the CPU mix runs\n");
    }
    return n;
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

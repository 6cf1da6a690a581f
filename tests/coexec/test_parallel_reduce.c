/* test_parallel_reduce.c — reductions fold one partial per work-group in
 * block order, so the answer is the same bit for bit (memcmp) whatever the
 * policy, the places and the chunk size, as long as both bodies compute a
 * block's partial the same way:
 *   - a float sum, each block summed by a sequential loop (1-D and 2-D);
 *   - a float sum by a tree in __local memory (weft_arg_local), the CPU twin
 *     doing the same tree;
 *   - an order-sensitive fold of 16-byte partials (a hash chain), which only
 *     block order reproduces.
 * An empty range gives the identity. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const weft_policy_kind_t POLICIES[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                              WEFT_POLICY_ADAPTIVE};
static const size_t CHUNKS[] = {0, 64, 640, 6400};

typedef struct fixture {
    weft_runtime_t *rt;
    char cache[256];
    float *x;
} fixture;

#define N 104729
#define G 64

/* Values of very different magnitudes and signs: a sum in another order
 * would almost surely differ in its last bits. */
static void fill(float *x, size_t n)
{
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        float mag = (float)(1u << (s >> 28)); /* 1 .. 32768 */
        x[i] = ((float)((s >> 4) & 0xFFFFF) / (float)0x100000 - 0.5f) * mag;
    }
}

static void fadd(void *acc, const void *p) { *(float *)acc += *(const float *)p; }

/* ---- sequential per-block sum ------------------------------------------------ */

static void fsum_cpu(size_t b, size_t e, void *const *argv)
{
    const float *x = argv[0];
    float *part = argv[1];
    uint64_t n = *(const uint64_t *)argv[2], g = *(const uint64_t *)argv[3];
    for (size_t blk = b / g; blk * g < e; blk++) {
        size_t lo = blk * g, hi = lo + g < n ? lo + g : n;
        float s = 0.0f;
        for (size_t j = lo; j < hi; j++) s += x[j];
        part[blk] = s;
    }
}

static const char FSUM_SRC[] =
    "__kernel void pk_fsum(__global const float *x, __global float *part, ulong n, ulong g)\n"
    "{\n"
    "    if (get_local_id(0) != 0) return;\n"
    "    size_t blk = get_group_id(0), gs = get_local_size(0);\n"
    "    size_t lo = blk * gs, hi = lo + gs < n ? lo + gs : n;\n"
    "    float s = 0.0f;\n"
    "    for (size_t j = lo; j < hi; j++) s += x[j];\n"
    "    part[blk] = s;\n"
    "}\n";

static const weft_kernel_t FSUM = {.name = "pk_fsum", .cpu = fsum_cpu, .cl_source = FSUM_SRC, .cl_entry = "pk_fsum"};

static float ref_fsum(const float *x, size_t n, size_t g)
{
    float acc = 0.0f;
    for (size_t lo = 0; lo < n; lo += g) {
        float s = 0.0f;
        for (size_t j = lo; j < n && j < lo + g; j++) s += x[j];
        acc += s;
    }
    return acc;
}

static float run_fsum(weft_runtime_t *rt, const float *x, size_t n, const weft_policy_t *pol, const char *what)
{
    float result = 123.0f, zero = 0.0f;
    uint64_t n64 = n, g64 = G;
    weft_arg_t args[] = {
        weft_arg_split((void *)x, n * sizeof *x, sizeof *x, WEFT_READ),
        weft_arg_reduce(&result, sizeof result, &zero, fadd),
        weft_arg_scalar(&n64, sizeof n64),
        weft_arg_scalar(&g64, sizeof g64),
    };
    WT_CHECK(weft_parallel_run(rt, &FSUM, weft_range_1d(n, G), args, 4, pol, WT_PANIC));
    weft_run_stats_t st = wt_check_stats(rt, n, pol, what);
    /* Copies (devices without unified memory): each chunk's x there, its
     * blocks' partials back; chunks are whole groups, so a device that did
     * `items` indices did ceil(items / G) blocks. */
    uint64_t want = 0;
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        if (!info.unified_memory) want += 4u * (st.items[1 + d] + (st.items[1 + d] + G - 1) / G);
    }
    if (st.bytes_moved != want)
        fail_msg("%s: %llu bytes moved, expected %llu", what, (unsigned long long)st.bytes_moved,
                 (unsigned long long)want);
    return result;
}

static void sum_identical_everywhere(void **state)
{
    fixture *f = *state;
    float want = ref_fsum(f->x, N, G);
    /* The data is such that order matters: the plain left-to-right sum differs. */
    float naive = 0.0f;
    for (size_t i = 0; i < N; i++) naive += f->x[i];
    assert_true(memcmp(&naive, &want, sizeof want) != 0);
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    for (size_t pi = 0; pi < 4; pi++)
        for (int mi = 0; mi < nm; mi++)
            for (size_t ci = 0; ci < sizeof CHUNKS / sizeof *CHUNKS; ci++) {
                if (POLICIES[pi] == WEFT_POLICY_STATIC && ci) continue;
                weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], CHUNKS[ci]);
                char what[128];
                snprintf(what, sizeof what, "float sum %s chunk %zu on %s", wt_policy_name(POLICIES[pi]),
                         CHUNKS[ci], mixes[mi].name);
                float got = run_fsum(f->rt, f->x, N, &pol, what);
                if (memcmp(&got, &want, sizeof got) != 0)
                    fail_msg("%s: %.9g, expected %.9g", what, (double)got, (double)want);
            }
}

static void empty_range_gives_identity(void **state)
{
    fixture *f = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    for (size_t pi = 0; pi < 4; pi++)
        for (int mi = 0; mi < nm; mi++) {
            weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], 0);
            float got = run_fsum(f->rt, f->x, 0, &pol, "empty float sum");
            float zero = 0.0f;
            assert_memory_equal(&got, &zero, sizeof got);
            /* A non-zero identity is what comes back, whatever it is. */
            float result = 5.0f, ident = -2.5f;
            uint64_t n0 = 0, g64 = G;
            weft_arg_t args[] = {
                weft_arg_split(f->x, 0, sizeof(float), WEFT_READ),
                weft_arg_reduce(&result, sizeof result, &ident, fadd),
                weft_arg_scalar(&n0, sizeof n0),
                weft_arg_scalar(&g64, sizeof g64),
            };
            WT_CHECK(weft_parallel_run(f->rt, &FSUM, weft_range_1d(0, G), args, 4, &pol, WT_PANIC));
            assert_true(result == -2.5f);
        }
    /* A range smaller than one group: one block. */
    wt_mix *all = &mixes[nm - 1];
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_GUIDED, all, 0);
    float got = run_fsum(f->rt, f->x, 3, &pol, "3-element sum");
    float want = (f->x[0] + f->x[1]) + f->x[2];
    assert_memory_equal(&got, &want, sizeof got);
}

/* ---- tree in __local memory ---------------------------------------------------- */

#define TG 32

static atomic_int local_not_null;

static void tree_cpu(size_t b, size_t e, void *const *argv)
{
    const float *x = argv[0];
    float *part = argv[1];
    if (argv[2]) atomic_store(&local_not_null, 1); /* __local: NULL on the CPU */
    uint64_t n = *(const uint64_t *)argv[3];
    for (size_t blk = b / TG; blk * TG < e; blk++) {
        float l[TG];
        for (size_t t = 0; t < TG; t++) l[t] = blk * TG + t < n ? x[blk * TG + t] : 0.0f;
        for (size_t stride = TG / 2; stride > 0; stride >>= 1)
            for (size_t t = 0; t < stride; t++) l[t] += l[t + stride];
        part[blk] = l[0];
    }
}

static const char TREE_SRC[] =
    "__kernel void pk_ftree(__global const float *x, __global float *part, __local float *l, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0), t = get_local_id(0);\n"
    "    l[t] = i < n ? x[i] : 0.0f;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    for (size_t stride = get_local_size(0) / 2; stride > 0; stride >>= 1) {\n"
    "        if (t < stride) l[t] += l[t + stride];\n"
    "        barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    }\n"
    "    if (t == 0) part[get_group_id(0)] = l[0];\n"
    "}\n";

static const weft_kernel_t TREE = {.name = "pk_ftree", .cpu = tree_cpu, .cl_source = TREE_SRC, .cl_entry = "pk_ftree"};

static void tree_sum_with_local_memory(void **state)
{
    fixture *f = *state;
    /* Reference: the CPU twin over the whole range, folded in block order. */
    size_t nb = (N + TG - 1) / TG;
    float *part = malloc(nb * sizeof *part);
    assert_non_null(part);
    uint64_t n64 = N;
    void *argv[] = {f->x, part, NULL, &n64};
    tree_cpu(0, N, argv);
    float want = 0.0f;
    for (size_t b = 0; b < nb; b++) want += part[b];
    free(part);
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    for (size_t pi = 0; pi < 4; pi++)
        for (int mi = 0; mi < nm; mi++) {
            weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], POLICIES[pi] == WEFT_POLICY_STATIC ? 0 : 320);
            float result = 1.0f, zero = 0.0f;
            weft_arg_t args[] = {
                weft_arg_split(f->x, N * sizeof(float), sizeof(float), WEFT_READ),
                weft_arg_reduce(&result, sizeof result, &zero, fadd),
                weft_arg_local(TG * sizeof(float)),
                weft_arg_scalar(&n64, sizeof n64),
            };
            char what[128];
            snprintf(what, sizeof what, "tree sum %s on %s", wt_policy_name(POLICIES[pi]), mixes[mi].name);
            WT_CHECK(weft_parallel_run(f->rt, &TREE, weft_range_1d(N, TG), args, 4, &pol, WT_PANIC));
            wt_check_stats(f->rt, N, &pol, what);
            if (memcmp(&result, &want, sizeof want) != 0)
                fail_msg("%s: %.9g, expected %.9g", what, (double)result, (double)want);
        }
    assert_int_equal(atomic_load(&local_not_null), 0);
}

/* ---- 2-D: one partial per 2-D block, row-major block order ---------------------- */

#define W 75
#define H 131
#define GX 16
#define GY 4
#define NBX ((W + GX - 1) / GX)

static void fsum2d_cpu(size_t b, size_t e, void *const *argv)
{
    const float *x = argv[0];
    float *part = argv[1];
    for (size_t by = b / GY; by * GY < e; by++)
        for (size_t bx = 0; bx < NBX; bx++) {
            float s = 0.0f;
            for (size_t y = by * GY; y < by * GY + GY && y < H; y++)
                for (size_t xx = bx * GX; xx < bx * GX + GX && xx < W; xx++) s += x[y * W + xx];
            part[by * NBX + bx] = s;
        }
}

#define STR_(x) #x
#define STR(x) STR_(x)
static const char FSUM2D_SRC[] =
    "__kernel void pk_fsum2d(__global const float *x, __global float *part)\n"
    "{\n"
    "    if (get_local_id(0) != 0 || get_local_id(1) != 0) return;\n"
    "    size_t bx = get_group_id(0), by = get_group_id(1);\n"
    "    float s = 0.0f;\n"
    "    for (size_t y = by * " STR(GY) "; y < by * " STR(GY) " + " STR(GY) " && y < " STR(H) "; y++)\n"
    "        for (size_t xx = bx * " STR(GX) "; xx < bx * " STR(GX) " + " STR(GX) " && xx < " STR(W) "; xx++)\n"
    "            s += x[y * " STR(W) " + xx];\n"
    "    part[by * get_num_groups(0) + bx] = s;\n"
    "}\n";

static const weft_kernel_t FSUM2D = {
    .name = "pk_fsum2d", .cpu = fsum2d_cpu, .cl_source = FSUM2D_SRC, .cl_entry = "pk_fsum2d"};

static void sum_2d_blocks(void **state)
{
    fixture *f = *state;
    size_t nby = (H + GY - 1) / GY;
    float *part = malloc(nby * NBX * sizeof *part);
    assert_non_null(part);
    void *argv[] = {f->x, part};
    fsum2d_cpu(0, H, argv);
    float want = 0.0f;
    for (size_t b = 0; b < nby * NBX; b++) want += part[b];
    free(part);
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    for (size_t pi = 0; pi < 4; pi++)
        for (int mi = 0; mi < nm; mi++)
            for (size_t chunk = 0; chunk <= 8; chunk += 8) {
                if (POLICIES[pi] == WEFT_POLICY_STATIC && chunk) continue;
                weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], chunk);
                float result = 7.0f, zero = 0.0f;
                weft_arg_t args[] = {
                    weft_arg_split(f->x, W * H * sizeof(float), W * sizeof(float), WEFT_READ),
                    weft_arg_reduce(&result, sizeof result, &zero, fadd),
                };
                char what[128];
                snprintf(what, sizeof what, "2-D sum %s chunk %zu on %s", wt_policy_name(POLICIES[pi]), chunk,
                         mixes[mi].name);
                WT_CHECK(weft_parallel_run(f->rt, &FSUM2D, weft_range_2d(W, H, GX, GY), args, 2, &pol, WT_PANIC));
                wt_check_stats(f->rt, H, &pol, what);
                if (memcmp(&result, &want, sizeof want) != 0)
                    fail_msg("%s: %.9g, expected %.9g", what, (double)result, (double)want);
            }
}

/* ---- an order-sensitive fold of 16-byte partials ------------------------------ */

typedef struct chain {
    uint64_t count;
    uint64_t hash;
} chain;

static void chain_combine(void *acc, const void *p)
{
    chain *a = acc;
    const chain *c = p;
    a->count += c->count;
    a->hash = a->hash * 1099511628211ull + c->hash; /* not commutative */
}

static void chain_cpu(size_t b, size_t e, void *const *argv)
{
    const uint32_t *v = argv[0];
    chain *part = argv[1];
    uint64_t n = *(const uint64_t *)argv[2];
    for (size_t blk = b / G; blk * G < e; blk++) {
        chain c = {0, 0};
        for (size_t j = blk * G; j < blk * G + G && j < n; j++) {
            c.count++;
            c.hash = c.hash * 31u + v[j];
        }
        part[blk] = c;
    }
}

static const char CHAIN_SRC[] =
    "typedef struct { ulong count; ulong hash; } chain;\n"
    "__kernel void pk_chain(__global const uint *v, __global chain *part, ulong n)\n"
    "{\n"
    "    if (get_local_id(0) != 0) return;\n"
    "    size_t blk = get_group_id(0), g = get_local_size(0);\n"
    "    chain c = {0, 0};\n"
    "    for (size_t j = blk * g; j < blk * g + g && j < n; j++) {\n"
    "        c.count++;\n"
    "        c.hash = c.hash * 31u + v[j];\n"
    "    }\n"
    "    part[blk] = c;\n"
    "}\n";

static const weft_kernel_t CHAIN = {.name = "pk_chain", .cpu = chain_cpu, .cl_source = CHAIN_SRC, .cl_entry = "pk_chain"};

static void ordered_fold_of_structs(void **state)
{
    fixture *f = *state;
    const size_t n = 20011;
    uint32_t *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = (uint32_t)(i * 2654435761u);
    chain want = {0, 0};
    for (size_t lo = 0; lo < n; lo += G) {
        chain c = {0, 0};
        for (size_t j = lo; j < lo + G && j < n; j++) {
            c.count++;
            c.hash = c.hash * 31u + v[j];
        }
        chain_combine(&want, &c);
    }
    assert_int_equal(want.count, n);
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    uint64_t n64 = n;
    for (size_t pi = 0; pi < 4; pi++)
        for (int mi = 0; mi < nm; mi++) {
            weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], POLICIES[pi] == WEFT_POLICY_STATIC ? 0 : 128);
            chain result = {77, 77}, ident = {0, 0};
            weft_arg_t args[] = {
                weft_arg_split(v, n * sizeof *v, sizeof *v, WEFT_READ),
                weft_arg_reduce(&result, sizeof result, &ident, chain_combine),
                weft_arg_scalar(&n64, sizeof n64),
            };
            char what[128];
            snprintf(what, sizeof what, "ordered fold %s on %s", wt_policy_name(POLICIES[pi]), mixes[mi].name);
            WT_CHECK(weft_parallel_run(f->rt, &CHAIN, weft_range_1d(n, G), args, 3, &pol, WT_PANIC));
            wt_check_stats(f->rt, n, &pol, what);
            if (result.count != want.count || result.hash != want.hash)
                fail_msg("%s: {%llu, %llx}, expected {%llu, %llx}", what, (unsigned long long)result.count,
                         (unsigned long long)result.hash, (unsigned long long)want.count,
                         (unsigned long long)want.hash);
        }
    free(v);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->rt = pk_cached_runtime(f->cache, sizeof f->cache, "reduce");
    f->x = malloc(N * sizeof *f->x);
    if (!f->x) return -1;
    fill(f->x, N);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pk_cached_runtime_destroy(f->rt, f->cache);
    free(f->x);
    free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_identical_everywhere),
        cmocka_unit_test(empty_range_gives_identity),
        cmocka_unit_test(tree_sum_with_local_memory),
        cmocka_unit_test(sum_2d_blocks),
        cmocka_unit_test(ordered_fold_of_structs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_parallel_rect.c — split arguments over a band of columns of a wider,
 * padded matrix (weft_arg_split_rect: a chunk of rows is a rectangle):
 *   - a 2-D stencil reading a rectangle with a halo row and writing another,
 *     on every place mix and policy: every cell right, every padding byte
 *     between and around the rows as it was, and on a device alone only the
 *     rectangle's bytes moved;
 *   - two running operations writing different column bands of the same
 *     rows are both accepted; one writing an overlapping band is refused;
 *   - the overlap rule itself (white-box, coexec/engine.h);
 *   - bad rectangles refused with a message. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "coexec/engine.h"
#include "parallel_kernels.h"

/* The matrix: ROWS rows of PITCH floats; the band: columns [COL, COL + W). */
#define ROWS 131
#define PITCH 97
#define COL 13
#define W 61
#define PAD_VALUE -7.0f

static size_t at(size_t x, size_t y) { return y * PITCH + COL + x; }

static float band_cell(const float *in, size_t x, size_t y)
{
    if (x == 0 || y == 0 || x == W - 1 || y == ROWS - 1) return in[at(x, y)] + 1.0f;
    return in[at(x, y)] + in[at(x, y - 1)] + in[at(x, y + 1)] + in[at(x - 1, y)] + in[at(x + 1, y)];
}

static void band_cpu(size_t b, size_t e, void *const *argv)
{
    const float *in = argv[0];
    float *out = argv[1];
    for (size_t y = b; y < e; y++)
        for (size_t x = 0; x < W; x++) out[at(x, y)] = band_cell(in, x, y);
}

static const weft_kernel_t BAND = {
    .name = "rect_band",
    .cpu = band_cpu,
    .cl_source = "#define AT(x, y) ((y) * 97 + 13 + (x))\n"
                 "__kernel void rect_band(__global const float *in, __global float *out)\n"
                 "{\n"
                 "    size_t x = get_global_id(0), y = get_global_id(1);\n"
                 "    if (x >= 61 || y >= 131) return;\n"
                 "    if (x == 0 || y == 0 || x == 60 || y == 130) out[AT(x, y)] = in[AT(x, y)] + 1.0f;\n"
                 "    else out[AT(x, y)] = in[AT(x, y)] + in[AT(x, y - 1)] + in[AT(x, y + 1)] + in[AT(x - 1, y)]\n"
                 "                         + in[AT(x + 1, y)];\n"
                 "}\n",
    .cl_entry = "rect_band"};

static int in_band(size_t i) { return i % PITCH >= COL && i % PITCH < COL + W; }

static void band(weft_runtime_t *rt, const wt_mix *m, weft_policy_kind_t kind)
{
    size_t n = ROWS * PITCH, bytes = n * sizeof(float);
    float *in = malloc(bytes), *out = malloc(bytes);
    assert_true(in && out);
    for (size_t i = 0; i < n; i++) {
        in[i] = in_band(i) ? (float)(i % 17) : 1e30f; /* a kernel reading padding would show */
        out[i] = PAD_VALUE;
    }
    weft_arg_t args[] = {
        weft_arg_split_rect(in, bytes, PITCH * sizeof(float), COL * sizeof(float), W * sizeof(float), WEFT_READ),
        weft_arg_split_rect(out, bytes, PITCH * sizeof(float), COL * sizeof(float), W * sizeof(float), WEFT_WRITE),
    };
    args[0].halo = 1;
    weft_policy_t pol = wt_mix_policy(kind, m, 0);
    char what[128];
    snprintf(what, sizeof what, "band on %s, %s", m->name, wt_policy_name(kind));
    WT_CHECK(weft_parallel_run(rt, &BAND, weft_range_2d(W, ROWS, 16, 4), args, 2, &pol, WT_PANIC));
    weft_run_stats_t st = wt_check_stats(rt, ROWS, &pol, what);
    for (size_t i = 0; i < n; i++) {
        float want = in_band(i) ? band_cell(in, i % PITCH - COL, i / PITCH) : PAD_VALUE;
        if (out[i] != want)
            fail_msg("%s: element %zu (row %zu, column %zu) is %g, want %g", what, i, i / PITCH, i % PITCH,
                     (double)out[i], (double)want);
    }
    if (wt_separate_memory() && !m->use_cpu && m->devices == 1 && kind != WEFT_POLICY_DYNAMIC) {
        /* One place, one chunk: the rectangle of in and of out up, out's
         * back (dynamic cuts chunks, each with its own halo rows). */
        uint64_t rect = (uint64_t)ROWS * W * sizeof(float);
        assert_int_equal(st.bytes_up[1], 2 * rect);
        assert_int_equal(st.bytes_down[1], rect);
    }
    free(in);
    free(out);
}

static void band_every_mix(void **state)
{
    weft_runtime_t *rt = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    for (int i = 0; i < nm; i++) {
        band(rt, &mixes[i], WEFT_POLICY_STATIC);
        band(rt, &mixes[i], WEFT_POLICY_DYNAMIC);
        band(rt, &mixes[i], WEFT_POLICY_GUIDED);
    }
}

/* ---- borrows of column bands ------------------------------------------------------- */

static atomic_int gate;

/* out[y * 8 + c] = c + 100 * y for the 4 columns from argv[1]'s start; only
 * the first piece waits (a worker stays free for the next operation). */
static void cols_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0];
    uint32_t first = *(const uint32_t *)argv[1];
    if (argv[2] && b == 0) wt_gate_hold(&gate);
    for (size_t y = b; y < e; y++)
        for (uint32_t c = first; c < first + 4; c++) out[y * 8 + c] = c + 100 * (uint32_t)y;
}

static const weft_kernel_t COLS = {.name = "rect_cols", .cpu = cols_cpu};

static void bands_borrow_apart(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    enum { R = 256 };
    uint32_t *out = calloc(R * 8, sizeof *out);
    assert_non_null(out);
    size_t bytes = R * 8 * sizeof *out, pitch = 8 * sizeof *out, w = 4 * sizeof *out;
    uint32_t left = 0, right = 4, mid = 2;
    int gated = 1;
    weft_arg_t a_left[] = {weft_arg_split_rect(out, bytes, pitch, 0, w, WEFT_WRITE), weft_arg_scalar(&left, 4),
                           weft_arg_scalar(&gated, sizeof gated)};
    weft_arg_t a_right[] = {weft_arg_split_rect(out, bytes, pitch, 4 * sizeof *out, w, WEFT_WRITE),
                            weft_arg_scalar(&right, 4), weft_arg_local(1)};
    weft_arg_t a_mid[] = {weft_arg_split_rect(out, bytes, pitch, 2 * sizeof *out, w, WEFT_WRITE),
                          weft_arg_scalar(&mid, 4), weft_arg_local(1)};
    atomic_store(&gate, 0);
    weft_handle_t *h;
    WT_CHECK(weft_parallel_for(rt, &COLS, weft_range_1d(R, 64), a_left, 3, NULL, &h));
    /* Columns 2-5 meet columns 0-3 in every row: refused. */
    assert_int_equal(weft_parallel_run(rt, &COLS, weft_range_1d(R, 64), a_mid, 3, NULL, NULL), WEFT_EBORROW);
    wt_assert_contains(weft_last_error_message(), "running kernel 'rect_cols'");
    /* Columns 4-7 of the same rows: accepted, while the first still runs. */
    WT_CHECK(weft_parallel_run(rt, &COLS, weft_range_1d(R, 64), a_right, 3, NULL, WT_PANIC));
    atomic_store(&gate, 1);
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    for (size_t y = 0; y < R; y++)
        for (uint32_t c = 0; c < 8; c++)
            if (out[y * 8 + c] != c + 100 * y) fail_msg("row %zu column %u is %u", y, c, out[y * 8 + c]);
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- the overlap rule ---------------------------------------------------------------- */

static weft__region rect(const char *base, size_t origin, size_t pitch, size_t width, size_t rows)
{
    return (weft__region){base + origin, base + origin + (rows - 1) * pitch + width, pitch, width, 0};
}

static weft__region range(const char *base, size_t lo, size_t hi) { return (weft__region){base + lo, base + hi, 0, 0, 0}; }

static void overlap_rule(void **state)
{
    (void)state;
    static char m[4096];
    weft__region a = rect(m, 0, 100, 40, 10), b = rect(m, 40, 100, 60, 10), c = rect(m, 30, 100, 20, 10);
    assert_false(weft__region_overlap(&a, &b)); /* bands side by side */
    assert_false(weft__region_overlap(&b, &a));
    assert_true(weft__region_overlap(&a, &c)); /* bands that meet */
    assert_true(weft__region_overlap(&c, &b));
    weft__region later = rect(m, 1000, 100, 40, 5), shifted = rect(m, 980, 100, 40, 2);
    assert_false(weft__region_overlap(&a, &later));      /* the same band, later rows */
    assert_true(weft__region_overlap(&shifted, &later)); /* a band 20 bytes left: rows meet */
    weft__region touching = rect(m, 960, 100, 40, 2);
    assert_false(weft__region_overlap(&touching, &later)); /* ends where the other begins */
    weft__region gap = range(m, 45, 95), hit = range(m, 45, 101), before = range(m, 0, 1);
    assert_false(weft__region_overlap(&gap, &a)); /* inside the padding of row 0 */
    assert_true(weft__region_overlap(&hit, &a));  /* reaches row 1 */
    assert_true(weft__region_overlap(&before, &a));
    weft__region after = range(m, 940, 2000);
    assert_false(weft__region_overlap(&after, &a)); /* past the last row */
    weft__region other_pitch = rect(m, 45, 50, 5, 3); /* different pitch: the ranges decide */
    assert_true(weft__region_overlap(&other_pitch, &a));
}

/* ---- write-set checking of a rectangle ------------------------------------------------- */

/* Writes its band of 4 columns (pitch 8) and, with spill set, one column
 * more: the padding beside the band. */
static const char SPILL_SRC[] = "__kernel void rect_spill(__global uint *out, uint spill)\n"
                                "{ size_t y = get_global_id(0); for (uint c = 2; c < 6 + spill; c++) out[y * 8 + c] = c; }\n";

static void checked_rectangle(void **state)
{
    (void)state;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.separate_memory = 1;
    o.check_writes = 1;
    weft_runtime_t *rt = NULL;
    WT_CHECK(weft_runtime_create(&o, &rt));
    if (weft_device_count(rt) < 1) {
        weft_runtime_destroy(rt);
        skip();
    }
    const weft_kernel_t spill_k = {.name = "rect_spill", .cl_source = SPILL_SRC, .cl_entry = "rect_spill"};
    uint32_t out[64 * 8] = {0};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = 1;
    for (uint32_t spill = 0; spill < 2; spill++) {
        weft_arg_t args[] = {weft_arg_split_rect(out, sizeof out, 8 * sizeof *out, 2 * sizeof *out, 4 * sizeof *out,
                                                 WEFT_WRITE),
                             weft_arg_scalar(&spill, sizeof spill)};
        weft_panic_t *why = NULL;
        int rc = weft_parallel_run(rt, &spill_k, weft_range_1d(64, 16), args, 2, &pol, &why);
        if (!spill) {
            WT_CHECK(rc);
            for (size_t i = 0; i < 64 * 8; i++) assert_int_equal(out[i], i % 8 >= 2 && i % 8 < 6 ? i % 8 : 0);
            continue;
        }
        /* Column 6 is padding: caught, with the first byte it changed. */
        assert_int_equal(rc, WEFT_EPANIC);
        wt_assert_contains(weft_panic_message(why), "wrote outside its declared bytes");
        wt_assert_contains(weft_panic_message(why), "byte 24 changed");
        weft_panic_destroy(why);
    }
    weft_runtime_destroy(rt);
}

/* ---- bad rectangles ------------------------------------------------------------------- */

static void bad_rectangles(void **state)
{
    weft_runtime_t *rt = *state;
    float v[64];
    weft_policy_t pol;
    weft_policy_init(&pol);
    weft_arg_t wide[] = {weft_arg_split_rect(v, sizeof v, 16, 0, 20, WEFT_WRITE)};
    assert_int_equal(weft_parallel_run(rt, &COLS, weft_range_1d(4, 4), wide, 1, &pol, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "a row of 20 bytes does not fit the pitch of 16");
    weft_arg_t small[] = {weft_arg_split_rect(v, sizeof v, 64, 8, 16, WEFT_WRITE)};
    assert_int_equal(weft_parallel_run(rt, &COLS, weft_range_1d(5, 4), small, 1, &pol, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "array of 256 bytes is smaller than the 280");
    weft_array_t *arr;
    WT_CHECK(weft_array_create(rt, v, sizeof v, &arr));
    weft_arg_t reg[] = {weft_arg_on(weft_arg_split_rect(v, sizeof v, 16, 0, 8, WEFT_WRITE), arr)};
    assert_int_equal(weft_parallel_run(rt, &COLS, weft_range_1d(4, 4), reg, 1, &pol, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "cannot be on a registered array");
    WT_CHECK(weft_array_destroy(arr));
}

static int setup(void **state)
{
    *state = wt_runtime(2, WT_ALL_DEVICES, 0);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    weft_runtime_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(band_every_mix),
        cmocka_unit_test(bands_borrow_apart),
        cmocka_unit_test(overlap_rule),
        cmocka_unit_test(checked_rectangle),
        cmocka_unit_test(bad_rectangles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

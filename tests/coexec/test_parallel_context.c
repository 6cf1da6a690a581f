/* test_parallel_context.c — CPU bodies with a context (weft_kernel_t::cpu_ctx)
 * and reductions whose combine has one (weft_arg_reduce_ctx):
 *   - 1-D and 2-D, CPU only, every policy: every element written once and
 *     right; each call's context is consistent (the whole range as given;
 *     whole work-groups inside it, begin = group_begin * group; group and
 *     block counts; the kernel's user pointer) and the pieces tile the range
 *     exactly once; the combine sees the user pointer and the blocks in
 *     order, and its weights per block give the exact expected result;
 *   - an old body (weft_range_fn) keeps working, with the old combine and
 *     with a combine with context (which still gets the user pointer);
 *   - the CPU and the devices together (skipped without a device);
 *   - a kernel with both CPU bodies, a reduction with both combines or none:
 *     WEFT_EINVAL with a message, and nothing runs;
 *   - an empty range: the combine is never called, the result is the
 *     identity. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 20011 /* not a multiple of G: the last group is short */
#define G 16
#define W 37    /* 2-D: columns, in groups of GX (the last short) */
#define H 203   /* 2-D: rows, in groups of GY (the last short) */
#define GX 8
#define GY 4
#define SEED 7u
#define MAX_PIECES 4096
#define MAX_BLOCKS 4096

static const weft_policy_kind_t POLICIES[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                              WEFT_POLICY_ADAPTIVE};

/* What the bodies and the combine saw: the kernel's user pointer. */
typedef struct record {
    atomic_size_t npieces;
    weft_chunk_ctx_t pieces[MAX_PIECES]; /* each body call's context, in call order */
    uint64_t weight[MAX_BLOCKS];         /* the combine's weight per block */
    size_t next_block;                   /* the block the combine expects next */
    int combine_bad;                     /* the combine saw a wrong context */
    char combine_why[256];
} record;

typedef struct fixture {
    weft_runtime_t *rt;
    char cache[256];
    record *rec;
    uint32_t *out, *cnt;
} fixture;

static void note_piece(const weft_chunk_ctx_t *c)
{
    record *r = c->user;
    size_t i = atomic_fetch_add(&r->npieces, 1);
    if (i < MAX_PIECES) r->pieces[i] = *c;
}

/* ---- the kernels ---------------------------------------------------------------- */

/* Element (x, y) of a range: its value is pk_f(y, seed) in 1-D (x is 0),
 * pk_f2(x, y, width, seed) in 2-D; it lives at out[y * width + x] (width 1
 * in 1-D). Each block's partial is the sum of its values (uint64, wrapping
 * alike everywhere).
 * Args: out (write, a row per split index), cnt (read-write), seed (uint),
 * n (ulong, split indices), partials. */
static size_t width_of(weft_range_t r) { return r.dims == 2 ? r.size[0] : 1; }

static uint32_t cell(weft_range_t r, size_t x, size_t y, uint32_t seed)
{
    return r.dims == 2 ? pk_f2(x, y, r.size[0], seed) : pk_f(y, seed);
}

/* Work-group (gx, gy)'s partial: gx across, gy along the split. */
static uint64_t block_sum(weft_range_t r, size_t gx, size_t gy, uint32_t seed)
{
    size_t gw = r.dims == 2 ? r.group[0] : 1, gh = r.group[r.dims - 1], h = r.size[r.dims - 1];
    uint64_t s = 0;
    for (size_t y = gy * gh; y < (gy + 1) * gh && y < h; y++)
        for (size_t x = gx * gw; x < (gx + 1) * gw && x < width_of(r); x++) s += cell(r, x, y, seed);
    return s;
}

/* Rows [b, e) and the partials of their blocks, from block `first` on. */
static void fill_rows(weft_range_t r, size_t b, size_t e, size_t first, void *const *argv)
{
    uint32_t *out = argv[0], *cnt = argv[1];
    uint32_t seed = *(const uint32_t *)argv[2];
    uint64_t *part = argv[4];
    size_t w = width_of(r), gh = r.group[r.dims - 1], across = r.dims == 2 ? (w + r.group[0] - 1) / r.group[0] : 1;
    for (size_t y = b; y < e; y++)
        for (size_t x = 0; x < w; x++) {
            out[y * w + x] = cell(r, x, y, seed);
            cnt[y * w + x] += 1;
        }
    for (size_t gy = b / gh; gy * gh < e; gy++)
        for (size_t gx = 0; gx < across; gx++) part[first++] = block_sum(r, gx, gy, seed);
}

static void fill_ctx(const weft_chunk_ctx_t *c, void *const *argv)
{
    note_piece(c);
    fill_rows(c->range, c->begin, c->end, c->block, argv);
}

/* The same as a plain body (1-D): without a context, the range is the test's. */
static void fill_plain(size_t b, size_t e, void *const *argv)
{
    weft_range_t r = weft_range_1d((size_t)*(const uint64_t *)argv[3], G);
    fill_rows(r, b, e, b / G, argv);
}

/* One work-item per group does the group's elements and its partial, as
 * the CPU body does. */
static const char FILL_SRC[] =
    "__kernel void ctx_fill(__global uint *out, __global uint *cnt, uint seed, ulong n, __global ulong *part)\n"
    "{\n"
    "    if (get_local_id(0) != 0) return;\n"
    "    size_t gs = get_local_size(0), lo = get_group_id(0) * gs, hi = lo + gs < n ? lo + gs : n;\n"
    "    ulong s = 0;\n"
    "    for (size_t j = lo; j < hi; j++) {\n"
    "        uint v = (uint)j * 2654435761u + seed;\n"
    "        out[j] = v;\n"
    "        cnt[j] += 1u;\n"
    "        s += v;\n"
    "    }\n"
    "    part[get_group_id(0)] = s;\n"
    "}\n";

/* acc += weight[block] * partial, the weights from the user pointer; the
 * context must name the blocks in order, with the work-group holding each. */
static void weighted_add(void *acc, const void *partial, const weft_chunk_ctx_t *c)
{
    record *r = c->user;
    if (!r) return; /* nothing to record into: the result shows it */
    size_t n = c->range.size[c->range.dims - 1], g = c->group, across = c->groups_across;
    size_t gb = c->block / (across ? across : 1);
    if (!r->combine_bad && (c->block != r->next_block || c->block >= c->num_blocks || c->block >= MAX_BLOCKS ||
                            c->group_begin != gb || c->group_end != gb + 1 || c->begin != gb * g ||
                            c->end != ((gb + 1) * g < n ? (gb + 1) * g : n))) {
        r->combine_bad = 1;
        snprintf(r->combine_why, sizeof r->combine_why,
                 "block %zu (expected %zu of %zu), groups [%zu, %zu), indices [%zu, %zu)", c->block, r->next_block,
                 c->num_blocks, c->group_begin, c->group_end, c->begin, c->end);
    }
    r->next_block++;
    *(uint64_t *)acc += r->weight[c->block % MAX_BLOCKS] * *(const uint64_t *)partial;
}

static void plain_add(void *acc, const void *partial) { *(uint64_t *)acc += *(const uint64_t *)partial; }

static const weft_kernel_t FILL_CPU = {.name = "ctx_fill cpu", .cpu_ctx = fill_ctx};
static const weft_kernel_t FILL_BOTH = {
    .name = "ctx_fill", .cl_source = FILL_SRC, .cl_entry = "ctx_fill", .cpu_ctx = fill_ctx};

/* ---- checks ------------------------------------------------------------------------- */

static void reset(fixture *f, size_t elems)
{
    record *r = f->rec;
    atomic_store(&r->npieces, 0);
    r->next_block = 0;
    r->combine_bad = 0;
    r->combine_why[0] = 0;
    for (size_t b = 0; b < MAX_BLOCKS; b++) r->weight[b] = 3 * (uint64_t)b + 1;
    pk_fill(f->out, f->cnt, elems);
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* One body call's context against the range and the user pointer. */
static void check_piece(const weft_chunk_ctx_t *c, weft_range_t rg, const void *user, const char *what)
{
    size_t n = rg.size[rg.dims - 1], g = rg.group[rg.dims - 1];
    size_t across = rg.dims == 2 ? ceil_div(rg.size[0], rg.group[0]) : 1, groups = ceil_div(n, g);
    if (c->range.dims != rg.dims || c->range.size[0] != rg.size[0] || c->range.size[1] != rg.size[1] ||
        c->range.group[0] != rg.group[0] || c->range.group[1] != rg.group[1])
        fail_msg("%s: the context's range is %u-D %zu x %zu in %zu x %zu, not the one given", what, c->range.dims,
                 c->range.size[0], c->range.size[1], c->range.group[0], c->range.group[1]);
    if (c->group != g || c->num_groups != groups || c->groups_across != across || c->num_blocks != groups * across)
        fail_msg("%s: group %zu, %zu groups, %zu across, %zu blocks; expected %zu, %zu, %zu, %zu", what, c->group,
                 c->num_groups, c->groups_across, c->num_blocks, g, groups, across, groups * across);
    if (c->group_begin >= c->group_end || c->group_end > groups || c->begin != c->group_begin * g ||
        c->end != (c->group_end * g < n ? c->group_end * g : n))
        fail_msg("%s: piece [%zu, %zu) of groups [%zu, %zu) is not whole groups of %zu inside [0, %zu)", what,
                 c->begin, c->end, c->group_begin, c->group_end, g, n);
    if (c->block != c->group_begin * across)
        fail_msg("%s: piece of groups [%zu, %zu) has first block %zu, expected %zu", what, c->group_begin,
                 c->group_end, c->block, c->group_begin * across);
    if (c->user != user) fail_msg("%s: user pointer %p, expected %p", what, c->user, user);
}

static const weft_chunk_ctx_t *pieces_sorted;

static int by_begin(const void *a, const void *b)
{
    size_t x = pieces_sorted[*(const size_t *)a].begin, y = pieces_sorted[*(const size_t *)b].begin;
    return x < y ? -1 : x > y;
}

/* Every piece consistent; when `tile`, together they cover [0, n) once. */
static void check_pieces(const record *r, weft_range_t rg, int tile, const char *what)
{
    size_t np = atomic_load(&r->npieces), n = rg.size[rg.dims - 1];
    if (np > MAX_PIECES) fail_msg("%s: %zu pieces", what, np);
    for (size_t i = 0; i < np; i++) check_piece(&r->pieces[i], rg, r, what);
    if (!tile) return;
    static size_t order[MAX_PIECES];
    for (size_t i = 0; i < np; i++) order[i] = i;
    pieces_sorted = r->pieces;
    qsort(order, np, sizeof *order, by_begin);
    size_t at = 0;
    for (size_t k = 0; k < np; k++) {
        const weft_chunk_ctx_t *c = &r->pieces[order[k]];
        if (c->begin != at) fail_msg("%s: piece [%zu, %zu) follows %zu: a gap or an overlap", what, c->begin, c->end, at);
        at = c->end;
    }
    if (at != n) fail_msg("%s: the pieces end at %zu, not %zu", what, at, n);
}

/* The combine saw every block once, in order, with a right context. */
static void check_combine(const record *r, size_t nblocks, const char *what)
{
    if (r->combine_bad) fail_msg("%s: combine context wrong: %s", what, r->combine_why);
    if (r->next_block != nblocks) fail_msg("%s: combine called %zu times for %zu blocks", what, r->next_block, nblocks);
}

/* The weighted fold of range r's block sums. */
static uint64_t expect(const record *r, weft_range_t rg)
{
    size_t across = rg.dims == 2 ? ceil_div(rg.size[0], rg.group[0]) : 1;
    size_t nblocks = ceil_div(rg.size[rg.dims - 1], rg.group[rg.dims - 1]) * across;
    uint64_t want = 0;
    for (size_t b = 0; b < nblocks; b++) want += r->weight[b] * block_sum(rg, b % across, b / across, SEED);
    return want;
}

/* Every element of rg written once and right; the guards after it untouched. */
static void check_cells(const fixture *f, weft_range_t rg, const char *what)
{
    size_t w = width_of(rg), h = rg.size[rg.dims - 1];
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            if (f->cnt[y * w + x] != 1 || f->out[y * w + x] != cell(rg, x, y, SEED))
                fail_msg("%s: element (%zu, %zu) is 0x%08x, written %u times", what, x, y, f->out[y * w + x],
                         f->cnt[y * w + x]);
    for (size_t i = w * h; i < w * h + PK_PAD; i++)
        if (f->out[i] != PK_SENTINEL || f->cnt[i]) fail_msg("%s: guard element %zu written", what, i);
}

static const wt_mix CPU_ONLY = {"cpu", 1, 0};

/* The arguments over rg, with a weighted reduction into *sum (a plain one
 * when plain is set). */
typedef struct request {
    uint32_t seed;
    uint64_t n64, zero;
    weft_arg_t args[5];
} request;

static void request_init(request *q, fixture *f, weft_range_t rg, int plain, uint64_t *sum)
{
    size_t rows = rg.size[rg.dims - 1], row = width_of(rg) * sizeof *f->out;
    q->seed = SEED;
    q->n64 = rows;
    q->zero = 0;
    q->args[0] = weft_arg_split(f->out, rows * row, row, WEFT_WRITE);
    q->args[1] = weft_arg_split(f->cnt, rows * row, row, WEFT_READ_WRITE);
    q->args[2] = weft_arg_scalar(&q->seed, sizeof q->seed);
    q->args[3] = weft_arg_scalar(&q->n64, sizeof q->n64);
    q->args[4] = plain ? weft_arg_reduce(sum, sizeof *sum, &q->zero, plain_add)
                       : weft_arg_reduce_ctx(sum, sizeof *sum, &q->zero, weighted_add);
}

/* Run kernel k (user: the record) over rg; the reduction's result in *sum. */
static int run(fixture *f, const weft_kernel_t *k, weft_range_t rg, const weft_policy_t *pol, int plain,
               uint64_t *sum, weft_panic_t **p)
{
    request q;
    request_init(&q, f, rg, plain, sum);
    weft_kernel_t kk = *k;
    kk.user = f->rec;
    *sum = 0x5555;
    return weft_parallel_run(f->rt, &kk, rg, q.args, 5, pol, p);
}

/* Run FILL_CPU over rg with pol and check everything: elements, pieces
 * (tiling the range), the combine's contexts and the weighted sum. */
static void run_and_check(fixture *f, weft_range_t rg, const weft_policy_t *pol, const char *what)
{
    size_t across = rg.dims == 2 ? ceil_div(rg.size[0], rg.group[0]) : 1;
    size_t rows = rg.size[rg.dims - 1], nblocks = ceil_div(rows, rg.group[rg.dims - 1]) * across;
    reset(f, width_of(rg) * rows);
    uint64_t got;
    WT_CHECK(run(f, &FILL_CPU, rg, pol, 0, &got, WT_PANIC));
    check_cells(f, rg, what);
    check_pieces(f->rec, rg, 1, what);
    if (atomic_load(&f->rec->npieces) < 2) fail_msg("%s: the CPU place never cut the range", what);
    check_combine(f->rec, nblocks, what);
    uint64_t want = expect(f->rec, rg);
    if (got != want)
        fail_msg("%s: weighted sum %llu, expected %llu", what, (unsigned long long)got, (unsigned long long)want);
    wt_check_stats(f->rt, rows, pol, what);
}

/* ---- cases ---------------------------------------------------------------------------- */

static void context_1d_cpu(void **state)
{
    fixture *f = *state;
    for (size_t k = 0; k < sizeof POLICIES / sizeof *POLICIES; k++)
        for (size_t chunk = 0; chunk <= 64 * G; chunk += 64 * G) {
            char what[128];
            snprintf(what, sizeof what, "1-D %s chunk %zu", wt_policy_name(POLICIES[k]), chunk);
            weft_policy_t pol = wt_mix_policy(POLICIES[k], &CPU_ONLY, chunk);
            run_and_check(f, weft_range_1d(N, G), &pol, what);
        }
}

static void context_2d_cpu(void **state)
{
    fixture *f = *state;
    for (size_t k = 0; k < sizeof POLICIES / sizeof *POLICIES; k++) {
        char what[128];
        snprintf(what, sizeof what, "2-D %s", wt_policy_name(POLICIES[k]));
        weft_policy_t pol = wt_mix_policy(POLICIES[k], &CPU_ONLY, 0);
        run_and_check(f, weft_range_2d(W, H, GX, GY), &pol, what);
    }
}

/* A plain body keeps working, with a plain combine, and a combine with
 * context gets the kernel's user pointer with it. */
static void plain_body(void **state)
{
    fixture *f = *state;
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_GUIDED, &CPU_ONLY, 0);
    const weft_kernel_t plain = {.name = "ctx_fill plain", .cpu = fill_plain};
    const weft_range_t rg = weft_range_1d(N, G);
    for (int plain_combine = 0; plain_combine < 2; plain_combine++) {
        const char *what = plain_combine ? "plain body, plain combine" : "plain body, combine with context";
        reset(f, N);
        uint64_t got, want = 0;
        WT_CHECK(run(f, &plain, rg, &pol, plain_combine, &got, WT_PANIC));
        check_cells(f, rg, what);
        assert_int_equal(atomic_load(&f->rec->npieces), 0);
        if (plain_combine) {
            for (size_t i = 0; i < N; i++) want += pk_f(i, SEED);
            check_combine(f->rec, 0, what);
        } else {
            want = expect(f->rec, rg);
            check_combine(f->rec, ceil_div(N, G), what);
        }
        if (got != want)
            fail_msg("%s: sum %llu, expected %llu", what, (unsigned long long)got, (unsigned long long)want);
    }
}

/* The CPU and the devices share the range: the CPU's pieces are consistent,
 * every element is written once, the weighted fold is exact. */
static void context_with_devices(void **state)
{
    fixture *f = *state;
    if (weft_device_count(f->rt) == 0) {
        fprintf(stderr, "note: no OpenCL device: the CPU-and-device case is skipped\n");
        skip();
    }
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    static const weft_policy_kind_t kinds[] = {WEFT_POLICY_GUIDED, WEFT_POLICY_DYNAMIC};
    const weft_range_t rg = weft_range_1d(N, G);
    for (int mi = 0; mi < nm; mi++)
        for (size_t k = 0; k < 2; k++) {
            char what[128];
            snprintf(what, sizeof what, "%s on %s", wt_policy_name(kinds[k]), mixes[mi].name);
            weft_policy_t pol = wt_mix_policy(kinds[k], &mixes[mi], kinds[k] == WEFT_POLICY_DYNAMIC ? 64 * G : 0);
            reset(f, N);
            uint64_t got;
            WT_CHECK(run(f, &FILL_BOTH, rg, &pol, 0, &got, WT_PANIC));
            check_cells(f, rg, what);
            check_pieces(f->rec, rg, !mixes[mi].devices, what);
            check_combine(f->rec, ceil_div(N, G), what);
            uint64_t want = expect(f->rec, rg);
            if (got != want) fail_msg("%s: weighted sum %llu, expected %llu", what, (unsigned long long)got,
                                      (unsigned long long)want);
            weft_run_stats_t st = wt_check_stats(f->rt, N, &pol, what);
            if (mixes[mi].use_cpu && st.items[0] && !atomic_load(&f->rec->npieces))
                fail_msg("%s: the CPU did %zu indices without a body call", what, st.items[0]);
        }
}

/* The request is refused with EINVAL and `needle` in the message; no body
 * ran and nothing was written. */
static void expect_refused(fixture *f, const weft_kernel_t *k, const weft_arg_t *args, size_t nargs,
                           const char *needle)
{
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_GUIDED, &CPU_ONLY, 0);
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)0x1;
    int rc = weft_parallel_for(f->rt, k, weft_range_1d(N, G), args, nargs, &pol, &h);
    if (rc != WEFT_EINVAL) fail_msg("%s: returned %s, expected WEFT_EINVAL", needle, weft_err_name(rc));
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), needle);
    assert_int_equal(atomic_load(&f->rec->npieces), 0);
    for (size_t i = 0; i < N + PK_PAD; i++)
        if (f->out[i] != PK_SENTINEL || f->cnt[i]) fail_msg("%s: element %zu written by a refused run", needle, i);
}

static void refused_requests(void **state)
{
    fixture *f = *state;
    reset(f, N);
    uint64_t sum = 0;
    request q;
    request_init(&q, f, weft_range_1d(N, G), 0, &sum);
    weft_arg_t *args = q.args;
    /* weft_arg_reduce_ctx's descriptor */
    assert_int_equal(args[4].kind, WEFT_ARG_REDUCE);
    assert_ptr_equal(args[4].data, &sum);
    assert_int_equal(args[4].unit, sizeof sum);
    assert_ptr_equal(args[4].value, &q.zero);
    assert_null(args[4].combine);
    assert_true(args[4].combine_ctx == weighted_add);

    weft_kernel_t both = {.name = "two bodies", .cpu = fill_plain, .cpu_ctx = fill_ctx, .user = f->rec};
    expect_refused(f, &both, args, 5, "kernel 'two bodies' has two CPU bodies, cpu and cpu_ctx");

    weft_kernel_t k = {.name = "ctx_fill", .cpu_ctx = fill_ctx, .user = f->rec};
    args[4].combine = plain_add;
    expect_refused(f, &k, args, 5, "argument 4: a reduction has two combines, combine and combine_ctx");
    args[4].combine = NULL;
    args[4].combine_ctx = NULL;
    expect_refused(f, &k, args, 5, "argument 4: a reduction needs result, identity, combine");
    assert_true(sum == 0);
}

/* An empty range: no body call, no combine call, the identity. */
static void empty_range(void **state)
{
    fixture *f = *state;
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_GUIDED, &CPU_ONLY, 0);
    reset(f, 0);
    uint64_t got;
    WT_CHECK(run(f, &FILL_CPU, weft_range_1d(0, G), &pol, 0, &got, WT_PANIC));
    assert_true(got == 0);
    assert_int_equal(atomic_load(&f->rec->npieces), 0);
    check_combine(f->rec, 0, "empty range");
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->rt = pk_cached_runtime(f->cache, sizeof f->cache, "context");
    f->rec = calloc(1, sizeof *f->rec);
    f->out = malloc((N + PK_PAD) * sizeof *f->out);
    f->cnt = malloc((N + PK_PAD) * sizeof *f->cnt);
    if (!f->rec || !f->out || !f->cnt) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pk_cached_runtime_destroy(f->rt, f->cache);
    free(f->rec);
    free(f->out);
    free(f->cnt);
    free(f);
    return 0;
}

int main(void)
{
    _Static_assert(W * H <= N, "the 2-D case uses the 1-D arrays");
    _Static_assert((N + G - 1) / G <= MAX_BLOCKS, "a weight per block");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(context_1d_cpu),
        cmocka_unit_test(context_2d_cpu),
        cmocka_unit_test(plain_body),
        cmocka_unit_test(context_with_devices),
        cmocka_unit_test(refused_requests),
        cmocka_unit_test(empty_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_mpi_plan.c — how a plan splits a range over ranks (run under mpirun
 * with any number of ranks): even without speed models, in proportion to
 * the models' speeds with them, whole work-groups, contiguous, in rank
 * order; the rows a distributed rank holds; a part of a range in one
 * process runs only its work-groups. */
#include "mpi_test.h"

#include <unistd.h>

static char cache[256];

static void touch(size_t begin, size_t end, void *const *argv)
{
    int *v = argv[0];
    for (size_t i = begin; i < end; i++) v[i] += 1;
}

static const weft_kernel_t plan_k = {.name = "mpi_plan_k", .cpu = touch};
static const weft_kernel_t plan_k2 = {.name = "mpi_plan_k2", .cpu = touch};

static weft_runtime_t *runtime(int threads)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = threads;
    o.devices = "none";
    weft_runtime_t *rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), 0);
    return rt;
}

/* Every rank's block: whole groups, contiguous, in rank order, covering n. */
static void check_blocks(const weft_mpi_plan_t *p, size_t n, size_t group, size_t halo)
{
    size_t at = 0;
    for (int q = 0; q < wt_mpi_size; q++) {
        weft_mpi_rows_t r;
        assert_int_equal(weft_mpi_plan_rows(p, q, &r), 0);
        assert_int_equal(r.n, n);
        assert_int_equal(r.begin, at);
        assert_true(r.end >= r.begin);
        assert_true(r.begin % group == 0);
        assert_true(r.end % group == 0 || r.end == n);
        assert_int_equal(r.first, r.begin > halo ? r.begin - halo : 0);
        assert_int_equal(r.last, r.end + halo < n ? r.end + halo : n);
        at = r.end;
    }
    assert_int_equal(at, n);
    weft_mpi_rows_t r;
    assert_int_equal(weft_mpi_plan_rows(p, wt_mpi_size, &r), WEFT_EINVAL);
    assert_non_null(strstr(weft_last_error_message(), "does not exist"));
}

/* No model: an even split, to a work-group. */
static void even_without_model(void **state)
{
    (void)state;
    weft_runtime_t *rt = runtime(1);
    size_t n = 64 * 101 + 5, group = 64;
    weft_mpi_plan_t *p;
    assert_int_equal(weft_mpi_plan_create(rt, MPI_COMM_WORLD, &plan_k, weft_range_1d(n, group), NULL, 2, &p), 0);
    check_blocks(p, n, group, 2);
    size_t groups = (n + group - 1) / group;
    for (int q = 0; q < wt_mpi_size; q++) {
        weft_mpi_rows_t r;
        weft_mpi_plan_rows(p, q, &r);
        size_t g = (r.end - r.begin + group - 1) / group;
        assert_true(g + 1 >= groups / (size_t)wt_mpi_size && g <= groups / (size_t)wt_mpi_size + 1);
    }
    weft_mpi_plan_destroy(p);
    weft_runtime_destroy(rt);
}

/* Rank 0 writes kernel's model: rank q's CPU place (q + 1 threads) at
 * 1000 (q + 1) indices per second, under the size class of an even share of
 * n indices in groups of `group`, plus `shift`; then a runtime of q + 1
 * threads and an adaptive CPU policy for each rank. */
static weft_runtime_t *with_models(const char *kernel, size_t n, size_t group, int shift, weft_policy_t *pol)
{
    /* The key of a share's size class: 2^k with k = floor(log2(groups)). */
    int cls = 0;
    for (size_t g = n / (size_t)wt_mpi_size / group; g > 1; g >>= 1) cls++;
    if (wt_mpi_rank == 0) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.model", cache, kernel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int q = 0; q < wt_mpi_size; q++) fprintf(f, "2^%d cpu:%d\t%d\n", cls + shift, q + 1, 1000 * (q + 1));
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    weft_policy_init(pol);
    pol->kind = WEFT_POLICY_ADAPTIVE;
    pol->devices = 0;
    return runtime(wt_mpi_rank + 1);
}

/* With a model for every rank's places, the blocks follow the speeds: rank
 * q's CPU place (q + 1 threads, a key of its own) is stored (q + 1) times as
 * fast as rank 0's (with_models). */
static void split_follows_models(void **state)
{
    (void)state;
    size_t n = 64 * 1000, group = 64;
    weft_policy_t pol;
    weft_runtime_t *rt = with_models(plan_k.name, n, group, 0, &pol);
    double v = 0;
    assert_int_equal(weft_parallel_speed(rt, &plan_k, weft_range_1d(n, group), &pol, n / (size_t)wt_mpi_size, &v), 1);
    assert_true(v == 1000.0 * (wt_mpi_rank + 1));
    weft_mpi_plan_t *p;
    assert_int_equal(weft_mpi_plan_create(rt, MPI_COMM_WORLD, &plan_k, weft_range_1d(n, group), &pol, 0, &p), 0);
    check_blocks(p, n, group, 0);
    double total = wt_mpi_size * (wt_mpi_size + 1) / 2.0, sum = 0;
    for (int q = 0; q < wt_mpi_size; q++) {
        weft_mpi_rows_t r;
        weft_mpi_plan_rows(p, q, &r);
        sum += q + 1;
        double want_end = (double)n * sum / total;
        assert_true((double)r.end > want_end - (double)group && (double)r.end < want_end + (double)group);
    }
    /* The call runs on those blocks, and each index once. */
    int *v_arr = calloc(n, sizeof *v_arr);
    weft_arg_t a = weft_arg_split(v_arr, n * sizeof *v_arr, sizeof *v_arr, WEFT_READ_WRITE);
    weft_panic_t *pn = NULL;
    assert_int_equal(weft_mpi_run(p, &plan_k, &a, 1, &pol, NULL, &pn), 0);
    for (size_t i = 0; i < n; i++) assert_int_equal(v_arr[i], 1);
    weft_mpi_stats_t st;
    assert_int_equal(weft_mpi_plan_stats(p, &st), 0);
    weft_mpi_rows_t mine;
    weft_mpi_plan_rows(p, wt_mpi_rank, &mine);
    assert_int_equal(st.begin, mine.begin);
    assert_int_equal(st.end, mine.end);
    /* Each rank sent its rows to every other rank. */
    assert_int_equal(st.bytes_sent, (uint64_t)(mine.end - mine.begin) * sizeof(int) * (uint64_t)(wt_mpi_size - 1));
    assert_int_equal(st.rounds, 1);
    free(v_arr);
    weft_mpi_plan_destroy(p);
    weft_runtime_destroy(rt);
}

/* Models kept only for the size class above an even share's (where blocks
 * an earlier plan sized by speed may have landed) still size the blocks. */
static void split_follows_neighbour_class(void **state)
{
    (void)state;
    size_t n = 64 * 1000, group = 64;
    weft_policy_t pol;
    weft_runtime_t *rt = with_models(plan_k2.name, n, group, 1, &pol);
    weft_mpi_plan_t *p;
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, &plan_k2, weft_range_1d(n, group), &pol, 0, &p);
    int ok = rc == 0;
    double total = wt_mpi_size * (wt_mpi_size + 1) / 2.0, sum = 0;
    for (int q = 0; q < wt_mpi_size && ok; q++) {
        weft_mpi_rows_t r;
        weft_mpi_plan_rows(p, q, &r);
        sum += q + 1;
        double want_end = (double)n * sum / total;
        ok = (double)r.end > want_end - (double)group && (double)r.end < want_end + (double)group;
    }
    if (rc == 0) weft_mpi_plan_destroy(p);
    weft_runtime_destroy(rt);
    assert_true(wt_mpi_all_ok(ok, "blocks from the neighbouring size class's models"));
}

/* One process: a part runs only its work-groups, bodies see absolute
 * indices, and a bad part is refused. */
static void part_of_a_range(void **state)
{
    (void)state;
    weft_runtime_t *rt = runtime(1);
    size_t n = 1000;
    int *v = calloc(n, sizeof *v);
    weft_arg_t a = weft_arg_split(v, n * sizeof *v, sizeof *v, WEFT_READ_WRITE);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.part_begin = 128;
    pol.part_end = 448;
    assert_int_equal(weft_parallel_run(rt, &plan_k, weft_range_1d(n, 64), &a, 1, &pol, NULL), 0);
    for (size_t i = 0; i < n; i++) assert_int_equal(v[i], i >= 128 && i < 448);
    pol.part_begin = 960;
    pol.part_end = n; /* the range's end need not be a whole group */
    assert_int_equal(weft_parallel_run(rt, &plan_k, weft_range_1d(n, 64), &a, 1, &pol, NULL), 0);
    for (size_t i = 0; i < n; i++) assert_int_equal(v[i], (i >= 128 && i < 448) || i >= 960);
    pol.part_begin = 100;
    pol.part_end = 448;
    assert_int_equal(weft_parallel_run(rt, &plan_k, weft_range_1d(n, 64), &a, 1, &pol, NULL), WEFT_EINVAL);
    assert_non_null(strstr(weft_last_error_message(), "part [100, 448) is not whole work-groups"));
    free(v);
    weft_runtime_destroy(rt);
}

/* One model folder for the job, made by rank 0. */
static void before(void)
{
    if (wt_mpi_rank == 0) {
        snprintf(cache, sizeof cache, "/tmp/weft-mpi-plan-XXXXXX");
        if (!mkdtemp(cache)) cache[0] = 0;
    }
    MPI_Bcast(cache, sizeof cache, MPI_CHAR, 0, MPI_COMM_WORLD);
    setenv("WEFT_CACHE_DIR", cache, 1);
}

static void after(void)
{
    MPI_Barrier(MPI_COMM_WORLD);
    if (wt_mpi_rank == 0) {
        char path[512];
        snprintf(path, sizeof path, "%s/mpi_plan_k.model", cache);
        remove(path);
        snprintf(path, sizeof path, "%s/mpi_plan_k2.model", cache);
        remove(path);
        rmdir(cache);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(even_without_model),
        cmocka_unit_test(split_follows_models),
        cmocka_unit_test(split_follows_neighbour_class),
        cmocka_unit_test(part_of_a_range),
    };
    return WT_MPI_MAIN(tests, before, after);
}

/* 18_mpi.c — chapter 14's operation across the ranks of an MPI job.
 *
 * Run it with `mpirun -n 2 ./example_18_mpi`. Every rank makes the same
 * collective call; each runs its block of the range on its own workers and
 * devices, and every rank ends with the whole of y and the same sum. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <weft/mpi.h>
#include <weft/weft.h>

#define N 100000
#define GROUP 64

/* The CPU body of chapter 14 (the OpenCL body works the same way here). */
static void scale_sum_cpu(size_t begin, size_t end, void *const *argv)
{
    const float *x = argv[0], *w = argv[1];
    float *y = argv[2], *partials = argv[3];
    for (size_t g = begin / GROUP; g * GROUP < end; g++) {
        float s = 0.0f;
        for (size_t i = g * GROUP; i < (g + 1) * GROUP && i < end; i++) {
            y[i] = w[i % 4] * x[i];
            s += y[i];
        }
        partials[g] = s;
    }
}

static void add_float(void *acc, const void *partial) { *(float *)acc += *(const float *)partial; }

static const weft_kernel_t scale_sum = {.name = "scale_sum", .cpu = scale_sum_cpu};

static float x[N], y[N], y_alone[N];
static const float w[4] = {0.5f, 1.0f, 2.0f, 4.0f};

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (int i = 0; i < N; i++) x[i] = (float)(i % 7);

    /* A plan splits the range over the ranks (evenly here: no speed model
     * yet); weft_mpi_parallel_run makes one for the call. */
    float sum = 0.0f, zero = 0.0f;
    uint64_t n = N;
    weft_arg_t args[] = {
        weft_arg_split(x, sizeof x, sizeof x[0], WEFT_READ),
        weft_arg_whole(w, sizeof w),
        weft_arg_split(y, sizeof y, sizeof y[0], WEFT_WRITE),
        weft_arg_reduce(&sum, sizeof sum, &zero, add_float),
        weft_arg_scalar(&n, sizeof n),
        weft_arg_local(GROUP * sizeof(float)),
    };
    weft_range_t range = weft_range_1d(N, GROUP);
    weft_mpi_plan_t *plan;
    weft_panic_t *p = NULL;
    int rc = weft_mpi_plan_create(rt, MPI_COMM_WORLD, &scale_sum, range, NULL, 0, &plan);
    if (rc == 0) rc = weft_mpi_run(plan, &scale_sum, args, 6, NULL, NULL, &p);
    if (rc != 0) { /* the same code on every rank */
        fprintf(stderr, "rank %d: %s: %s\n", rank, weft_err_name(rc),
                p ? weft_panic_message(p) : weft_last_error_message());
        weft_panic_destroy(p);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0) {
        printf("%d ranks: sum = %.1f, y[10] = %.1f\n", nranks, sum, y[10]);
        for (int q = 0; q < nranks; q++) {
            weft_mpi_rows_t rows;
            weft_mpi_plan_rows(plan, q, &rows);
            printf("rank %d ran indices [%zu, %zu)\n", q, rows.begin, rows.end);
        }
    }

    /* One process, for comparison: every rank holds the whole result, the
     * same bits (the partials are folded in block order on every rank). */
    float alone = 0.0f;
    args[2] = weft_arg_split(y_alone, sizeof y_alone, sizeof y_alone[0], WEFT_WRITE);
    args[3] = weft_arg_reduce(&alone, sizeof alone, &zero, add_float);
    rc = weft_parallel_run(rt, &scale_sum, range, args, 6, NULL, NULL);
    int same = rc == 0 && memcmp(&alone, &sum, sizeof sum) == 0 && memcmp(y, y_alone, sizeof y) == 0, all_same;
    MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rank == 0) printf("one process: sum = %.1f; bit-identical on every rank: %s\n", alone, all_same ? "yes" : "no");

    weft_mpi_plan_destroy(plan);
    weft_runtime_destroy(rt);
    MPI_Finalize();
    return 0;
}

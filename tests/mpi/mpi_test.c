/* tests/mpi/mpi_test.c — see mpi_test.h. */
#include "mpi_test.h"

int wt_mpi_rank, wt_mpi_size;

int wt_mpi_all_ok(int ok, const char *what)
{
    int all = 0;
    if (!ok) print_message("rank %d of %d: %s: %s\n", wt_mpi_rank, wt_mpi_size, what, weft_last_error_message());
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

weft_runtime_t *wt_mpi_runtime(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    weft_runtime_t *rt = NULL;
    if (weft_runtime_create(&o, &rt) != 0) {
        fprintf(stderr, "rank %d: weft_runtime_create: %s\n", wt_mpi_rank, weft_last_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return rt;
}

int wt_mpi_main(int argc, char **argv, const char *name, const struct CMUnitTest *tests, size_t ntests,
                void (*before)(void), void (*after)(void))
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wt_mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &wt_mpi_size);
    if (before) before();
    int failed = _cmocka_run_group_tests(name, tests, ntests, NULL, NULL), any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (after) after();
    MPI_Finalize();
    return any ? 1 : 0;
}

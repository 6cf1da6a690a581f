/* mpi_abort_on_panic.c — weft_mpi_options_t::abort_on_panic: a panic on
 * rank 1 makes the job abort (MPI_Abort) after the first failing rank has
 * printed the payload through the default panic hook. Not a cmocka program:
 * the job dies; CTest looks for the payload in the output and for the
 * launcher's report of the abort. Without the option the same call would
 * return WEFT_EPANIC on every rank (test_mpi_faults), and this program would
 * print "no abort" and exit 0, which the test counts as a failure. */
#include <stdio.h>
#include <stdlib.h>

#include <weft/mpi.h>
#include <weft/weft.h>

static int rank;

static void body(size_t begin, size_t end, void *const *argv)
{
    int *v = argv[0];
    if (rank == 1) weft_panic("rank 1 gives up at %zu", begin);
    for (size_t i = begin; i < end; i++) v[i] = 1;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    weft_runtime_options_t ro;
    weft_runtime_options_init(&ro);
    ro.cpu_threads = 1;
    ro.devices = "none";
    weft_runtime_t *rt;
    if (weft_runtime_create(&ro, &rt) != 0) MPI_Abort(MPI_COMM_WORLD, 3);
    static int v[1024];
    weft_arg_t a = weft_arg_split(v, sizeof v, sizeof v[0], WEFT_WRITE);
    const weft_kernel_t k = {.name = "gives_up", .cpu = body};
    weft_mpi_plan_t *p;
    if (weft_mpi_plan_create(rt, MPI_COMM_WORLD, &k, weft_range_1d(1024, 64), NULL, 0, &p) != 0)
        MPI_Abort(MPI_COMM_WORLD, 3);
    weft_mpi_options_t o;
    weft_mpi_options_init(&o);
    o.abort_on_panic = 1;
    int rc = weft_mpi_run(p, &k, &a, 1, NULL, &o, NULL);
    printf("no abort: rank %d returned %d\n", rank, rc);
    weft_mpi_plan_destroy(p);
    weft_runtime_destroy(rt);
    MPI_Finalize();
    return 0;
}

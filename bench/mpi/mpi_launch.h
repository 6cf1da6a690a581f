/* bench/mpi/mpi_launch.h — `weft-bench --mpi` (launch.c). */
#ifndef WEFT_BENCH_MPI_LAUNCH_H
#define WEFT_BENCH_MPI_LAUNCH_H

/* 1 when --mpi is among the arguments. */
int bench_mpi_is_requested(int argc, char **argv);
/* Run weft-bench-mpi under the MPI launcher once per rank count; returns
 * weft-bench's exit status (0, 1 for a failed check, 2 for usage). */
int bench_mpi_run(int argc, char **argv);

#endif

/* tests/mpi/mpi_test.h — what the MPI tests share (mpi_test.c, linked into
 * each): the program's main around a cmocka group, and checks that every
 * rank makes and every rank sees the result of.
 *
 * Rule: a check that one rank could fail and the others pass is made with
 * wt_mpi_all_ok(), never with a bare assert between two collectives: a rank
 * leaving a test early would leave the others waiting in the next one. */
#ifndef WEFT_MPI_TEST_H
#define WEFT_MPI_TEST_H

#include "weft_test.h"

#include <weft/mpi.h>

/* This rank and the number of ranks (set by wt_mpi_main). */
extern int wt_mpi_rank, wt_mpi_size;

/* 1 when ok holds on every rank; a rank where it does not prints why (what,
 * and weft's last error message). Collective. */
int wt_mpi_all_ok(int ok, const char *what);

/* A runtime of one worker (the ranks share the machine's cores), with the
 * devices $WEFT_DEVICES names (all by default). */
weft_runtime_t *wt_mpi_runtime(void);

/* The whole program: MPI_Init, `before`, the cmocka group on every rank,
 * its failures reduced over the ranks, `after`, MPI_Finalize (either hook
 * may be NULL). Returns the exit status: 1 on every rank when any rank had
 * a failure. */
int wt_mpi_main(int argc, char **argv, const char *name, const struct CMUnitTest *tests, size_t ntests,
                void (*before)(void), void (*after)(void));
#define WT_MPI_MAIN(tests, before, after) \
    wt_mpi_main(argc, argv, __FILE__, (tests), sizeof(tests) / sizeof((tests)[0]), (before), (after))

#endif

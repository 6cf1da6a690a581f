/* mpi/mpi_internal.h — what the weft_mpi library's files share: the plan
 * and the agreement every collective step starts with. Internal. */
#ifndef WEFT_MPI_INTERNAL_H
#define WEFT_MPI_INTERNAL_H

#include <stdio.h>

#include "weft/error.h"
#include "weft/mpi.h"

/* Longest message one rank tells the others. */
#define WEFT__MPI_MSG 512

struct weft_mpi_plan {
    weft_runtime_t *rt;
    MPI_Comm comm;                /* the plan's own duplicate */
    int rank, nranks;
    weft_range_t range;
    size_t n, group;              /* split indices, work-group along the split */
    size_t halo;                  /* rows local arrays hold beyond their block */
    size_t *bounds;               /* nranks + 1: rank q owns [bounds[q], bounds[q+1]) */
    int by_model;                 /* 1: the blocks follow the ranks' speed models */
    weft_mpi_stats_t last;
};

/* Every rank tells whether it can go on (rc 0) or why not (rc and this
 * thread's weft_last_error_message()). Returns 0 when all can; otherwise,
 * on every rank, the first failing rank's code, with its message (prefixed
 * with its rank when it is not this one) recorded as the last error
 * message. Collective; allocates nothing. */
int weft__mpi_agree(MPI_Comm comm, int rc, const char *what);

/* Rank q's rows under p. */
void weft__mpi_rows(const weft_mpi_plan_t *p, int q, weft_mpi_rows_t *out);

#endif

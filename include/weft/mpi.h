/** @file
 *  @brief One parallel operation across the ranks of an MPI job (the
 *  optional weft_mpi library).
 *
 *  Every rank of a communicator makes the same collective call with the same
 *  kernel, range and argument shapes. The range's split dimension (rows in
 *  2-D) is cut into one contiguous block per rank, sized by each rank's
 *  speed: the speed models its local policies keep (weft_parallel_speed(),
 *  summed over the rank's places), or an even split where a rank has none.
 *  Each rank runs its block as one weft_parallel_for over a part of the
 *  range (weft_policy_t::part_begin), co-executed on its own CPU workers and
 *  devices by the local policy. Bodies see the whole range: absolute
 *  indices, the whole range's geometry.
 *
 *  Two data layouts (weft_mpi_layout_t):
 *  - replicated: every rank holds every array whole. Written split
 *    arguments are gathered afterwards, so that every rank (or one root)
 *    holds the whole result;
 *  - distributed: a rank holds, of each split argument, only the rows of its
 *    block plus `halo` rows each side (weft_mpi_rows_t says which). Read
 *    arguments with a halo get their halo rows from the ranks that own them,
 *    by non-blocking point-to-point messages, before the operation; written
 *    rows stay where they were computed. An iterated stencil moves only
 *    halos.
 *
 *  Reductions give the same bits whatever the number of ranks: every rank
 *  gets every block's partial and folds them all in block order, as one
 *  process does.
 *
 *  Errors are panics across ranks: when any rank's share fails (a device
 *  failure, a CPU body's weft_panic()), the call returns WEFT_EPANIC on
 *  every rank, with a payload naming the rank that failed first, its place,
 *  the kernel, the range and the message, counting the other failures
 *  (weft_panic_suppressed()). Wrong use — ranks disagreeing on the range or
 *  on the arguments, a bad argument on one rank — returns WEFT_EINVAL on
 *  every rank with a message naming the ranks and what differs. Nothing
 *  calls MPI_Abort unless weft_mpi_options_t::abort_on_panic asks for it. A
 *  rank that never makes the call, or dies, still hangs the others: MPI
 *  itself gives no way to tell.
 *
 *  weft_mpi uses a duplicate of the communicator it is given, so its
 *  messages never match the program's own. Calls on one plan must not run
 *  at the same time on several threads of a rank. weft_mpi makes its MPI
 *  calls on the thread that calls it (never on weft's workers or device
 *  callbacks): MPI_Init's level of thread support is enough from the main
 *  thread; calling from another thread (a weft task, say) needs MPI
 *  initialised with MPI_Init_thread at MPI_THREAD_SERIALIZED or above. */
#ifndef WEFT_MPI_H
#define WEFT_MPI_H

#include <mpi.h>

#include "weft/export.h"
#include "weft/parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a collective operation's split arrays are laid out over the ranks. */
typedef enum weft_mpi_layout {
    WEFT_MPI_REPLICATED = 0,      /**< every rank holds whole arrays; written split
                                       rows are gathered after the operation */
    WEFT_MPI_DISTRIBUTED = 1      /**< a rank holds its own rows and their halo
                                       (weft_mpi_rows_t) of every split argument */
} weft_mpi_layout_t;

/** Options of a collective call. Initialise with weft_mpi_options_init(). */
typedef struct weft_mpi_options {
    weft_mpi_layout_t layout;     /**< the layout (default REPLICATED) */
    int root;                     /**< REPLICATED: -1 (default), every rank ends with
                                       the whole result; r >= 0, only rank r does
                                       (the others hold their own rows). Reductions
                                       reach every rank either way */
    int abort_on_panic;           /**< 1: after a panic, every rank calls
                                       MPI_Abort(comm, 1) instead of returning;
                                       0 (default): every rank returns WEFT_EPANIC */
} weft_mpi_options_t;

/** Defaults: replicated, every rank gets the result, no abort.
 *  @param o  the options to fill; NULL does nothing. */
WEFT_API void weft_mpi_options_init(weft_mpi_options_t *o);

/** Which rows of the split dimension a rank owns and holds. */
typedef struct weft_mpi_rows {
    size_t n;                     /**< split indices of the whole range */
    size_t begin;                 /**< the first the rank computes */
    size_t end;                   /**< one past its last (begin == end: none) */
    size_t first;                 /**< DISTRIBUTED: the first row its local
                                       arrays hold: begin - halo, at least 0 */
    size_t last;                  /**< one past the last they hold: end + halo, at
                                       most n. A local split array holds rows
                                       [first, last): row y at (y - first) * unit */
} weft_mpi_rows_t;

/** A split of one range over the ranks of a communicator, kept for a run of
 *  operations (an iterated stencil keeps its rows where they are). */
typedef struct weft_mpi_plan weft_mpi_plan_t;

/** What the latest call on a plan did on this rank. */
typedef struct weft_mpi_stats {
    size_t begin;                 /**< the rows this rank ran (first round) */
    size_t end;                   /**< one past them */
    uint64_t bytes_sent;          /**< bytes of array data this rank sent: halos,
                                       gathered rows, reduction partials (the
                                       small agreement messages not counted) */
    uint64_t halo_bytes_sent;     /**< of which halo rows */
    uint64_t messages_sent;       /**< point-to-point messages of that data */
    double seconds;               /**< the whole call, wall clock */
    double mpi_seconds;           /**< of which inside MPI: agreement, halo
                                       exchange, gathering (waits for slower
                                       ranks included) */
    int rounds;                   /**< 1; more when failover ran failed shares again */
} weft_mpi_stats_t;

/** Split range r over the ranks of comm (collective: every rank calls it
 *  with the same kernel, range, halo). Each rank's block is whole
 *  work-groups along the split dimension, contiguous and in rank order,
 *  sized by the ranks' speeds for kernel k under policy pol
 *  (weft_parallel_speed(): the models the adaptive and static policies
 *  keep), or even when any rank has no model.
 *  @param rt    this rank's runtime.
 *  @param comm  the communicator (duplicated: the plan keeps its own).
 *  @param k     the kernel whose speeds size the blocks.
 *  @param r     the range.
 *  @param pol   the policy the calls will use (NULL: defaults).
 *  @param halo  DISTRIBUTED: rows each local array holds beyond its block
 *               on each side (the largest halo of any argument); 0 for
 *               replicated use.
 *  @param out   receives the plan.
 *  @return 0 on every rank; or the same error on every rank: WEFT_EINVAL
 *          (NULL rt, k or out, a bad range, ranks giving different ranges,
 *          halos or kernel names — the message names two ranks and their
 *          values), WEFT_ENOMEM, WEFT_EMPI (an MPI call failed). */
WEFT_API int weft_mpi_plan_create(weft_runtime_t *rt, MPI_Comm comm, const weft_kernel_t *k, weft_range_t r,
                                  const weft_policy_t *pol, size_t halo, weft_mpi_plan_t **out);

/** The rows a rank owns and holds under plan p.
 *  @param p     the plan.
 *  @param rank  a rank of its communicator.
 *  @param out   receives them.
 *  @return 0; WEFT_EINVAL (NULL p or out, no such rank). */
WEFT_API int weft_mpi_plan_rows(const weft_mpi_plan_t *p, int rank, weft_mpi_rows_t *out);

/** This rank's statistics of the latest call on p (all zero before any).
 *  @param p    the plan.
 *  @param out  receives them.
 *  @return 0; WEFT_EINVAL (NULL p or out). */
WEFT_API int weft_mpi_plan_stats(const weft_mpi_plan_t *p, weft_mpi_stats_t *out);

/** Free a plan. Every rank calls it, as for any communicator: it frees the
 *  plan's duplicate (MPI_Comm_free, which MPI counts as collective; after
 *  MPI_Finalize only the memory is freed). NULL does nothing.
 *  @param p  the plan. */
WEFT_API void weft_mpi_plan_destroy(weft_mpi_plan_t *p);

/** (A macro.) Run kernel k over the plan's range across its ranks and wait
 *  for it on every rank (collective). Arguments are described as for
 *  weft_parallel_for(), with the same meaning on each rank; in the
 *  distributed layout a split argument's data and bytes are the rank's
 *  local array (rows [first, last) of weft_mpi_rows_t).
 *
 *  Supported: split arguments by index (weft_arg_split, _halo), and in the
 *  replicated layout also by group, count (clip) and map; whole
 *  arguments (every rank holds them whole); reductions; scalars; __local.
 *  Refused on every rank: scattered arguments, registered arrays, written
 *  split arguments by rectangle, in the distributed layout split arguments
 *  other than by index and halos above the plan's.
 *
 *  pol is the local policy each rank runs its block with (its part fields
 *  must be 0). With pol->on_fault FAILOVER and the replicated layout, the
 *  block of a rank whose operation panicked runs again, split evenly over
 *  the ranks that did not fail (each rank's pol->on_recovered hears of it);
 *  the call then panics only when every rank failed.
 *  @param p      the plan (its range, communicator, runtime).
 *  @param k      the kernel.
 *  @param args   nargs argument descriptors.
 *  @param nargs  their number.
 *  @param pol    the local policy, or NULL for defaults.
 *  @param o      the options, or NULL for defaults.
 *  @param panic  receives the panic on WEFT_EPANIC (the caller frees it), else
 *                NULL; may be NULL.
 *  @return 0 on every rank; or the same code on every rank: WEFT_EINVAL
 *          (wrong use, named as above), WEFT_EBORROW, WEFT_ENOMEM, WEFT_EMPI
 *          (an MPI call failed), WEFT_EPANIC (some rank's share failed). */
#define weft_mpi_run(p, k, args, nargs, pol, o, panic) \
    weft_mpi_run_at(__FILE__, __LINE__, (p), (k), (args), (nargs), (pol), (o), (panic))

/** What weft_mpi_run() expands to (file and line: the caller's, a literal).
 *  @param file   the caller's file.
 *  @param line   the caller's line.
 *  @param p      as for weft_mpi_run().
 *  @param k      as for weft_mpi_run().
 *  @param args   as for weft_mpi_run().
 *  @param nargs  as for weft_mpi_run().
 *  @param pol    as for weft_mpi_run().
 *  @param o      as for weft_mpi_run().
 *  @param panic  as for weft_mpi_run().
 *  @return as weft_mpi_run(). */
WEFT_API int weft_mpi_run_at(const char *file, int line, weft_mpi_plan_t *p, const weft_kernel_t *k,
                             const weft_arg_t *args, size_t nargs, const weft_policy_t *pol,
                             const weft_mpi_options_t *o, weft_panic_t **panic);

/** (A macro.) weft_parallel_run() across the ranks of comm, replicated:
 *  a plan for the call (weft_mpi_plan_create() with halo 0), weft_mpi_run()
 *  with default options, the plan freed. Collective.
 *  @return as weft_mpi_run(). */
#define weft_mpi_parallel_run(rt, comm, k, r, args, nargs, pol, panic) \
    weft_mpi_parallel_run_at(__FILE__, __LINE__, (rt), (comm), (k), (r), (args), (nargs), (pol), (panic))

/** What weft_mpi_parallel_run() expands to.
 *  @param file   the caller's file.
 *  @param line   the caller's line.
 *  @param rt     this rank's runtime.
 *  @param comm   the communicator.
 *  @param k      the kernel.
 *  @param r      the range.
 *  @param args   the arguments.
 *  @param nargs  their number.
 *  @param pol    the local policy, or NULL.
 *  @param panic  as for weft_mpi_run().
 *  @return as weft_mpi_run(). */
WEFT_API int weft_mpi_parallel_run_at(const char *file, int line, weft_runtime_t *rt, MPI_Comm comm,
                                      const weft_kernel_t *k, weft_range_t r, const weft_arg_t *args,
                                      size_t nargs, const weft_policy_t *pol, weft_panic_t **panic);

#ifdef __cplusplus
}
#endif
#endif

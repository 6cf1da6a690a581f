/* mpi/plan.c — splitting one range over the ranks of a communicator: the
 * ranks' speeds, the blocks, and the checks that every rank asked for the
 * same split. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

void weft_mpi_options_init(weft_mpi_options_t *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->layout = WEFT_MPI_REPLICATED;
    o->root = -1;
}

/* ---- agreement ---------------------------------------------------------- */

/* No allocation: a rank short of memory must still take part, or the
 * others would wait for it. The common case, every rank fine, costs one
 * small reduction. */
int weft__mpi_agree(MPI_Comm comm, int rc, const char *what)
{
    int nranks, me;
    MPI_Comm_size(comm, &nranks);
    MPI_Comm_rank(comm, &me);
    int mine = rc ? me : INT_MAX, first = INT_MAX;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return weft_error_set(WEFT_EMPI, "%s: MPI_Allreduce failed agreeing with the other ranks", what);
    if (first == INT_MAX) return 0;
    struct {
        int rc;
        char msg[WEFT__MPI_MSG];
    } told = {.rc = rc};
    if (me == first) snprintf(told.msg, sizeof told.msg, "%s", weft_last_error_message());
    int failed = rc != 0, count = 0;
    if (MPI_Allreduce(&failed, &count, 1, MPI_INT, MPI_SUM, comm) != MPI_SUCCESS ||
        MPI_Bcast(&told, (int)sizeof told, MPI_BYTE, first, comm) != MPI_SUCCESS)
        return weft_error_set(WEFT_EMPI, "%s: MPI collective failed agreeing with the other ranks", what);
    char text[WEFT__MPI_MSG + 128];
    if (first == me && count == 1)
        snprintf(text, sizeof text, "%s", told.msg);
    else
        snprintf(text, sizeof text, "rank %d of %d: %s%s", first, nranks, told.msg,
                 count > 1 ? " (and other ranks failed too)" : "");
    return weft_error_set(told.rc, "%s", text);
}

/* ---- plans ---------------------------------------------------------------- */

/* What every rank must give plan_create alike. */
typedef struct plan_shape {
    unsigned dims;
    unsigned long long size[2], group[2], halo;
    char kernel[64];
} plan_shape;

static void describe_shape(const plan_shape *s, char *buf, size_t cap)
{
    if (s->dims == 2)
        snprintf(buf, cap, "kernel '%s', range %llu x %llu in groups of %llu x %llu, halo %llu", s->kernel,
                 s->size[0], s->size[1], s->group[0], s->group[1], s->halo);
    else
        snprintf(buf, cap, "kernel '%s', range %llu in groups of %llu, halo %llu", s->kernel, s->size[0],
                 s->group[0], s->halo);
}

/* Cut g work-groups into nranks blocks in proportion to speed (every entry
 * > 0), in rank order, as cumulative rounding does: the blocks cover the
 * range exactly. */
static void cut(size_t g, int nranks, const double *speed, size_t *gbounds)
{
    double total = 0, sum = 0;
    for (int q = 0; q < nranks; q++) total += speed[q];
    gbounds[0] = 0;
    for (int q = 0; q < nranks; q++) {
        sum += speed[q];
        double at = q == nranks - 1 ? (double)g : (double)g * (sum / total) + 0.5;
        size_t b = at >= (double)g ? g : (size_t)at;
        gbounds[q + 1] = b < gbounds[q] ? gbounds[q] : b;
    }
    gbounds[nranks] = g;
}

int weft_mpi_plan_create(weft_runtime_t *rt, MPI_Comm comm, const weft_kernel_t *k, weft_range_t r,
                         const weft_policy_t *pol, size_t halo, weft_mpi_plan_t **out)
{
    const char *what = "weft_mpi_plan_create";
    if (out) *out = NULL;
    if (comm == MPI_COMM_NULL) return weft_error_set(WEFT_EINVAL, "%s: the communicator is MPI_COMM_NULL", what);
    weft_mpi_plan_t *p = calloc(1, sizeof *p);
    int rc = 0;
    if (!p) rc = weft_error_set(WEFT_ENOMEM, "%s: out of memory", what);
    else if (!rt || !k || !out)
        rc = weft_error_set(WEFT_EINVAL, "%s: %s is NULL", what, !rt ? "runtime" : !k ? "kernel" : "out");
    else if (!k->name || !*k->name)
        rc = weft_error_set(WEFT_EINVAL, "%s: the kernel has no name", what);
    else if ((r.dims != 1 && r.dims != 2) || !r.group[0] || (r.dims == 2 && !r.group[1]))
        rc = weft_error_set(WEFT_EINVAL, "%s: kernel '%s': the range must be 1- or 2-D with work-groups above 0",
                            what, k->name);
    /* Everything after this is collective: a rank that failed above still
     * takes part, so that no rank waits for another forever. */
    MPI_Comm dup = MPI_COMM_NULL;
    int dup_ok = MPI_Comm_dup(comm, &dup) == MPI_SUCCESS;
    if (!dup_ok) {
        free(p);
        return weft_error_set(WEFT_EMPI, "%s: MPI_Comm_dup failed", what);
    }
    if (p) {
        p->comm = dup;
        MPI_Comm_rank(dup, &p->rank);
        MPI_Comm_size(dup, &p->nranks);
        p->bounds = calloc((size_t)p->nranks + 1, sizeof *p->bounds);
        if (!p->bounds && !rc) rc = weft_error_set(WEFT_ENOMEM, "%s: out of memory", what);
    }
    if ((rc = weft__mpi_agree(dup, rc, what))) goto fail;

    /* The same range, halo and kernel on every rank. */
    plan_shape mine = {.dims = r.dims, .size = {r.size[0], r.dims == 2 ? r.size[1] : 0},
                       .group = {r.group[0], r.dims == 2 ? r.group[1] : 0}, .halo = halo};
    snprintf(mine.kernel, sizeof mine.kernel, "%s", k->name);
    plan_shape *all = malloc((size_t)p->nranks * sizeof *all);
    double *speed = malloc((size_t)p->nranks * sizeof *speed);
    size_t *gb = malloc(((size_t)p->nranks + 1) * sizeof *gb);
    rc = all && speed && gb ? 0 : weft_error_set(WEFT_ENOMEM, "%s: out of memory", what);
    if ((rc = weft__mpi_agree(dup, rc, what))) goto fail_tmp;
    if (MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, dup) != MPI_SUCCESS) {
        rc = weft_error_set(WEFT_EMPI, "%s: MPI_Allgather failed", what);
        goto fail_tmp;
    }
    for (int q = 1; q < p->nranks; q++) {
        if (memcmp(&all[q], &all[0], sizeof mine) == 0) continue;
        char a[256], b[256];
        describe_shape(&all[0], a, sizeof a);
        describe_shape(&all[q], b, sizeof b);
        rc = weft_error_set(WEFT_EINVAL, "%s: the ranks disagree: rank 0 gives %s; rank %d gives %s", what, a, q, b);
        goto fail_tmp;
    }

    p->rt = rt;
    p->range = r;
    p->n = r.size[r.dims - 1];
    p->group = r.group[r.dims - 1];
    p->halo = halo;
    /* Speeds: the models, summed over the rank's places, for a block of
     * about an even share; even when any rank has none. Models are kept per
     * size class (powers of two): a block an earlier plan sized by speed
     * may have landed in the class above or below an even share's. */
    double v = 0;
    size_t share = p->n / (size_t)p->nranks, sizes[3] = {share ? share : 1, 2 * share, share / 2};
    for (int i = 0; i < 3 && !(v > 0); i++)
        if (sizes[i] == 0 || weft_parallel_speed(rt, k, r, pol, sizes[i], &v) != 1 || !(v > 0)) v = 0;
    if (MPI_Allgather(&v, 1, MPI_DOUBLE, speed, 1, MPI_DOUBLE, dup) != MPI_SUCCESS) {
        rc = weft_error_set(WEFT_EMPI, "%s: MPI_Allgather failed", what);
        goto fail_tmp;
    }
    int known = 1;
    for (int q = 0; q < p->nranks; q++) known &= speed[q] > 0;
    for (int q = 0; q < p->nranks; q++) speed[q] = known ? speed[q] : 1.0;
    p->by_model = known;
    size_t ngroups = (p->n + p->group - 1) / p->group;
    cut(ngroups, p->nranks, speed, gb);
    for (int q = 0; q <= p->nranks; q++) p->bounds[q] = gb[q] * p->group < p->n ? gb[q] * p->group : p->n;
    free(all);
    free(speed);
    free(gb);
    *out = p;
    return 0;

fail_tmp:
    free(all);
    free(speed);
    free(gb);
fail:
    if (p) {
        free(p->bounds);
        free(p);
    }
    MPI_Comm_free(&dup);
    return rc;
}

int weft_mpi_plan_rows(const weft_mpi_plan_t *p, int rank, weft_mpi_rows_t *out)
{
    if (!p || !out) return weft_error_set(WEFT_EINVAL, "weft_mpi_plan_rows: %s is NULL", !p ? "plan" : "out");
    if (rank < 0 || rank >= p->nranks)
        return weft_error_set(WEFT_EINVAL, "weft_mpi_plan_rows: rank %d does not exist: the plan has %d ranks", rank,
                              p->nranks);
    weft__mpi_rows(p, rank, out);
    return 0;
}

void weft__mpi_rows(const weft_mpi_plan_t *p, int q, weft_mpi_rows_t *out)
{
    out->n = p->n;
    out->begin = p->bounds[q];
    out->end = p->bounds[q + 1];
    out->first = out->begin > p->halo ? out->begin - p->halo : 0;
    out->last = out->end + p->halo < p->n ? out->end + p->halo : p->n;
}

int weft_mpi_plan_stats(const weft_mpi_plan_t *p, weft_mpi_stats_t *out)
{
    if (!p || !out) return weft_error_set(WEFT_EINVAL, "weft_mpi_plan_stats: %s is NULL", !p ? "plan" : "out");
    *out = p->last;
    return 0;
}

void weft_mpi_plan_destroy(weft_mpi_plan_t *p)
{
    if (!p) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&p->comm);
    free(p->bounds);
    free(p);
}

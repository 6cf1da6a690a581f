/* mpi/run.c — one collective operation: every rank checks that the others
 * asked for the same, exchanges halos (distributed), runs its block as a
 * part of the range, hears of every rank's failures, runs failed blocks
 * again (failover), gathers written rows and reduction partials, and folds
 * the reductions in block order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* Largest single message: MPI counts are ints. */
#define PIECE_MAX ((size_t)1 << 30)

typedef struct msgs {
    MPI_Request *v;
    size_t n, cap;
} msgs;

/* One call's state on this rank. */
typedef struct call {
    weft_mpi_plan_t *p;
    const weft_kernel_t *k;
    const weft_arg_t *args;
    size_t nargs;
    weft_mpi_options_t o;
    weft_arg_t *local;            /* the arguments each local part runs with */
    void **partials;              /* per reduction argument: every block's partial */
    size_t nblocks, across;       /* reduction blocks; blocks per work-group row */
    weft_mpi_rows_t rows;         /* this rank's */
    struct call_shape *shapes;    /* every rank's, for check_shapes() */
    struct piece *done, *todo, *failed; /* pieces run, to run, failed this round */
    size_t cap;                   /* room in each of the three */
    struct outcome *outcomes;     /* every rank's, when one failed */
    int *alive;                   /* per rank: has not failed */
    double mpi_seconds;
    uint64_t bytes_sent, halo_bytes, messages;
} call;

/* A piece of the range that one rank ran, and whether it succeeded. */
typedef struct piece {
    int rank;
    size_t begin, end;
} piece;

/* ---- messages ------------------------------------------------------------ */

static int post(msgs *m, int send, void *buf, size_t bytes, int peer, int tag, MPI_Comm comm, call *c)
{
    for (size_t off = 0; off < bytes; off += PIECE_MAX) {
        size_t len = bytes - off < PIECE_MAX ? bytes - off : PIECE_MAX;
        if (m->n == m->cap) {
            size_t cap = m->cap ? 2 * m->cap : 16;
            MPI_Request *v = realloc(m->v, cap * sizeof *v);
            if (!v) return WEFT_ENOMEM;
            m->v = v;
            m->cap = cap;
        }
        int rc = send ? MPI_Isend((char *)buf + off, (int)len, MPI_BYTE, peer, tag, comm, &m->v[m->n])
                      : MPI_Irecv((char *)buf + off, (int)len, MPI_BYTE, peer, tag, comm, &m->v[m->n]);
        if (rc != MPI_SUCCESS) return WEFT_EMPI;
        m->n++;
        if (send) {
            c->bytes_sent += len;
            c->messages++;
        }
    }
    return 0;
}

/* Wait for every message posted (also after a failed post: those already
 * posted must complete before their buffers go) and tell how it went:
 * posted is what the posting returned; doing names the phase. */
static int wait_all(msgs *m, int posted, const char *doing)
{
    int rc = m->n ? MPI_Waitall((int)m->n, m->v, MPI_STATUSES_IGNORE) : MPI_SUCCESS;
    free(m->v);
    *m = (msgs){0};
    if (posted == WEFT_ENOMEM) return weft_error_set(posted, "weft_mpi_run: out of memory %s", doing);
    if (posted || rc != MPI_SUCCESS) return weft_error_set(WEFT_EMPI, "weft_mpi_run: a message failed %s", doing);
    return 0;
}

/* ---- what every rank must give alike --------------------------------------- */

typedef struct call_shape {
    int layout, root;
    unsigned long long nargs;
    uint64_t args_hash;           /* shapes_hash() */
    char kernel[64];
} call_shape;

typedef struct arg_shape {
    int kind, access, span, clip;
    unsigned long long unit, bytes, halo, size;
} arg_shape;

static const char *kind_name(int kind)
{
    switch (kind) {
    case WEFT_ARG_SPLIT: return "split";
    case WEFT_ARG_WHOLE: return "whole";
    case WEFT_ARG_REDUCE: return "reduction";
    case WEFT_ARG_SCALAR: return "scalar";
    case WEFT_ARG_LOCAL: return "__local";
    case WEFT_ARG_SCATTERED: return "scattered";
    default: return "unknown";
    }
}

static const char *access_name(int access)
{
    return access == WEFT_READ ? "read" : access == WEFT_WRITE ? "write" : access == WEFT_READ_WRITE ? "read-write" : "?";
}

static void describe_arg(const arg_shape *a, int distributed, char *buf, size_t cap)
{
    if (a->kind == WEFT_ARG_SPLIT && distributed)
        snprintf(buf, cap, "split %s, %llu bytes per row, halo %llu", access_name(a->access), a->unit, a->halo);
    else if (a->kind == WEFT_ARG_SPLIT)
        snprintf(buf, cap, "split %s, %llu bytes, unit %llu, halo %llu", access_name(a->access), a->bytes, a->unit,
                 a->halo);
    else if (a->kind == WEFT_ARG_SCALAR || a->kind == WEFT_ARG_LOCAL)
        snprintf(buf, cap, "%s of %llu bytes", kind_name(a->kind), a->size);
    else if (a->kind == WEFT_ARG_REDUCE)
        snprintf(buf, cap, "reduction of %llu-byte partials", a->unit);
    else
        snprintf(buf, cap, "%s, %llu bytes", kind_name(a->kind), a->bytes);
}

static arg_shape shape_of(const weft_arg_t *a, int distributed)
{
    arg_shape s = {.kind = (int)a->kind, .access = (int)a->access, .span = (int)a->span, .clip = a->clip,
                   .unit = a->unit, .halo = a->halo, .size = a->size};
    /* A distributed rank's arrays are its own rows: their sizes differ. */
    if (!(distributed && a->kind == WEFT_ARG_SPLIT) && a->kind != WEFT_ARG_REDUCE && a->kind != WEFT_ARG_SCALAR &&
        a->kind != WEFT_ARG_LOCAL)
        s.bytes = a->bytes;
    if (a->kind == WEFT_ARG_SCALAR || a->kind == WEFT_ARG_LOCAL) s.unit = 0;
    return s;
}

/* FNV-1a over the argument shapes: ranks compare one number, and only
 * when it differs exchange the shapes themselves to say which. */
static uint64_t shapes_hash(const call *c, int distributed)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < c->nargs; i++) {
        arg_shape a = shape_of(&c->args[i], distributed);
        const unsigned char *b = (const unsigned char *)&a;
        for (size_t j = 0; j < sizeof a; j++) h = (h ^ b[j]) * 1099511628211ull;
    }
    return h;
}

/* Every collective here runs on every rank whatever it finds: all see the
 * same records and so decide alike. c->shapes has room for every rank's. */
static int check_shapes(call *c)
{
    weft_mpi_plan_t *p = c->p;
    const char *what = "weft_mpi_run";
    int distributed = c->o.layout == WEFT_MPI_DISTRIBUTED;
    call_shape mine = {.layout = (int)c->o.layout, .root = c->o.root, .nargs = c->nargs,
                       .args_hash = shapes_hash(c, distributed)};
    snprintf(mine.kernel, sizeof mine.kernel, "%s", c->k->name);
    call_shape *all = c->shapes;
    if (MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, p->comm) != MPI_SUCCESS)
        return weft_error_set(WEFT_EMPI, "%s: MPI_Allgather failed", what);
    int args_differ = 0;
    for (int q = 1; q < p->nranks; q++) {
        if (all[q].layout == all[0].layout && all[q].root == all[0].root && all[q].nargs == all[0].nargs &&
            strcmp(all[q].kernel, all[0].kernel) == 0) {
            args_differ |= all[q].args_hash != all[0].args_hash;
            continue;
        }
        return weft_error_set(WEFT_EINVAL, "%s: the ranks disagree: rank 0 runs kernel '%s' with %llu arguments "
                              "(layout %s, root %d); rank %d runs '%s' with %llu (layout %s, root %d)", what,
                              all[0].kernel, all[0].nargs, all[0].layout ? "distributed" : "replicated", all[0].root,
                              q, all[q].kernel, all[q].nargs, all[q].layout ? "distributed" : "replicated",
                              all[q].root);
    }
    if (!args_differ) return 0;

    /* Which argument, and how: the shapes themselves. */
    size_t n = c->nargs ? c->nargs : 1;
    arg_shape *mine_a = calloc(n, sizeof *mine_a), *all_a = malloc(n * (size_t)p->nranks * sizeof *all_a);
    int rc = mine_a && all_a ? 0 : weft_error_set(WEFT_ENOMEM, "%s: out of memory", what);
    if ((rc = weft__mpi_agree(p->comm, rc, what))) goto out;
    for (size_t i = 0; i < c->nargs; i++) mine_a[i] = shape_of(&c->args[i], distributed);
    if (MPI_Allgather(mine_a, (int)(n * sizeof *mine_a), MPI_BYTE, all_a, (int)(n * sizeof *mine_a), MPI_BYTE,
                      p->comm) != MPI_SUCCESS) {
        rc = weft_error_set(WEFT_EMPI, "%s: MPI_Allgather failed", what);
        goto out;
    }
    rc = weft_error_set(WEFT_EINVAL, "%s: kernel '%s': the ranks disagree on the arguments", what, c->k->name);
    for (int q = 1; q < p->nranks; q++)
        for (size_t i = 0; i < c->nargs; i++) {
            const arg_shape *a = &all_a[i], *b = &all_a[(size_t)q * n + i];
            if (memcmp(a, b, sizeof *a) == 0) continue;
            char da[160], db[160];
            describe_arg(a, distributed, da, sizeof da);
            describe_arg(b, distributed, db, sizeof db);
            rc = weft_error_set(WEFT_EINVAL, "%s: kernel '%s': the ranks disagree on argument %zu: rank 0 gives %s; "
                                "rank %d gives %s", what, c->k->name, i, da, q, db);
            goto out;
        }
out:
    free(mine_a);
    free(all_a);
    return rc;
}

/* ---- local checks ------------------------------------------------------------ */

static int check_local(call *c, const weft_policy_t *pol)
{
    const char *what = "weft_mpi_run";
    const weft_kernel_t *k = c->k;
    int distributed = c->o.layout == WEFT_MPI_DISTRIBUTED;
    if (c->o.layout != WEFT_MPI_REPLICATED && !distributed)
        return weft_error_set(WEFT_EINVAL, "%s: unknown layout %d", what, (int)c->o.layout);
    if (c->o.root < -1 || c->o.root >= c->p->nranks)
        return weft_error_set(WEFT_EINVAL, "%s: root %d is not a rank (the plan has %d ranks)", what, c->o.root,
                              c->p->nranks);
    if (!k->name || !*k->name) return weft_error_set(WEFT_EINVAL, "%s: the kernel has no name", what);
    if (c->nargs && !c->args) return weft_error_set(WEFT_EINVAL, "%s: args is NULL with %zu arguments", what, c->nargs);
    if (pol && (pol->part_begin || pol->part_end))
        return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': the policy names a part of the range: the ranks' "
                              "blocks are the parts", what, k->name);
    for (size_t i = 0; i < c->nargs; i++) {
        const weft_arg_t *a = &c->args[i];
        if (a->array)
            return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': argument %zu is on a registered array, which "
                                  "stays in one process", what, k->name, i);
        if (a->kind == WEFT_ARG_SCATTERED)
            return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': argument %zu is scattered: its writes cannot be "
                                  "gathered from several ranks", what, k->name, i);
        if (a->kind != WEFT_ARG_SPLIT) continue;
        if ((a->access & WEFT_WRITE) && a->span == WEFT_SPAN_RECT)
            return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': argument %zu is a written rectangle, which "
                                  "weft_mpi does not gather", what, k->name, i);
        if (!distributed) continue;
        if (a->span != WEFT_SPAN_INDEX || a->clip)
            return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': argument %zu: the distributed layout takes split "
                                  "arguments by index only (rows of `unit` bytes)", what, k->name, i);
        if (a->halo > c->p->halo)
            return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': argument %zu has a halo of %zu rows; the plan's "
                                  "local arrays hold %zu", what, k->name, i, a->halo, c->p->halo);
        size_t need = (c->rows.last - c->rows.first) * a->unit;
        if (need && (!a->data || a->bytes < need))
            return weft_error_set(WEFT_EINVAL, "%s: kernel '%s': argument %zu: the local array of %zu bytes is "
                                  "smaller than the %zu its rows [%zu, %zu) need", what, k->name, i, a->bytes, need,
                                  c->rows.first, c->rows.last);
    }
    return 0;
}

/* ---- local arguments ---------------------------------------------------------- */

/* The arguments a part runs with: a distributed split argument is seen
 * through its rows' absolute indices (bodies index the whole range); a
 * reduction writes every block's partial into an array of ours, which is
 * gathered and folded afterwards. */
static int local_args(call *c)
{
    const weft_range_t *r = &c->p->range;
    c->across = r->dims == 2 ? (r->size[0] + r->group[0] - 1) / r->group[0] : 1;
    c->nblocks = (c->p->n + c->p->group - 1) / c->p->group * c->across;
    size_t n = c->nargs ? c->nargs : 1;
    c->local = calloc(n, sizeof *c->local);
    c->partials = calloc(n, sizeof *c->partials);
    if (!c->local || !c->partials) return weft_error_set(WEFT_ENOMEM, "weft_mpi_run: out of memory");
    for (size_t i = 0; i < c->nargs; i++) {
        weft_arg_t a = c->args[i];
        if (a.kind == WEFT_ARG_REDUCE && a.unit && a.value) {
            size_t bytes = c->nblocks * a.unit;
            if (!(c->partials[i] = malloc(bytes ? bytes : 1)))
                return weft_error_set(WEFT_ENOMEM, "weft_mpi_run: out of memory for %zu partials", c->nblocks);
            for (size_t b = 0; b < c->nblocks; b++) memcpy((char *)c->partials[i] + b * a.unit, a.value, a.unit);
            a = weft_arg_split_groups(c->partials[i], bytes, a.unit * c->across, WEFT_WRITE);
        } else if (a.kind == WEFT_ARG_SPLIT && c->o.layout == WEFT_MPI_DISTRIBUTED) {
            a.data = (void *)((uintptr_t)a.data - (uintptr_t)(c->rows.first * a.unit));
            a.bytes = c->p->n * a.unit;
        }
        c->local[i] = a;
    }
    return 0;
}

/* ---- halos -------------------------------------------------------------------- */

/* The rows [*lo, *hi) of owner's block that reader's block, widened by h
 * rows each side, reaches; 0 when none (an empty block reaches nothing). */
static int reach(const weft_mpi_rows_t *owner, const weft_mpi_rows_t *reader, size_t h, size_t *lo, size_t *hi)
{
    if (reader->end == reader->begin) return 0;
    size_t from = reader->begin > h ? reader->begin - h : 0, to = reader->end + h;
    *lo = owner->begin > from ? owner->begin : from;
    *hi = owner->end < to ? owner->end : to;
    return *lo < *hi;
}

/* Distributed: every read split argument with a halo gets the rows its
 * halo reaches from the ranks that own them; exactly those rows move. */
static int exchange_halos(call *c)
{
    weft_mpi_plan_t *p = c->p;
    msgs m = {0};
    int rc = 0;
    for (size_t i = 0; i < c->nargs && !rc; i++) {
        const weft_arg_t *a = &c->args[i];
        if (a->kind != WEFT_ARG_SPLIT || !(a->access & WEFT_READ) || !a->halo) continue;
        size_t h = a->halo;
        const weft_mpi_rows_t *me = &c->rows;
        for (int q = 0; q < p->nranks && !rc; q++) {
            if (q == p->rank) continue;
            weft_mpi_rows_t rq;
            weft__mpi_rows(p, q, &rq);
            size_t lo, hi;
            if (reach(&rq, me, h, &lo, &hi)) /* rows of q this rank's halo reaches */
                rc = post(&m, 0, (char *)a->data + (lo - me->first) * a->unit, (hi - lo) * a->unit, q, (int)i,
                          p->comm, c);
            if (!rc && reach(me, &rq, h, &lo, &hi)) { /* rows of this rank q's halo reaches */
                uint64_t before = c->bytes_sent;
                rc = post(&m, 1, (char *)a->data + (lo - me->first) * a->unit, (hi - lo) * a->unit, q, (int)i,
                          p->comm, c);
                c->halo_bytes += c->bytes_sent - before;
            }
        }
    }
    return wait_all(&m, rc, "exchanging halos");
}

/* ---- running and failures ------------------------------------------------------ */

/* What a rank tells the others of its part. */
typedef struct outcome {
    int rc;                       /* 0, WEFT_EPANIC or another code */
    int cl_status, line;
    double t;                     /* MPI_Wtime() when it failed */
    unsigned long long begin, end;
    char message[WEFT__MPI_MSG];
    char device[256];
    char kernel[64];
    char status_name[64];
    char file[256];
    char thread[64];
} outcome;

static void run_part(call *c, const char *file, int line, const weft_policy_t *pol, size_t b, size_t e,
                     outcome *out)
{
    if (b >= e || out->rc) return;
    weft_policy_t local;
    if (pol) local = *pol;
    else weft_policy_init(&local);
    local.part_begin = b;
    local.part_end = e;
    weft_panic_t *pn = NULL;
    int rc = weft_parallel_run_at(file, line, c->p->rt, c->k, c->p->range, c->local, c->nargs, &local, &pn);
    if (!rc) return;
    out->rc = rc;
    out->t = MPI_Wtime();
    if (rc != WEFT_EPANIC) {
        snprintf(out->message, sizeof out->message, "%s", weft_last_error_message());
        return;
    }
    size_t pb = 0, pe = 0;
    snprintf(out->message, sizeof out->message, "%s", weft_panic_message(pn));
    snprintf(out->device, sizeof out->device, "%s", weft_panic_device(pn) ? weft_panic_device(pn) : "");
    snprintf(out->kernel, sizeof out->kernel, "%s", weft_panic_kernel(pn) ? weft_panic_kernel(pn) : c->k->name);
    snprintf(out->status_name, sizeof out->status_name, "%s",
             weft_panic_cl_status_name(pn) ? weft_panic_cl_status_name(pn) : "");
    snprintf(out->file, sizeof out->file, "%s", weft_panic_file(pn) ? weft_panic_file(pn) : "");
    snprintf(out->thread, sizeof out->thread, "%s", weft_panic_thread(pn) ? weft_panic_thread(pn) : "");
    out->line = weft_panic_line(pn);
    out->cl_status = weft_panic_cl_status(pn);
    if (weft_panic_range(pn, &pb, &pe) != 1) { /* no chunk named: the part's rows */
        pb = b;
        pe = e;
    }
    out->begin = pb;
    out->end = pe;
    weft_panic_destroy(pn);
}

/* The payload every rank gets: the first failure (earliest, then lowest
 * rank), counting the others. */
static weft_panic_t *cross_rank_panic(const call *c, const outcome *f, int first, int count, int recovered)
{
    char msg[WEFT__MPI_MSG + 1024], others[96] = "";
    if (count > 1) snprintf(others, sizeof others, " (%d other failure%s on other ranks)", count - 1,
                            count > 2 ? "s" : "");
    snprintf(msg, sizeof msg, "rank %d of %d failed first, on %s%s%s, kernel '%s', rows [%llu, %llu)%s%s: %s", first,
             c->p->nranks, f->device[0] ? "device '" : "the CPU", f->device, f->device[0] ? "'" : "", f->kernel,
             f->begin, f->end, others, recovered ? "; its rows ran again on the other ranks" : "", f->message);
    weft_panic_info_t info = {.message = msg, .thread = f->thread[0] ? f->thread : NULL,
                              .file = f->file[0] ? f->file : NULL, .line = f->line,
                              .device = f->device[0] ? f->device : NULL, .kernel = f->kernel,
                              .cl_status = f->cl_status, .cl_status_name = f->status_name[0] ? f->status_name : NULL,
                              .has_range = 1, .begin = f->begin, .end = f->end,
                              .suppressed = count > 1 ? (size_t)count - 1 : 0};
    return weft_panic_create(&info);
}

/* ---- gathering -------------------------------------------------------------------- */

/* Bytes of argument a that rows [b, e) write, as the engine counts them:
 * by index, by work-group, through a map, cut at the array's end (clip). */
static void span_of(const call *c, const weft_arg_t *a, size_t b, size_t e, size_t *off, size_t *len)
{
    size_t lo, hi;
    if (a->span == WEFT_SPAN_MAP) {
        *off = *len = 0;
        if (e > b) a->map(b, e, a->map_ctx, off, len);
        return;
    }
    if (a->span == WEFT_SPAN_GROUP) {
        lo = b / c->p->group * a->unit;
        hi = (e + c->p->group - 1) / c->p->group * a->unit;
    } else {
        lo = b * a->unit;
        hi = e * a->unit;
    }
    if (a->clip || a->span == WEFT_SPAN_GROUP) {
        if (hi > a->bytes) hi = a->bytes;
        if (lo > hi) lo = hi;
    }
    *off = lo;
    *len = hi - lo;
}

/* Every piece's written rows go from the rank that ran it to every other
 * rank (or the root), and every piece's reduction partials to every rank. */
static int gather(call *c, const piece *pieces, size_t npieces)
{
    weft_mpi_plan_t *p = c->p;
    int replicated = c->o.layout == WEFT_MPI_REPLICATED;
    msgs m = {0};
    int rc = 0;
    for (size_t s = 0; s < npieces && !rc; s++) {
        const piece *pc = &pieces[s];
        for (size_t i = 0; i < c->nargs && !rc; i++) {
            const weft_arg_t *a = &c->args[i];
            void *base;
            size_t off, len;
            int to_all = 1;
            if (a->kind == WEFT_ARG_REDUCE) { /* its partials: a split-by-group argument of ours */
                base = c->partials[i];
                span_of(c, &c->local[i], pc->begin, pc->end, &off, &len);
            } else if (replicated && a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE)) {
                base = a->data;
                span_of(c, a, pc->begin, pc->end, &off, &len);
                to_all = c->o.root < 0;
            } else {
                continue;
            }
            if (!len) continue;
            for (int q = 0; q < p->nranks && !rc; q++) {
                if (q == pc->rank || (!to_all && q != c->o.root)) continue;
                if (p->rank == pc->rank) rc = post(&m, 1, (char *)base + off, len, q, (int)i, p->comm, c);
                else if (p->rank == q) rc = post(&m, 0, (char *)base + off, len, pc->rank, (int)i, p->comm, c);
            }
        }
    }
    return wait_all(&m, rc, "gathering results");
}

/* ---- folding ---------------------------------------------------------------------- */

/* Every block's partial, in block order, as one process folds them. Runs in
 * a task, so that a combine's weft_panic() comes back as a panic. */
static void *fold(void *arg)
{
    call *c = arg;
    const weft_mpi_plan_t *p = c->p;
    for (size_t i = 0; i < c->nargs; i++) {
        const weft_arg_t *a = &c->args[i];
        if (a->kind != WEFT_ARG_REDUCE || !c->partials[i]) continue;
        unsigned char small[256], *acc = a->unit <= sizeof small ? small : malloc(a->unit);
        if (!acc) weft_panic("weft_mpi_run: out of memory folding reduction argument %zu", i);
        memcpy(acc, a->value, a->unit);
        const char *part = c->partials[i];
        for (size_t b = 0; b < c->nblocks; b++) {
            if (a->combine) {
                a->combine(acc, part + b * a->unit);
                continue;
            }
            size_t g = b / c->across;
            weft_chunk_ctx_t ctx = {.range = p->range, .begin = g * p->group,
                                    .end = (g + 1) * p->group < p->n ? (g + 1) * p->group : p->n,
                                    .group_begin = g, .group_end = g + 1, .group = p->group,
                                    .num_groups = (p->n + p->group - 1) / p->group, .groups_across = c->across,
                                    .num_blocks = c->nblocks, .block = b, .user = c->k->user};
            a->combine_ctx(acc, part + b * a->unit, &ctx);
        }
        memcpy(a->data, acc, a->unit);
        if (acc != small) free(acc);
    }
    return NULL;
}

static int fold_all(call *c, weft_panic_t **panic)
{
    int any = 0;
    for (size_t i = 0; i < c->nargs; i++) any |= c->args[i].kind == WEFT_ARG_REDUCE;
    if (!any) return 0;
    weft_handle_t *h;
    int rc = weft_spawn(c->p->rt, fold, c, &h);
    if (rc) return rc;
    return weft_join(h, NULL, panic);
}

/* ---- the call ------------------------------------------------------------------------ */

static void call_free(call *c)
{
    for (size_t i = 0; c->partials && i < c->nargs; i++) free(c->partials[i]);
    free(c->partials);
    free(c->local);
    free(c->shapes);
    free(c->done);
    free(c->todo);
    free(c->failed);
    free(c->outcomes);
    free(c->alive);
}

/* Room for n pieces in each piece list; 0 or WEFT_ENOMEM. */
static int pieces_reserve(call *c, size_t n)
{
    if (n <= c->cap) return 0;
    piece **lists[] = {&c->done, &c->todo, &c->failed};
    for (int i = 0; i < 3; i++) {
        piece *v = realloc(*lists[i], n * sizeof *v);
        if (!v) return weft_error_set(WEFT_ENOMEM, "weft_mpi_run: out of memory for %zu pieces", n);
        *lists[i] = v;
    }
    c->cap = n;
    return 0;
}

/* Room for every rank's records, and for a piece per rank (a failover
 * round asks for more: pieces_reserve). */
static int call_alloc(call *c)
{
    size_t r = (size_t)c->p->nranks;
    c->shapes = malloc(r * sizeof *c->shapes);
    c->outcomes = malloc(r * sizeof *c->outcomes);
    c->alive = malloc(r * sizeof *c->alive);
    if (!c->shapes || !c->outcomes || !c->alive) return weft_error_set(WEFT_ENOMEM, "weft_mpi_run: out of memory");
    return pieces_reserve(c, r);
}

/* Split the failed pieces' rows evenly over the ranks still alive, in
 * whole work-groups: the next round's pieces. */
static size_t reassign(const call *c, const piece *failed, size_t nfailed, const int *alive, piece *next)
{
    size_t n = 0;
    int nalive = 0;
    for (int q = 0; q < c->p->nranks; q++) nalive += alive[q];
    for (size_t f = 0; f < nfailed; f++) {
        size_t g0 = failed[f].begin / c->p->group, g1 = (failed[f].end + c->p->group - 1) / c->p->group;
        size_t groups = g1 - g0, at = 0;
        int k = 0;
        for (int q = 0; q < c->p->nranks; q++) {
            if (!alive[q]) continue;
            size_t take = groups / (size_t)nalive + ((size_t)k < groups % (size_t)nalive);
            k++;
            if (!take) continue;
            size_t b = (g0 + at) * c->p->group, e = (g0 + at + take) * c->p->group;
            next[n++] = (piece){q, b, e < c->p->n ? e : c->p->n};
            at += take;
        }
    }
    return n;
}

int weft_mpi_run_at(const char *file, int line, weft_mpi_plan_t *p, const weft_kernel_t *k, const weft_arg_t *args,
                    size_t nargs, const weft_policy_t *pol, const weft_mpi_options_t *o, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    if (!p) return weft_error_set(WEFT_EINVAL, "weft_mpi_run: the plan is NULL");
    double t0 = MPI_Wtime(), tm;
    call c = {.p = p, .k = k, .args = args, .nargs = nargs};
    if (o) c.o = *o;
    else weft_mpi_options_init(&c.o);
    weft__mpi_rows(p, p->rank, &c.rows);
    p->last = (weft_mpi_stats_t){.begin = c.rows.begin, .end = c.rows.end, .rounds = 1};

    /* Everything local first, then one agreement: on success a call costs
     * that reduction, one all-gather of shapes, (halos,) one reduction of
     * outcomes, the gather and its reduction. */
    int rc = k ? check_local(&c, pol) : weft_error_set(WEFT_EINVAL, "weft_mpi_run: the kernel is NULL");
    if (!rc) rc = local_args(&c);
    if (!rc) rc = call_alloc(&c);
    tm = MPI_Wtime();
    rc = weft__mpi_agree(p->comm, rc, "weft_mpi_run");
    if (!rc) rc = check_shapes(&c);
    if (!rc && c.o.layout == WEFT_MPI_DISTRIBUTED) {
        rc = exchange_halos(&c);
        rc = weft__mpi_agree(p->comm, rc, "weft_mpi_run");
    }
    c.mpi_seconds += MPI_Wtime() - tm;

    /* Rounds: every rank's block, then (failover) the failed blocks again
     * on the ranks that have not failed. */
    size_t ndone = 0, ntodo = 0;
    int nfail_total = 0, first_rank = -1, recovered = 0;
    outcome first = {0};
    if (!rc) {
        for (int q = 0; q < p->nranks; q++) {
            c.alive[q] = 1;
            c.todo[ntodo++] = (piece){q, p->bounds[q], p->bounds[q + 1]};
        }
    }
    int failover = pol && pol->on_fault == WEFT_FAULT_FAILOVER && c.o.layout == WEFT_MPI_REPLICATED;
    for (int round = 1; !rc && ntodo; round++) {
        outcome mine = {0};
        for (size_t s = 0; s < ntodo; s++)
            if (c.todo[s].rank == p->rank) run_part(&c, file, line, pol, c.todo[s].begin, c.todo[s].end, &mine);
        tm = MPI_Wtime();
        int any = mine.rc != 0, worst = 0;
        if (MPI_Allreduce(&any, &worst, 1, MPI_INT, MPI_MAX, p->comm) != MPI_SUCCESS)
            rc = weft_error_set(WEFT_EMPI, "weft_mpi_run: MPI_Allreduce failed");
        else if (worst && MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, c.outcomes, (int)sizeof mine, MPI_BYTE,
                                        p->comm) != MPI_SUCCESS)
            rc = weft_error_set(WEFT_EMPI, "weft_mpi_run: MPI_Allgather failed");
        c.mpi_seconds += MPI_Wtime() - tm;
        if (rc) break;
        size_t nfailed = 0;
        for (size_t s = 0; s < ntodo; s++) {
            if (worst && c.outcomes[c.todo[s].rank].rc) c.failed[nfailed++] = c.todo[s];
            else if (c.todo[s].end > c.todo[s].begin) c.done[ndone++] = c.todo[s];
        }
        ntodo = 0;
        if (!worst) break;
        for (int q = 0; q < p->nranks; q++) {
            if (!c.outcomes[q].rc) continue;
            c.alive[q] = 0;
            nfail_total++;
            if (first_rank < 0 || c.outcomes[q].t < first.t) {
                first = c.outcomes[q];
                first_rank = q;
            }
        }
        int nalive = 0;
        for (int q = 0; q < p->nranks; q++) nalive += c.alive[q];
        /* Only panics fail over: wrong use fails alike on every rank. */
        if (failover && nalive > 0 && first.rc == WEFT_EPANIC) {
            /* Every rank reaches this alike: the room is agreed on too. */
            rc = pieces_reserve(&c, ndone + nfailed * (size_t)nalive);
            if ((rc = weft__mpi_agree(p->comm, rc, "weft_mpi_run"))) break;
            recovered = 1;
            ntodo = reassign(&c, c.failed, nfailed, c.alive, c.todo);
            p->last.rounds = round + 1;
            continue;
        }
        recovered = 0;
        if (first.rc != WEFT_EPANIC) {
            rc = weft_error_set(first.rc, "weft_mpi_run: rank %d of %d: %s", first_rank, p->nranks, first.message);
        } else {
            rc = WEFT_EPANIC;
            weft_panic_t *pn = cross_rank_panic(&c, &first, first_rank, nfail_total, 0);
            weft_error_set(WEFT_EPANIC, "%s", weft_panic_message(pn));
            if (c.o.abort_on_panic) {
                if (p->rank == first_rank) weft_panic_default_hook(pn, NULL);
                MPI_Abort(p->comm, 1);
            }
            if (panic) *panic = pn;
            else weft_panic_destroy(pn);
        }
    }
    if (!rc && recovered && pol->on_recovered) {
        weft_panic_t *pn = cross_rank_panic(&c, &first, first_rank, nfail_total, 1);
        pol->on_recovered(pn, pol->recovered_data);
        weft_panic_destroy(pn);
    }
    if (!rc) {
        tm = MPI_Wtime();
        rc = gather(&c, c.done, ndone);
        rc = weft__mpi_agree(p->comm, rc, "weft_mpi_run");
        c.mpi_seconds += MPI_Wtime() - tm;
    }
    if (!rc) rc = fold_all(&c, panic);
    call_free(&c);
    p->last.bytes_sent = c.bytes_sent;
    p->last.halo_bytes_sent = c.halo_bytes;
    p->last.messages_sent = c.messages;
    p->last.mpi_seconds = c.mpi_seconds;
    p->last.seconds = MPI_Wtime() - t0;
    return rc;
}

int weft_mpi_parallel_run_at(const char *file, int line, weft_runtime_t *rt, MPI_Comm comm, const weft_kernel_t *k,
                             weft_range_t r, const weft_arg_t *args, size_t nargs, const weft_policy_t *pol,
                             weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    weft_mpi_plan_t *p;
    int rc = weft_mpi_plan_create(rt, comm, k, r, pol, 0, &p);
    if (rc) return rc;
    rc = weft_mpi_run_at(file, line, p, k, args, nargs, pol, NULL, panic);
    weft_mpi_plan_destroy(p);
    return rc;
}

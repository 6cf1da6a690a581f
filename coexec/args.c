/* coexec/args.c — an operation's arguments: checking the request, the
 * operation's own copies, the bytes it borrows for writing, failover
 * snapshots, and the fold of reductions in block order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "array.h"

/* ---- checking the request ------------------------------------------------ */

static int check_mul(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b) return -1;
    *out = a * b;
    return 0;
}

/* A mapped split: every group's bytes inside the array, no two groups'. */
typedef struct group_bytes {
    size_t off, len, group;
} group_bytes;

static int by_offset(const void *x, const void *y)
{
    const group_bytes *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off;
}

static int check_map(const char *c, size_t i, const weft_arg_t *a, size_t n, size_t group)
{
    if (!a->map) return weft__fail(WEFT_EINVAL, "%s: argument %zu: a mapped split needs its function", c, i);
    if (a->access < WEFT_READ || a->access > WEFT_READ_WRITE)
        return weft__fail(WEFT_EINVAL, "%s: argument %zu: access %d is not valid", c, i, (int)a->access);
    size_t ngroups = (n + group - 1) / group;
    group_bytes *g = malloc((ngroups ? ngroups : 1) * sizeof *g);
    if (!g) return weft__fail(WEFT_ENOMEM, "%s: argument %zu: out of memory checking its map", c, i);
    size_t m = 0;
    for (size_t k = 0; k < ngroups; k++) {
        size_t b = k * group, e = b + group < n ? b + group : n, off = 0, len = 0;
        a->map(b, e, a->map_ctx, &off, &len);
        if (!len) continue;
        if (off > a->bytes || len > a->bytes - off) {
            free(g);
            return weft__fail(WEFT_EINVAL, "%s: argument %zu: the map gives indices [%zu, %zu) bytes [%zu, %zu), "
                              "past the array's %zu", c, i, b, e, off, off + len, a->bytes);
        }
        if (!a->data) {
            free(g);
            return weft__fail(WEFT_EINVAL, "%s: argument %zu: data is NULL", c, i);
        }
        g[m++] = (group_bytes){off, len, k};
    }
    qsort(g, m, sizeof *g, by_offset);
    for (size_t k = 1; k < m; k++) {
        if (g[k].off < g[k - 1].off + g[k - 1].len) {
            size_t x = g[k - 1].group, y = g[k].group;
            int rc = weft__fail(WEFT_EINVAL, "%s: argument %zu: the map gives work-groups %zu and %zu overlapping bytes "
                                "([%zu, %zu) and [%zu, %zu))", c, i, x < y ? x : y, x < y ? y : x, g[k - 1].off,
                                g[k - 1].off + g[k - 1].len, g[k].off, g[k].off + g[k].len);
            free(g);
            return rc;
        }
    }
    free(g);
    return 0;
}

/* A rectangle: rows of width bytes, pitch apart from origin, inside the array. */
static int check_rect(const char *c, size_t i, const weft_arg_t *a, size_t rows)
{
    if (a->width == 0 || a->width > a->unit)
        return weft__fail(WEFT_EINVAL, "%s: argument %zu: a row of %zu bytes does not fit the pitch of %zu", c, i,
                          a->width, a->unit);
    if (a->array)
        return weft__fail(WEFT_EINVAL, "%s: argument %zu: a rectangle cannot be on a registered array", c, i);
    if (!rows) return 0;
    size_t last, need;
    if (check_mul(rows - 1, a->unit, &last) || last > SIZE_MAX - a->origin || last + a->origin > SIZE_MAX - a->width)
        return weft__fail(WEFT_EINVAL, "%s: argument %zu: %zu rows of pitch %zu overflow", c, i, rows, a->unit);
    need = a->origin + last + a->width;
    if (!a->data) return weft__fail(WEFT_EINVAL, "%s: argument %zu: data is NULL", c, i);
    if (a->bytes < need)
        return weft__fail(WEFT_EINVAL, "%s: argument %zu: array of %zu bytes is smaller than the %zu the range's "
                          "rows need", c, i, a->bytes, need);
    return 0;
}

int weft__args_validate(const weft_kernel_t *k, weft_range_t r, const weft_arg_t *args, size_t nargs,
                        const weft_policy_t *pol)
{
    const char *c = "weft_parallel_for";
    if (!k) return weft__fail(WEFT_EINVAL, "%s: kernel is NULL", c);
    if (!k->name || !*k->name) return weft__fail(WEFT_EINVAL, "%s: kernel has no name", c);
    if (!k->cpu && !k->cpu_ctx && !k->cl_source && !k->cl_body)
        return weft__fail(WEFT_EINVAL, "%s: kernel '%s' has neither a CPU nor an OpenCL body", c, k->name);
    if (k->cpu && k->cpu_ctx)
        return weft__fail(WEFT_EINVAL, "%s: kernel '%s' has two CPU bodies, cpu and cpu_ctx: set only one", c,
                          k->name);
    if (k->cl_source && k->cl_body)
        return weft__fail(WEFT_EINVAL, "%s: kernel '%s' has both OpenCL source and a device body (cl_body)", c, k->name);
    if ((k->cl_source || k->cl_body) && (!k->cl_entry || !*k->cl_entry))
        return weft__fail(WEFT_EINVAL, "%s: kernel '%s' has %s but no entry name", c, k->name,
                          k->cl_source ? "OpenCL source" : "a device body");
    if (r.dims != 1 && r.dims != 2) return weft__fail(WEFT_EINVAL, "%s: range has %u dimensions, must be 1 or 2", c, r.dims);
    for (unsigned d = 0; d < r.dims; d++)
        if (r.group[d] == 0) return weft__fail(WEFT_EINVAL, "%s: work-group size of dimension %u is 0", c, d);
    size_t rows = r.size[r.dims - 1], total;
    if (r.dims == 2 && (check_mul(r.size[0], r.size[1], &total) || r.size[0] == 0) && rows)
        return weft__fail(WEFT_EINVAL, "%s: 2-D range %zu x %zu is empty in x or overflows", c, r.size[0], r.size[1]);
    /* Sizes are rounded up to whole work-groups: that must not overflow. */
    for (unsigned d = 0; d < r.dims; d++)
        if (r.size[d] > SIZE_MAX - r.group[d])
            return weft__fail(WEFT_EINVAL, "%s: range size %zu in work-groups of %zu overflows (dimension %u)", c,
                              r.size[d], r.group[d], d);
    size_t nblocks = 0; /* reduction partials: groups along the split times groups across (2-D) */
    size_t blocks_across = r.dims == 2 ? (r.size[0] + r.group[0] - 1) / r.group[0] : 1;
    int blocks_overflow = check_mul((rows + r.group[r.dims - 1] - 1) / r.group[r.dims - 1], blocks_across, &nblocks);
    if (nargs && !args) return weft__fail(WEFT_EINVAL, "%s: nargs is %zu but args is NULL", c, nargs);
    for (size_t i = 0; i < nargs; i++) {
        const weft_arg_t *a = &args[i];
        size_t need;
        switch (a->kind) {
        case WEFT_ARG_SPLIT:
            if (a->unit == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: unit is 0 bytes", c, i);
            if (a->access < WEFT_READ || a->access > WEFT_READ_WRITE)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: access %d is not valid", c, i, (int)a->access);
            if (a->span != WEFT_SPAN_INDEX && a->span != WEFT_SPAN_GROUP && a->span != WEFT_SPAN_MAP &&
                a->span != WEFT_SPAN_RECT)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: span %d is not valid", c, i, (int)a->span);
            if (a->span == WEFT_SPAN_RECT) {
                int rc = check_rect(c, i, a, rows);
                if (rc) return rc;
                break;
            }
            if (a->span == WEFT_SPAN_MAP) {
                int rc = check_map(c, i, a, rows, r.group[r.dims - 1]);
                if (rc) return rc;
                break;
            }
            size_t owners = a->span == WEFT_SPAN_GROUP ? (rows + r.group[r.dims - 1] - 1) / r.group[r.dims - 1] : rows;
            if (check_mul(owners, a->unit, &need))
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: %zu x %zu bytes overflows", c, i, owners, a->unit);
            if (a->clip && a->bytes == SIZE_MAX)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: its count x %zu bytes overflows", c, i, a->unit);
            if (a->clip && need > a->bytes) need = a->bytes; /* only what the array holds is touched */
            if (need && !a->data) return weft__fail(WEFT_EINVAL, "%s: argument %zu: data is NULL", c, i);
            if (a->bytes < need)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: array of %zu bytes is smaller than the %zu the range needs",
                                  c, i, a->bytes, need);
            break;
        case WEFT_ARG_WHOLE:
            if (!a->data || a->bytes == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: whole array is NULL or empty", c, i);
            if (a->access != WEFT_READ)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: whole arrays are read-only; split outputs instead", c, i);
            break;
        case WEFT_ARG_REDUCE:
            if (!a->data || !a->value || (!a->combine && !a->combine_ctx) || a->unit == 0)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: a reduction needs result, identity, combine and elem_size",
                                  c, i);
            if (a->combine && a->combine_ctx)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: a reduction has two combines, combine and "
                                  "combine_ctx: set only one", c, i);
            if (blocks_overflow || check_mul(nblocks, a->unit, &need))
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: the range's partials (%zu-byte each) overflow", c, i,
                                  a->unit);
            break;
        case WEFT_ARG_SCATTERED:
            if (!a->data || a->bytes == 0)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: scattered array is NULL or empty", c, i);
            if (a->access != WEFT_WRITE && a->access != WEFT_READ_WRITE)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: a scattered array is written (WEFT_WRITE or "
                                  "WEFT_READ_WRITE); read-only arrays are whole arguments", c, i);
            break;
        case WEFT_ARG_SCALAR:
            if (!a->value || a->size == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: scalar needs a value and a size", c, i);
            break;
        case WEFT_ARG_LOCAL:
            if (a->size == 0) return weft__fail(WEFT_EINVAL, "%s: argument %zu: __local size is 0", c, i);
            break;
        default:
            return weft__fail(WEFT_EINVAL, "%s: argument %zu: unknown kind %d", c, i, (int)a->kind);
        }
        if (a->array) {
            if (a->kind != WEFT_ARG_SPLIT && a->kind != WEFT_ARG_WHOLE)
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: only split and whole arguments can be on a "
                                  "registered array", c, i);
            if (a->data != weft_array_data(a->array) || a->bytes > weft_array_bytes(a->array))
                return weft__fail(WEFT_EINVAL, "%s: argument %zu: its data must be the registered array's first "
                                  "byte and its %zu bytes fit in the array's %zu", c, i, a->bytes,
                                  weft_array_bytes(a->array));
        }
    }
    if (pol && (pol->kind < WEFT_POLICY_STATIC || pol->kind > WEFT_POLICY_ADAPTIVE))
        return weft__fail(WEFT_EINVAL, "%s: unknown policy kind %d", c, (int)pol->kind);
    if (pol && pol->on_fault != WEFT_FAULT_PROPAGATE && pol->on_fault != WEFT_FAULT_FAILOVER)
        return weft__fail(WEFT_EINVAL, "%s: unknown on_fault %d", c, (int)pol->on_fault);
    if (pol && (pol->part_begin || pol->part_end)) {
        size_t n = r.size[r.dims - 1], g = r.group[r.dims - 1];
        if (pol->part_begin > pol->part_end || pol->part_end > n || pol->part_begin % g ||
            (pol->part_end % g && pol->part_end != n))
            return weft__fail(WEFT_EINVAL, "%s: kernel '%s': part [%zu, %zu) is not whole work-groups of %zu "
                              "inside the range's %zu split indices", c, k->name, pol->part_begin,
                              pol->part_end, g, n);
        for (size_t i = 0; i < nargs; i++)
            if (args[i].array)
                return weft__fail(WEFT_EINVAL, "%s: kernel '%s': argument %zu: a part of a range cannot use a "
                                  "registered array", c, k->name, i);
    }
    return 0;
}

/* ---- the operation's copies ----------------------------------------------- */

int weft__args_copy(weft__op *op, const weft_arg_t *args, size_t nargs)
{
    op->nargs = nargs;
    op->args = calloc(nargs ? nargs : 1, sizeof *op->args);
    op->argv = calloc(nargs ? nargs : 1, sizeof *op->argv);
    op->partials = calloc(nargs ? nargs : 1, sizeof *op->partials);
    if (!op->args || !op->argv || !op->partials) return -1;
    for (size_t i = 0; i < nargs; i++) {
        weft_arg_t a = args[i];
        if (a.kind == WEFT_ARG_SCALAR) {
            void *v = malloc(a.size);
            if (!v) return -1;
            memcpy(v, a.value, a.size);
            a.value = v;
            op->argv[i] = v;
        } else if (a.kind == WEFT_ARG_REDUCE) {
            size_t nblocks = op->ngroups * op->blocks_per_group;
            /* Every block starts as the identity: a block no place reached
             * (an empty range) folds to nothing. */
            if (!(op->partials[i] = malloc(nblocks ? nblocks * a.unit : 1))) return -1;
            for (size_t b = 0; b < nblocks; b++) memcpy((char *)op->partials[i] + b * a.unit, a.value, a.unit);
            op->argv[i] = op->partials[i];
        } else if (a.kind != WEFT_ARG_LOCAL) {
            op->argv[i] = a.data;
        }
        op->args[i] = a;
    }
    return weft__scatter_init(op);
}

void weft__args_span(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, int with_halo, size_t *off,
                     size_t *len)
{
    size_t b, e, owners; /* in owners of unit bytes: indices or groups */
    if (a->span == WEFT_SPAN_MAP) {
        size_t ib, ie, o = 0, l = 0;
        weft__op_indices(op, gb, ge, &ib, &ie);
        if (ie > ib) a->map(ib, ie, a->map_ctx, &o, &l);
        *off = o;
        *len = l;
        return;
    }
    if (a->span == WEFT_SPAN_RECT) {
        size_t first, rows;
        weft__args_rows(op, a, gb, ge, with_halo, &first, &rows);
        *off = a->origin + first * a->unit;
        *len = rows ? (rows - 1) * a->unit + a->width : 0;
        return;
    }
    if (a->span == WEFT_SPAN_GROUP) {
        b = gb;
        e = ge;
        owners = op->ngroups;
    } else {
        weft__op_indices(op, gb, ge, &b, &e);
        owners = op->n;
    }
    if (with_halo) {
        b = b > a->halo ? b - a->halo : 0;
        e = e + a->halo < owners ? e + a->halo : owners;
    }
    size_t lo = b * a->unit, hi = e * a->unit;
    if (a->clip) {
        if (hi > a->bytes) hi = a->bytes;
        if (lo > hi) lo = hi;
    }
    *off = lo;
    *len = hi - lo;
}

void weft__args_rows(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, int with_halo, size_t *first,
                     size_t *rows)
{
    size_t b, e;
    weft__op_indices(op, gb, ge, &b, &e);
    if (with_halo) {
        b = b > a->halo ? b - a->halo : 0;
        e = e + a->halo < op->n ? e + a->halo : op->n;
    }
    *first = b;
    *rows = e > b ? e - b : 0;
}

int weft__args_each(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, int with_halo,
                    int (*fn)(size_t off, size_t len, void *ctx), void *ctx)
{
    if (a->span != WEFT_SPAN_RECT) {
        size_t off, len;
        weft__args_span(op, a, gb, ge, with_halo, &off, &len);
        return len ? fn(off, len, ctx) : 0;
    }
    size_t first, rows;
    weft__args_rows(op, a, gb, ge, with_halo, &first, &rows);
    for (size_t r = first; r < first + rows; r++) {
        int rc = fn(a->origin + r * a->unit, a->width, ctx);
        if (rc) return rc;
    }
    return 0;
}

int weft__args_touches(const weft_arg_t *a, size_t off, size_t len, size_t byte)
{
    if (byte < off || byte >= off + len) return 0;
    return a->span != WEFT_SPAN_RECT || (byte - a->origin) % a->unit < a->width;
}

/* Write ranges this op takes, every written argument's; refused when a
 * running op writes them too, or two of them share a byte. */
int weft__args_borrow(weft__op *op)
{
    weft__region *r = malloc((op->nargs ? op->nargs : 1) * sizeof *r);
    if (!r) return weft__fail(WEFT_ENOMEM, "out of memory recording a write borrow");
    size_t n = 0;
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        size_t off, len;
        if (a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE) && op->n) {
            weft__args_span(op, a, op->g0, op->g1, 0, &off, &len);
            if (!len) continue;
            r[n++] = (weft__region){(const char *)a->data + off, (const char *)a->data + off + len,
                                    a->span == WEFT_SPAN_RECT ? a->unit : 0, a->width, i};
        } else if (a->kind == WEFT_ARG_REDUCE) {
            r[n++] = (weft__region){a->data, (const char *)a->data + a->unit, 0, 0, i};
        } else if (a->kind == WEFT_ARG_SCATTERED) {
            r[n++] = (weft__region){a->data, (const char *)a->data + a->bytes, 0, 0, i};
        }
    }
    int rc = weft__borrow_take(op->rt, op->id, op->name, r, n);
    free(r);
    return rc;
}

void weft__args_free(weft__op *op)
{
    for (size_t i = 0; op->args && i < op->nargs; i++) {
        if (op->args[i].kind == WEFT_ARG_SCALAR) free((void *)(uintptr_t)op->args[i].value);
        if (op->partials) free(op->partials[i]);
    }
    weft__scatter_free(op);
    free(op->partials);
    free(op->argv);
    free(op->args);
    op->partials = NULL;
    op->argv = NULL;
    op->args = NULL;
}

/* ---- failover snapshots --------------------------------------------------- */

/* Saving or restoring one argument's bytes, piece by piece (a rectangle's
 * rows; the padding between them belongs to others). */
typedef struct snap {
    char *data, *copy;
    size_t at;
    int save;
} snap;

static int snap_piece(size_t off, size_t len, void *ctx)
{
    snap *s = ctx;
    if (s->save) memcpy(s->copy + s->at, s->data + off, len);
    else memcpy(s->data + off, s->copy + s->at, len);
    s->at += len;
    return 0;
}

int weft__args_snapshot(weft__op *op, weft__place *pl, int save)
{
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->kind != WEFT_ARG_SPLIT || a->access != WEFT_READ_WRITE) continue;
        size_t off, len;
        weft__args_span(op, a, pl->gb, pl->ge, 0, &off, &len);
        if (!pl->snapshot && !(pl->snapshot = calloc(op->nargs, sizeof *pl->snapshot))) return -1;
        if (save) {
            free(pl->snapshot[i]);
            if (!(pl->snapshot[i] = malloc(len ? len : 1))) return -1;
        } else if (!pl->snapshot[i]) {
            continue;
        }
        snap s = {a->data, pl->snapshot[i], 0, save};
        weft__args_each(op, a, pl->gb, pl->ge, 0, snap_piece, &s);
        if (!save && a->array) weft__array_host_restored(a->array, off, off + len);
    }
    return 0;
}

void weft__args_snapshot_free(weft__op *op, weft__place *pl)
{
    if (!pl->snapshot) return;
    for (size_t i = 0; i < op->nargs; i++) free(pl->snapshot[i]);
    free(pl->snapshot);
    pl->snapshot = NULL;
}

/* ---- the end --------------------------------------------------------------- */

/* Where the fold is, for the panic a combine may throw: the state lives
 * outside the panic boundary, so it is still there after the jump. */
typedef struct fold_state {
    weft__op *op;
    size_t arg, block;
    unsigned char small[256];
    unsigned char *tmp;           /* the accumulator: small, or allocated */
} fold_state;

static void *fold_all(void *arg)
{
    fold_state *s = arg;
    weft__op *op = s->op;
    for (s->arg = 0; s->arg < op->nargs; s->arg++) {
        const weft_arg_t *a = &op->args[s->arg];
        if (a->kind != WEFT_ARG_REDUCE) continue;
        /* Block order, whatever place computed which block. */
        const char *acc = op->partials[s->arg];
        s->tmp = a->unit <= sizeof s->small ? s->small : malloc(a->unit);
        if (!s->tmp) continue;
        memcpy(s->tmp, a->value, a->unit);
        size_t nblocks = op->g1 * op->blocks_per_group; /* the part's blocks only */
        weft_chunk_ctx_t c;
        for (s->block = op->g0 * op->blocks_per_group; s->block < nblocks; s->block++) {
            if (a->combine) {
                a->combine(s->tmp, acc + s->block * a->unit);
                continue;
            }
            size_t g = s->block / op->blocks_per_group; /* the work-group along the split that holds it */
            weft__op_ctx(op, g, g + 1, &c);
            c.block = s->block;
            a->combine_ctx(s->tmp, acc + s->block * a->unit, &c);
        }
        memcpy(a->data, s->tmp, a->unit);
        if (s->tmp != s->small) free(s->tmp);
        s->tmp = NULL;
    }
    return NULL;
}

weft_panic_t *weft__args_fold(weft__op *op)
{
    fold_state s = {.op = op};
    weft_panic_t *p = weft__run_caught_quiet(fold_all, &s, NULL, op->launcher);
    if (!p) return NULL;
    if (s.tmp != s.small) free(s.tmp);
    /* The combine's own message, told where it was: the kernel, the
     * argument, the block (and its indices as the payload's range). */
    weft__failure f = {.thread = weft_panic_thread(p), .file = weft_panic_file(p), .line = weft_panic_line(p),
                       .kernel = op->name, .has_range = 1};
    size_t g = s.block / op->blocks_per_group;
    weft__op_indices(op, g, g + 1, &f.begin, &f.end);
    weft_panic_t *told = weft__panic_failure(&f, "kernel '%s': the combine of reduction argument %zu panicked "
                                             "folding block %zu: %s", op->name, s.arg, s.block,
                                             weft_panic_message(p));
    if (!told) return p; /* out of memory: the combine's own payload still tells */
    weft_panic_destroy(p);
    return told;
}

/* coexec/args.h — an operation's arguments: checking a request, the
 * operation's own copies (descriptors, scalars, reduction partials), the
 * byte ranges it writes, failover snapshots of the rows a chunk may dirty,
 * and the fold of reductions at the end. Internal. */
#ifndef WEFT_COEXEC_ARGS_H
#define WEFT_COEXEC_ARGS_H

#include <stddef.h>

#include "weft/parallel.h"
#include "op.h"

/* Check a request as weft_scope_parallel_for documents it: 0, or WEFT_EINVAL
 * with a message. pol may be NULL (the defaults). */
int weft__args_validate(const weft_kernel_t *k, weft_range_t r, const weft_arg_t *args, size_t nargs,
                        const weft_policy_t *pol);
/* Copy the descriptors into op (scalars' values too), make the reduction
 * partials (every block the identity) and the bodies' argv. op's range
 * fields must be set. 0, or -1 when memory ran out (weft__args_free cleans
 * up either way). */
int weft__args_copy(weft__op *op, const weft_arg_t *args, size_t nargs);
void weft__args_free(weft__op *op);
/* The bytes [*off, *off + *len) of split argument a that groups [gb, ge)
 * touch: per index or per group, with a's halo when with_halo (reads), cut
 * at a->bytes when the argument clips; for a rectangle, the range from its
 * first row's first byte to its last row's last (the rows are in it, with
 * the padding between them). */
void weft__args_span(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, int with_halo, size_t *off,
                     size_t *len);
/* A rectangle's rows that groups [gb, ge) touch: *rows from *first (with
 * a's halo when with_halo, within the range). */
void weft__args_rows(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, int with_halo, size_t *first,
                     size_t *rows);
/* Call fn for each contiguous piece of the bytes groups [gb, ge) touch:
 * once with weft__args_span's range, or per row of a rectangle (whose
 * padding is not the argument's). Stops at and returns fn's first nonzero. */
int weft__args_each(const weft__op *op, const weft_arg_t *a, size_t gb, size_t ge, int with_halo,
                    int (*fn)(size_t off, size_t len, void *ctx), void *ctx);
/* 1 when byte `byte` of split argument a is one of the bytes [off, off +
 * len) that weft__args_span gave for a chunk (for a rectangle, one of its
 * rows' bytes, not the padding between them). */
int weft__args_touches(const weft_arg_t *a, size_t off, size_t len, size_t byte);
/* Borrow the bytes op writes (written split arrays, reduction results):
 * 0, or WEFT_EBORROW when a running operation writes some of them. */
int weft__args_borrow(weft__op *op);
/* Failover: copy (save=1) or put back (save=0) the read-write split rows of
 * pl's chunk. 0, or -1 when memory ran out (then the rows are not kept). */
int weft__args_snapshot(weft__op *op, weft__place *pl, int save);
void weft__args_snapshot_free(weft__op *op, weft__place *pl);
/* Fold every reduction's partials in block order into its result, inside a
 * panic boundary: NULL, or the panic of a combine (naming the kernel, the
 * argument and the block; the hook has not heard of it), the result of
 * that reduction and of those after it then left unwritten. */
weft_panic_t *weft__args_fold(weft__op *op);

#endif

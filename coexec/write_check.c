/* coexec/write_check.c — see write_check.h. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "write_check.h"

/* Registered arrays are left out: their device copy holds more than the
 * chunk's bytes, and an image would overwrite it. */
static int checked(const weft_arg_t *a) { return a->kind == WEFT_ARG_SPLIT && (a->access & WEFT_WRITE) && !a->array; }

void weft__write_check_free(const weft__op *op, weft__write_check *wc)
{
    for (size_t i = 0; i < op->nargs; i++) {
        if (wc->image) free(wc->image[i]);
        if (wc->after) free(wc->after[i]);
    }
    free(wc->image);
    free(wc->after);
    wc->image = wc->after = NULL;
}

typedef struct image_piece_ctx {
    unsigned char *to;
    const char *from;
} image_piece_ctx;

/* Copy bytes [off, off + len) from the host array into the image (or,
 * after the chunk, from what came back into the host array). */
static int image_piece(size_t off, size_t len, void *ctx)
{
    image_piece_ctx *c = ctx;
    memcpy(c->to + off, c->from + off, len);
    return 0;
}

int weft__write_check_prepare(const weft__op *op, size_t gb, size_t ge, weft__write_check *wc)
{
    wc->image = calloc(op->nargs ? op->nargs : 1, sizeof *wc->image);
    wc->after = calloc(op->nargs ? op->nargs : 1, sizeof *wc->after);
    if (!wc->image || !wc->after) {
        weft__write_check_free(op, wc);
        return -1;
    }
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (!checked(a)) continue;
        size_t bytes = a->bytes ? a->bytes : 1;
        if (!(wc->image[i] = malloc(bytes)) || !(wc->after[i] = malloc(bytes))) {
            weft__write_check_free(op, wc);
            return -1;
        }
        memset(wc->image[i], WEFT__CANARY, a->bytes);
        /* What the chunk may read is real: with its halo when it reads. */
        image_piece_ctx ctx = {wc->image[i], a->data};
        if (a->access & WEFT_READ) weft__args_each(op, a, gb, ge, 1, image_piece, &ctx);
    }
    return 0;
}

weft_panic_t *weft__write_check_finish(const weft__op *op, const weft__place *pl, weft__write_check *wc)
{
    weft_panic_t *p = NULL;
    for (size_t i = 0; i < op->nargs && !p; i++) {
        const weft_arg_t *a = &op->args[i];
        if (!checked(a) || !wc->image[i]) continue;
        size_t off, len;
        weft__args_span(op, a, pl->gb, pl->ge, 0, &off, &len);
        size_t bad = a->bytes;
        for (size_t b = 0; b < a->bytes && bad == a->bytes; b++)
            if (wc->after[i][b] != wc->image[i][b] && !weft__args_touches(a, off, len, b)) bad = b;
        if (bad == a->bytes) {
            image_piece_ctx home = {a->data, (const char *)wc->after[i]};
            weft__args_each(op, a, pl->gb, pl->ge, 0, image_piece, &home);
            continue;
        }
        size_t ib, ie;
        weft__op_indices(op, pl->gb, pl->ge, &ib, &ie);
        weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                           .kernel = op->cl_entry, .has_range = 1, .begin = ib, .end = ie};
        p = weft__panic_failure(&f,
                                "kernel '%s' wrote outside its declared bytes on device '%s': argument %zu, "
                                "chunk [%zu, %zu) declares bytes [%zu, %zu), byte %zu changed",
                                op->name, pl->name, i, ib, ie, off, off + len, bad);
    }
    weft__write_check_free(op, wc);
    return p;
}

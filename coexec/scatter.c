/* coexec/scatter.c — see scatter.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

int weft__scatter_init(weft__op *op)
{
    weft__scatter *sc = &op->scatter;
    for (size_t i = 0; i < op->nargs; i++) {
        const weft_arg_t *a = &op->args[i];
        if (a->kind != WEFT_ARG_SCATTERED) continue;
        if (!sc->ready) { /* only operations with a scattered argument need it */
            pthread_mutex_init(&sc->m, NULL);
            sc->ready = 1;
        }
        if (!sc->original && !(sc->original = calloc(op->nargs, sizeof *sc->original))) return -1;
        if (!(sc->original[i] = malloc(a->bytes))) return -1;
        memcpy(sc->original[i], a->data, a->bytes);
    }
    return 0;
}

void weft__scatter_free(weft__op *op)
{
    weft__scatter *sc = &op->scatter;
    for (size_t i = 0; sc->original && i < op->nargs; i++) free(sc->original[i]);
    free(sc->original);
    free(sc->merged);
    sc->original = NULL;
    sc->merged = NULL;
    sc->nmerged = sc->cap = 0;
    if (sc->ready) pthread_mutex_destroy(&sc->m);
    sc->ready = 0;
}

/* Who changed byte b of argument i before: an earlier merged chunk, if one's
 * changed bytes span it (described into buf), else the host side. */
static const char *earlier(const weft__scatter *sc, size_t i, size_t b, char *buf, size_t cap)
{
    for (size_t k = 0; k < sc->nmerged; k++) {
        const weft__merged *m = &sc->merged[k];
        if (m->arg == i && m->lo <= b && b < m->hi) {
            snprintf(buf, cap, "chunk [%zu, %zu) on '%s'", m->ib, m->ie, m->place);
            return buf;
        }
    }
    return "a chunk that wrote the array in place (the CPU, or a device sharing the host's memory)";
}

weft_panic_t *weft__scatter_merge(weft__op *op, const weft__place *pl, size_t i, const unsigned char *after)
{
    weft__scatter *sc = &op->scatter;
    const weft_arg_t *a = &op->args[i];
    const unsigned char *orig = sc->original[i];
    unsigned char *host = a->data;
    size_t ib, ie;
    weft__op_indices(op, pl->gb, pl->ge, &ib, &ie);
    pthread_mutex_lock(&sc->m);
    /* First look for a clash, so that a refused chunk merges nothing. */
    size_t lo = a->bytes, hi = 0;
    for (size_t b = 0; b < a->bytes; b++) {
        if (after[b] == orig[b]) continue;
        if (host[b] != orig[b]) {
            char who[256];
            const char *first = earlier(sc, i, b, who, sizeof who);
            pthread_mutex_unlock(&sc->m);
            weft__failure f = {.thread = op->launcher, .file = op->file, .line = op->line, .device = pl->name,
                               .kernel = op->cl_entry, .has_range = 1, .begin = ib, .end = ie};
            weft_panic_t *p = weft__panic_failure(&f,
                                                  "kernel '%s': scattered argument %zu: byte %zu was changed by "
                                                  "chunk [%zu, %zu) on '%s' and by %s",
                                                  op->name, i, b, ib, ie, pl->name, first);
            return p;
        }
        if (b < lo) lo = b;
        hi = b + 1;
    }
    for (size_t b = lo; b < hi; b++)
        if (after[b] != orig[b]) host[b] = after[b];
    if (hi > lo) {
        if (sc->nmerged == sc->cap) {
            size_t cap = sc->cap ? 2 * sc->cap : 16;
            weft__merged *grown = realloc(sc->merged, cap * sizeof *grown);
            if (grown) {
                sc->merged = grown;
                sc->cap = cap;
            }
        }
        if (sc->nmerged < sc->cap) { /* best effort: it only names the other side of a clash */
            weft__merged *m = &sc->merged[sc->nmerged++];
            *m = (weft__merged){.arg = i, .lo = lo, .hi = hi, .ib = ib, .ie = ie};
            snprintf(m->place, sizeof m->place, "%.127s", pl->name);
        }
    }
    pthread_mutex_unlock(&sc->m);
    return NULL;
}

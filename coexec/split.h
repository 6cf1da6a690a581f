/* coexec/split.h — the chunking policies: which part of the range each
 * place runs next. Pure bookkeeping, no threads: the caller serialises calls.
 * All quantities are in work-groups along the split dimension. */
#ifndef WEFT_COEXEC_SPLIT_H
#define WEFT_COEXEC_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#define WEFT__MAX_PLACES 65

typedef struct weft__requeued {
    size_t gb, ge;
    uint64_t failed[2];           /* places this chunk already failed on */
} weft__requeued;

typedef struct weft__split {
    int kind;                     /* weft_policy_kind_t */
    size_t total;                 /* groups in the range */
    size_t next;                  /* first group not handed out */
    size_t chunk;                 /* DYNAMIC: chunk; GUIDED/ADAPTIVE: smallest chunk */
    int nplaces;
    double speed[WEFT__MAX_PLACES];   /* groups per second (or a relative prior) */
    int measured[WEFT__MAX_PLACES];
    int retired[WEFT__MAX_PLACES];
    int dropped[WEFT__MAX_PLACES];    /* GUIDED/ADAPTIVE: takes no more chunks, its
                                         share would lengthen the operation */
    size_t in_flight[WEFT__MAX_PLACES]; /* groups handed and not yet recorded */
    size_t handed[WEFT__MAX_PLACES];    /* chunks handed */
    size_t done[WEFT__MAX_PLACES];      /* groups recorded (measured) this operation */
    size_t static_b[WEFT__MAX_PLACES], static_e[WEFT__MAX_PLACES];
    int static_taken[WEFT__MAX_PLACES];
    weft__requeued *requeued;
    size_t nrequeued, cap_requeued;
} weft__split;

/* speed: a prior per place (relative is fine); measured[p] says whether it is
 * a real measurement (ADAPTIVE skips calibration for those). chunk: 0 = auto.
 * With one place, every kind but DYNAMIC hands it the whole range as one
 * chunk (there is nothing to balance). */
void weft__split_init(weft__split *sp, int kind, size_t total_groups, int nplaces,
                      const double *speed, const int *measured, size_t chunk_groups);
void weft__split_free(weft__split *sp);
/* A static split: take the given shares (per place, in groups: contiguous,
 * in place order, covering the whole range) instead of the speeds' own,
 * unless the speeds predict them more than a quarter slower (the slowest
 * place's share over its speed): a split that stays put keeps registered
 * arrays' rows where they are, until the speeds really moved. Nothing for
 * other kinds, or shares that do not cover the range in order. */
void weft__split_prefer_static(weft__split *sp, const size_t *b, const size_t *e);
/* Next chunk for place p: 1 with [*gb, *ge), or 0 when nothing is left for it.
 *
 * GUIDED and ADAPTIVE drop a place whose share would lengthen the operation:
 * once p's speed is measured, if the chunk p would get takes it longer than
 * the other live places need for everything else (what is left after it,
 * and what they have in flight, at their speeds), p gets nothing more —
 * the others finish sooner without it. A slow device, one whose copies cost
 * more than its compute saves (a speed is measured from submit to report,
 * copies included), a place slowed by sharing cores: each stops taking
 * chunks. A place is never dropped while no other live place remains. When
 * one live place is left, it takes the rest as one chunk.
 *
 * Slow start: work is often uneven (Mandelbrot's middle rows cost many
 * times its top ones), so a speed — measured on the groups a place ran, or
 * a model's average over whole operations — says little about the next
 * groups. A place's chunk is at most twice the groups it has finished this
 * operation (or twice a first, measuring chunk, a 16th of the range over the
 * places): chunks grow as the place proves them, and a long chunk of dear
 * groups cannot end after everything else. */
int weft__split_next(weft__split *sp, int p, size_t *gb, size_t *ge);
/* Place p takes no chunk, as a dropped place (GUIDED, ADAPTIVE): unless
 * every other live place retires. */
void weft__split_exclude(weft__split *sp, int p);
/* Place p ran `groups` groups in `seconds` (its chunk is no longer in flight). */
void weft__split_record(weft__split *sp, int p, size_t groups, double seconds);
/* Place p failed chunk [gb, ge): hand it to another place; p takes no more. */
int weft__split_requeue(weft__split *sp, int p, size_t gb, size_t ge);
/* Place p takes no more chunks (its static share, if untaken, is requeued). */
int weft__split_retire(weft__split *sp, int p);
/* 1 when some chunk could still be handed to some live place. */
int weft__split_pending(const weft__split *sp);

#endif

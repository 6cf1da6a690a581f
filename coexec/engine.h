/* coexec/engine.h — the co-execution engine's state in a runtime, and the
 * parts of it shared by its files: write borrows, the chunk trace, speed
 * models. Internal; the runtime root creates and destroys the engine. */
#ifndef WEFT_COEXEC_ENGINE_H
#define WEFT_COEXEC_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/parallel.h"
#include "../scheduler/internal.h"

/* The engine's slot in weft_runtime's layer[] (the host layer has 0). */
#define WEFT__LAYER_ENGINE 1

/* Bytes an operation writes: [begin, end), or with pitch > 0 the rows of
 * width bytes that start every pitch bytes from begin, the last ending at
 * end; arg is the operation's argument that writes them (for messages). */
typedef struct weft__region {
    const char *begin, *end;
    size_t pitch, width;
    size_t arg;
} weft__region;

typedef struct weft__borrow {
    weft__region r;               /* bytes written */
    const char *kernel;           /* name of the operation (owned by its caller) */
    unsigned long id;             /* the operation's own id */
    struct weft__borrow *next;
} weft__borrow;

typedef struct weft__engine {
    pthread_mutex_t m;            /* guards borrows and last_stats */
    weft__borrow *borrows;        /* write ranges of running parallel operations */
    weft_run_stats_t last_stats;  /* of the latest operation (zero before any) */
    _Atomic(struct weft__trace *) trace; /* chunk trace, NULL when off; never
                                            freed before the runtime */
    int check_writes;             /* copying device places check write sets (write_check.c) */
    struct weft_array *arrays;    /* registered arrays alive (array.c), under m */
    pthread_mutex_t forms_m;      /* guards forms */
    struct weft__form *forms;     /* recent entry forms (place_cl.c), newest first */
    pthread_mutex_t models_m;     /* guards models */
    struct weft__model *models;   /* speeds read or learned (model.c) */
} weft__engine;

static inline weft__engine *weft__engine_of(const weft_runtime_t *rt)
{
    return (weft__engine *)weft__layer(rt, WEFT__LAYER_ENGINE);
}

/* Set up rt's engine (and $WEFT_TRACE); check_writes as
 * weft_runtime_options_t's (0: from $WEFT_CHECK_WRITES). 0 or a WEFT_E* code
 * with a message. */
int weft__engine_create(weft_runtime_t *rt, int check_writes);
/* Write the trace out and free everything. Safe when create made nothing. */
void weft__engine_destroy(weft_runtime_t *rt);
/* Publish an operation's statistics as rt's latest. */
void weft__engine_publish_stats(weft_runtime_t *rt, const weft_run_stats_t *stats);

/* ---- borrows (borrow.c): refusing overlapping writes --------------------- */
/* Register n write regions of operation `id` named kernel; refuse
 * (WEFT_EBORROW, a message naming both kernels, both arguments and the
 * bytes) if one overlaps a running operation's, or another of the n (two
 * arguments of one operation writing the same bytes). */
int weft__borrow_take(weft_runtime_t *rt, unsigned long id, const char *kernel, const weft__region *r, size_t n);
/* 1 when regions a and b share a byte (two rectangles of different pitches:
 * when their ranges do, which may say so of disjoint ones). */
int weft__region_overlap(const weft__region *a, const weft__region *b);
void weft__borrow_release(weft_runtime_t *rt, unsigned long id);
void weft__borrows_free(weft_runtime_t *rt);

/* ---- chunk trace (trace.c) ---------------------------------------------- */
/* Record one chunk when tracing is on. place is a display name. */
void weft__trace_chunk(weft_runtime_t *rt, const char *kernel, const char *place, int place_id,
                       size_t begin, size_t end, uint64_t bytes, uint64_t t_start_ns,
                       uint64_t t_end_ns, int failed);
int weft__trace_from_env(weft_runtime_t *rt);
void weft__trace_destroy(weft_runtime_t *rt);

/* ---- entry forms (place_cl.c) --------------------------------------------- */
/* Free the recent entry forms (engine destroy). */
void weft__forms_free(weft_runtime_t *rt);

/* ---- speed models on disk (model.c) ------------------------------------- */
/* Load the indices-per-second figure of (kernel, place) into *speed; 1 if known. */
int weft__model_load(weft_runtime_t *rt, const char *kernel, const char *place, double *speed);
/* Store it (best effort: a cache that cannot be written is not an error). */
void weft__model_store(weft_runtime_t *rt, const char *kernel, const char *place, double speed);
/* Write what the runtime learned and has not written yet; free the memory
 * (engine destroy). */
void weft__models_flush(weft_runtime_t *rt);
/* The speeds a model file may hold, in indices per second: anything else
 * (inf, nan, 0, 1e308) is not read and not written. */
#define WEFT__MODEL_MIN 1e-6
#define WEFT__MODEL_MAX 1e15
/* The file's format, one "place<TAB>speed" line per entry (a later line
 * wins). Read place's speed from f into *speed: 1 if f has a valid entry,
 * else 0 (over-long lines, malformed or out-of-range speeds are passed by;
 * a last line without a newline counts). */
int weft__model_read(FILE *f, const char *place, double *speed);
/* Copy f's lines but place's to out, each ending in a newline (so that an
 * entry appended after them is a line of its own); over-long and empty
 * lines are dropped. */
void weft__model_copy_except(FILE *in, FILE *out, const char *place);

#endif

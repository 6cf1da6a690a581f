/* bench/workloads/scope.c — workload "scope": a weft_scope of N tiny tasks
 * vs an OpenMP parallel region of N threads doing the same.
 *
 * Each task (each OpenMP thread) writes one element: out[i] = stamp + i, with
 * a stamp that changes every iteration; every element is checked after every
 * scope or region. N = 2 and N = the CPU threads weft uses (its workers and
 * the caller, case "n=thr"), both reported even when equal; or N = --size. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

#include "workloads.h"

#define SCOPE_GOAL (1.0 / 1.2) /* a scope aims to be within 1.2x of the region */

struct scope_ctx {
    weft_runtime_t *rt;
    int n;
    int64_t stamp;
    int64_t *out;
    struct slot *slots;
};

struct slot {
    struct scope_ctx *c;
    int i;
};

static void *write_one(void *p)
{
    struct slot *s = p;
    s->c->out[s->i] = s->c->stamp + s->i;
    return NULL;
}

static int scope_body(weft_scope_t *s, void *p)
{
    struct scope_ctx *c = p;
    for (int i = 0; i < c->n; i++)
        if (weft_scope_spawn(s, write_one, &c->slots[i], NULL)) return -1;
    return 0;
}

static int check(const struct scope_ctx *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->out[i] != c->stamp + i) return -1;
    return 0;
}

static int weft_scopes(void *p, uint64_t iters)
{
    struct scope_ctx *c = p;
    for (uint64_t it = 0; it < iters; it++) {
        c->stamp += c->n;
        if (weft_scope(c->rt, scope_body, c, NULL)) return -1;
        if (check(c)) return -1;
    }
    return 0;
}

static int omp_regions(void *p, uint64_t iters)
{
    struct scope_ctx *c = p;
    int64_t *out = c->out;
    for (uint64_t it = 0; it < iters; it++) {
        int64_t stamp = c->stamp += c->n;
#pragma omp parallel num_threads(c->n)
        {
            int i = omp_get_thread_num();
            out[i] = stamp + i;
        }
        if (check(c)) return -1;
    }
    return 0;
}

/* variant: the record's case ("n=2", "n=thr"). */
static int measure(bench_ctx *b, int n, const char *variant)
{
    struct scope_ctx c = {.rt = b->rt, .n = n, .stamp = 0};
    c.out = calloc((size_t)n, sizeof *c.out);
    c.slots = calloc((size_t)n, sizeof *c.slots);
    if (!c.out || !c.slots) {
        free(c.out);
        free(c.slots);
        bench_progress("scope: out of memory for %d tasks", n);
        return -1;
    }
    for (int i = 0; i < n; i++) c.slots[i] = (struct slot){&c, i};
    char label[48];
    snprintf(label, sizeof label, "scope/%s", variant);
    bench_case cs[2] = {{"weft", weft_scopes, &c, 1.0, NULL}, {"openmp", omp_regions, &c, 1.0, NULL}};
    bench_measure m[2];
    bench_measure_set(b, label, cs, 2, m);
    bench_record *r = bench_add_record(b, "scope", variant, (size_t)n, n, &m[0], "scopes/s", "openmp", &m[1], SCOPE_GOAL);
    if (r) {
        snprintf(r->target, sizeof r->target, "weft_scope of %d tasks within 1.2x of an OpenMP region as wide (%s)", n,
                 variant);
        r->switches_goal = BENCH_SWITCHES_GOAL;
    }
    free(c.out);
    free(c.slots);
    return 0;
}

static int run_scope(bench_ctx *b)
{
    if (b->opt->size) {
        if (b->opt->size > 4096) {
            bench_progress("scope: --size %zu is too many threads (at most 4096)", b->opt->size);
            return -1;
        }
        char variant[32];
        snprintf(variant, sizeof variant, "n=%zu", b->opt->size);
        return measure(b, (int)b->opt->size, variant);
    }
    return measure(b, 2, "n=2") || measure(b, b->threads, "n=thr") ? -1 : 0;
}

const bench_workload bench_workload_scope = {
    .name = "scope",
    .description = "weft_scope of N one-element tasks vs an OpenMP parallel region of N threads",
    .size_help = "tasks per scope = OpenMP threads (default: 2, and the CPU threads weft uses)",
    .run = run_scope,
};

/* coexec/split.c — static, dynamic, guided and adaptive chunking. */
#include <stdlib.h>
#include <string.h>

#include "split.h"
#include "weft/parallel.h"

/* Guided hands a place remaining * its share / K (EngineCL's HGuided uses a
 * similar constant); adaptive, whose speeds come from measurement, can afford
 * bigger first chunks. */
#define GUIDED_K 2.0
#define ADAPTIVE_K 1.5
/* A static split given to keep (weft__split_prefer_static) is kept while
 * the speeds predict it at most this much slower than a fresh one: chunks
 * of milliseconds measure with noise of tens of percent, and rows that move
 * cost copies. */
#define PREFER_SLACK 1.25

/* Speeds are kept finite and positive whatever comes in (a model file, a
 * clock that did not move): NaN or <= 0 is 1, the rest clamped, so that no
 * sum, ratio or conversion to a group count overflows. */
#define SPEED_MIN 1e-30
#define SPEED_MAX 1e30

static double sane_speed(double x)
{
    if (!(x > 0)) return 1.0;
    return x < SPEED_MIN ? SPEED_MIN : x > SPEED_MAX ? SPEED_MAX : x;
}

/* x groups as a count, clamped to [0, max] (x may be anything). */
static size_t to_groups(double x, size_t max)
{
    if (!(x > 0)) return 0;
    return x >= (double)max ? max : (size_t)x;
}

static size_t share(const weft__split *sp, int p, double k);
static int would_lose(const weft__split *sp, int p, size_t n, size_t rem);
static void drop_known_losers(weft__split *sp, double k);

static void set_bit(uint64_t m[2], int p) { m[p / 64] |= (uint64_t)1 << (p % 64); }
static int has_bit(const uint64_t m[2], int p) { return (int)((m[p / 64] >> (p % 64)) & 1u); }

void weft__split_init(weft__split *sp, int kind, size_t total_groups, int nplaces,
                      const double *speed, const int *measured, size_t chunk_groups)
{
    memset(sp, 0, sizeof *sp);
    /* One place has no one to balance against: cutting its range would only
     * add chunks (launches, copies, barriers). Static, guided and adaptive
     * give it the whole range at once; dynamic keeps its chunks (the user
     * may size them for memory or latency). */
    if (nplaces == 1 && kind != WEFT_POLICY_DYNAMIC) kind = WEFT_POLICY_STATIC;
    sp->kind = kind;
    sp->total = total_groups;
    sp->nplaces = nplaces;
    double sum = 0;
    for (int p = 0; p < nplaces; p++) {
        sp->speed[p] = sane_speed(speed[p]);
        sp->measured[p] = measured ? measured[p] : 0;
        sum += sp->speed[p];
    }
    size_t automatic = kind == WEFT_POLICY_DYNAMIC ? total_groups / (8 * (size_t)nplaces)
                                                   : total_groups / (64 * (size_t)nplaces);
    sp->chunk = chunk_groups ? chunk_groups : (automatic ? automatic : 1);
    if (kind == WEFT_POLICY_STATIC) {
        /* One contiguous share per place, in place order, sized by speed;
         * every place gets at least one group when there are enough, so each
         * is measured and the model learns all of them. */
        size_t floor_each = total_groups >= (size_t)nplaces ? 1 : 0;
        size_t spread = total_groups - floor_each * (size_t)nplaces;
        double acc = 0;
        size_t b = 0;
        for (int p = 0; p < nplaces; p++) {
            acc += sp->speed[p];
            size_t e = p == nplaces - 1 ? total_groups
                                        : to_groups((double)spread * acc / sum + 0.5, spread) + floor_each * (size_t)(p + 1);
            if (e < b + floor_each) e = b + floor_each;
            if (e > total_groups) e = total_groups;
            sp->static_b[p] = b;
            sp->static_e[p] = e;
            b = e;
        }
        sp->next = total_groups;
    }
    if (kind == WEFT_POLICY_GUIDED || kind == WEFT_POLICY_ADAPTIVE)
        drop_known_losers(sp, kind == WEFT_POLICY_ADAPTIVE ? ADAPTIVE_K : GUIDED_K);
}

/* Guided or adaptive with every speed known: drop, slowest first, each
 * place whose first share would already lose, so that the others' first
 * chunks are sized without it (a place left alone then takes the range as
 * one chunk). */
static void drop_known_losers(weft__split *sp, double k)
{
    for (int p = 0; p < sp->nplaces; p++)
        if (!sp->measured[p]) return;
    for (;;) {
        int slowest = -1;
        for (int p = 0; p < sp->nplaces; p++)
            if (!sp->dropped[p] && (slowest < 0 || sp->speed[p] < sp->speed[slowest])) slowest = p;
        size_t n = share(sp, slowest, k);
        if (n < sp->chunk) n = sp->chunk;
        if (n > sp->total) n = sp->total;
        if (!would_lose(sp, slowest, n, sp->total)) return;
        sp->dropped[slowest] = 1;
    }
}

void weft__split_prefer_static(weft__split *sp, const size_t *b, const size_t *e)
{
    if (sp->kind != WEFT_POLICY_STATIC) return;
    /* Each split's predicted time: its slowest place's share over speed. */
    double t_given = 0, t_own = 0;
    size_t at = 0;
    for (int p = 0; p < sp->nplaces; p++) {
        if (b[p] != at || e[p] < b[p]) return;
        at = e[p];
        double given = (double)(e[p] - b[p]) / sp->speed[p];
        double own = (double)(sp->static_e[p] - sp->static_b[p]) / sp->speed[p];
        if (given > t_given) t_given = given;
        if (own > t_own) t_own = own;
    }
    if (at != sp->total || t_given > PREFER_SLACK * t_own) return;
    for (int p = 0; p < sp->nplaces; p++) {
        sp->static_b[p] = b[p];
        sp->static_e[p] = e[p];
    }
}

void weft__split_free(weft__split *sp)
{
    free(sp->requeued);
    sp->requeued = NULL;
    sp->nrequeued = sp->cap_requeued = 0;
}

static int take_requeued(weft__split *sp, int p, size_t *gb, size_t *ge)
{
    for (size_t i = 0; i < sp->nrequeued; i++) {
        if (has_bit(sp->requeued[i].failed, p)) continue;
        *gb = sp->requeued[i].gb;
        *ge = sp->requeued[i].ge;
        sp->requeued[i] = sp->requeued[--sp->nrequeued];
        return 1;
    }
    return 0;
}

/* The first chunk of a place whose speed is unknown: small, it measures it. */
static size_t probe(const weft__split *sp) { return sp->total / (16 * (size_t)sp->nplaces); }

static size_t share(const weft__split *sp, int p, double k)
{
    double sum = 0;
    for (int q = 0; q < sp->nplaces; q++)
        if (!sp->retired[q] && !sp->dropped[q]) sum += sp->speed[q];
    double rem = (double)(sp->total - sp->next);
    return to_groups(rem * sp->speed[p] / (k * sum) + 0.999999, sp->total - sp->next);
}

/* The live places other than p that still take chunks: their speed
 * summed, in *speed, and their groups in flight, in *in_flight. */
static int others(const weft__split *sp, int p, double *speed, size_t *in_flight)
{
    int n = 0;
    *speed = 0;
    *in_flight = 0;
    for (int q = 0; q < sp->nplaces; q++) {
        if (q == p || sp->retired[q] || sp->dropped[q]) continue;
        n++;
        *speed += sp->speed[q];
        *in_flight += sp->in_flight[q];
    }
    return n;
}

/* 1 when p's chunk of n groups (of rem left) would end after the other
 * live places finish everything else: the operation is shorter without p. */
static int would_lose(const weft__split *sp, int p, size_t n, size_t rem)
{
    double other_speed;
    size_t other_in_flight;
    if (!sp->measured[p] || others(sp, p, &other_speed, &other_in_flight) == 0 || other_speed <= 0) return 0;
    return (double)n / sp->speed[p] > (double)(rem - n + other_in_flight) / other_speed;
}

/* Count [gb, ge) handed to p and in flight; 1, for the caller to return. */
static int handed(weft__split *sp, int p, size_t gb, size_t ge)
{
    sp->in_flight[p] += ge - gb;
    sp->handed[p]++;
    return 1;
}

/* p's `groups` came back (run or failed). */
static void no_longer_in_flight(weft__split *sp, int p, size_t groups)
{
    sp->in_flight[p] -= groups < sp->in_flight[p] ? groups : sp->in_flight[p];
}

/* Hand p groups [sp->next, sp->next + n). */
static int hand(weft__split *sp, int p, size_t n, size_t *gb, size_t *ge)
{
    *gb = sp->next;
    *ge = sp->next + n;
    sp->next += n;
    return handed(sp, p, *gb, *ge);
}

int weft__split_next(weft__split *sp, int p, size_t *gb, size_t *ge)
{
    if (sp->retired[p]) return 0;
    if (sp->dropped[p]) {
        /* Dropped while others could finish without it; they have since
         * retired (a failure, a set-up that failed): it is needed again. */
        double speed;
        size_t in_flight;
        if (others(sp, p, &speed, &in_flight) > 0) return 0;
        sp->dropped[p] = 0;
    }
    if (take_requeued(sp, p, gb, ge)) return handed(sp, p, *gb, *ge);
    if (sp->kind == WEFT_POLICY_STATIC) {
        if (sp->static_taken[p] || sp->static_b[p] == sp->static_e[p]) return 0;
        sp->static_taken[p] = 1;
        *gb = sp->static_b[p];
        *ge = sp->static_e[p];
        return handed(sp, p, *gb, *ge);
    }
    if (sp->next >= sp->total) return 0;
    size_t n, rem = sp->total - sp->next;
    double other_speed;
    size_t other_in_flight;

    /* Alone (every other place retired or dropped): no one to balance
     * against, the rest in one chunk. */
    if (sp->kind != WEFT_POLICY_DYNAMIC && others(sp, p, &other_speed, &other_in_flight) == 0)
        return hand(sp, p, rem, gb, ge);
    switch (sp->kind) {
    case WEFT_POLICY_DYNAMIC: n = sp->chunk; break;
    default:
        /* Priors (cores, compute units) say little about a kernel's speed on
         * a place: size nothing big on them. A place's first chunk is small
         * and measures it; shares follow from measured speeds. */
        if (!sp->measured[p]) {
            n = probe(sp);
            break;
        }
        n = share(sp, p, sp->kind == WEFT_POLICY_ADAPTIVE ? ADAPTIVE_K : GUIDED_K);
        /* Slow start (split.h): at most twice what the place has finished,
         * or than a first chunk. */
        size_t credit = sp->done[p] > probe(sp) ? sp->done[p] : probe(sp);
        if (n > 2 * credit) n = 2 * credit;
        break;
    }
    if (n < sp->chunk) n = sp->chunk;
    if (n > rem) n = rem;
    if (sp->kind != WEFT_POLICY_DYNAMIC && would_lose(sp, p, n, rem)) {
        sp->dropped[p] = 1; /* the others finish sooner without it */
        return 0;
    }
    return hand(sp, p, n, gb, ge);
}

void weft__split_exclude(weft__split *sp, int p)
{
    if (sp->kind == WEFT_POLICY_GUIDED || sp->kind == WEFT_POLICY_ADAPTIVE) sp->dropped[p] = 1;
}

void weft__split_record(weft__split *sp, int p, size_t groups, double seconds)
{
    no_longer_in_flight(sp, p, groups);
    sp->done[p] += groups;
    if (groups == 0 || seconds <= 0) return;
    double s = sane_speed((double)groups / seconds);
    if (!sp->measured[p]) {
        /* Unmeasured places hold relative priors: rescale them to this unit. */
        double scale = s / sp->speed[p];
        for (int q = 0; q < sp->nplaces; q++)
            if (q != p && !sp->measured[q]) sp->speed[q] = sane_speed(sp->speed[q] * scale);
        sp->speed[p] = s;
        sp->measured[p] = 1;
    } else {
        sp->speed[p] = 0.5 * sp->speed[p] + 0.5 * s;
    }
}

static int push_requeued(weft__split *sp, size_t gb, size_t ge, const uint64_t failed[2])
{
    if (sp->nrequeued == sp->cap_requeued) {
        size_t cap = sp->cap_requeued ? sp->cap_requeued * 2 : 8;
        weft__requeued *r = realloc(sp->requeued, cap * sizeof *r);
        if (!r) return -1;
        sp->requeued = r;
        sp->cap_requeued = cap;
    }
    weft__requeued *r = &sp->requeued[sp->nrequeued++];
    r->gb = gb;
    r->ge = ge;
    r->failed[0] = failed[0];
    r->failed[1] = failed[1];
    return 0;
}

int weft__split_retire(weft__split *sp, int p)
{
    if (sp->retired[p]) return 0;
    sp->retired[p] = 1;
    if (sp->kind == WEFT_POLICY_STATIC && !sp->static_taken[p] && sp->static_b[p] < sp->static_e[p]) {
        sp->static_taken[p] = 1;
        uint64_t failed[2] = {0, 0};
        set_bit(failed, p);
        return push_requeued(sp, sp->static_b[p], sp->static_e[p], failed);
    }
    return 0;
}

int weft__split_requeue(weft__split *sp, int p, size_t gb, size_t ge)
{
    no_longer_in_flight(sp, p, ge - gb);
    uint64_t failed[2] = {0, 0};
    set_bit(failed, p);
    if (push_requeued(sp, gb, ge, failed)) return -1;
    return weft__split_retire(sp, p);
}

int weft__split_pending(const weft__split *sp)
{
    int live = 0;
    for (int p = 0; p < sp->nplaces; p++) live |= !sp->retired[p];
    if (!live) return 0;
    if (sp->nrequeued) return 1;
    if (sp->kind == WEFT_POLICY_STATIC) {
        for (int p = 0; p < sp->nplaces; p++)
            if (!sp->retired[p] && !sp->static_taken[p] && sp->static_b[p] < sp->static_e[p]) return 1;
        return 0;
    }
    return sp->next < sp->total;
}

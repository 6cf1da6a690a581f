/* test_split.c — the chunking policies alone (coexec/split.h, white-box,
 * simulated clocks): every place gets a first chunk; a place whose share
 * would lengthen the operation is dropped by guided and adaptive, never by
 * dynamic or static, never when it is the last live place; a place left
 * alone takes the rest in one chunk; every group is handed out exactly once,
 * whatever double a speed or a chunk's time is. */
#include "weft_test.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "coexec/split.h"

enum { TOTAL = 4096 };

/* A simulated run: places take chunks in turn, each lasting groups/speed
 * seconds of a shared clock, the earliest to finish going next, until none
 * takes more. Each group must be handed once; returns the chunks per place. */
typedef struct sim {
    weft__split sp;
    double speed[4];             /* true groups per second */
    double busy_until[4];
    size_t gb[4], ge[4];
    int running[4];
    size_t chunks[4], groups[4];
    unsigned char seen[TOTAL];
    double end;
} sim;

static void run_sim(sim *s, int nplaces)
{
    memset(s->seen, 0, sizeof s->seen);
    for (int p = 0; p < nplaces; p++) {
        s->busy_until[p] = 0;
        s->running[p] = weft__split_next(&s->sp, p, &s->gb[p], &s->ge[p]);
        if (s->running[p]) s->busy_until[p] = (double)(s->ge[p] - s->gb[p]) / s->speed[p];
    }
    for (;;) {
        int p = -1;
        for (int q = 0; q < nplaces; q++)
            if (s->running[q] && (p < 0 || s->busy_until[q] < s->busy_until[p])) p = q;
        if (p < 0) break;
        size_t n = s->ge[p] - s->gb[p];
        for (size_t g = s->gb[p]; g < s->ge[p]; g++) {
            if (s->seen[g]) fail_msg("group %zu handed twice", g);
            s->seen[g] = 1;
        }
        s->chunks[p]++;
        s->groups[p] += n;
        double start = s->busy_until[p] - (double)n / s->speed[p];
        weft__split_record(&s->sp, p, n, s->busy_until[p] - start);
        if (s->busy_until[p] > s->end) s->end = s->busy_until[p];
        s->running[p] = weft__split_next(&s->sp, p, &s->gb[p], &s->ge[p]);
        if (s->running[p]) s->busy_until[p] += (double)(s->ge[p] - s->gb[p]) / s->speed[p];
    }
    for (size_t g = 0; g < TOTAL; g++)
        if (!s->seen[g]) fail_msg("group %zu never handed", g);
}

static void init(sim *s, int kind, int nplaces, const double *truth, const double *prior, const int *measured)
{
    memset(s, 0, sizeof *s);
    for (int p = 0; p < nplaces; p++) s->speed[p] = truth[p];
    weft__split_init(&s->sp, kind, TOTAL, nplaces, prior, measured, 0);
}

/* A place 200 times slower than the other: after its first chunk (which
 * measures it) it gets nothing more, and the fast place never waits for it
 * past that chunk. */
static void guided_drops_a_slow_place(void **state)
{
    (void)state;
    static const int kinds[] = {WEFT_POLICY_GUIDED, WEFT_POLICY_ADAPTIVE};
    for (size_t k = 0; k < 2; k++) {
        sim s;
        const double truth[] = {1000.0, 5.0}, prior[] = {2.0, 2.0};
        init(&s, kinds[k], 2, truth, prior, NULL);
        run_sim(&s, 2);
        assert_int_equal(s.chunks[1], 1);     /* its calibration chunk */
        assert_true(s.groups[1] > 0);         /* every place gets work first */
        assert_int_equal(s.sp.dropped[0], 0);
        /* The fast place never waits for the slow one past its first
         * chunk: the end is the later of the two running alone. */
        double alone = (double)(TOTAL - s.groups[1]) / truth[0], first = (double)s.groups[1] / truth[1];
        if (s.end > 1.0001 * (alone > first ? alone : first))
            fail_msg("%s: ended at %.3f s, alone %.3f s, slow first chunk %.3f s (%zu groups, fast %zu chunks)", k ? "adaptive" : "guided", s.end, alone, first, s.groups[1], s.chunks[0]);
        weft__split_free(&s.sp);
    }
}

/* A place 16 times slower helps: it keeps taking (smaller) chunks, and the
 * operation ends within 5% of the places' added speeds. */
static void slower_place_still_helps(void **state)
{
    (void)state;
    static const int kinds[] = {WEFT_POLICY_GUIDED, WEFT_POLICY_ADAPTIVE};
    for (size_t k = 0; k < 2; k++) {
        sim s;
        const double truth[] = {1000.0, 60.0}, prior[] = {1.0, 1.0};
        init(&s, kinds[k], 2, truth, prior, NULL);
        run_sim(&s, 2);
        if (s.chunks[1] < 2)
            fail_msg("slow place: %zu chunks, %zu groups; fast: %zu chunks; end %.3f", s.chunks[1], s.groups[1],
                     s.chunks[0], s.end);
        assert_int_equal(s.sp.dropped[0], 0);
        double ideal = (double)TOTAL / (truth[0] + truth[1]);
        if (s.end > 1.05 * ideal) fail_msg("ended at %.3f s, ideal %.3f s", s.end, ideal);
        weft__split_free(&s.sp);
    }
}

/* Equal places share to the end: nobody is dropped while its chunk ends
 * before the others finish. */
static void equal_places_both_work(void **state)
{
    (void)state;
    sim s;
    const double truth[] = {100.0, 100.0, 100.0}, prior[] = {1.0, 1.0, 1.0};
    init(&s, WEFT_POLICY_GUIDED, 3, truth, prior, NULL);
    run_sim(&s, 3);
    for (int p = 0; p < 3; p++) {
        assert_true(s.groups[p] > TOTAL / 4);
        assert_true(s.chunks[p] >= 2);
    }
    /* Balanced: within a tenth of the ideal. */
    assert_true(s.end <= 1.1 * (double)TOTAL / 300.0);
    weft__split_free(&s.sp);
}

/* Adaptive with a full model: the slow place is dropped before it runs
 * anything, and the fast one, left alone, takes everything as one chunk. */
static void adaptive_model_drops_before_running(void **state)
{
    (void)state;
    sim s;
    const double truth[] = {1000.0, 5.0};
    const int measured[] = {1, 1};
    init(&s, WEFT_POLICY_ADAPTIVE, 2, truth, truth, measured);
    size_t gb, ge;
    assert_int_equal(weft__split_next(&s.sp, 1, &gb, &ge), 0);
    assert_int_equal(s.sp.dropped[1], 1);
    assert_int_equal(s.sp.handed[1], 0);
    assert_int_equal(weft__split_next(&s.sp, 0, &gb, &ge), 1);
    assert_int_equal(gb, 0);
    assert_int_equal(ge, TOTAL);
    assert_int_equal(weft__split_next(&s.sp, 0, &gb, &ge), 0);
    weft__split_free(&s.sp);
}

/* The last live place is never dropped: the fast place retires (a failure
 * under failover), and the slow one, however slow, runs the rest. */
static void last_place_is_never_dropped(void **state)
{
    (void)state;
    sim s;
    const double truth[] = {1000.0, 5.0};
    const int measured[] = {1, 1};
    init(&s, WEFT_POLICY_GUIDED, 2, truth, truth, measured);
    size_t gb, ge;
    assert_int_equal(weft__split_next(&s.sp, 0, &gb, &ge), 1);
    assert_int_equal(weft__split_requeue(&s.sp, 0, gb, ge), 0);
    size_t done = 0;
    while (weft__split_next(&s.sp, 1, &gb, &ge)) {
        done += ge - gb;
        weft__split_record(&s.sp, 1, ge - gb, (double)(ge - gb) / truth[1]);
    }
    assert_int_equal(done, TOTAL);
    assert_int_equal(s.sp.dropped[1], 0);
    weft__split_free(&s.sp);
}

/* Slow start: a speed measured on a few groups (cheap ones, say), or a
 * model's, hands the place at most twice what it has finished (or twice a
 * measuring chunk). */
static void slow_start(void **state)
{
    (void)state;
    const double prior[] = {1.0, 1.0};
    weft__split sp;
    weft__split_init(&sp, WEFT_POLICY_GUIDED, TOTAL, 2, prior, NULL, 0);
    size_t gb, ge, g1, e1, finished = 0;
    /* Place 1 takes its first chunk and never reports; place 0 reports each
     * of its chunks a thousand times faster than its prior. */
    assert_int_equal(weft__split_next(&sp, 1, &g1, &e1), 1);
    for (int i = 0; i < 4 && weft__split_next(&sp, 0, &gb, &ge); i++) {
        size_t n = ge - gb;
        if (finished && n > 2 * finished) fail_msg("chunk %d: %zu groups after %zu finished", i, n, finished);
        weft__split_record(&sp, 0, n, 1e-6 * (double)n);
        finished += n;
    }
    weft__split_free(&sp);

    const double known[] = {1000.0, 500.0};
    const int measured[] = {1, 1};
    weft__split_init(&sp, WEFT_POLICY_ADAPTIVE, TOTAL, 2, known, measured, 0);
    assert_int_equal(weft__split_next(&sp, 0, &gb, &ge), 1);
    /* A model's speed is capped too: twice a measuring chunk (a 16th of the
     * range over the places), then twice what was finished. */
    assert_int_equal(ge - gb, 2 * (TOTAL / 32));
    weft__split_record(&sp, 0, ge - gb, 1e-3);
    assert_int_equal(weft__split_next(&sp, 0, &gb, &ge), 1);
    assert_int_equal(ge - gb, 2 * (TOTAL / 16));
    weft__split_free(&sp);
}

/* Dynamic and static never drop: the user fixed the chunks, or the shares. */
static void dynamic_and_static_never_drop(void **state)
{
    (void)state;
    static const int kinds[] = {WEFT_POLICY_DYNAMIC, WEFT_POLICY_STATIC};
    for (size_t k = 0; k < 2; k++) {
        sim s;
        const double truth[] = {1000.0, 5.0}, prior[] = {1.0, 1.0};
        init(&s, kinds[k], 2, truth, prior, NULL);
        run_sim(&s, 2);
        assert_int_equal(s.sp.dropped[1], 0);
        assert_true(s.groups[1] > 0);
        weft__split_free(&s.sp);
    }
}

/* One place: static, guided and adaptive hand the whole range at once. */
static void one_place_one_chunk(void **state)
{
    (void)state;
    static const int kinds[] = {WEFT_POLICY_STATIC, WEFT_POLICY_GUIDED, WEFT_POLICY_ADAPTIVE};
    for (size_t k = 0; k < 3; k++) {
        sim s;
        const double truth[] = {10.0}, prior[] = {1.0};
        init(&s, kinds[k], 1, truth, prior, NULL);
        run_sim(&s, 1);
        assert_int_equal(s.chunks[0], 1);
        weft__split_free(&s.sp);
    }
}

/* Speeds from anywhere (a model file, a clock that did not move) may be
 * inf, nan, 1e308, 0, negative or subnormal: the split keeps every speed
 * finite and positive, hands every group exactly once and ends, under
 * every policy, whatever chunk times are recorded. */
static void any_double_speed(void **state)
{
    (void)state;
    static const double odd[] = {INFINITY, NAN, 1e308, 0.0, -1.0, 1e-320, DBL_MAX, 1.0, -INFINITY, 3e-300};
    static const double seconds[] = {0.0, 1e-300, INFINITY, NAN, 1e300, -1.0, 1e-9};
    static const int kinds[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED, WEFT_POLICY_ADAPTIVE};
    const size_t n_odd = sizeof odd / sizeof odd[0];
    for (size_t k = 0; k < 4; k++)
        for (size_t a = 0; a < n_odd; a++)
            for (int m = 0; m < 2; m++) {
                double prior[3] = {odd[a], odd[(a + 3) % n_odd], odd[(a + 7) % n_odd]};
                int measured[3] = {m, m, m};
                weft__split sp;
                weft__split_init(&sp, kinds[k], TOTAL, 3, prior, measured, 0);
                static unsigned char seen[TOTAL];
                memset(seen, 0, sizeof seen);
                size_t handed = 0, steps = 0;
                for (int live = 1; live;) {
                    live = 0;
                    for (int p = 0; p < 3; p++) {
                        size_t gb, ge;
                        if (!weft__split_next(&sp, p, &gb, &ge)) continue;
                        live = 1;
                        assert_true(gb < ge && ge <= TOTAL);
                        for (size_t g = gb; g < ge; g++) {
                            if (seen[g]) fail_msg("group %zu handed twice", g);
                            seen[g] = 1;
                        }
                        handed += ge - gb;
                        weft__split_record(&sp, p, ge - gb, seconds[steps++ % (sizeof seconds / sizeof seconds[0])]);
                        for (int q = 0; q < 3; q++) assert_true(isfinite(sp.speed[q]) && sp.speed[q] > 0);
                    }
                    assert_true(steps <= TOTAL);
                }
                assert_int_equal(handed, TOTAL);
                weft__split_free(&sp);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guided_drops_a_slow_place),
        cmocka_unit_test(slower_place_still_helps),
        cmocka_unit_test(equal_places_both_work),
        cmocka_unit_test(adaptive_model_drops_before_running),
        cmocka_unit_test(last_place_is_never_dropped),
        cmocka_unit_test(slow_start),
        cmocka_unit_test(dynamic_and_static_never_drop),
        cmocka_unit_test(one_place_one_chunk),
        cmocka_unit_test(any_double_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

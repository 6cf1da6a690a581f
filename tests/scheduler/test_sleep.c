/* test_sleep.c — weft_sleep_ns sleeps at least the time asked, also when
 * signals interrupt it and inside tasks. Only lower bounds are asserted. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <signal.h>
#include <sys/time.h>

#define MS 1000000ull

static void sleep_at_least(void **state)
{
    (void)state;
    const uint64_t asks[] = {0, 1, 1000, 1 * MS, 7 * MS, 20 * MS, 999 * MS + 999999, 1000 * MS + 5};
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        uint64_t t0 = wt_now_ns();
        weft_sleep_ns(asks[i]);
        uint64_t slept = wt_now_ns() - t0;
        if (slept < asks[i])
            fail_msg("asked %llu ns, slept %llu ns", (unsigned long long)asks[i],
                     (unsigned long long)slept);
    }
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void sleep_survives_signals(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the sleep really is interrupted */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval every_2ms = {{0, 2000}, {0, 2000}}, off = {{0, 0}, {0, 0}};
    alarms = 0;
    assert_int_equal(setitimer(ITIMER_REAL, &every_2ms, NULL), 0);
    uint64_t t0 = wt_now_ns();
    weft_sleep_ns(60 * MS);
    uint64_t slept = wt_now_ns() - t0;
    setitimer(ITIMER_REAL, &off, NULL);
    /* An alarm may still be pending (valgrind delivers signals late): take it
     * here, so it never meets the default action (which ends the process). */
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    struct timespec no_wait = {0, 0};
    while (sigtimedwait(&alrm, NULL, &no_wait) == SIGALRM) alarms++;
    sigaction(SIGALRM, &old, NULL);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    assert_true(alarms > 0); /* the signals did arrive during the sleep */
    if (slept < 60 * MS) fail_msg("slept only %llu ns across %d signals", (unsigned long long)slept, (int)alarms);
}

typedef struct timed {
    uint64_t ask, slept;
} timed;

static void *sleep_task(void *arg)
{
    timed *t = arg;
    uint64_t t0 = wt_now_ns();
    weft_sleep_ns(t->ask);
    t->slept = wt_now_ns() - t0;
    return NULL;
}

static void sleep_in_tasks(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    enum { N = 6 };
    timed t[N];
    weft_handle_t *h[N];
    for (int i = 0; i < N; i++) {
        t[i] = (timed){.ask = (uint64_t)(i + 1) * 3 * MS};
        assert_int_equal(weft_spawn(rt, sleep_task, &t[i], &h[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(weft_join(h[i], NULL, NULL), 0);
        assert_true(t[i].slept >= t[i].ask);
    }
    /* and on a dedicated thread */
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = (size_t)1 << 20;
    timed d = {.ask = 15 * MS};
    weft_handle_t *dh;
    assert_int_equal(weft_builder_spawn(&b, rt, sleep_task, &d, &dh), 0);
    assert_int_equal(weft_join(dh, NULL, NULL), 0);
    assert_true(d.slept >= d.ask);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sleep_at_least),
        cmocka_unit_test(sleep_survives_signals),
        cmocka_unit_test(sleep_in_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

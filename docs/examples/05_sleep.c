/* 05_sleep.c — weft_sleep_ns never sleeps less than asked, even when
 * signals keep interrupting it. */
#define _XOPEN_SOURCE 700 /* sigaction, setitimer, clock_gettime */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include <weft/weft.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *nap(void *arg)
{
    uint64_t ns = (uint64_t)(uintptr_t)arg, t0 = now_ns();
    weft_sleep_ns(ns);
    return (void *)(uintptr_t)(now_ns() - t0);
}

int main(void)
{
    /* A signal every 2 ms, without SA_RESTART: plain nanosleep() would
     * return early, with EINTR, at the first one. */
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every_2ms = {{0, 2000}, {0, 2000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &every_2ms, NULL);

    uint64_t asked = 50000000u, t0 = now_ns();
    weft_sleep_ns(asked);
    uint64_t slept = now_ns() - t0;
    setitimer(ITIMER_REAL, &off, NULL);
    printf("asked for 50 ms, slept at least that: %s\n", slept >= asked ? "yes" : "no");
    printf("signals arrived meanwhile: %s\n", alarms > 0 ? "yes" : "no");

    /* Inside a task it is the same call (it blocks that worker meanwhile). */
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    weft_handle_t *h;
    void *took;
    if (weft_spawn(rt, nap, (void *)(uintptr_t)20000000u, &h) != 0) return 1;
    weft_join(h, &took, NULL);
    printf("a task asked for 20 ms, slept at least that: %s\n",
           (uint64_t)(uintptr_t)took >= 20000000u ? "yes" : "no");
    weft_runtime_destroy(rt);
    return 0;
}

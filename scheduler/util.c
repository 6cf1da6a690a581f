/* scheduler/util.c — small helpers: names, strings, spinning, sleep. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

int weft__name_is_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t extra;
        unsigned min;
        if (c < 0x20 || c == 0x7f) return 0;
        if (c < 0x80) { p++; continue; }
        if ((c & 0xe0) == 0xc0) { extra = 1; min = 0x80; c &= 0x1f; }
        else if ((c & 0xf0) == 0xe0) { extra = 2; min = 0x800; c &= 0x0f; }
        else if ((c & 0xf8) == 0xf0) { extra = 3; min = 0x10000; c &= 0x07; }
        else return 0;
        p++;
        for (size_t i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80) return 0;
            c = (c << 6) | (*p & 0x3f);
        }
        /* overlong forms, surrogates, beyond Unicode, C1 controls */
        if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) return 0;
        if (c >= 0x80 && c <= 0x9f) return 0;
    }
    return 1;
}

char *weft__strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

uint64_t weft__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void weft__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void weft_sleep_ns(uint64_t ns)
{
    /* An absolute deadline on the monotonic clock: a signal that interrupts the
     * sleep resumes it for the time that is left, never less. */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t sec = ns / 1000000000u;
    deadline.tv_sec += (time_t)sec;
    deadline.tv_nsec += (long)(ns % 1000000000u);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_nsec -= 1000000000L;
        deadline.tv_sec += 1;
    }
    /* A sleep long enough to be worth a thread's start hands the worker's
     * place in the pool to a spare (worker.c). */
    weft_runtime_t *counted = ns >= 100000 ? weft__block_begin() : NULL;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {
    }
    weft__block_end(counted);
}

size_t weft__utf8_fit(const char *s, size_t len)
{
    if (len == 0) return 0;
    /* The last character's lead byte: at most 3 continuation bytes back. */
    size_t i = len - 1;
    while (i > 0 && len - i < 4 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    unsigned char lead = (unsigned char)s[i];
    size_t need = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
    return i + need > len ? i : len;
}

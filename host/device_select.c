/* host/device_select.c — parse WEFT_DEVICES against the devices found. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_select.h"
#include "weft/opencl.h"
#include "../scheduler/internal.h"

#define TERM_MAX 256

static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl) return 1;
    }
    return nl == 0;
}

/* "found 2 devices: 0 'pthread-...', 1 'basic-...'" into buf. */
static void describe_found(const weft__found_device *found, size_t n, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "found %zu device%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%zu '%s'", i ? ", " : ": ", i,
                                found[i].name ? found[i].name : "?");
}

static int fail_term(const char *spec, const char *why, const char *term,
                     const weft__found_device *found, size_t n)
{
    char list[768];
    describe_found(found, n, list, sizeof list);
    return weft__fail(WEFT_EINVAL, "WEFT_DEVICES=\"%s\": %s \"%s\"; %s", spec, why, term, list);
}

static int select_term(const char *spec, const char *term, const weft__found_device *found,
                       size_t n, unsigned char *chosen)
{
    int type = 0;
    if (strcmp(term, "all") == 0) {
        memset(chosen, 1, n);
        return 0;
    }
    if (strcmp(term, "none") == 0) return 0;
    if (strcmp(term, "cpu") == 0) type = WEFT_DEVICE_CPU;
    else if (strcmp(term, "gpu") == 0) type = WEFT_DEVICE_GPU;
    else if (strcmp(term, "accelerator") == 0) type = WEFT_DEVICE_ACCELERATOR;
    if (type) {
        for (size_t i = 0; i < n; i++)
            if (found[i].type == type) chosen[i] = 1;
        return 0; /* asking for a kind that is absent selects nothing */
    }
    if (isdigit((unsigned char)term[0])) {
        char *end;
        errno = 0;
        unsigned long idx = strtoul(term, &end, 10);
        if (*end == '\0') {
            if (errno || idx >= n) return fail_term(spec, "no device has index", term, found, n);
            chosen[idx] = 1;
            return 0;
        }
    }
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (found[i].name && contains_nocase(found[i].name, term)) {
            chosen[i] = 1;
            any = 1;
        }
    }
    return any ? 0 : fail_term(spec, "no device name contains", term, found, n);
}

int weft__device_select(const char *spec, const weft__found_device *found, size_t n,
                        unsigned char *chosen)
{
    if (n) memset(chosen, 0, n);
    if (!spec) return 0;
    const char *p = spec;
    int terms = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) { p++; len--; }
        while (len && isspace((unsigned char)p[len - 1])) len--;
        char term[TERM_MAX];
        if (len == 0)
            return weft__fail(WEFT_EINVAL,
                              "WEFT_DEVICES=\"%s\": empty term; expected all, none, cpu, gpu, "
                              "accelerator, an index or a name substring", spec);
        if (len >= sizeof term)
            return weft__fail(WEFT_EINVAL, "WEFT_DEVICES: a term is longer than %d bytes", TERM_MAX - 1);
        memcpy(term, p, len);
        term[len] = '\0';
        int rc = select_term(spec, term, found, n, chosen);
        if (rc) return rc;
        terms++;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

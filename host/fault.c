/* host/fault.c — injected device failures, so failure paths can be tested on
 * any machine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* A fault aimed at a device the runtime does not have could never fire:
 * refused, with `who` (the caller, or WEFT_FAULT and its value) leading the
 * message. */
static int check_device(weft_runtime_t *rt, long device, const char *who)
{
    int n = weft_device_count(rt);
    if (device < n) return 0;
    return weft__fail(WEFT_EINVAL, "%s: device %ld does not exist: the runtime has %d device%s", who, device, n,
                      n == 1 ? "" : "s");
}

int weft_fault_inject(weft_runtime_t *rt, int device, long launch, int status, const char *kernel)
{
    if (!rt || !weft__host_of(rt)) return weft__fail(WEFT_EINVAL, "weft_fault_inject: runtime is NULL");
    if (device < -1 || device >= WEFT__MAX_DEVICES || launch < -1)
        return weft__fail(WEFT_EINVAL, "weft_fault_inject: device (%d) must be -1 to 63 and launch (%ld) >= -1",
                          device, launch);
    if (check_device(rt, device, "weft_fault_inject")) return WEFT_EINVAL;
    if (status >= 0)
        return weft__fail(WEFT_EINVAL, "weft_fault_inject: status %d is not a failure (must be < 0)", status);
    weft__fault *f = calloc(1, sizeof *f);
    if (!f || (kernel && !(f->kernel = weft__strdup(kernel)))) {
        free(f);
        return weft__fail(WEFT_ENOMEM, "weft_fault_inject: out of memory");
    }
    f->device = device;
    f->launch = launch;
    f->status = status;
    weft__host *h = weft__host_of(rt);
    pthread_mutex_lock(&h->m);
    /* `launch` counts from this call: remember where each device stands.
     * Devices adopted later start from 0, as does their counter. */
    for (int i = 0; i < atomic_load(&h->ndevices); i++) f->base[i] = atomic_load(&h->devices[i]->launches);
    f->next = h->faults;
    h->faults = f;
    pthread_mutex_unlock(&h->m);
    return 0;
}

void weft__faults_free(weft__host *h)
{
    while (h->faults) {
        weft__fault *next = h->faults->next;
        free(h->faults->kernel);
        free(h->faults);
        h->faults = next;
    }
}

void weft_fault_clear(weft_runtime_t *rt)
{
    if (!rt || !weft__host_of(rt)) return;
    weft__host *h = weft__host_of(rt);
    pthread_mutex_lock(&h->m);
    weft__faults_free(h);
    for (int i = 0; i < atomic_load(&h->ndevices); i++) atomic_store(&h->devices[i]->launches, 0);
    pthread_mutex_unlock(&h->m);
}

int weft__fault_check(weft_runtime_t *rt, int device, const char *kernel)
{
    weft__host *h = weft__host_of(rt);
    long n = atomic_fetch_add(&h->devices[device]->launches, 1);
    int status = 0;
    pthread_mutex_lock(&h->m);
    for (weft__fault *f = h->faults; f && !status; f = f->next) {
        if ((f->device == -1 || f->device == device) && (f->launch == -1 || f->launch == n - f->base[device]) &&
            (!f->kernel || strcmp(f->kernel, kernel) == 0))
            status = f->status;
    }
    pthread_mutex_unlock(&h->m);
    return status;
}

/* One "key=value,key=value" clause of WEFT_FAULT. */
static int parse_clause(weft_runtime_t *rt, const char *spec, char *clause)
{
    int device = -1, status = 0, have_status = 0;
    long launch = -1;
    const char *kernel = NULL;
    char *save = NULL;
    for (char *kv = strtok_r(clause, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return weft__fail(WEFT_EINVAL, "WEFT_FAULT=\"%s\": \"%s\" is not key=value", spec, kv);
        *eq = '\0';
        const char *key = kv, *val = eq + 1;
        char *end;
        errno = 0;
        if (strcmp(key, "device") == 0 || strcmp(key, "launch") == 0) {
            long v = strcmp(val, "*") == 0 ? -1 : strtol(val, &end, 10);
            if (strcmp(val, "*") != 0 && (errno || *end || end == val || v < 0 || v > 1L << 40))
                return weft__fail(WEFT_EINVAL, "WEFT_FAULT=\"%s\": %s=\"%s\" is not an index or *",
                                  spec, key, val);
            if (key[0] == 'd') {
                if (v >= WEFT__MAX_DEVICES)
                    return weft__fail(WEFT_EINVAL, "WEFT_FAULT=\"%s\": device %ld is out of range", spec, v);
                char who[256];
                snprintf(who, sizeof who, "WEFT_FAULT=\"%.200s\"", spec);
                if (check_device(rt, v, who)) return WEFT_EINVAL;
                device = (int)v;
            } else {
                launch = v;
            }
        } else if (strcmp(key, "status") == 0) {
            if (weft_cl_status_parse(val, &status) != 0) {
                long v = strtol(val, &end, 10);
                if (errno || *end || end == val || v >= 0 || v < -100000)
                    return weft__fail(WEFT_EINVAL,
                                      "WEFT_FAULT=\"%s\": status \"%s\" is neither a CL_ error name nor a negative number",
                                      spec, val);
                status = (int)v;
            }
            have_status = 1;
        } else if (strcmp(key, "kernel") == 0) {
            kernel = val;
        } else {
            return weft__fail(WEFT_EINVAL,
                              "WEFT_FAULT=\"%s\": unknown key \"%s\" (expected device, launch, status, kernel)",
                              spec, key);
        }
    }
    if (!have_status || status >= 0)
        return weft__fail(WEFT_EINVAL, "WEFT_FAULT=\"%s\": each fault needs status=<negative CL status>", spec);
    return weft_fault_inject(rt, device, launch, status, kernel);
}

int weft__fault_parse(weft_runtime_t *rt, const char *spec)
{
    char *copy = weft__strdup(spec);
    if (!copy) return weft__fail(WEFT_ENOMEM, "out of memory parsing WEFT_FAULT");
    int rc = 0;
    char *save = NULL;
    for (char *c = strtok_r(copy, ";", &save); c && !rc; c = strtok_r(NULL, ";", &save))
        rc = parse_clause(rt, spec, c);
    free(copy);
    return rc;
}

/* host/program.c — build OpenCL programs, cached per (source, options, device),
 * and pools of kernel objects per entry point. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

struct weft_program {
    weft_runtime_t *rt;
    int ndevices;
    weft__built **built;          /* one per device, owned by the cache */
};

static int same(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

static weft__built *find(weft__host *h, int device, const char *source, const char *options)
{
    for (weft__built *b = h->built; b; b = b->next)
        if (b->device == device && same(b->options, options) && strcmp(b->source, source) == 0)
            return b;
    return NULL;
}

/* prog's build log for d (malloc'd), or NULL. */
static char *build_log(weft__device *d, cl_program prog)
{
    char *log = NULL;
    size_t len = 0;
    if (prog && clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) == CL_SUCCESS &&
        len > 0 && (log = malloc(len + 1))) {
        if (clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, len, log, NULL) == CL_SUCCESS) {
            log[len] = '\0';
        } else {
            free(log);
            log = NULL;
        }
    }
    return log;
}

/* The failed build b as the caller's failure: the panic payload (into *why
 * when why is not NULL) and the error message. Returns NULL. */
static weft__built *build_failure(weft__device *d, const weft__built *b, weft_panic_t **why, int *status)
{
    cl_int err = b->build_err;
    weft__fail(WEFT_EBUILD, "OpenCL program build failed on device '%s': %s%s", d->info.name,
               weft_cl_status_name(err), why ? " (build log in the panic payload)" : "");
    if (why) {
        weft__failure f = {.thread = weft_current_name(), .file = __FILE__, .line = __LINE__, .device = d->info.name,
                           .cl_status = err, .cl_status_name = weft_cl_status_name(err), .build_log = b->build_log};
        *why = weft__panic_failure(&f, "OpenCL program build failed on device '%s': %s (%d)", d->info.name,
                                   weft_cl_status_name(err), err);
    }
    *status = WEFT_EBUILD;
    return NULL;
}

static void built_free(weft__built *b)
{
    if (b->program) clReleaseProgram(b->program);
    free(b->source);
    free(b->options);
    free(b->build_log);
    free(b);
}

weft__built *weft__program_get(weft_runtime_t *rt, int device, const char *source,
                               const char *options, weft_panic_t **why, int *status)
{
    if (why) *why = NULL;
    weft__host *h = weft__host_of(rt);
    weft__device *d = weft__device_get(rt, device, "program build");
    if (!d) {
        *status = WEFT_EINVAL;
        return NULL;
    }
    pthread_mutex_lock(&h->m);
    weft__built *b = find(h, device, source, options);
    pthread_mutex_unlock(&h->m);
    if (b) return b->program ? b : build_failure(d, b, why, status);

    /* Build outside the lock: builds take long, and other devices may proceed. */
    cl_int err;
    atomic_fetch_add_explicit(&d->builds, 1, memory_order_relaxed);
    cl_program prog = clCreateProgramWithSource(d->ctx, 1, &source, NULL, &err);
    if (prog) err = clBuildProgram(prog, 1, &d->id, options, NULL, NULL);
    char *log = NULL;
    if (err != CL_SUCCESS) {
        log = build_log(d, prog);
        if (prog) clReleaseProgram(prog);
        prog = NULL;
    }
    /* A source that does not compile (or options the compiler refuses) will
     * not compile next time either: that failure is cached with its log.
     * Others (out of resources, say) may pass, and are tried again. */
    int keep = err == CL_SUCCESS || err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS;
    weft__built *nb = keep ? calloc(1, sizeof *nb) : NULL;
    if (nb && !(nb->source = weft__strdup(source))) {
        free(nb);
        nb = NULL;
    }
    if (nb && options && !(nb->options = weft__strdup(options))) {
        free(nb->source);
        free(nb);
        nb = NULL;
    }
    if (!nb) {
        if (prog) clReleaseProgram(prog);
        if (err != CL_SUCCESS) { /* reported uncached */
            weft__built once = {.build_err = err, .build_log = log};
            build_failure(d, &once, why, status);
            free(log);
            return NULL;
        }
        weft__fail(WEFT_ENOMEM, "out of memory caching a program");
        *status = WEFT_ENOMEM;
        return NULL;
    }
    nb->device = device;
    nb->program = prog;
    nb->build_err = err;
    nb->build_log = log;
    pthread_mutex_lock(&h->m);
    b = find(h, device, source, options);
    if (!b) {
        nb->next = h->built;
        h->built = nb;
        b = nb;
        nb = NULL;
    }
    pthread_mutex_unlock(&h->m);
    if (nb) built_free(nb); /* another thread built it first */
    return b->program ? b : build_failure(d, b, why, status);
}

static weft__kernel_pool *pool_of(weft__built *b, const char *name)
{
    for (weft__kernel_pool *k = b->kernels; k; k = k->next)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

cl_kernel weft__kernel_take(weft_runtime_t *rt, weft__built *b, const char *name, cl_uint *nargs,
                            cl_int *err)
{
    weft__host *h = weft__host_of(rt);
    cl_kernel k = NULL;
    pthread_mutex_lock(&h->m);
    weft__kernel_pool *pool = pool_of(b, name);
    if (pool && pool->nfree) {
        k = pool->free[--pool->nfree];
        *nargs = pool->nargs;
    }
    pthread_mutex_unlock(&h->m);
    if (k) {
        *err = CL_SUCCESS;
        return k;
    }
    /* A new kernel object: ask its argument count once; the pool keeps it. */
    if (!(k = clCreateKernel(b->program, name, err))) return NULL;
    *err = clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof *nargs, nargs, NULL);
    if (*err != CL_SUCCESS) {
        clReleaseKernel(k);
        return NULL;
    }
    return k;
}

void weft__kernel_give_back(weft_runtime_t *rt, weft__built *b, const char *name, cl_kernel k,
                            cl_uint nargs)
{
    weft__host *h = weft__host_of(rt);
    pthread_mutex_lock(&h->m);
    weft__kernel_pool *pool = pool_of(b, name);
    if (!pool && (pool = calloc(1, sizeof *pool))) {
        if ((pool->name = weft__strdup(name))) {
            pool->nargs = nargs;
            pool->next = b->kernels;
            b->kernels = pool;
        } else {
            free(pool);
            pool = NULL;
        }
    }
    if (pool && pool->nfree == pool->cap) {
        size_t cap = pool->cap ? pool->cap * 2 : 4;
        cl_kernel *grown = realloc(pool->free, cap * sizeof *grown);
        if (grown) {
            pool->free = grown;
            pool->cap = cap;
        }
    }
    if (pool && pool->nfree < pool->cap) {
        pool->free[pool->nfree++] = k;
        k = NULL;
    }
    pthread_mutex_unlock(&h->m);
    if (k) clReleaseKernel(k); /* no room to keep it */
}

void weft__programs_free(weft__host *h)
{
    weft__built *b = h->built;
    while (b) {
        weft__built *next = b->next;
        weft__kernel_pool *k = b->kernels;
        while (k) {
            weft__kernel_pool *kn = k->next;
            for (size_t i = 0; i < k->nfree; i++) clReleaseKernel(k->free[i]);
            free(k->free);
            free(k->name);
            free(k);
            k = kn;
        }
        built_free(b);
        b = next;
    }
    h->built = NULL;
}

int weft_program_create(weft_runtime_t *rt, const char *src, const char *opts,
                        weft_program_t **out, weft_panic_t **why)
{
    if (out) *out = NULL;
    if (why) *why = NULL;
    if (!rt || !src || !out)
        return weft__fail(WEFT_EINVAL, "weft_program_create: %s is NULL",
                          !rt ? "runtime" : !src ? "source" : "out");
    int n = weft_device_count(rt);
    if (n == 0) return weft__fail(WEFT_ENODEV, "weft_program_create: the runtime has no OpenCL device");
    weft_program_t *p = calloc(1, sizeof *p);
    if (p) p->built = calloc((size_t)n, sizeof *p->built);
    if (!p || !p->built) {
        free(p);
        return weft__fail(WEFT_ENOMEM, "weft_program_create: out of memory");
    }
    p->rt = rt;
    p->ndevices = n;
    for (int i = 0; i < n; i++) {
        int status = 0;
        p->built[i] = weft__program_get(rt, i, src, opts, why, &status);
        if (!p->built[i]) {
            weft_program_destroy(p);
            return status;
        }
    }
    *out = p;
    return 0;
}

cl_program weft_program_cl(const weft_program_t *p, int device)
{
    if (!p || device < 0 || device >= p->ndevices) return NULL;
    return p->built[device]->program;
}

weft__built *weft__program_built(const weft_program_t *p, int device)
{
    if (!p || device < 0 || device >= p->ndevices) return NULL;
    return p->built[device];
}

weft_runtime_t *weft__program_runtime(const weft_program_t *p) { return p->rt; }

const char *weft__args_mismatch(char *buf, size_t cap, long index, cl_uint takes, size_t given)
{
    int n = index < 0 ? 0 : snprintf(buf, cap, "argument %ld could not be set (", index);
    if (n < 0 || (size_t)n >= cap) n = 0;
    snprintf(buf + n, cap - (size_t)n, "the kernel takes %u argument%s, %zu given%s", (unsigned)takes,
             takes == 1 ? "" : "s", given, index < 0 ? "" : ")");
    return buf;
}

int weft__local_add(const weft__device *d, size_t *sum, size_t index, size_t bytes, char *buf, size_t cap)
{
    uint64_t limit = d->info.local_mem_bytes;
    if (bytes <= limit && *sum <= limit - bytes) {
        *sum += bytes;
        return 0;
    }
    snprintf(buf, cap,
             "argument %zu: __local size %zu bytes brings the work-group's __local memory to %s%zu bytes, above "
             "the device's CL_DEVICE_LOCAL_MEM_SIZE of %llu bytes",
             index, bytes, *sum > SIZE_MAX - bytes ? "over " : "", *sum > SIZE_MAX - bytes ? SIZE_MAX : *sum + bytes,
             (unsigned long long)limit);
    return -1;
}

void weft_program_destroy(weft_program_t *p)
{
    if (!p) return;
    free(p->built);
    free(p);
}

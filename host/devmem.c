/* host/devmem.c — a pool of device buffers per device, so that operations
 * that come again with the same arrays (every step of an iterated stencil)
 * do not allocate and fault in device memory each time. A buffer goes back
 * to the pool once no command uses it; the pool keeps at most an eighth of
 * the device's memory, dropping its oldest buffers beyond that. */
#include <stdlib.h>

#include "host.h"

void weft__devmem_init(weft__device *d)
{
    pthread_mutex_init(&d->pool_m, NULL);
    d->pool = NULL;
    d->pooled = 0;
}

cl_mem weft__devmem_take(weft__device *d, cl_mem_flags flags, size_t bytes, cl_int *err)
{
    pthread_mutex_lock(&d->pool_m);
    for (weft__devmem **p = &d->pool; *p; p = &(*p)->next) {
        weft__devmem *e = *p;
        if (e->flags != flags || e->bytes < bytes || e->bytes / 2 > bytes) continue;
        *p = e->next;
        d->pooled -= e->bytes;
        pthread_mutex_unlock(&d->pool_m);
        cl_mem m = e->mem;
        free(e);
        *err = CL_SUCCESS;
        return m;
    }
    pthread_mutex_unlock(&d->pool_m);
    return clCreateBuffer(d->ctx, flags, bytes ? bytes : 1, NULL, err);
}

void weft__devmem_give(weft__device *d, cl_mem mem, cl_mem_flags flags, size_t bytes)
{
    if (!mem) return;
    size_t cap = (size_t)(d->info.global_mem_bytes / 8);
    weft__devmem *e = bytes <= cap ? malloc(sizeof *e) : NULL;
    if (!e) {
        clReleaseMemObject(mem);
        return;
    }
    /* Its real size: take may have handed out a larger one. */
    size_t real = bytes;
    clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof real, &real, NULL);
    *e = (weft__devmem){.mem = mem, .flags = flags, .bytes = real};
    weft__devmem *drop = NULL;
    pthread_mutex_lock(&d->pool_m);
    e->next = d->pool;
    d->pool = e;
    d->pooled += real;
    /* Over the cap: cut the oldest (the list's tail). */
    while (d->pooled > cap && d->pool->next) {
        weft__devmem **p = &d->pool;
        while ((*p)->next) p = &(*p)->next;
        weft__devmem *old = *p;
        *p = NULL;
        d->pooled -= old->bytes;
        old->next = drop;
        drop = old;
    }
    pthread_mutex_unlock(&d->pool_m);
    while (drop) {
        weft__devmem *next = drop->next;
        clReleaseMemObject(drop->mem);
        free(drop);
        drop = next;
    }
}

void weft__devmem_free(weft__device *d)
{
    while (d->pool) {
        weft__devmem *next = d->pool->next;
        clReleaseMemObject(d->pool->mem);
        free(d->pool);
        d->pool = next;
    }
    d->pooled = 0;
    pthread_mutex_destroy(&d->pool_m);
}

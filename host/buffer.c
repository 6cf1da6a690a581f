/* host/buffer.c — device buffers: allocate, wrap host memory, copy, map.
 * Commands go on the device's queue under its queue lock and are waited for
 * outside it, as every command weft enqueues (host.h, weft__queue_lock). */
#include <stdint.h>
#include <stdlib.h>

#include "host.h"

struct weft_buffer {
    weft_runtime_t *rt;
    int device;
    cl_mem mem;
    size_t bytes;
    void *host;                   /* weft_buffer_wrap's memory, else NULL */
    int zero_copy;                /* kernels use host directly */
};

weft_runtime_t *weft__buffer_runtime(const weft_buffer_t *b) { return b->rt; }

static cl_mem_flags flags_for(weft_access_t access)
{
    switch (access) {
    case WEFT_READ: return CL_MEM_READ_ONLY;
    case WEFT_WRITE: return CL_MEM_WRITE_ONLY;
    default: return CL_MEM_READ_WRITE;
    }
}

static int check_new(weft_runtime_t *rt, int device, size_t bytes, weft_access_t access,
                     weft_buffer_t **out, const char *caller, weft__device **dev)
{
    if (out) *out = NULL;
    if (!rt || !out) return weft__fail(WEFT_EINVAL, "%s: %s is NULL", caller, !rt ? "runtime" : "out");
    if (access < WEFT_READ || access > WEFT_READ_WRITE)
        return weft__fail(WEFT_EINVAL, "%s: access %d is not WEFT_READ, WEFT_WRITE or WEFT_READ_WRITE",
                          caller, (int)access);
    if (!(*dev = weft__device_get(rt, device, caller))) return WEFT_EINVAL;
    if (bytes == 0) return weft__fail(WEFT_EINVAL, "%s: size is 0 bytes", caller);
    if (bytes > (*dev)->info.max_alloc_bytes)
        return weft__fail(WEFT_EINVAL,
                          "%s: %zu bytes exceeds device '%s' limit CL_DEVICE_MAX_MEM_ALLOC_SIZE = %llu bytes",
                          caller, bytes, (*dev)->info.name,
                          (unsigned long long)(*dev)->info.max_alloc_bytes);
    return 0;
}

static int finish_new(weft_runtime_t *rt, int device, weft__device *d, cl_mem_flags flags,
                      void *host, size_t bytes, weft_buffer_t **out, const char *caller)
{
    weft_buffer_t *b = calloc(1, sizeof *b);
    if (!b) return weft__fail(WEFT_ENOMEM, "%s: out of memory", caller);
    cl_int err;
    b->mem = clCreateBuffer(d->ctx, flags, bytes, (flags & CL_MEM_USE_HOST_PTR) ? host : NULL, &err);
    if (!b->mem) {
        free(b);
        return weft__fail(WEFT_ECL, "%s: clCreateBuffer of %zu bytes on '%s' failed: %s", caller, bytes,
                          d->info.name, weft_cl_status_name(err));
    }
    b->rt = rt;
    b->device = device;
    b->bytes = bytes;
    b->host = host;
    b->zero_copy = host && (flags & CL_MEM_USE_HOST_PTR);
    *out = b;
    return 0;
}

int weft_buffer_create(weft_runtime_t *rt, int device, size_t bytes, weft_access_t access,
                       weft_buffer_t **out)
{
    weft__device *d = NULL;
    int rc = check_new(rt, device, bytes, access, out, "weft_buffer_create", &d);
    if (rc) return rc;
    return finish_new(rt, device, d, flags_for(access), NULL, bytes, out, "weft_buffer_create");
}

int weft_buffer_wrap(weft_runtime_t *rt, int device, void *host, size_t bytes, weft_access_t access,
                     weft_buffer_t **out)
{
    weft__device *d = NULL;
    if (!host) {
        if (out) *out = NULL;
        return weft__fail(WEFT_EINVAL, "weft_buffer_wrap: host memory is NULL");
    }
    int rc = check_new(rt, device, bytes, access, out, "weft_buffer_wrap", &d);
    if (rc) return rc;
    /* On unified memory the device uses the host's pages: no copy at all. */
    cl_mem_flags flags = flags_for(access) | (d->info.unified_memory ? CL_MEM_USE_HOST_PTR : 0);
    rc = finish_new(rt, device, d, flags, host, bytes, out, "weft_buffer_wrap");
    if (rc == 0 && !d->info.unified_memory && (access & WEFT_READ))
        rc = weft_buffer_sync_to_device(*out, 0, bytes);
    if (rc && *out) {
        weft_buffer_destroy(*out);
        *out = NULL;
    }
    return rc;
}

int weft_buffer_adopt(weft_runtime_t *rt, int device, cl_mem mem, weft_buffer_t **out)
{
    if (out) *out = NULL;
    if (!rt || !mem || !out)
        return weft__fail(WEFT_EINVAL, "weft_buffer_adopt: %s is NULL", !rt ? "runtime" : !mem ? "mem" : "out");
    weft__device *d = weft__device_get(rt, device, "weft_buffer_adopt");
    if (!d) return WEFT_EINVAL;
    cl_context ctx = NULL;
    size_t bytes = 0;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof ctx, &ctx, NULL);
    if (err == CL_SUCCESS) err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    if (err != CL_SUCCESS)
        return weft__fail(WEFT_ECL, "weft_buffer_adopt: cl_mem query failed: %s", weft_cl_status_name(err));
    if (ctx != d->ctx)
        return weft__fail(WEFT_EINVAL, "weft_buffer_adopt: the cl_mem belongs to another context than device %d's",
                          device);
    weft_buffer_t *b = calloc(1, sizeof *b);
    if (!b) return weft__fail(WEFT_ENOMEM, "weft_buffer_adopt: out of memory");
    clRetainMemObject(mem);
    b->rt = rt;
    b->device = device;
    b->mem = mem;
    b->bytes = bytes;
    *out = b;
    return 0;
}

cl_mem weft_buffer_cl(const weft_buffer_t *b) { return b ? b->mem : NULL; }
size_t weft_buffer_size(const weft_buffer_t *b) { return b ? b->bytes : 0; }
int weft_buffer_device(const weft_buffer_t *b) { return b ? b->device : -1; }
void *weft_buffer_host(const weft_buffer_t *b) { return b ? b->host : NULL; }
int weft_buffer_is_zero_copy(const weft_buffer_t *b) { return b ? b->zero_copy : 0; }

static int check_range(const weft_buffer_t *b, size_t offset, size_t bytes, const void *ptr,
                       const char *caller)
{
    if (!b || !ptr) return weft__fail(WEFT_EINVAL, "%s: %s is NULL", caller, !b ? "buffer" : "host pointer");
    if (offset > b->bytes || bytes > b->bytes - offset)
        return weft__fail(WEFT_EINVAL, "%s: range [%zu, %zu + %zu) lies outside the %zu-byte buffer", caller,
                          offset, offset, bytes, b->bytes);
    return 0;
}

static weft__device *device_of(const weft_buffer_t *b) { return weft__host_of(b->rt)->devices[b->device]; }

/* The command ev that the caller enqueued (and flushed) under the queue
 * lock, waited for outside it (weft__queue_lock: never across a wait): its
 * status, or err when the enqueue itself failed. Releases ev. */
static cl_int wait_for(cl_int err, cl_event ev)
{
    if (err == CL_SUCCESS && ev) {
        err = clWaitForEvents(1, &ev);
        cl_int st = CL_COMPLETE;
        if (err == CL_SUCCESS && clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL) ==
                                     CL_SUCCESS && st < 0)
            err = st;
    }
    if (ev) clReleaseEvent(ev);
    return err;
}

static int cl_result(cl_int err, const weft_buffer_t *b, const char *caller)
{
    if (err == CL_SUCCESS) return 0;
    return weft__fail(WEFT_ECL, "%s: %s on device '%s'", caller, weft_cl_status_name(err),
                      weft__host_of(b->rt)->devices[b->device]->info.name);
}

/* weft_buffer_write (to_device) and weft_buffer_read: the copy enqueued
 * and flushed under the queue lock, waited for outside it. */
static int transfer(const weft_buffer_t *b, int to_device, size_t offset, void *host, size_t bytes, const char *caller)
{
    int rc = check_range(b, offset, bytes, host, caller);
    if (rc || bytes == 0) return rc;
    weft__device *d = device_of(b);
    cl_event ev = NULL;
    weft__queue_lock(d);
    cl_int err = to_device ? clEnqueueWriteBuffer(d->queue, b->mem, CL_FALSE, offset, bytes, host, 0, NULL, &ev)
                           : clEnqueueReadBuffer(d->queue, b->mem, CL_FALSE, offset, bytes, host, 0, NULL, &ev);
    if (err == CL_SUCCESS) clFlush(d->queue);
    weft__queue_unlock(d);
    return cl_result(wait_for(err, ev), b, caller);
}

int weft_buffer_write(weft_buffer_t *b, size_t offset, const void *src, size_t bytes)
{
    /* the write only reads src: the cast is for the shared signature */
    return transfer(b, 1, offset, (void *)(uintptr_t)src, bytes, "weft_buffer_write");
}

int weft_buffer_read(const weft_buffer_t *b, size_t offset, void *dst, size_t bytes)
{
    return transfer(b, 0, offset, dst, bytes, "weft_buffer_read");
}

int weft_buffer_sync_to_device(weft_buffer_t *b, size_t offset, size_t bytes)
{
    if (b && !b->host) return weft__fail(WEFT_EINVAL, "weft_buffer_sync_to_device: buffer does not wrap host memory");
    if (b && b->zero_copy) return check_range(b, offset, bytes, b->host, "weft_buffer_sync_to_device");
    return weft_buffer_write(b, offset, b ? (char *)b->host + offset : NULL, bytes);
}

int weft_buffer_sync_to_host(weft_buffer_t *b, size_t offset, size_t bytes)
{
    if (b && !b->host) return weft__fail(WEFT_EINVAL, "weft_buffer_sync_to_host: buffer does not wrap host memory");
    if (b && b->zero_copy) return check_range(b, offset, bytes, b->host, "weft_buffer_sync_to_host");
    return weft_buffer_read(b, offset, b ? (char *)b->host + offset : NULL, bytes);
}

int weft_buffer_map(weft_buffer_t *b, size_t offset, size_t bytes, weft_access_t access, void **ptr)
{
    if (ptr) *ptr = NULL;
    int rc = check_range(b, offset, bytes, ptr, "weft_buffer_map");
    if (rc) return rc;
    if (bytes == 0) return weft__fail(WEFT_EINVAL, "weft_buffer_map: size is 0 bytes");
    cl_map_flags flags = (access & WEFT_READ ? CL_MAP_READ : 0) | (access & WEFT_WRITE ? CL_MAP_WRITE : 0);
    if (!flags) return weft__fail(WEFT_EINVAL, "weft_buffer_map: access %d is not valid", (int)access);
    cl_int err;
    weft__device *d = device_of(b);
    cl_event ev = NULL;
    weft__queue_lock(d);
    void *p = clEnqueueMapBuffer(d->queue, b->mem, CL_FALSE, flags, offset, bytes, 0, NULL, &ev, &err);
    if (err == CL_SUCCESS) clFlush(d->queue);
    weft__queue_unlock(d);
    err = wait_for(err, ev);
    if (err == CL_SUCCESS) *ptr = p; /* the mapping is there once the command completed */
    return cl_result(err, b, "weft_buffer_map");
}

int weft_buffer_unmap(weft_buffer_t *b, void *ptr)
{
    if (!b || !ptr) return weft__fail(WEFT_EINVAL, "weft_buffer_unmap: %s is NULL", !b ? "buffer" : "pointer");
    weft__device *d = device_of(b);
    cl_event ev = NULL;
    weft__queue_lock(d);
    cl_int err = clEnqueueUnmapMemObject(d->queue, b->mem, ptr, 0, NULL, &ev);
    if (err == CL_SUCCESS) clFlush(d->queue);
    weft__queue_unlock(d);
    return cl_result(wait_for(err, ev), b, "weft_buffer_unmap");
}

void weft_buffer_destroy(weft_buffer_t *b)
{
    if (!b) return;
    clReleaseMemObject(b->mem);
    free(b);
}

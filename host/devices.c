/* host/devices.c — discover OpenCL devices, open them, describe them. */
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "device_select.h"

#define MAX_FOUND 128

typedef struct found {
    cl_platform_id platform;
    cl_device_id id;
    char name[256];
    int type;
} found;

static int type_of(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return WEFT_DEVICE_GPU;
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return WEFT_DEVICE_ACCELERATOR;
    if (t & CL_DEVICE_TYPE_CPU) return WEFT_DEVICE_CPU;
    return WEFT_DEVICE_OTHER;
}

/* Every device of every platform, in platform order. Returns the count, or a
 * negative WEFT_E* code. No platform at all is not an error: zero devices. */
static int discover(found *out, size_t cap)
{
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || np == 0) return 0;
    if (err != CL_SUCCESS)
        return weft__fail(WEFT_ECL, "clGetPlatformIDs failed: %s", weft_cl_status_name(err));
    cl_platform_id plats[16];
    if (np > 16) np = 16;
    clGetPlatformIDs(np, plats, NULL);
    size_t n = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS) continue;
        cl_device_id ids[64];
        if (nd > 64) nd = 64;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL);
        for (cl_uint d = 0; d < nd && n < cap; d++) {
            cl_device_type t = 0;
            out[n].platform = plats[p];
            out[n].id = ids[d];
            out[n].name[0] = '\0';
            clGetDeviceInfo(ids[d], CL_DEVICE_NAME, sizeof out[n].name, out[n].name, NULL);
            clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof t, &t, NULL);
            out[n].type = type_of(t);
            n++;
        }
    }
    return (int)n;
}

static void fill_info(weft__device *d, int index)
{
    weft_device_info_t *i = &d->info;
    memset(i, 0, sizeof *i);
    i->index = index;
    cl_device_type t = 0;
    cl_uint cu = 0;
    cl_ulong gm = 0, ma = 0, lm = 0;
    cl_bool unified = CL_FALSE;
    clGetDeviceInfo(d->id, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_NAME, sizeof i->name, i->name, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_VENDOR, sizeof i->vendor, i->vendor, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_VERSION, sizeof i->version, i->version, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gm, &gm, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ma, &ma, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm, &lm, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof i->max_work_group_size,
                    &i->max_work_group_size, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    if (d->platform)
        clGetPlatformInfo(d->platform, CL_PLATFORM_NAME, sizeof i->platform, i->platform, NULL);
    i->type = (weft_device_type_t)type_of(t);
    i->compute_units = cu;
    i->global_mem_bytes = gm;
    i->max_alloc_bytes = ma;
    i->local_mem_bytes = lm;
    i->unified_memory = unified == CL_TRUE;
}

static void device_init(weft__device *d)
{
    weft__devmem_init(d);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&d->queue_m, &attr);
    pthread_mutexattr_destroy(&attr);
}

/* The second queue pipelined chunks copy on; NULL when the device will not
 * give one (chunks then run in one piece). */
static cl_command_queue copy_queue(weft__device *d)
{
    cl_int err;
    cl_command_queue q = clCreateCommandQueue(d->ctx, d->id, 0, &err);
    return err == CL_SUCCESS ? q : NULL;
}

static void device_free(weft__device *d)
{
    if (!d) return;
    if (d->copy_queue) {
        clFinish(d->copy_queue);
        clReleaseCommandQueue(d->copy_queue);
    }
    if (d->queue) {
        clFinish(d->queue);
        clReleaseCommandQueue(d->queue);
    }
    weft__devmem_free(d);
    pthread_mutex_destroy(&d->queue_m);
    if (d->ctx) clReleaseContext(d->ctx);
    free(d);
}

/* Append a device to the runtime; takes ownership of d. */
static int add_device(weft__host *h, weft__device *d, int *index)
{
    pthread_mutex_lock(&h->m);
    int n = atomic_load(&h->ndevices);
    if (n >= WEFT__MAX_DEVICES) {
        pthread_mutex_unlock(&h->m);
        device_free(d);
        return weft__fail(WEFT_ENOMEM, "a runtime holds at most %d devices", WEFT__MAX_DEVICES);
    }
    fill_info(d, n);
    /* Separate-memory mode: the device is treated, and described, as having
     * memory of its own, so every copy path runs as on a discrete GPU. */
    if (h->separate) d->info.unified_memory = 0;
    h->devices[n] = d;
    atomic_store(&h->ndevices, n + 1);
    pthread_mutex_unlock(&h->m);
    if (index) *index = n;
    return 0;
}

static int open_device(weft__host *h, const found *f)
{
    weft__device *d = calloc(1, sizeof *d);
    if (d) device_init(d);
    if (!d) return weft__fail(WEFT_ENOMEM, "out of memory opening device '%s'", f->name);
    d->platform = f->platform;
    d->id = f->id;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)f->platform, 0};
    d->ctx = clCreateContext(props, 1, &f->id, NULL, NULL, &err);
    if (d->ctx) d->queue = clCreateCommandQueue(d->ctx, f->id, 0, &err);
    if (d->queue) d->copy_queue = copy_queue(d);
    if (!d->ctx || !d->queue) {
        device_free(d);
        return weft__fail(WEFT_ECL, "could not open device '%s': %s", f->name, weft_cl_status_name(err));
    }
    return add_device(h, d, NULL);
}

int weft__host_create(weft_runtime_t *rt, const char *spec, int separate_memory)
{
    weft__set_layer(rt, WEFT__LAYER_HOST, NULL);
    weft__host *h = calloc(1, sizeof *h);
    if (!h) return weft__fail(WEFT_ENOMEM, "out of memory for the OpenCL state");
    pthread_mutex_init(&h->m, NULL);
    atomic_init(&h->ndevices, 0);
    weft__set_layer(rt, WEFT__LAYER_HOST, h);
    int rc = weft__env_switch("WEFT_SEPARATE_MEMORY", separate_memory, &h->separate);
    if (rc) return rc;

    if (!spec) spec = getenv("WEFT_DEVICES");
    if (!spec || !*spec) spec = "all";
    if (strcmp(spec, "none") != 0) {
        found *all = malloc(MAX_FOUND * sizeof *all);
        if (!all) return weft__fail(WEFT_ENOMEM, "out of memory listing devices");
        int n = discover(all, MAX_FOUND);
        weft__found_device desc[MAX_FOUND];
        unsigned char chosen[MAX_FOUND];
        for (int i = 0; i < n; i++) {
            desc[i].name = all[i].name;
            desc[i].type = all[i].type;
        }
        rc = n < 0 ? n : weft__device_select(spec, desc, (size_t)n, chosen);
        for (int i = 0; rc == 0 && i < n; i++)
            if (chosen[i]) rc = open_device(h, &all[i]);
        free(all);
    }
#ifdef WEFT_TESTING
    const char *faults = getenv("WEFT_FAULT");
    if (rc == 0 && faults && *faults) rc = weft__fault_parse(rt, faults);
#endif
    return rc; /* on failure the runtime calls weft__host_destroy */
}

void weft__host_destroy(weft_runtime_t *rt)
{
    weft__host *h = weft__host_of(rt);
    if (!h) return;
    weft__programs_free(h);
    weft__faults_free(h);
    for (int i = 0; i < atomic_load(&h->ndevices); i++) device_free(h->devices[i]);
    pthread_mutex_destroy(&h->m);
    free(h);
    weft__set_layer(rt, WEFT__LAYER_HOST, NULL);
}

weft__device *weft__device_get(const weft_runtime_t *rt, int index, const char *caller)
{
    int n = rt && weft__host_of(rt) ? atomic_load(&weft__host_of(rt)->ndevices) : 0;
    if (!rt || index < 0 || index >= n) {
        weft__fail(WEFT_EINVAL, "%s: device %d does not exist (the runtime has %d device%s)",
                   caller, index, n, n == 1 ? "" : "s");
        return NULL;
    }
    return weft__host_of(rt)->devices[index];
}

int weft_device_count(const weft_runtime_t *rt)
{
    return rt && weft__host_of(rt) ? atomic_load(&weft__host_of(rt)->ndevices) : 0;
}

uint64_t weft_device_mask(const weft_runtime_t *rt, unsigned types)
{
    uint64_t mask = 0;
    int n = weft_device_count(rt);
    for (int i = 0; i < n && i < 64; i++) {
        weft__device *d = weft__device_get(rt, i, "weft_device_mask");
        if (d && (types == 0 || (types & (unsigned)d->info.type))) mask |= (uint64_t)1 << i;
    }
    return mask;
}

int weft_device_info(const weft_runtime_t *rt, int device, weft_device_info_t *out)
{
    if (!out) return weft__fail(WEFT_EINVAL, "weft_device_info: out is NULL");
    weft__device *d = weft__device_get(rt, device, "weft_device_info");
    if (!d) return WEFT_EINVAL;
    *out = d->info;
    return 0;
}

static const char *type_name(int type)
{
    switch (type) {
    case WEFT_DEVICE_CPU: return "cpu";
    case WEFT_DEVICE_GPU: return "gpu";
    case WEFT_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
    }
}

static void print_info(FILE *f, const weft_device_info_t *i)
{
    fprintf(f, "%d: %s [%s] %u compute unit%s, %.1f GiB memory (max alloc %.1f GiB), %s memory, %s, platform %s\n",
            i->index, i->name, type_name(i->type), i->compute_units, i->compute_units == 1 ? "" : "s",
            (double)i->global_mem_bytes / (1u << 30), (double)i->max_alloc_bytes / (1u << 30),
            i->unified_memory ? "unified" : "separate", i->version, i->platform);
}

int weft_device_print(const weft_runtime_t *rt, FILE *f)
{
    int n = weft_device_count(rt);
    if (!f) return n;
    for (int i = 0; i < n; i++) print_info(f, &weft__host_of(rt)->devices[i]->info);
    if (n == 0) fprintf(f, "no OpenCL devices selected\n");
    return n;
}

int weft_device_print_all(FILE *f)
{
    found *all = malloc(MAX_FOUND * sizeof *all);
    if (!all) return weft__fail(WEFT_ENOMEM, "out of memory listing devices");
    int n = discover(all, MAX_FOUND);
    for (int i = 0; f && i < n; i++) {
        weft__device d = {.platform = all[i].platform, .id = all[i].id};
        fill_info(&d, i);
        print_info(f, &d.info);
    }
    if (f && n == 0) fprintf(f, "no OpenCL platform or device found\n");
    free(all);
    return n;
}

int weft_device_cl(const weft_runtime_t *rt, int device, cl_device_id *id, cl_context *ctx,
                   cl_command_queue *queue)
{
    weft__device *d = weft__device_get(rt, device, "weft_device_cl");
    if (!d) return WEFT_EINVAL;
    if (id) *id = d->id;
    if (ctx) *ctx = d->ctx;
    if (queue) *queue = d->queue;
    return 0;
}

int weft_device_adopt(weft_runtime_t *rt, cl_context ctx, cl_command_queue queue, int *index)
{
    if (!rt || !weft__host_of(rt) || !ctx || !queue)
        return weft__fail(WEFT_EINVAL, "weft_device_adopt: %s is NULL",
                          !rt || !weft__host_of(rt) ? "runtime" : !ctx ? "context" : "queue");
    cl_context qctx = NULL;
    cl_device_id id = NULL;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err == CL_SUCCESS) err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof id, &id, NULL);
    if (err != CL_SUCCESS)
        return weft__fail(WEFT_ECL, "weft_device_adopt: queue query failed: %s", weft_cl_status_name(err));
    if (qctx != ctx) return weft__fail(WEFT_EINVAL, "weft_device_adopt: the queue belongs to another context");
    weft__device *d = calloc(1, sizeof *d);
    if (d) device_init(d);
    if (!d) return weft__fail(WEFT_ENOMEM, "weft_device_adopt: out of memory");
    clGetDeviceInfo(id, CL_DEVICE_PLATFORM, sizeof d->platform, &d->platform, NULL);
    d->id = id;
    clRetainContext(ctx);
    clRetainCommandQueue(queue);
    d->ctx = ctx;
    d->queue = queue;
    d->copy_queue = copy_queue(d);
    return add_device(weft__host_of(rt), d, index);
}

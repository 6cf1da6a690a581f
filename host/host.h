/* host/host.h — the OpenCL side of a runtime: devices, program cache, faults.
 * Internal to the library. */
#ifndef WEFT_HOST_HOST_H
#define WEFT_HOST_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "weft/opencl.h"
#include "../scheduler/internal.h"

#define WEFT__MAX_DEVICES 64

/* A device buffer kept for reuse (devmem.c). */
typedef struct weft__devmem {
    cl_mem mem;
    cl_mem_flags flags;
    size_t bytes;
    struct weft__devmem *next;
} weft__devmem;

typedef struct weft__device {
    cl_platform_id platform;
    cl_device_id id;
    cl_context ctx;
    cl_command_queue queue;
    cl_command_queue copy_queue;  /* a second in-order queue on ctx, for the copies
                                     of pipelined chunks (NULL: none) */
    weft_device_info_t info;
    atomic_long launches;         /* launches so far, for fault injection */
    atomic_long callbacks;        /* completion callbacks launches registered
                                     (host/launch.c): tests read it */
    atomic_long builds;           /* programs built (or failed to) on it
                                     (host/program.c): tests read it */
    pthread_mutex_t queue_m;      /* recursive: see weft__queue_lock() */
    pthread_mutex_t pool_m;       /* guards the buffer pool */
    weft__devmem *pool;           /* free device buffers, newest first */
    size_t pooled;                /* their bytes */
} weft__device;

typedef struct weft__fault {
    int device;                   /* -1: any */
    long launch;                  /* -1: every launch, else counted from base */
    long base[WEFT__MAX_DEVICES]; /* each device's launch count when injected */
    int status;
    char *kernel;                 /* NULL: any */
    struct weft__fault *next;
} weft__fault;

/* Free kernel objects of one entry point, reused across launches: a kernel's
 * arguments are captured at enqueue, so it can go back once enqueued. */
typedef struct weft__kernel_pool {
    char *name;
    cl_uint nargs;                /* the entry point's argument count */
    cl_kernel *free;
    size_t nfree, cap;
    struct weft__kernel_pool *next;
} weft__kernel_pool;

/* One cache entry: a built program, or a build that failed (program NULL),
 * kept with its status and log so that the same source fails again at once
 * instead of being rebuilt at every launch. */
typedef struct weft__built {
    char *source;
    char *options;
    int device;
    cl_program program;           /* NULL: the build failed */
    cl_int build_err;             /* the failure's status (program NULL) */
    char *build_log;              /* the failure's log, or NULL */
    weft__kernel_pool *kernels;
    struct weft__built *next;
} weft__built;

typedef struct weft__host {
    pthread_mutex_t m;            /* guards everything below */
    weft__device *devices[WEFT__MAX_DEVICES];
    atomic_int ndevices;
    weft__built *built;
    weft__fault *faults;
    int separate;                 /* separate-memory mode: no device shares memory */
} weft__host;

/* The host layer's slot in weft_runtime's layer[] (the engine has 1). */
#define WEFT__LAYER_HOST 0

static inline weft__host *weft__host_of(const weft_runtime_t *rt) { return (weft__host *)weft__layer(rt, WEFT__LAYER_HOST); }

/* Discover and open the devices chosen by spec (NULL: $WEFT_DEVICES, else
 * "all"); separate_memory as weft_runtime_options_t's (0: from
 * $WEFT_SEPARATE_MEMORY). 0 or a WEFT_E* code with a message; on failure the
 * caller still calls weft__host_destroy. */
int weft__host_create(weft_runtime_t *rt, const char *spec, int separate_memory);
/* Release everything weft__host_create made. Safe when it made nothing. */
void weft__host_destroy(weft_runtime_t *rt);

/* Commands go on a device's queue from one thread at a time: PoCL 3.1's
 * basic device deadlocks when several threads enqueue and flush on one
 * queue at once. Hold the lock across enqueues, flushes and callback
 * registrations — never across a wait. It is recursive: the basic device
 * runs commands, and their completion callbacks (which enqueue the next
 * chunk), inside the flush of the thread that holds it. */
static inline void weft__queue_lock(weft__device *d) { pthread_mutex_lock(&d->queue_m); }
static inline void weft__queue_unlock(weft__device *d) { pthread_mutex_unlock(&d->queue_m); }

/* The device, or NULL (with a message) when index is out of range. */
weft__device *weft__device_get(const weft_runtime_t *rt, int index, const char *caller);

/* Device buffers that operations reuse instead of allocating anew each time
 * (devmem.c): a buffer of `flags` (no host pointer) of at least `bytes`
 * (and at most twice as many), or a new one; NULL with *err on failure. Give
 * it back, with what take was asked, once no command uses it any more. */
cl_mem weft__devmem_take(weft__device *d, cl_mem_flags flags, size_t bytes, cl_int *err);
void weft__devmem_give(weft__device *d, cl_mem mem, cl_mem_flags flags, size_t bytes);
void weft__devmem_init(weft__device *d);
/* Release every pooled buffer (device close). */
void weft__devmem_free(weft__device *d);

/* Build (or find in the cache) source+options for a device. On failure
 * returns NULL and, when why is not NULL, a panic payload with the log; a
 * failed build is cached too, and found failing again without a rebuild. */
weft__built *weft__program_get(weft_runtime_t *rt, int device, const char *source,
                               const char *options, weft_panic_t **why, int *status);
/* Take a kernel object for an entry point (a new one when none is free), with
 * its argument count in *nargs. NULL with *err on failure. */
cl_kernel weft__kernel_take(weft_runtime_t *rt, weft__built *b, const char *name, cl_uint *nargs,
                            cl_int *err);
/* Return it (nargs as take gave it) for the next launch of that entry point. */
void weft__kernel_give_back(weft_runtime_t *rt, weft__built *b, const char *name, cl_kernel k,
                            cl_uint nargs);
void weft__programs_free(weft__host *h);
/* The build of a program for a device, or NULL when device is out of its range
 * (the program was made before that device was adopted). */
weft__built *weft__program_built(const weft_program_t *p, int device);
/* The runtime a program or a buffer was made in. */
weft_runtime_t *weft__program_runtime(const weft_program_t *p);
weft_runtime_t *weft__buffer_runtime(const weft_buffer_t *b);

/* How a kernel's arguments and the ones given disagree, in the words both
 * launches and parallel operations' set-up use: "argument I could not be set
 * (the kernel takes T arguments, G given)", or without an index (index < 0)
 * "the kernel takes T arguments, G given". Returns buf. */
const char *weft__args_mismatch(char *buf, size_t cap, long index, cl_uint takes, size_t given);
/* The __local sizes of a work-group, added up argument by argument: 0 while
 * *sum stays within the device's CL_DEVICE_LOCAL_MEM_SIZE, else -1 with the
 * offence described in buf ("argument I: __local size S bytes brings the
 * work-group's __local memory to T bytes, above the device's
 * CL_DEVICE_LOCAL_MEM_SIZE of L bytes"). */
int weft__local_add(const weft__device *d, size_t *sum, size_t index, size_t bytes, char *buf, size_t cap);

#ifdef WEFT_TESTING
/* Test hooks (host/fault.c, weft/testing.h), built with WEFT_TESTING only. */
/* The status an injected fault gives this launch, or 0. Advances the count. */
int weft__fault_check(weft_runtime_t *rt, int device, const char *kernel);
/* Parse $WEFT_FAULT syntax into rt's faults. */
int weft__fault_parse(weft_runtime_t *rt, const char *spec);
void weft__faults_free(weft__host *h);
/* $WEFT_TEST_PIECES=1: chunks run in pieces on CPU devices too (coexec/
 * place_cl.c), so that tests on PoCL exercise the pipelined copies a GPU
 * uses. */
static inline int weft__test_pieces(void)
{
    const char *v = getenv("WEFT_TEST_PIECES");
    return v && v[0] == '1' && !v[1];
}
#else
static inline int weft__test_pieces(void) { return 0; }
static inline int weft__fault_check(weft_runtime_t *rt, int device, const char *kernel)
{
    (void)rt, (void)device, (void)kernel;
    return 0;
}
static inline void weft__faults_free(weft__host *h) { (void)h; }
#endif

#endif

/* fuzz/fuzz_parallel_args.c — the argument, range and policy checks of
 * weft_parallel_for(), and what runs once they pass.
 *
 * One runtime with two CPU workers and no devices. Each input is decoded
 * into a kernel (name, CPU body, OpenCL source and entry, each possibly
 * missing), a range (1-4 "dimensions", sizes and groups from a table of edge
 * values or raw bytes), up to 8 argument descriptors and a policy (or NULL).
 * Split arguments may be rectangles (a row pitch, origin and width).
 * Data pointers point into one fixed host buffer and never claim more bytes
 * than it has left (a caller that lies about sizes cannot be caught), but
 * may be NULL; everything else is whatever the input says.
 *
 * weft_parallel_for() must return 0, WEFT_EINVAL or WEFT_EBORROW (with a
 * message) or WEFT_ENOMEM. When it returns 0 the harness joins: the join must
 * succeed, the CPU body must only have seen index ranges inside the range,
 * its argv what the descriptors promised (the array itself, a copy of the
 * scalar, NULL for __local), and each reduction must fold exactly the
 * partials the body wrote, in block order. Requests that are valid but would
 * take long (more than 4096 dynamic chunks, more than 1 MiB of partials)
 * are not started; requests whose sizes overflow always are: weft must
 * refuse them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/weft.h"

#define BUF 65536
#define MAX_ARGS 8
#define MAX_PARTIAL_BYTES ((size_t)1 << 20)
#define MAX_DYNAMIC_CHUNKS 4096

static unsigned char host[BUF];
static unsigned char identity[BUF];
static weft_runtime_t *rt;

/* What the running operation was asked for (one at a time). */
static weft_arg_t cur_args[MAX_ARGS];
static size_t cur_nargs;
static weft_range_t cur_range;
static size_t cur_rows, cur_bpg;
static volatile int body_error;

/* ---- input reader ------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t u8(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static uint64_t u64(reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | u8(r);
    return v;
}

/* A size: mostly edge values, sometimes raw. */
static size_t size_val(reader *r)
{
    uint8_t sel = u8(r);
    switch (sel % 20) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 2;
    case 3: return 3;
    case 4: return 4;
    case 5: return 63;
    case 6: return 64;
    case 7: return 65;
    case 8: return 256;
    case 9: return SIZE_MAX;
    case 10: return SIZE_MAX - 1;
    case 11: return SIZE_MAX / 2 + 1;
    case 12: return (size_t)1 << 32;
    case 13: return ((size_t)1 << 32) + 1;
    case 14: return (size_t)1 << 40;
    case 15: return u8(r);
    case 16: return (size_t)u8(r) << 8 | u8(r);
    case 17: return (size_t)u64(r);
    case 18: return SIZE_MAX / 64 + 1;
    default: return 4096;
    }
}

/* ---- the operation's bodies ------------------------------------------------------ */

static uint8_t pattern(size_t block, size_t j) { return (uint8_t)(block * 31u + j * 7u + 1u); }

#define COMBINE(i)                                                                 \
    static void combine##i(void *acc, const void *partial)                         \
    {                                                                              \
        unsigned char *a = acc;                                                    \
        const unsigned char *p = partial;                                          \
        for (size_t j = 0; j < cur_args[i].unit; j++) a[j] = (uint8_t)(a[j] + p[j]); \
    }
COMBINE(0)
COMBINE(1)
COMBINE(2)
COMBINE(3)
COMBINE(4)
COMBINE(5)
COMBINE(6)
COMBINE(7)
static void (*const COMBINES[MAX_ARGS])(void *, const void *) = {combine0, combine1, combine2, combine3,
                                                                  combine4, combine5, combine6, combine7};

static void body(size_t b, size_t e, void *const *argv)
{
    if (b > e || e > cur_rows) {
        body_error = 1;
        return;
    }
    size_t g = cur_range.group[cur_range.dims - 1];
    for (size_t i = 0; i < cur_nargs; i++) {
        const weft_arg_t *a = &cur_args[i];
        switch (a->kind) {
        case WEFT_ARG_SPLIT: {
            unsigned char *d = argv[i];
            if (d != a->data) {
                body_error = 2;
            } else if (a->span == WEFT_SPAN_RECT) {
                /* rows of width bytes, pitch (unit) apart from origin */
                for (size_t y = b; y < e; y++)
                    for (size_t k = a->origin + y * a->unit; k < a->origin + y * a->unit + a->width; k++) {
                        if (a->access & WEFT_WRITE) d[k] = (uint8_t)(d[k] + 1);
                        else (void)*(volatile unsigned char *)&d[k];
                    }
            } else if (a->access & WEFT_WRITE)
                for (size_t k = b * a->unit; k < e * a->unit; k++) d[k] = (uint8_t)(d[k] + 1);
            else
                for (size_t k = b * a->unit; k < e * a->unit; k++) (void)*(volatile unsigned char *)&d[k];
            break;
        }
        case WEFT_ARG_WHOLE: {
            const unsigned char *d = argv[i];
            if (d != a->data) body_error = 3;
            else (void)(*(volatile const unsigned char *)&d[0] + *(volatile const unsigned char *)&d[a->bytes - 1]);
            break;
        }
        case WEFT_ARG_REDUCE: {
            unsigned char *partials = argv[i];
            if (!partials) {
                body_error = 4;
                break;
            }
            for (size_t gy = b / g; gy < (e + g - 1) / g; gy++)
                for (size_t gx = 0; gx < cur_bpg; gx++) {
                    size_t block = gy * cur_bpg + gx;
                    for (size_t j = 0; j < a->unit; j++) partials[block * a->unit + j] = pattern(block, j);
                }
            break;
        }
        case WEFT_ARG_SCALAR:
            if (!argv[i] || argv[i] == a->value || memcmp(argv[i], a->value, a->size) != 0) body_error = 5;
            break;
        case WEFT_ARG_LOCAL:
            if (argv[i] != NULL) body_error = 6;
            break;
        case WEFT_ARG_SCATTERED: {
            /* The array itself (on the CPU, written in place); read only:
             * pieces run at once and may not write the same bytes. */
            const unsigned char *d = argv[i];
            if (d != a->data) body_error = 8;
            else (void)(*(volatile const unsigned char *)&d[0] + *(volatile const unsigned char *)&d[a->bytes - 1]);
            break;
        }
        default:
            body_error = 7;
        }
    }
}

/* ---- decoding --------------------------------------------------------------------- */

static void decode_arg(reader *r, weft_arg_t *a, unsigned char *scalar_store)
{
    memset(a, 0, sizeof *a);
    uint8_t kind = u8(r), flags = u8(r);
    a->kind = (weft_arg_kind_t)(kind % 8); /* 0 and 7: not a kind */
    a->access = (weft_access_t)(flags % 5); /* 0 and 4: not an access */
    size_t off = size_val(r) % BUF;
    size_t bytes = size_val(r);
    if (bytes > BUF - off) bytes = BUF - off; /* honest: never more than there is */
    a->data = (flags & 0x80) ? NULL : host + off;
    a->bytes = bytes;
    a->unit = size_val(r);
    a->halo = size_val(r);
    a->size = size_val(r);
    switch (a->kind) {
    case WEFT_ARG_SPLIT:
        if (flags & 0x08) { /* a rectangle: origin and width from the input */
            a->span = WEFT_SPAN_RECT;
            a->origin = size_val(r);
            a->width = size_val(r);
        }
        break;
    case WEFT_ARG_REDUCE:
        /* result and identity need unit bytes: point at them only when there are. */
        if (a->unit > BUF - off) a->data = NULL;
        a->value = (flags & 0x40) || a->unit > BUF ? NULL : identity;
        a->combine = (flags & 0x20) ? NULL : combine0;
        break;
    case WEFT_ARG_SCALAR:
        if (a->size > 64) a->size = (flags & 0x10) ? 0 : 64;
        for (size_t j = 0; j < a->size; j++) scalar_store[j] = u8(r);
        a->value = (flags & 0x40) ? NULL : scalar_store;
        break;
    default:
        break;
    }
}

/* ---- limits on valid-but-long requests ------------------------------------------- */

static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b) return 0;
    *out = a * b;
    return 1;
}

/* 1 when the request, if weft accepts it, would run too long for a fuzzer. */
static int too_long(const weft_range_t *rg, const weft_arg_t *args, size_t nargs, const weft_policy_t *pol)
{
    if (rg->dims != 1 && rg->dims != 2) return 0;
    size_t rows = rg->size[rg->dims - 1], g = rg->group[rg->dims - 1];
    if (g == 0 || rows > SIZE_MAX - g) return 0; /* refused: overflow */
    size_t ngroups = (rows + g - 1) / g, bpg = 1;
    if (rg->dims == 2) {
        if (rg->group[0] == 0 || rg->size[0] > SIZE_MAX - rg->group[0]) return 0;
        bpg = (rg->size[0] + rg->group[0] - 1) / rg->group[0];
    }
    size_t nblocks;
    for (size_t i = 0; i < nargs; i++) {
        size_t bytes;
        if (args[i].kind == WEFT_ARG_REDUCE && mul_ok(ngroups, bpg, &nblocks) && mul_ok(nblocks, args[i].unit, &bytes) &&
            bytes > MAX_PARTIAL_BYTES)
            return 1;
    }
    int kind = pol ? (int)pol->kind : WEFT_POLICY_GUIDED;
    if (kind == WEFT_POLICY_DYNAMIC && pol->chunk) {
        size_t cg = pol->chunk / g + (pol->chunk % g != 0);
        if (cg && ngroups / cg > MAX_DYNAMIC_CHUNKS) return 1;
    }
    return 0;
}

/* ---- the harness ------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The adaptive policy stores speed models: keep them out of $HOME. */
    if (!getenv("WEFT_CACHE_DIR")) setenv("WEFT_CACHE_DIR", "/tmp/weft-fuzz-cache", 1);
    unsetenv("WEFT_FAULT");
    unsetenv("WEFT_TRACE");
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.devices = "none";
    if (weft_runtime_create(&o, &rt)) abort();
    for (size_t i = 0; i < BUF; i++) identity[i] = (uint8_t)(i * 13u);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    static unsigned char scalars[MAX_ARGS][64];

    uint8_t kflags = u8(&r);
    weft_kernel_t k = {0};
    static const char *const NAMES[] = {NULL, "", "fuzz kernel"};
    k.name = NAMES[kflags % 3];
    k.cpu = (kflags & 0x04) ? NULL : body;
    k.cl_source = (kflags & 0x08) ? "__kernel void e(__global uchar *p) { p[get_global_id(0)] = 1; }\n" : NULL;
    k.cl_entry = (kflags & 0x10) ? NULL : (kflags & 0x20) ? "" : "e";

    weft_range_t rg;
    memset(&rg, 0, sizeof rg);
    rg.dims = u8(&r) % 4;
    rg.size[0] = size_val(&r);
    rg.size[1] = size_val(&r);
    rg.group[0] = size_val(&r);
    rg.group[1] = size_val(&r);

    size_t nargs = u8(&r) % (MAX_ARGS + 1);
    weft_arg_t args[MAX_ARGS];
    for (size_t i = 0; i < nargs; i++) decode_arg(&r, &args[i], scalars[i]);
    /* Each reduction folds with its own combine (it knows its unit). */
    for (size_t i = 0; i < nargs; i++)
        if (args[i].kind == WEFT_ARG_REDUCE && args[i].combine) args[i].combine = COMBINES[i];

    uint8_t pflags = u8(&r);
    weft_policy_t pol, *polp = NULL;
    if (!(pflags & 1)) {
        weft_policy_init(&pol);
        pol.kind = (weft_policy_kind_t)(u8(&r) % 6);
        pol.on_fault = (weft_on_fault_t)(u8(&r) % 3);
        pol.use_cpu = (pflags >> 1) & 1;
        pol.devices = (pflags & 4) ? u64(&r) : (pflags & 8) ? WEFT_ALL_DEVICES : 0;
        pol.chunk = size_val(&r);
        polp = &pol;
    }
    if (too_long(&rg, args, nargs, polp)) return 0;

    memcpy(cur_args, args, nargs * sizeof *args);
    cur_nargs = nargs;
    cur_range = rg;
    cur_rows = (rg.dims == 1 || rg.dims == 2) ? rg.size[rg.dims - 1] : 0;
    cur_bpg = rg.dims == 2 && rg.group[0] ? (rg.size[0] / rg.group[0] + (rg.size[0] % rg.group[0] != 0)) : 1;
    body_error = 0;
    if (getenv("WEFT_FUZZ_VERBOSE")) {
        fprintf(stderr, "kernel name=%s cpu=%d src=%d entry=%s; range dims=%u size=%zu,%zu group=%zu,%zu; %zu args\n",
                k.name ? k.name : "(null)", k.cpu != NULL, k.cl_source != NULL, k.cl_entry ? k.cl_entry : "(null)",
                rg.dims, rg.size[0], rg.size[1], rg.group[0], rg.group[1], nargs);
        for (size_t i = 0; i < nargs; i++)
            fprintf(stderr, "  arg %zu: kind %d access %d data %p bytes %zu unit %zu halo %zu size %zu value %p combine %d\n", i,
                    (int)args[i].kind, (int)args[i].access, args[i].data, args[i].bytes, args[i].unit, args[i].halo,
                    args[i].size, args[i].value, args[i].combine != NULL);
        if (polp)
            fprintf(stderr, "  policy kind %d on_fault %d use_cpu %d devices %llx chunk %zu\n", (int)pol.kind,
                    (int)pol.on_fault, pol.use_cpu, (unsigned long long)pol.devices, pol.chunk);
    }
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    /* Sometimes no array at all for the nargs descriptors. */
    int rc = weft_parallel_for(rt, &k, rg, (pflags & 16) && nargs ? NULL : args, nargs, polp, &h);
    if (rc != 0) {
        if (rc != WEFT_EINVAL && rc != WEFT_EBORROW && rc != WEFT_ENOMEM) {
            fprintf(stderr, "weft_parallel_for returned %d (%s)\n", rc, weft_err_name(rc));
            abort();
        }
        if (h != NULL || weft_last_error_message()[0] == '\0') abort();
        return 0;
    }
    weft_panic_t *p = NULL;
    if (weft_join(h, NULL, &p) != 0) {
        char buf[1024];
        weft_panic_format(p, buf, sizeof buf);
        fprintf(stderr, "join failed: %s\n", buf);
        abort();
    }
    if (body_error) {
        fprintf(stderr, "the CPU body saw something wrong (%d)\n", body_error);
        abort();
    }
    /* Reductions: identity folded with every block's partial, in order. A
     * block no chunk reached stays the identity; with the CPU as the only
     * place every block is reached. */
    size_t g = rg.group[rg.dims - 1];
    size_t nblocks = ((cur_rows + g - 1) / g) * cur_bpg;
    for (size_t i = 0; i < nargs; i++) {
        const weft_arg_t *a = &args[i];
        if (a->kind != WEFT_ARG_REDUCE) continue;
        unsigned char *res = a->data;
        for (size_t j = 0; j < a->unit; j++) {
            uint8_t want = identity[j];
            for (size_t b = 0; b < nblocks; b++) want = (uint8_t)(want + pattern(b, j));
            if (res[j] != want) {
                /* The fold is the operation's last write to the result,
                 * unless two reductions share result bytes. */
                int shared = 0;
                for (size_t o = 0; o < nargs; o++)
                    if (o != i && args[o].kind == WEFT_ARG_REDUCE && (unsigned char *)args[o].data < res + a->unit &&
                        res < (unsigned char *)args[o].data + args[o].unit)
                        shared = 1;
                if (!shared) {
                    fprintf(stderr, "reduction %zu byte %zu: %u, expected %u\n", i, j, res[j], want);
                    abort();
                }
            }
        }
    }
    return 0;
}

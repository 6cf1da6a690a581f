/* 15_policies.c — how chunks are handed out (policies), where they may run
 * (places), and what happens when a device fails mid-operation (failover). */
#include <stdint.h>
#include <stdio.h>

#include <weft/weft.h>
#include <weft/testing.h> /* weft_fault_inject */

#define N 200000

static const char source[] =
    "__kernel void square(__global const int *x, __global int *y, const uint n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] = x[i] * x[i];\n"
    "}\n";

static void square_cpu(size_t begin, size_t end, void *const *argv)
{
    const int *x = argv[0];
    int *y = argv[1];
    for (size_t i = begin; i < end; i++) y[i] = x[i] * x[i];
}

static const weft_kernel_t square = {
    .name = "square", .cpu = square_cpu, .cl_source = source, .cl_entry = "square"};

static int x[N], y[N];

/* Run square under pol; 1 when every y is right. */
static int run(weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic)
{
    unsigned n = N;
    weft_arg_t args[] = {weft_arg_split(x, sizeof x, sizeof x[0], WEFT_READ),
                         weft_arg_split(y, sizeof y, sizeof y[0], WEFT_WRITE),
                         weft_arg_scalar(&n, sizeof n)};
    for (int i = 0; i < N; i++) y[i] = -1;
    if (weft_parallel_run(rt, &square, weft_range_1d(N, 64), args, 3, pol, panic) != 0) return 0;
    for (int i = 0; i < N; i++)
        if (y[i] != x[i] * x[i]) return 0;
    return 1;
}

static void places_line(weft_runtime_t *rt, const char *what, const weft_policy_t *pol)
{
    int ok = run(rt, pol, NULL);
    weft_run_stats_t st;
    weft_runtime_last_run_stats(rt, &st);
    /* items[0]: indices the CPU did; items[1 + d]: device d. */
    printf("%-22s %s; CPU did %6zu, device 0 %6zu, device 1 %6zu\n", what, ok ? "ok" : "WRONG",
           st.items[0], st.items[1], st.items[2]);
}

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    if (weft_device_count(rt) < 2) {
        printf("this example wants two devices: POCL_DEVICES=\"pthread basic\"\n");
        weft_runtime_destroy(rt);
        return 77;
    }
    for (int i = 0; i < N; i++) x[i] = i % 1000;

    /* Policies: the answer is the same, only the hand-out differs. */
    static const struct { weft_policy_kind_t kind; const char *name; } kinds[] = {
        {WEFT_POLICY_STATIC, "static"},   /* one chunk per place, sized by speed */
        {WEFT_POLICY_DYNAMIC, "dynamic"}, /* fixed chunks to whoever is free */
        {WEFT_POLICY_GUIDED, "guided"},   /* shrinking chunks, weighted by speed */
        {WEFT_POLICY_ADAPTIVE, "adaptive"}, /* calibrated, remembered on disk */
    };
    for (int i = 0; i < 4; i++) {
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.kind = kinds[i].kind;
        if (pol.kind == WEFT_POLICY_DYNAMIC) pol.chunk = 4096; /* indices per chunk */
        printf("%-9s %s\n", kinds[i].name, run(rt, &pol, NULL) ? "ok" : "WRONG");
    }

    /* Places: the CPU workers (use_cpu) and a mask of devices. */
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 1;
    pol.devices = 0;
    places_line(rt, "CPU only:", &pol);
    pol.use_cpu = 0;
    pol.devices = 1u << 0;
    places_line(rt, "device 0 only:", &pol);
    pol.devices = 1u << 1;
    places_line(rt, "device 1 only:", &pol);

    /* Failover: every launch on device 0 fails; its failed chunk is put
     * back as it was and re-run elsewhere, and the answer is the same.
     * Static, so that device 0 surely gets a share: under the other policies
     * a quick CPU may take every chunk before a device asks for one. */
    weft_fault_inject(rt, 0, -1, CL_OUT_OF_RESOURCES, "square");
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_STATIC;
    pol.on_fault = WEFT_FAULT_FAILOVER;
    pol.devices = weft_device_mask(rt, 0); /* every device: the default set leaves
                                              out CPU devices while the CPU runs */
    int ok = run(rt, &pol, NULL);
    weft_run_stats_t st;
    weft_runtime_last_run_stats(rt, &st);
    printf("failover: %s; %zu chunk failed and ran again elsewhere; device 0 did %zu\n",
           ok ? "ok" : "WRONG", st.failed_chunks, st.items[1]);

    /* Propagate (the default): the operation stops and its handle panics. */
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_STATIC;
    pol.devices = weft_device_mask(rt, 0);
    weft_panic_t *p = NULL;
    run(rt, &pol, &p);
    if (p) {
        size_t b, e;
        int has_range = weft_panic_range(p, &b, &e);
        printf("propagate: panicked with %s in kernel '%s', chunk inside [0, %d): %s\n",
               weft_panic_cl_status_name(p), weft_panic_kernel(p), N,
               has_range && b < e && e <= N ? "yes" : "no");
        weft_panic_destroy(p);
    }

    weft_fault_clear(rt);
    weft_runtime_destroy(rt);
    return 0;
}

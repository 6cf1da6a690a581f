/* 11_launch.c — a kernel launch is a task: weft_launch returns a handle,
 * joined like any other. */
#include <stdio.h>

#include <weft/weft.h>

#define N 1024

static const char source[] =
    "__kernel void add(__global int *v, const int amount, const uint n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) v[i] += amount;\n"
    "}\n";

/* Launch `add` on each device for its own half of the array, in a scope. */
struct halves {
    weft_program_t *program;
    weft_buffer_t *buf[2];
    int amount;
    unsigned half;
};

static int launch_halves(weft_scope_t *s, void *arg)
{
    struct halves *h = arg;
    for (int d = 0; d < 2; d++) {
        weft_karg_t args[] = {weft_karg_buffer(h->buf[d]), weft_karg_scalar(&h->amount, sizeof h->amount),
                              weft_karg_scalar(&h->half, sizeof h->half)};
        weft_launch_t l;
        weft_launch_init(&l);
        l.device = d;
        l.program = h->program; /* built once for every device */
        l.kernel = "add";
        l.global[0] = h->half;
        l.args = args;
        l.nargs = 3;
        /* The description and the scalars are read during the call only. */
        int rc = weft_scope_launch(s, &l, NULL); /* NULL: the scope joins it */
        if (rc != 0) return rc;
    }
    return 0;
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
    static int v[N];
    for (int i = 0; i < N; i++) v[i] = i;

    /* Host memory as a device buffer: zero-copy on unified-memory devices,
     * a device copy (filled now, as the access includes reading) elsewhere. */
    weft_buffer_t *buf;
    if (weft_buffer_wrap(rt, 0, v, sizeof v, WEFT_READ_WRITE, &buf) != 0) {
        fprintf(stderr, "weft_buffer_wrap: %s\n", weft_last_error_message());
        return 1;
    }
    printf("zero-copy on device 0: %s\n", weft_buffer_is_zero_copy(buf) ? "yes" : "no");

    int amount = 100;
    unsigned n = N;
    weft_karg_t args[] = {weft_karg_buffer(buf), weft_karg_scalar(&amount, sizeof amount),
                          weft_karg_scalar(&n, sizeof n)};
    weft_launch_t l;
    weft_launch_init(&l);
    l.device = 0;
    l.source = source; /* built at the first launch, then cached */
    l.kernel = "add";
    l.global[0] = N;
    l.args = args;
    l.nargs = 3;

    weft_handle_t *h;
    weft_panic_t *p;
    if (weft_launch(rt, &l, &h) != 0) {
        fprintf(stderr, "weft_launch: %s\n", weft_last_error_message());
        return 1;
    }
    if (weft_join(h, NULL, &p) == WEFT_EPANIC) {
        fprintf(stderr, "launch failed: %s\n", weft_panic_message(p));
        weft_panic_destroy(p);
        return 1;
    }
    weft_buffer_sync_to_host(buf, 0, sizeof v); /* nothing to do when zero-copy */
    printf("after one launch: v[0] = %d, v[%d] = %d\n", v[0], N - 1, v[N - 1]);
    weft_buffer_destroy(buf);

    /* Two devices at once, in a scope: a program built for every device,
     * each device given half of v. */
    struct halves hv = {.amount = 1000, .half = N / 2};
    weft_panic_t *why;
    if (weft_program_create(rt, source, NULL, &hv.program, &why) != 0) {
        fprintf(stderr, "build failed:\n%s\n", weft_panic_build_log(why));
        return 1;
    }
    if (weft_buffer_wrap(rt, 0, v, sizeof v / 2, WEFT_READ_WRITE, &hv.buf[0]) != 0 ||
        weft_buffer_wrap(rt, 1, v + N / 2, sizeof v / 2, WEFT_READ_WRITE, &hv.buf[1]) != 0)
        return 1;
    int rc = weft_scope(rt, launch_halves, &hv, &p);
    if (rc != 0) {
        printf("scope: %s %s\n", weft_err_name(rc), p ? weft_panic_message(p) : weft_last_error_message());
        weft_panic_destroy(p);
    }
    for (int d = 0; d < 2; d++) {
        weft_buffer_sync_to_host(hv.buf[d], 0, sizeof v / 2);
        weft_buffer_destroy(hv.buf[d]);
    }
    printf("after the scope:  v[0] = %d, v[%d] = %d\n", v[0], N - 1, v[N - 1]);

    weft_program_destroy(hv.program);
    weft_runtime_destroy(rt);
    return 0;
}

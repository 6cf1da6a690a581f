/* 12_device_failure.c — a device failure is a panic on the launch's handle:
 * status name, device, kernel and range; a failed build carries its log. */
#include <stdio.h>
#include <string.h>

#include <weft/weft.h>
#include <weft/testing.h> /* weft_fault_inject */

#define N 1024

static const char broken[] =
    "__kernel void add(__global int *v)\n"
    "{\n"
    "    v[get_global_id(0)] += amount;\n" /* `amount` is declared nowhere */
    "}\n";

static const char good[] =
    "__kernel void add(__global int *v)\n"
    "{\n"
    "    v[get_global_id(0)] += 1;\n"
    "}\n";

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    if (weft_device_count(rt) == 0) {
        printf("no OpenCL device\n");
        weft_runtime_destroy(rt);
        return 77;
    }

    /* 1. A build failure: an error code, with the compiler's log in `why`. */
    weft_program_t *prog;
    weft_panic_t *why;
    int rc = weft_program_create(rt, broken, NULL, &prog, &why);
    printf("build: %s (%s)\n", weft_err_name(rc), weft_panic_cl_status_name(why));
    const char *log = weft_panic_build_log(why);
    const char *err = log ? strstr(log, "error:") : NULL;
    if (err) printf("build log: %.*s\n", (int)strcspn(err, "\n"), err);
    weft_panic_destroy(why);

    /* 2. A failure while running. Faults are injected here so that this
     *    path can be seen on any machine: the next launch of `add` on device
     *    0 reports CL_OUT_OF_RESOURCES. */
    weft_fault_inject(rt, 0, 0, CL_OUT_OF_RESOURCES, "add");

    static int v[N];
    weft_buffer_t *buf;
    if (weft_buffer_wrap(rt, 0, v, sizeof v, WEFT_READ_WRITE, &buf) != 0) return 1;
    weft_karg_t arg = weft_karg_buffer(buf);
    weft_launch_t l;
    weft_launch_init(&l);
    l.source = good;
    l.kernel = "add";
    l.global[0] = N;
    l.args = &arg;
    l.nargs = 1;
    weft_handle_t *h;
    weft_panic_t *p;
    /* Starting it succeeds: device failures are never returned here... */
    if (weft_launch(rt, &l, &h) != 0) return 1;
    /* ...they arrive at the join, as a panic. */
    if (weft_join(h, NULL, &p) == WEFT_EPANIC) {
        size_t begin, end;
        weft_panic_range(p, &begin, &end);
        printf("launch panicked at %s:%d\n", weft_panic_file(p), weft_panic_line(p));
        printf("  status: %s (%d)\n", weft_panic_cl_status_name(p), weft_panic_cl_status(p));
        printf("  kernel: %s, range [%zu, %zu)\n", weft_panic_kernel(p), begin, end);
        printf("  device: %s\n", weft_panic_device(p));
        weft_panic_destroy(p);
    }

    /* The fault was for one launch only: the next one runs. */
    if (weft_launch(rt, &l, &h) == 0 && weft_join(h, NULL, NULL) == 0) {
        weft_buffer_sync_to_host(buf, 0, sizeof v);
        printf("next launch: ok, v[0] = %d\n", v[0]);
    }
    weft_buffer_destroy(buf);
    weft_runtime_destroy(rt);
    return 0;
}

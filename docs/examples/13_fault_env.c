/* 13_fault_env.c — test a program's failure paths without changing it:
 * $WEFT_FAULT injects device failures when the runtime is created.
 *
 *   WEFT_FAULT="device=1,launch=2,status=CL_OUT_OF_RESOURCES" ./13_fault_env
 */
#include <stdio.h>

#include <weft/weft.h>

#define N 256

static const char source[] =
    "__kernel void add(__global int *v)\n"
    "{\n"
    "    v[get_global_id(0)] += 1;\n"
    "}\n";

int main(void)
{
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        /* A malformed $WEFT_FAULT is reported here. */
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    int device = weft_device_count(rt) - 1; /* the last device */
    if (device < 0) {
        printf("no OpenCL device\n");
        weft_runtime_destroy(rt);
        return 77;
    }
    static int v[N];
    weft_buffer_t *buf;
    if (weft_buffer_wrap(rt, device, v, sizeof v, WEFT_READ_WRITE, &buf) != 0) return 1;
    weft_karg_t arg = weft_karg_buffer(buf);
    weft_launch_t l;
    weft_launch_init(&l);
    l.device = device;
    l.source = source;
    l.kernel = "add";
    l.global[0] = N;
    l.args = &arg;
    l.nargs = 1;

    for (int i = 0; i < 4; i++) {
        weft_handle_t *h;
        weft_panic_t *p;
        if (weft_launch(rt, &l, &h) != 0) return 1;
        if (weft_join(h, NULL, &p) == 0) {
            printf("launch %d on device %d: ok\n", i, device);
        } else {
            printf("launch %d on device %d: %s\n", i, device, weft_panic_cl_status_name(p));
            weft_panic_destroy(p);
        }
    }
    weft_buffer_sync_to_host(buf, 0, sizeof v);
    printf("v[0] = %d\n", v[0]);
    weft_buffer_destroy(buf);
    weft_runtime_destroy(rt);
    return 0;
}

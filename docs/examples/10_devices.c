/* 10_devices.c — which OpenCL devices a runtime opened, and choosing them.
 * Run with POCL_DEVICES="pthread basic" for PoCL's two CPU devices. */
#include <stdio.h>

#include <weft/weft.h>

static const char *type_name(weft_device_type_t t)
{
    return t == WEFT_DEVICE_GPU ? "gpu" : t == WEFT_DEVICE_CPU ? "cpu" : "other";
}

int main(void)
{
    /* Default selection: the `devices` option, else $WEFT_DEVICES, else all. */
    weft_runtime_t *rt;
    if (weft_runtime_create(NULL, &rt) != 0) {
        fprintf(stderr, "weft_runtime_create: %s\n", weft_last_error_message());
        return 1;
    }
    int n = weft_device_count(rt);
    if (n == 0) {
        printf("no OpenCL device (weft-devices lists what the machine has)\n");
        weft_runtime_destroy(rt);
        return 77;
    }
    printf("%d device(s)\n", n);
    for (int i = 0; i < n; i++) {
        weft_device_info_t info;
        if (weft_device_info(rt, i, &info) != 0) continue;
        printf("device %d: %s (%s, %u compute units, %s memory)\n", i, info.name, type_name(info.type),
               info.compute_units, info.unified_memory ? "unified" : "separate");
    }
    /* The same, as one line per device. */
    weft_device_print(rt, stdout);
    weft_runtime_destroy(rt);

    /* Choosing in code: a name substring, "cpu", "gpu", indices "0,2",
     * "all" or "none" (the option wins over $WEFT_DEVICES). */
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.devices = "pthread";
    if (weft_runtime_create(&o, &rt) == 0) {
        printf("devices = \"pthread\": %d device(s)\n", weft_device_count(rt));
        weft_runtime_destroy(rt);
    }
    o.devices = "none";
    if (weft_runtime_create(&o, &rt) == 0) {
        printf("devices = \"none\": %d device(s), CPU workers only\n", weft_device_count(rt));
        weft_runtime_destroy(rt);
    }
    /* A selection that matches nothing is an error that lists what exists. */
    o.devices = "no-such-device";
    int rc = weft_runtime_create(&o, &rt);
    printf("devices = \"no-such-device\": %s: %s\n", weft_err_name(rc), weft_last_error_message());
    return 0;
}

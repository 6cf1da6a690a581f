/* weft-devices — show the OpenCL devices weft can use.
 *
 *   weft-devices            every device on the machine, then those a runtime
 *                           selects under the current $WEFT_DEVICES
 *   weft-devices SPEC       the same, selecting with SPEC instead of
 *                           $WEFT_DEVICES ("all", "none", "cpu", "gpu", "0,2",
 *                           or a name substring)
 *
 * Exit status: 0; 1 when the runtime cannot be created (bad selection, no
 * memory) or the OpenCL platforms cannot be queried; 2 for bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

static void usage(FILE *f)
{
    fputs("usage: weft-devices [SPEC]\n"
          "Lists every OpenCL device with its WEFT_DEVICES index, then the devices\n"
          "a weft runtime selects under $WEFT_DEVICES, or under SPEC when given\n"
          "(all, none, cpu, gpu, accelerator, indices such as 0,2, or a name substring).\n",
          f);
}

int main(int argc, char **argv)
{
    const char *spec = NULL;
    if (argc > 2) {
        usage(stderr);
        return 2;
    }
    if (argc == 2) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        spec = argv[1];
    }

    printf("OpenCL devices on this machine (index as used by WEFT_DEVICES):\n");
    int found = weft_device_print_all(stdout);
    if (found < 0) {
        fflush(stdout);
        fprintf(stderr, "weft-devices: cannot query OpenCL platforms: %s: %s\n",
                weft_err_name(found), weft_last_error_message());
        return 1;
    }

    const char *env = getenv("WEFT_DEVICES");
    if (spec)
        printf("\nSelected by the argument \"%s\":\n", spec);
    else if (env && *env)
        printf("\nSelected by WEFT_DEVICES=\"%s\":\n", env);
    else
        printf("\nSelected by default (WEFT_DEVICES unset: \"all\"):\n");
    fflush(stdout);

    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1; /* only the devices matter here */
    o.devices = spec;
    weft_runtime_t *rt = NULL;
    int rc = weft_runtime_create(&o, &rt);
    if (rc) {
        fprintf(stderr, "weft-devices: cannot create a runtime: %s: %s\n", weft_err_name(rc),
                weft_last_error_message());
        return 1;
    }
    weft_device_print(rt, stdout);
    weft_runtime_destroy(rt);
    return 0;
}

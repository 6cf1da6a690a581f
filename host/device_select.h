/* host/device_select.h — the WEFT_DEVICES selection language, kept free of
 * OpenCL calls so it can be tested and fuzzed on its own. */
#ifndef WEFT_HOST_DEVICE_SELECT_H
#define WEFT_HOST_DEVICE_SELECT_H

#include <stddef.h>

typedef struct weft__found_device {
    const char *name;
    int type; /* weft_device_type_t */
} weft__found_device;

/* Parse spec against the n devices found. spec is a comma-separated list of
 * terms: "all", "none", "cpu", "gpu", "accelerator", a device index, or a
 * case-insensitive substring of a device name. chosen[i] is set to 1 for each
 * selected device (0 otherwise). Returns 0, or WEFT_EINVAL with a message
 * (via weft__fail) that names what was found. */
int weft__device_select(const char *spec, const weft__found_device *found, size_t n,
                        unsigned char *chosen);

#endif

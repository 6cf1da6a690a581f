/* fuzz/fuzz_device_select.c — the WEFT_DEVICES parser on fake device lists.
 *
 * Input: byte 0 = number of devices (mod 9); then one byte per device
 * (bit 7: no name; bits 4-5: type; the rest picks a name); the remaining
 * bytes are the selection string. weft__device_select() must return 0 or
 * WEFT_EINVAL (with a message), write only chosen[0..n), and only 0 or 1. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/device_select.h"
#include "weft/weft.h"

static const char *const NAMES[] = {
    "pthread-skylake-avx512-Intel(R) Xeon(R) Processor",
    "basic-skylake-avx512-Intel(R) Xeon(R) Processor",
    "NVIDIA GeForce RTX 4090",
    "gfx1100",
    "",
    "cpu",
    "0",
    "all",
    "Intel(R) UHD Graphics 770",
    "a,b",
    " spaced name ",
    "\xc3\xa9t\xc3\xa9",
};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t n = data[0] % 9;
    if (size < 1 + n) return 0;
    /* Exactly sized heap arrays: an access past them is an ASan report. */
    weft__found_device *found = malloc((n ? n : 1) * sizeof *found);
    unsigned char *chosen = malloc(n ? n : 1);
    if (!found || !chosen) abort();
    for (size_t i = 0; i < n; i++) {
        uint8_t b = data[1 + i];
        found[i].name = (b & 0x80) ? NULL : NAMES[(b & 0x0f) % NNAMES];
        found[i].type = 1 << ((b >> 4) & 3); /* cpu, gpu, accelerator, other */
    }
    size_t len = size - 1 - n;
    char *spec = malloc(len + 1);
    if (!spec) abort();
    memcpy(spec, data + 1 + n, len);
    spec[len] = '\0';

    int rc = weft__device_select(len == 0 && (data[0] & 0x80) ? NULL : spec, found, n, chosen);
    if (rc != 0 && rc != WEFT_EINVAL) abort();
    if (rc == WEFT_EINVAL && weft_last_error_message()[0] == '\0') abort();
    for (size_t i = 0; i < n; i++)
        if (chosen[i] > 1) abort();
    /* "all" alone selects everything, "none" alone nothing. */
    if (strcmp(spec, "all") == 0)
        for (size_t i = 0; i < n; i++)
            if (rc != 0 || chosen[i] != 1) abort();
    if (strcmp(spec, "none") == 0)
        for (size_t i = 0; i < n; i++)
            if (rc != 0 || chosen[i] != 0) abort();
    free(spec);
    free(chosen);
    free(found);
    return 0;
}

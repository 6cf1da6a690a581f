/* fuzz/fuzz_fault_parse.c — the WEFT_FAULT parser.
 *
 * weft_runtime_create() parses $WEFT_FAULT (also with WEFT_DEVICES=none)
 * through weft__fault_parse(), an internal function of host/fault.c; the
 * harness calls it directly on one runtime without devices (creating a
 * runtime per input would only fuzz thread start-up). The input is the
 * specification string. It must return 0, WEFT_EINVAL (with a message) or
 * WEFT_ENOMEM; weft_fault_clear() then drops what a partly valid
 * specification added, and nothing may leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

static weft_runtime_t *rt;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    o.devices = "none";
    unsetenv("WEFT_FAULT");
    if (weft_runtime_create(&o, &rt)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec) abort();
    memcpy(spec, data, size);
    spec[size] = '\0';
    int rc = weft__fault_parse(rt, spec);
    if (rc != 0 && rc != WEFT_EINVAL && rc != WEFT_ENOMEM) abort();
    if (rc != 0 && weft_last_error_message()[0] == '\0') abort();
    weft_fault_clear(rt);
    free(spec);
    return 0;
}

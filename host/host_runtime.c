/* host/host_runtime.c — OpenCL side of the runtime (devices come in issue 3). */
#include "host_runtime.h"
#include "../scheduler/internal.h"

int weft__host_create(weft_runtime_t *rt, const char *spec)
{
    (void)spec;
    rt->host = NULL;
    return 0;
}

void weft__host_destroy(weft_runtime_t *rt) { rt->host = NULL; }

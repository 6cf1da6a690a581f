/* host/host_runtime.h — how the runtime brings up and tears down its OpenCL side. */
#ifndef WEFT_HOST_RUNTIME_H
#define WEFT_HOST_RUNTIME_H

#include "weft/runtime.h"

/* Discover and open the devices chosen by spec (NULL: $WEFT_DEVICES, else
 * "all"); stores the state in rt->host. 0 or a WEFT_E* code with a message. */
int weft__host_create(weft_runtime_t *rt, const char *spec);
/* Release everything weft__host_create made. Safe when it made nothing. */
void weft__host_destroy(weft_runtime_t *rt);

#endif

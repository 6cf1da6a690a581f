/* coexec/testing.c — the engine's test hook (weft/testing.h), built only
 * with WEFT_TESTING: copy as on a discrete GPU, even on unified memory. */
#include "weft/testing.h"
#include "engine.h"

int weft_testing_force_copy(weft_runtime_t *rt, int on)
{
    if (!rt) return weft__fail(WEFT_EINVAL, "weft_testing_force_copy: runtime is NULL");
    atomic_store(&weft__engine_of(rt)->force_copy, on != 0);
    return 0;
}

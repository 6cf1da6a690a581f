/* coexec/place_set.c — the default device set (see place_set.h). */
#include "place_set.h"

#include "weft/parallel.h"

uint64_t weft__place_set(uint64_t requested, int cpu_place, int ndev, const int *is_cpu, const unsigned *cus)
{
    if (ndev > 64) ndev = 64;
    if (requested != WEFT_DEFAULT_DEVICES) return ndev == 64 ? requested : requested & (((uint64_t)1 << ndev) - 1);
    uint64_t set = 0;
    int stand_in = -1;
    for (int d = 0; d < ndev; d++) {
        if (!is_cpu[d]) set |= (uint64_t)1 << d;
        else if (!cpu_place && (stand_in < 0 || cus[d] > cus[stand_in])) stand_in = d;
    }
    if (stand_in >= 0) set |= (uint64_t)1 << stand_in;
    return set;
}

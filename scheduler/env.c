/* scheduler/env.c — the environment's say in the runtime: how many workers,
 * and the on/off switches of the layers above (weft__env_switch). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core.h"

/* CPUs this process may run on: its affinity mask (taskset, cpusets), not
 * every CPU online. */
static int usable_cpus(void)
{
    for (size_t n = 1024; n <= 1u << 16; n *= 2) {
        cpu_set_t *set = CPU_ALLOC(n);
        if (!set) break;
        size_t size = CPU_ALLOC_SIZE(n);
        if (sched_getaffinity(0, size, set) == 0) {
            int count = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return count > 0 ? count : 1;
        }
        CPU_FREE(set);
        if (errno != EINVAL) break; /* EINVAL: the mask is larger than n CPUs */
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int weft__env_threads(int *out)
{
    /* WEFT_NUM_THREADS is the conventional name; WEFT_CPU_THREADS, the
     * older one, still works when it is unset. */
    const char *var = "WEFT_NUM_THREADS";
    const char *env = getenv(var);
    if (!env || !*env) env = getenv(var = "WEFT_CPU_THREADS");
    if (!env || !*env) {
        /* The thread that blocks in weft works too (slots.c): N-1 workers
         * and the caller keep N CPUs busy. */
        int n = usable_cpus() - 1;
        *out = n > 0 ? n : 1;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(env, &end, 10);
    if (errno || *end || n <= 0 || n > 4096)
        return weft__fail(WEFT_EINVAL, "%s=\"%s\": expected a whole number from 1 to 4096", var, env);
    *out = (int)n;
    return 0;
}

/* How long a thread with nothing to do searches before it sleeps. The
 * default covers the tail of a parallel operation (threads finishing their
 * last pieces a piece apart) and the serial gap between the operations of a
 * hot loop, as libgomp's default spin does, without holding a core for long
 * once the program has moved on; passive sleeps at once; active spins as
 * long as LLVM's OpenMP runtime does by default (a blocktime of 200 ms), for
 * programs that own their cores. */
#define SPIN_NS_DEFAULT 2000000u
#define SPIN_NS_ACTIVE 200000000u

int weft__env_wait_policy(uint64_t *spin_ns)
{
    const char *env = getenv("WEFT_WAIT_POLICY");
    *spin_ns = SPIN_NS_DEFAULT;
    if (!env || !*env) return 0;
    if (strcasecmp(env, "passive") == 0) {
        *spin_ns = 0;
    } else if (strcasecmp(env, "active") == 0) {
        *spin_ns = SPIN_NS_ACTIVE;
    } else {
        return weft__fail(WEFT_EINVAL, "weft_runtime_create: WEFT_WAIT_POLICY is '%s': it must be active or passive",
                          env);
    }
    return 0;
}

int weft__env_switch(const char *name, int option, int *on)
{
    if (option != 0) {
        *on = option > 0;
        return 0;
    }
    const char *env = getenv(name);
    if (!env || !*env || strcmp(env, "0") == 0) {
        *on = 0;
        return 0;
    }
    if (strcmp(env, "1") == 0) {
        *on = 1;
        return 0;
    }
    return weft__fail(WEFT_EINVAL, "%s=\"%s\": expected 0 or 1", name, env);
}

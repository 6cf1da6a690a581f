/* coexec/place_set.h — which devices take part in an operation by default.
 * Pure policy, no OpenCL: the driver passes each device's kind and compute
 * units.
 *
 * Places that share cores slow each other down: an OpenCL device of type
 * CPU runs on the host's cores, which the CPU workers (and every other CPU
 * device) use too, so running both only adds threads that compete. The
 * default set therefore holds every device that is not a CPU, and of the CPU
 * devices:
 *   - none, when the CPU place (the workers running the kernel's CPU body)
 *     takes part;
 *   - else the one with the most compute units (the first of equals): it runs
 *     the CPU's share of a kernel that has no CPU body, in the workers' stead.
 * An explicit device mask is taken as it is. */
#ifndef WEFT_COEXEC_PLACE_SET_H
#define WEFT_COEXEC_PLACE_SET_H

#include <stdint.h>

/* The devices (bit i: device i, i < 64) that take part, out of ndev whose
 * kinds are is_cpu[i] (1: an OpenCL CPU device) with cus[i] compute units.
 * requested is the policy's mask; WEFT_DEFAULT_DEVICES asks for the default
 * set above (only then are is_cpu and cus read: may be NULL otherwise).
 * cpu_place: 1 when the CPU place takes part. */
uint64_t weft__place_set(uint64_t requested, int cpu_place, int ndev, const int *is_cpu, const unsigned *cus);

#endif

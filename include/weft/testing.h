/** @file
 *  @brief Test hooks: making device launches fail on purpose, to test
 *  failure paths on any machine. (The copy paths of discrete GPUs are tested
 *  with weft_runtime_options_t::separate_memory, in every build.) These
 *  functions, and $WEFT_FAULT, exist only
 *  in a library built with the CMake option WEFT_TESTING=ON (the test suite's
 *  build); a production build neither exports them nor reads $WEFT_FAULT.
 */
#ifndef WEFT_TESTING_H
#define WEFT_TESTING_H

#include "weft/export.h"

#include "weft/opencl.h" /* the statuses a fault gives are OpenCL's */

#ifdef __cplusplus
extern "C" {
#endif

/** Make launches fail on purpose, to test failure paths on any machine. A
 *  launch that a fault hits is not enqueued: its handle panics with the
 *  fault's status ("failed during execution (injected fault)"), as a real
 *  failure would; a parallel operation's chunk fails the same way. When
 *  several faults match a launch, the one injected last wins.
 *  $WEFT_FAULT sets the same at runtime creation:
 *  @code{.unparsed}
 *  WEFT_FAULT="device=1,launch=3,status=CL_OUT_OF_RESOURCES[,kernel=k];..."
 *  @endcode
 *  @param rt      the runtime.
 *  @param device  device number, or -1 for every device.
 *  @param launch  the n-th launch on that device, counting from 0 after this
 *                 call (every launch on the device counts, whatever its
 *                 kernel; each chunk a parallel operation runs on a device
 *                 counts as one launch), or -1 for every launch.
 *  @param status  the cl_int the launch reports, a negative OpenCL status
 *                 (e.g. CL_OUT_OF_RESOURCES).
 *  @param kernel  only launches of this kernel entry point (copied), or NULL
 *                 for any.
 *  @return 0; WEFT_EINVAL (NULL rt, device or launch below -1, device not
 *          one of the runtime's — such a fault could never fire —, status
 *          not negative); WEFT_ENOMEM. */
WEFT_API int weft_fault_inject(weft_runtime_t *rt, int device, long launch, int status, const char *kernel);

/** Remove every injected fault and restart every device's launch counter at 0.
 *  @param rt  the runtime; NULL does nothing. */
WEFT_API void weft_fault_clear(weft_runtime_t *rt);


#ifdef __cplusplus
}
#endif
#endif

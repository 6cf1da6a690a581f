/** @file
 *  @brief One include for the core API: CPU tasks, scopes, panics, locals,
 *  devices, launches, parallel operations and registered arrays. Needs no OpenCL headers. The
 *  rest is opt-in: weft/opencl.h (raw OpenCL objects, interop),
 *  weft/kernels.h (the bundled operations, library weft_kernels) and
 *  weft/testing.h (fault injection, test builds only).
 */
#ifndef WEFT_WEFT_H
#define WEFT_WEFT_H

#include "weft/version.h"
#include "weft/error.h"
#include "weft/runtime.h"
#include "weft/panic.h"
#include "weft/task.h"
#include "weft/local.h"
#include "weft/sync.h"
#include "weft/device.h"
#include "weft/parallel.h"
#include "weft/array.h"

#endif

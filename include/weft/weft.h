/** @file
 *  @brief One include for the whole public API: every header of weft/.
 */
#ifndef WEFT_WEFT_H
#define WEFT_WEFT_H

#include "weft/error.h"
#include "weft/runtime.h"
#include "weft/panic.h"
#include "weft/task.h"
#include "weft/local.h"
#include "weft/sync.h"
#include "weft/device.h"
#include "weft/parallel.h"
#include "weft/kernels.h"

#endif

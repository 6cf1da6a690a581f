/* weft/weft.h — one include for the whole public API. */
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

#endif

/** @file
 *  @brief Registered arrays: data that stays on devices between parallel
 *  operations.
 *
 *  An ordinary argument is host memory: every operation copies what its
 *  chunks read to a device that has memory of its own, and what they write
 *  back. A registered array is host memory that weft also keeps copies of,
 *  one per device with memory of its own (a discrete GPU, or any device in
 *  separate-memory mode), from one operation to the next. For every copy,
 *  the host's included, weft knows which bytes are current, as a cache
 *  keeps lines Modified, Shared or Invalid:
 *  - a chunk that writes bytes makes its place's copy of them the only
 *    current one (a device's written rows are not read back);
 *  - a chunk that reads (or writes part of) bytes its place's copy does not
 *    hold current gets them first, from the host or, through the host, from
 *    the device that holds them: an iterated stencil moves only the halo
 *    rows its neighbours wrote;
 *  - whole arrays are uploaded to a device once, not once per operation.
 *  With the static policy, an operation over the same range and places as
 *  the previous one that split an array keeps that operation's split
 *  (unless the measured speeds predict it more than a quarter slower than a
 *  fresh one), so each place's rows stay where they are; other policies
 *  hand rows to whichever place asks, and rows move as the balance does.
 *  Devices that share the host's memory (PoCL on the CPU, integrated GPUs)
 *  use the host's copy: nothing moves for them.
 *
 *  The host copy is current only where weft_array_to_host() (or
 *  weft_array_destroy()) made it so: between registering and that call the
 *  memory belongs to weft's operations, and the program must neither read
 *  nor write it. A program that changes the host bytes itself says so with
 *  weft_array_host_changed(). Pass a registered array to an operation by
 *  wrapping its descriptor: weft_arg_on(weft_arg_split(data, ...), array).
 *
 *  After an operation that failed, the bytes it writes are unspecified
 *  (as for unregistered arrays); the rest of the array keeps its values.
 *  Write-set checking (weft_runtime_options_t::check_writes) covers
 *  unregistered arguments only.
 */
#ifndef WEFT_ARRAY_H
#define WEFT_ARRAY_H

#include "weft/export.h"

#include <stddef.h>

#include "weft/parallel.h"
#include "weft/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Register bytes of host memory at data with rt. The host copy is current
 *  (no device holds any of it yet); the memory must stay valid until
 *  weft_array_destroy().
 *  @param rt     the runtime whose operations will use it.
 *  @param data   the host memory.
 *  @param bytes  its size, > 0.
 *  @param out    receives the array.
 *  @return 0; WEFT_EINVAL (NULL rt, data or out, bytes 0); WEFT_ENOMEM. */
WEFT_API int weft_array_create(weft_runtime_t *rt, void *data, size_t bytes, weft_array_t **out);

/** Make the host's copy of bytes [offset, offset + bytes) current, reading
 *  back from devices whatever they hold newer, and wait for it: the program
 *  may then read those bytes of weft_array_data(). Devices keep their
 *  copies. No operation using the array may be running.
 *  @param a       the array.
 *  @param offset  first byte.
 *  @param bytes   how many (0: nothing).
 *  @return 0; WEFT_EINVAL (NULL a, a range past the array); WEFT_ESTATE (an
 *          operation using it is running, or its runtime is gone);
 *          WEFT_ECL (a read-back failed: the message names the device and
 *          status; the bytes are then not current). */
WEFT_API int weft_array_to_host(weft_array_t *a, size_t offset, size_t bytes);

/** Say that the program changed host bytes [offset, offset + bytes) itself:
 *  the devices' copies of them are stale from now on. Make the host copy
 *  current (weft_array_to_host()) before changing part of it.
 *  @param a       the array.
 *  @param offset  first byte.
 *  @param bytes   how many.
 *  @return 0; WEFT_EINVAL (NULL a, a range past the array); WEFT_ESTATE (an
 *          operation using it is running); WEFT_ENOMEM. */
WEFT_API int weft_array_host_changed(weft_array_t *a, size_t offset, size_t bytes);

/** Make the whole host copy current (as weft_array_to_host()), release the
 *  device copies and free the array; the host memory is the program's again.
 *  An array still registered when its runtime is destroyed gets its host
 *  copy made current and its device copies released then; only this call
 *  frees it.
 *  @param a  the array; NULL does nothing.
 *  @return 0; WEFT_ESTATE (an operation using it is running: nothing is
 *          freed); WEFT_ECL (a read-back failed: the array is freed all the
 *          same, and the bytes it could not read back are lost). */
WEFT_API int weft_array_destroy(weft_array_t *a);

/** The host memory given to weft_array_create().
 *  @param a  the array.
 *  @return its host memory; NULL for a NULL a. */
WEFT_API void *weft_array_data(const weft_array_t *a);
/** The size given to weft_array_create().
 *  @param a  the array.
 *  @return its size in bytes; 0 for a NULL a. */
WEFT_API size_t weft_array_bytes(const weft_array_t *a);

/** The argument arg, on registered array a: arg must be a split or whole
 *  argument whose data is weft_array_data(a) and whose bytes fit in it
 *  (checked when the operation starts: WEFT_EINVAL otherwise).
 *  @param arg  a descriptor from weft_arg_split() and its kin, or
 *              weft_arg_whole().
 *  @param a    the array.
 *  @return arg with arg.array = a. */
WEFT_API weft_arg_t weft_arg_on(weft_arg_t arg, weft_array_t *a);

#ifdef __cplusplus
}
#endif
#endif

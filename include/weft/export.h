/** @file
 *  @brief WEFT_API, the mark on every function the shared library exports.
 *  The library is built with hidden visibility: only what a public header
 *  declares with WEFT_API is part of its interface.
 */
#ifndef WEFT_EXPORT_H
#define WEFT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** Exported from the shared library (default visibility). */
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

#endif

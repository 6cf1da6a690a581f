/* runtime/version.c — the library's own version, for weft_version(). */
#include "weft/version.h"

const char *weft_version(void) { return WEFT_VERSION_STRING; }

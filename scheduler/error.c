/* scheduler/error.c — status names, messages and the per-thread last error. */
#include <stdarg.h>
#include <stdio.h>

#include "core.h"

static _Thread_local char last_error[512];

const char *weft_strerror(int status)
{
    switch (status) {
#define WEFT__TEXT(name, value, text) case value: return text;
        WEFT_ERROR_LIST(WEFT__TEXT)
#undef WEFT__TEXT
    default: return "unknown weft status";
    }
}

const char *weft_err_name(int status)
{
    switch (status) {
#define WEFT__NAME(name, value, text) case value: return #name;
        WEFT_ERROR_LIST(WEFT__NAME)
#undef WEFT__NAME
    default: return "WEFT_E?";
    }
}

const char *weft_last_error_message(void) { return last_error; }

static int set_message(int status, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return status;
}

int weft__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(status, fmt, ap);
    va_end(ap);
    return status;
}

int weft_error_set(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(status, fmt, ap);
    va_end(ap);
    return status;
}

#include "base/fl_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fl_error_set(fl_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int fl_error_wrap(fl_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return FL_OK;
    char prefix[FL_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old message right to make room for "prefix: "; an overlong
     * message loses its tail, never the context just added. */
    size_t cap = sizeof err->msg;
    size_t plen = strnlen(prefix, cap - 3);
    size_t keep = strnlen(err->msg, cap - 1);
    if (plen + 2 + keep > cap - 1)
        keep = cap - 1 - plen - 2;
    memmove(err->msg + plen + 2, err->msg, keep);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + keep] = '\0';
    return err->code;
}

void fl_error_clear(fl_error *err)
{
    if (err == NULL)
        return;
    err->code = FL_OK;
    err->msg[0] = '\0';
}

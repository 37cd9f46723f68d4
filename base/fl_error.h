/*
 * fl_error: how faultline's libraries report failure.
 *
 * Every fallible library function returns an int: 0 on success, otherwise
 * one of the FL_E* codes below, and fills a caller-owned fl_error with a
 * message a user can act on ("history.jsonl:12: field \"type\": unknown type
 * \"done\""). Each layer may prefix its own context on the way up with
 * fl_error_wrap(). Libraries never print and never exit; the command-line
 * front end turns the code into the process exit status, so the codes are
 * the BSD sysexits values that the README documents.
 */
#ifndef FL_ERROR_H
#define FL_ERROR_H

#include <stddef.h>

enum {
    FL_OK = 0,
    FL_EUSAGE = 64,    /* bad command line or API misuse */
    FL_EDATA = 65,     /* input data is malformed */
    FL_ENOINPUT = 66,  /* an input file could not be opened */
    FL_ENOMEM = 71,    /* out of memory (or over a configured budget) */
    FL_EIO = 74,       /* a read or write failed */
};

#define FL_ERROR_MSG_MAX 1024

typedef struct fl_error {
    int code;                      /* one of FL_E*, FL_OK when no error */
    char msg[FL_ERROR_MSG_MAX];    /* human-readable, no trailing newline */
} fl_error;

/* Record an error and return its code, so callers can write
 * `return fl_error_set(err, FL_EDATA, "...", ...);`. err may be NULL. */
int fl_error_set(fl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the current message with context ("reading X: <old message>").
 * Returns the current code. err may be NULL. */
int fl_error_wrap(fl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to FL_OK with an empty message. */
void fl_error_clear(fl_error *err);

#endif

/*
 * The JSONL reader's fast path (history_jsonl_fast.c): a line in the shape
 * the recorder writes, appended without jansson. Internal to history/.
 */
#ifndef FL_HISTORY_JSONL_FAST_H
#define FL_HISTORY_JSONL_FAST_H

#include <stddef.h>

#include "base/alloc.h"
#include "history/history.h"
#include "history/history_internal.h"

/* Not an FL_E* code: the line was left for the jansson path. */
#define HISTORY_FAST_DECLINED (-1)

/* Scratch space for pool keys, reused from line to line. Zero-initialise;
 * owned by the reader, released with history_fast_free. */
typedef struct history_fast {
    char *buf;
    size_t cap;
} history_fast;

/* Room for the keys of a line of line_len bytes. FL_OK or FL_ENOMEM. */
int history_fast_reserve(history_fast *fast, size_t line_len);
void history_fast_free(history_fast *fast);

/* The event line[0..n) holds, into *in (its strings in fast's buffer, valid
 * until the next scan), if this path reads it exactly as jansson's would;
 * false for every other line. history_fast_line's first half, apart for
 * the differential fuzzer. */
bool history_fast_scan(history_fast *fast, const char *line, size_t n,
                       history_keyed_input *in);

/*
 * Append line[0..n) if it is an event this path reads exactly as jansson's
 * would: FL_OK, or history_append's error (no FILE:LINE prefix yet).
 * HISTORY_FAST_DECLINED, with h and err untouched, for every other line.
 */
int history_fast_line(history *h, history_fast *fast, const char *line,
                      size_t n, fl_error *err);

#endif

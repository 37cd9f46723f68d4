/*
 * Shared by the history module's own files (history.c, history_jsonl.c,
 * history_edn.c); not part of the public API.
 */
#ifndef FL_HISTORY_INTERNAL_H
#define FL_HISTORY_INTERNAL_H

#include "history/history.h"

/* Record a non-fatal remark (copied). -1 when out of memory. */
int history_add_warning(history *h, const char *msg);

/* history_append, but the pool may keep references to in's values instead
 * of deep copies: for readers whose parsed values nobody mutates later. */
int history_append_shared(history *h, const history_input *in, fl_error *err);

#endif

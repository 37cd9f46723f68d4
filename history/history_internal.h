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

/* How many events so far have a time earlier than the timed event before
 * them. Each client stamps its own times (Jepsen's stored histories are
 * slightly out of order too), so the line order stays the real-time order
 * and this is only remarked on. */
size_t history_time_backwards(const history *h);

/* If any time went backwards, add one summary warning naming how many and
 * NAME:FIRST_LINE, where the first was read. FL_ENOMEM or FL_OK. */
int history_warn_time_backwards(history *h, const char *name, long first_line,
                                fl_error *err);

#endif

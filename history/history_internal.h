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

/* A value given by its key in the history's value pool: a tag, then the raw
 * form — 'i' and the decimal integer, 's' and the string's bytes, 'j' and
 * canonical compact JSON (sorted keys, jansson's escaping) for any other
 * value. text is NUL-terminated; text NULL means absent. Borrowed. */
typedef struct history_pool_key {
    const char *text;
    size_t len;
} history_pool_key;

/* history_append with the key, value and error given as pool keys (base's
 * key, value and error must be NULL; value's text is never NULL: "jnull" is
 * null). The same validation and errors as history_append: for readers that
 * build pool keys straight from their input, never a json_t unless the
 * value is new to the pool. */
typedef struct history_keyed_input {
    history_input base;
    history_pool_key key, value, error;
} history_keyed_input;

int history_append_keyed(history *h, const history_keyed_input *in,
                         fl_error *err);

/* A JSONL line's object as history_append input (borrowing from o), with
 * the reader's field checks: FL_OK, or FL_EDATA naming the field. */
int history_jsonl_decode(const json_t *o, history_input *out, fl_error *err);

/* v's key in the value pool (history_pool_key above): its length, 0 on
 * failure; *text is stack (cap bytes) or, if longer, allocated with
 * fl_malloc for the caller to free. */
size_t history_pool_key_of(const json_t *v, char *stack, size_t cap,
                           char **text);

/* history_read_jsonl, with the fast path (history_jsonl_fast.h) on or off:
 * off, every line goes through jansson — the reference the differential
 * fuzzer holds the fast path to. */
int history_read_jsonl_with(FILE *in, const char *name, bool fast,
                            history **out, fl_error *err);

/* ---- Reading in parallel (history_jsonl_par.c) ----------------------------- */

/* Mark h, new and empty, as a chunk of a file read in parallel: its
 * appends are checked field by field but not paired (pairing depends on
 * the chunks before it), and an automatic index stays HISTORY_AUTO_INDEX.
 * Only history_merge_chunk reads such a history. */
void history_set_chunk(history *h);

/*
 * Append chunk c's first n events to h, as though their lines had been
 * read into h right after h's own: c's names and values are pooled in h in
 * c's order (so the ids are those of one sequential read; c's value
 * entries and references move), then each event is paired as
 * history_append pairs it. FL_OK, or the first error (unprefixed; *failed
 * is then the event's position in c, SIZE_MAX if before any event).
 * *first_backwards: the position in c of the event whose time first went
 * backwards in h, if h had none before (left unchanged otherwise). c is
 * spent either way: only history_free it.
 */
int history_merge_chunk(history *h, history *c, size_t n, size_t *failed,
                        size_t *first_backwards, fl_error *err);

#endif

/*
 * history: the record of one test, shared by the controller (which writes
 * it), the checkers (which judge it) and the reports (which draw it).
 *
 * A history is a sequence of events in real-time order. Each client
 * operation appears twice: an invocation, then (usually) a completion.
 * The semantics are Jepsen's:
 *
 *   ok    the operation happened, between its invocation and completion;
 *   fail  the operation certainly did not happen;
 *   info  indeterminate: it may have happened, at any time after its
 *         invocation, or never. An invocation that has no completion at
 *         all is treated exactly like one that completed with info.
 *
 * A process (a client thread) has at most one operation in flight. A client
 * whose operation ended info continues under a new process id, because the
 * old one may still be "executing" forever. The nemesis is the process
 * HISTORY_NEMESIS; its events annotate the history (what fault began or
 * ended when) and are never paired or judged.
 *
 * Values are JSON (jansson). Every distinct value is stored once, in a pool
 * owned by the history, and events refer to it by a small integer id: two
 * events carry equal values exactly when their ids are equal. Keys (the
 * independent objects of Jepsen's `independent` checker) live in the same
 * pool. Operation names ("read", "cas") are interned the same way.
 *
 * On disk a history is JSON Lines, one event per line:
 *   {"index":3,"time":1712000,"process":2,"type":"invoke","f":"cas","key":"k1","value":[3,4]}
 * `index` and `time` are optional on input (the line order is the real-time
 * order); `key` and `error` are optional; a missing `value` is null. Jepsen
 * history.edn files are read and written too (history_read_edn).
 *
 * Ownership: a history owns its events, names and values. Pointers it hands
 * out (events, names, json_t values) are borrowed: valid until the history
 * is freed or, for history_events(), until the next append.
 */
#ifndef FL_HISTORY_H
#define FL_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <jansson.h>

#include "base/fl_error.h"

typedef enum history_type {
    HISTORY_INVOKE,
    HISTORY_OK,
    HISTORY_FAIL,
    HISTORY_INFO,
} history_type;

#define HISTORY_NEMESIS INT64_C(-1)  /* process id of the nemesis */
#define HISTORY_NO_TIME INT64_C(-1)  /* time unknown (converted histories) */
#define HISTORY_AUTO_INDEX INT64_C(-1) /* history_append: index = position */
#define HISTORY_NONE UINT32_MAX      /* no key / no error / no pair */

typedef struct history_event {
    int64_t index;     /* as recorded; the position if the input had none */
    int64_t time;      /* ns since test start (monotonic), or HISTORY_NO_TIME */
    int64_t process;   /* >= 0 for clients, HISTORY_NEMESIS */
    history_type type;
    uint32_t f;        /* operation name id, see history_name() */
    uint32_t key;      /* value id of the key, or HISTORY_NONE */
    uint32_t value;    /* value id; JSON null when the input had none */
    uint32_t error;    /* value id of the "error" field, or HISTORY_NONE */
    uint32_t pair;     /* position of the matching completion (for an
                          invocation) or invocation (for a completion);
                          HISTORY_NONE for an invocation that never completed
                          and for nemesis events */
} history_event;

/* What a caller supplies to history_append(). Borrowed; copied in. */
typedef struct history_input {
    int64_t index;       /* HISTORY_AUTO_INDEX: use the position */
    int64_t time;        /* HISTORY_NO_TIME if unknown */
    int64_t process;
    history_type type;
    const char *f;
    const json_t *key;   /* NULL: none. Must be a string or an integer. */
    const json_t *value; /* NULL: null */
    const json_t *error; /* NULL: none */
} history_input;

typedef struct history history;

/* ---- Building and inspecting ------------------------------------------ */

/* A new, empty history, or NULL when out of memory. Free with history_free. */
history *history_new(void);
void history_free(history *h);

/*
 * Append one event after validating it against the events before it:
 * a completion needs an invocation in flight on its process with the same
 * f and key; an invocation needs its process to be idle. On failure the
 * history is unchanged and err says which field is wrong (FL_EDATA), or
 * FL_ENOMEM.
 */
int history_append(history *h, const history_input *in, fl_error *err);

size_t history_len(const history *h);
/* The events, in order. Valid until the next append. */
const history_event *history_events(const history *h);

/* Invocations still in flight (treated as info by every checker). */
size_t history_pending(const history *h);

const char *history_name(const history *h, uint32_t f);
/* The id of an interned name, or HISTORY_NONE if no event uses it. */
uint32_t history_name_find(const history *h, const char *name);
size_t history_name_count(const history *h);

/* A pooled value. Equal JSON values have equal ids. */
const json_t *history_value(const history *h, uint32_t id);
size_t history_value_count(const history *h);
/* Intern a value (the pool keeps its own reference). HISTORY_NONE on OOM. */
uint32_t history_value_intern(history *h, const json_t *value);

const char *history_type_name(history_type t);
/* 0 and *out set on success, -1 if s names no type. */
int history_type_parse(const char *s, history_type *out);

/* Non-fatal remarks made while reading (e.g. a truncated final line that was
 * dropped). Borrowed strings. */
size_t history_warning_count(const history *h);
const char *history_warning(const history *h, size_t i);

/*
 * A new history holding the events whose keep[pos] is true (keep has
 * history_len(h) entries), in their original order. Keeping an invocation
 * keeps its completion too, so the result stays well formed. Names and
 * values are re-interned, so ids differ from h's. For shrinking
 * counterexamples and splitting by key. *out is owned by the caller.
 */
int history_subset(const history *h, const bool *keep, history **out,
                   fl_error *err);

/* ---- Files -------------------------------------------------------------- */

typedef enum history_format {
    HISTORY_FORMAT_UNKNOWN,
    HISTORY_FORMAT_JSONL,
    HISTORY_FORMAT_EDN,
} history_format;

/* By extension: .jsonl/.json -> JSONL, .edn -> EDN, else UNKNOWN. */
history_format history_format_of_path(const char *path);

/*
 * By content, for a name that does not tell (/dev/null, a pipe's path):
 * reads from `in` up to the first significant characters, so rewind
 * before reading the history. A JSON object ({"...) or nothing at all is
 * JSONL (an empty history); EDN's openers ([, (, {:, ;, #) are EDN;
 * anything else is JSONL, whose reader names the bad line. A read error is
 * UNKNOWN (ferror(in) says so).
 */
history_format history_format_sniff(FILE *in);

/*
 * Read a whole history. `name` is used in error messages ("FILE:LINE: ...").
 * On success *out is a new history owned by the caller. Errors: FL_ENOINPUT
 * (cannot open), FL_EDATA (malformed, with file, line and field), FL_EIO,
 * FL_ENOMEM. A final line cut short (no newline, not valid JSON) — what a
 * writer killed mid-line leaves — is dropped with a warning, not an error:
 * the operation it began was never sent.
 */
int history_read_jsonl(FILE *in, const char *name, history **out, fl_error *err);

/* How to treat Jepsen's independent tuples ([k v] values) when reading EDN. */
typedef enum history_edn_keys {
    HISTORY_EDN_KEYS_AUTO, /* tuples iff every client event's value is a
                              2-element vector */
    HISTORY_EDN_KEYS_YES,
    HISTORY_EDN_KEYS_NO,
} history_edn_keys;

/*
 * Read a Jepsen history.edn: one top-level vector (or list) of op maps, or
 * one op map after another (tagged maps, #jepsen.history.Op{...}, too).
 * Each map needs :type (:invoke :ok :fail :info), :f (keyword or string)
 * and :process (an integer, or a keyword: the nemesis); :value, :time,
 * :index and :error are optional, other keys ignored. With keys, client
 * values [k v] split into key k (integer, string or keyword) and value v.
 * Errors and *out as for history_read_jsonl(), with "FILE:LINE: field
 * :NAME: ..." messages. Input ending inside a form (a killed writer) keeps
 * every complete op and adds a warning.
 */
int history_read_edn(FILE *in, const char *name, history_edn_keys keys,
                     history **out, fl_error *err);

/* Read a file whose format is known from its extension (or given). */
int history_read_file(const char *path, history_format fmt, history **out,
                      fl_error *err);

/* "an integer", "a string", ...: a JSON value's kind, for error messages. */
const char *history_json_kind(const json_t *v);

/* One event as a JSON object (new reference), as written to JSONL. */
json_t *history_event_to_json(const history *h, const history_event *e);

int history_write_jsonl(const history *h, FILE *out, fl_error *err);
/* Keyed events are written as Jepsen independent tuples: :value [k v]. */
int history_write_edn(const history *h, FILE *out, fl_error *err);
int history_write_file(const history *h, const char *path, history_format fmt,
                       fl_error *err);

/* ---- Streaming writer (the controller's recorder) ------------------------ */

typedef struct history_writer history_writer;

/*
 * Create (truncate) a JSONL file. Times are nanoseconds of CLOCK_MONOTONIC
 * since this call. Free with history_writer_close().
 */
int history_writer_open(const char *path, history_writer **out, fl_error *err);

/*
 * Record one event; safe to call from many threads. Stamps index and time,
 * writes one line and hands it to the kernel before returning, so that a
 * harness killed at any moment leaves every recorded event readable.
 * *index_out (may be NULL) receives the index. The writer does not check
 * pairing: callers (the controller) guarantee it; the reader verifies it.
 */
int history_writer_record(history_writer *w, int64_t process,
                          history_type type, const char *f, const json_t *key,
                          const json_t *value, const json_t *error,
                          int64_t *index_out, fl_error *err);

/* Flush, fsync and close; frees w. */
int history_writer_close(history_writer *w, fl_error *err);

#endif

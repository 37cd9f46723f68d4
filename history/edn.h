/*
 * edn: a small reader and writer for EDN (extensible data notation), the
 * text format of Jepsen's history.edn, mapped onto jansson values.
 *
 * Reading maps EDN onto JSON, losing only what JSON cannot say:
 *
 *   nil, true, false        null, true, false
 *   42, -7, 42N             integer (an N bigint must fit in int64)
 *   1.5, 1e3, 2.5M          real (M decimals are read as doubles)
 *   "s\n\u00e9"             string
 *   \a \newline \u00e9      one-character string
 *   :foo  :ns/foo           string "foo", "ns/foo" (see edn_is_keyword)
 *   foo  ns/foo             string (symbols)
 *   [..] (..) #{..}         array
 *   {k v ..}                object; a keyword key becomes its name, a string
 *                           key stays; any other key becomes its EDN text
 *                           ({1 :a} -> {"1": "a"}, {[1 2] 3} -> {"[1 2]": 3}).
 *                           Two keys with the same resulting name are an
 *                           error, as duplicate keys are in EDN; so is a
 *                           key holding a NUL (jansson compares keys as C
 *                           strings).
 *   #inst "..", #tag v      the tagged value v
 *   #_ form                 nothing (discarded)
 *   ; comment, commas       whitespace
 *
 * ##Inf/##NaN, ratios and radix integers are rejected: JSON has no
 * equivalent. Nesting deeper than EDN_MAX_DEPTH is an error, so hostile
 * input cannot exhaust the stack.
 *
 * Errors are FL_EDATA with "NAME:LINE:COL: what was expected", FL_EIO when
 * the stream fails, FL_ENOMEM.
 */
#ifndef FL_EDN_H
#define FL_EDN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"

#define EDN_MAX_DEPTH 256

/* ---- Reading ------------------------------------------------------------- */

typedef struct edn_reader edn_reader;

/*
 * A reader of the forms in `in`, which stays the caller's (never closed).
 * `name` (copied) prefixes error messages. NULL when out of memory.
 */
edn_reader *edn_reader_new(FILE *in, const char *name);
void edn_reader_free(edn_reader *r);

/*
 * Read the next form. On FL_OK, *out is a new reference owned by the
 * caller, or NULL at the end: end of input at top level, or the closing
 * bracket of a sequence entered with edn_reader_enter(). After an error the
 * reader's position is unspecified: stop reading.
 */
int edn_read(edn_reader *r, json_t **out, fl_error *err);

/*
 * If the next form is a vector or a list, step inside it, so that
 * edn_read() returns its elements one at a time (then NULL at its closing
 * bracket, after which reading continues at top level). Streams a file that
 * is one huge vector without building it whole. *entered says whether it
 * did. Only at top level; FL_EUSAGE when already inside.
 */
int edn_reader_enter(edn_reader *r, bool *entered, fl_error *err);

/*
 * Whether v, a string inside the value most recently returned by edn_read(),
 * was a keyword in the text (:invoke rather than "invoke"). Identity, not
 * equality: pass the json_t found in that value. Valid until the next read.
 */
bool edn_is_keyword(const edn_reader *r, const json_t *v);

/* The line (from 1) where the most recent form, or failed attempt, began. */
long edn_reader_line(const edn_reader *r);

/* The line of the last character read that is not a newline (0: none): at
 * end of input, the input's last line with anything on it. */
long edn_reader_last_line(const edn_reader *r);

/*
 * Whether the most recent error was the input ending inside a form (an
 * unclosed string, vector, map...): what a writer killed mid-form leaves.
 */
bool edn_reader_truncated(const edn_reader *r);

/*
 * The first character of the most recent form, or failed attempt: '{' for a
 * map, '"' for a string...; EOF when the input ended before one began. With
 * edn_reader_truncated(), tells a cut-off map from other unclosed forms.
 */
int edn_reader_form_char(const edn_reader *r);

/* Parse text holding exactly one form. *out is owned by the caller. */
int edn_parse(const char *text, size_t len, const char *name, json_t **out,
              fl_error *err);

/* ---- Writing ------------------------------------------------------------- */

/*
 * Write v as EDN: null as nil, arrays as vectors, objects as maps whose keys
 * are keywords when edn_keyword_name_ok() allows, else strings; reals read
 * back to the same double. FL_EIO on a failed write, FL_ENOMEM.
 */
int edn_write(FILE *out, const json_t *v, fl_error *err);

/* Write s (len bytes, UTF-8) as an EDN string literal, escaped. */
void edn_write_string(FILE *out, const char *s, size_t len);

/* Whether `:s` writes s as a keyword that reads back as the same name. */
bool edn_keyword_name_ok(const char *s, size_t len);

#endif

/*
 * elle: an Elle-class isolation checker for transactional histories
 * (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from
 * Experimental Observations", VLDB 2020), against Adya's anomalies.
 *
 * A transaction is one operation with f "txn" whose value is a list of
 * micro-ops:
 *   list-append   ["append", k, v]   ["r", k, [v ...] or null]
 *   rw-register   ["w", k, v]        ["r", k, v or null]
 * keys are integers or strings, values integers. An ok completion carries
 * the values read; fail means the transaction certainly did not commit;
 * info (or no completion) means it may have, and it is counted as
 * committed as soon as a committed read observes one of its writes.
 *
 * What is inferred (see elle.c for the rules):
 *   version orders  list-append: a key's versions are its longest read,
 *                   every other read must be a prefix of it ("incompatible
 *                   order" otherwise). rw-register: the initial null comes
 *                   first, and a transaction that read k = a then wrote
 *                   k = b orders a before b; nothing else. Limits: values
 *                   never read have no place in any order, so cycles
 *                   through them are not seen (every other verdict holds).
 *   edges           ww (a version and the next one's writers), wr (writer
 *                   and reader of a version), rw (a reader of a version
 *                   and the next version's writer), rt (one transaction
 *                   completed before the other was invoked).
 *   anomalies       G0 (ww cycle), G1a (aborted read), G1b (intermediate
 *                   read), G1c (ww/wr cycle with a wr edge), G-single
 *                   (cycle with exactly one rw edge), G2-item (cycle with
 *                   two or more), each of those "-realtime" when the cycle
 *                   needs an rt edge; internal (a read disagreeing with the
 *                   transaction's own earlier reads and writes), garbage
 *                   (a value nobody wrote), duplicate (a value appended
 *                   twice), incompatible-order.
 *
 * Cycles: strongly connected components (Tarjan, iterative) of each edge
 * class, then a shortest cycle of that class by breadth-first search inside
 * the component: one cycle per component and class.
 *
 * Sound, not complete: every anomaly reported is one (a history it calls
 * invalid for a model has no execution under it, given unique writes);
 * a history it calls valid may still have none when some committed write
 * was never read (its version has no place in an order). With every write
 * read and no info transaction, list-append verdicts for serializable and
 * strict-serializable are exact (tests/test_elle.c checks both directions).
 */
#ifndef FL_ELLE_H
#define FL_ELLE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/fl_error.h"
#include "history/history.h"

/* The isolation models, strongest first. */
typedef enum elle_model {
    ELLE_STRICT_SERIALIZABLE,
    ELLE_SERIALIZABLE,
    ELLE_SNAPSHOT_ISOLATION,
    ELLE_REPEATABLE_READ,
    ELLE_READ_COMMITTED,
    ELLE_READ_UNCOMMITTED,
    ELLE_N_MODELS,
} elle_model;

/* "strict-serializable", ... */
const char *elle_model_name(elle_model m);
/* 0 and *out set, or -1 if s names no model. */
int elle_model_parse(const char *s, elle_model *out);

typedef enum elle_anomaly {
    ELLE_G0,
    ELLE_G1A,
    ELLE_G1B,
    ELLE_G1C,
    ELLE_G_SINGLE,
    ELLE_G2_ITEM,
    ELLE_G0_RT,
    ELLE_G1C_RT,
    ELLE_G_SINGLE_RT,
    ELLE_G2_ITEM_RT,
    ELLE_INTERNAL,
    ELLE_GARBAGE,
    ELLE_DUPLICATE,
    ELLE_INCOMPATIBLE_ORDER,
    ELLE_N_ANOMALIES,
} elle_anomaly;

/* "G0", "G1a", ..., "G-single-realtime", "internal", ... */
const char *elle_anomaly_name(elle_anomaly a);

/* Whether anomaly a rules model m out. */
bool elle_rules_out(elle_anomaly a, elle_model m);

/* What one check found: counts per anomaly (one per cycle found, one per
 * offending read) and the transactions' totals. */
typedef struct elle_summary {
    size_t count[ELLE_N_ANOMALIES];
    size_t txns, ok, failed, info, committed; /* committed: ok + info seen */
    bool list_append;                       /* false: rw-register */
} elle_summary;

typedef struct elle_result elle_result;

/*
 * Check h (every op with f "txn"; others are ignored). FL_OK with *out set
 * (owned by the caller, elle_result_free) whatever it found; FL_EDATA
 * naming the event and field for a micro-op of the wrong shape or a
 * history mixing appends and register writes; FL_ENOMEM.
 */
int elle_check(const history *h, elle_result **out, fl_error *err);
void elle_result_free(elle_result *r);

/* elle_check_jsonl: not a check_jsonl answer but "read the history". */
#define ELLE_DECLINED (-1)

/*
 * The same check straight from a JSONL file of transactions as
 * faultline's recorder writes them (integer keys and values, no escapes,
 * f "txn" or nemesis events), without building a history: a tenth of the
 * memory and time. ELLE_DECLINED for any file not of that shape (read it
 * with history_read_file and call elle_check: its errors are the
 * reader's); otherwise as elle_check. The result's JSON then needs
 * elle_result_history(r) as its history.
 */
int elle_check_jsonl(const char *path, elle_result **out, fl_error *err);

/* The small history of the transactions in a file-checked result's
 * findings (NULL if none, or for elle_check's results). Borrowed. */
const history *elle_result_history(const elle_result *r);

const elle_summary *elle_result_summary(const elle_result *r);

/* Whether the history is valid under m: no anomaly found rules it out. */
bool elle_valid(const elle_result *r, elle_model m);

/*
 * The result as JSON for model m (new reference, NULL on OOM), h the
 * history it was checked from (for event indices and ops): valid,
 * consistency, anomaly_types, not (models ruled out), weakest_anomaly,
 * anomalies {name: [{type, txns, steps?, edges?, svg?, explanation, ops}]}
 * (steps, edges, svg: cycles only), counts.
 */
json_t *elle_result_json(const elle_result *r, const history *h,
                         elle_model m);

/* A cycle finding's figure (its JSON's "txns" and "edges") as a small
 * self-contained SVG, for the report; draws nothing for a finding that
 * is no cycle. Only numbers and the four edge names reach out. */
void elle_cycle_svg(FILE *out, const json_t *txns, const json_t *edges);

/* elle's part of report.html (checker.html_verdict, html_panel;
 * checkers/elle_panel.c): from the stored result alone. */
struct checker_panel_env;
void elle_html_verdict(FILE *out, const char *name, const json_t *res,
                       const struct checker_panel_env *env);
void elle_html_panel(FILE *out, const char *name, const json_t *res,
                     const struct checker_panel_env *env);

#endif

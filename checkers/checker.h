/*
 * checker: the one interface every checker has, and the registry of them.
 *
 * A checker is a name and a check: history and options in, a result out.
 * The result carries a verdict (checkers/verdict.h), the JSON that
 * `faultline check` prints and results.json stores under the checker's
 * name, a one-line summary and an explanation in words. Everything that
 * judges histories (`faultline check --checker NAME`, the analysis of a
 * stored run, a workload's list of checkers) finds checkers here by name,
 * so a new checker is one file that defines a `const checker` (and, if it
 * draws its own part of report.html, its panel: html_verdict, html_panel)
 * plus its line in checkers/registry.c.
 *
 * Every result's JSON has "valid" (true, false or "unknown"); reports
 * also read, from any checker, "reason" (why unknown) and "anomaly" /
 * "anomaly_kind" (something wrong that the verdict allows). A checker may
 * need another's result (checker.needs): it is handed that result, typed
 * (checker_result_key_verdict, ...), by checker_check or by a
 * composition (checkers/compose.h), never by calling the other itself.
 *
 * Ownership: checker_check() returns a result owned by the caller
 * (checker_result_free); it copies what it needs from the history. The
 * registry's checkers are static.
 */
#ifndef FL_CHECKER_H
#define FL_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/verdict.h"
#include "history/history.h"

/* Which guarantee a history is judged against (checkers/sequential.h):
 * DEFAULT is the checker's own choice. */
typedef enum checker_consistency {
    CHECKER_CONSISTENCY_DEFAULT,
    CHECKER_CONSISTENCY_LINEARIZABLE,
    CHECKER_CONSISTENCY_SEQUENTIAL, /* the verdict is sequential consistency's */
    CHECKER_CONSISTENCY_BOTH,       /* both decided; the verdict is
                                       linearizability's */
} checker_consistency;

struct lin_model; /* checkers/lin_model.h */

/* What `faultline check` can ask of a checker. A checker reads the fields
 * that mean something to it and ignores the rest (set reads none). */
typedef struct checker_options {
    /* The sequential specification (checkers/lin_model.h), resolved from
     * its name once, before any history is read (lin_model_find); static. */
    const struct lin_model *model;
    const json_t *initial;    /* model's initial value; NULL = JSON null */
    bool nil_reads_unknown;   /* Knossos: a read returning null constrains
                                 nothing */
    double time_limit_s;      /* <= 0: none */
    size_t memory_limit_mb;   /* 0: none */
    int threads;              /* <= 0: number of online cores */
    bool no_split;            /* check all keys as one object (a key-aware
                                 model then sees every key) */
    bool shrink;              /* minimise counterexamples (delta debugging) */
    bool all_keys;            /* keep checking other keys after one is found
                                 invalid (default: stop them; the verdict
                                 is decided) */
    bool no_fast_path;        /* linearizable: always search, even a
                                 register with unique values
                                 (checkers/unique_register.h) */
    checker_consistency consistency; /* (sequential) which verdict */
    const char *isolation;    /* (elle) the transactional model, e.g.
                                 "serializable"; NULL: strict-serializable */
} checker_options;

/* Sets every field to its default: model cas-register, no limits, no
 * shrinking, all cores. */
void checker_options_init(checker_options *opt);

/* ---- Writing a checker ---------------------------------------------------- */

typedef struct checker_result checker_result;

/* One key's verdict (key: a history value id; HISTORY_NONE for the whole
 * history, unsplit), for a checker that decides keys one by one and for
 * those that reuse its verdicts (checker.needs). */
typedef struct checker_key_verdict {
    uint32_t key;
    checker_verdict verdict;
} checker_key_verdict;

/* What a check fills in: the verdict, the JSON result (a new reference,
 * given to the result), and words on the two streams (the registry owns
 * them; write nothing else there). */
typedef struct checker_report {
    checker_verdict verdict;
    json_t *json;
    FILE *summary;  /* one line: the checker's name, verdict and figures */
    FILE *explain;  /* why, for a person (`faultline check --explain`) */
    /* Optional, for checkers that others may need: each key's verdict,
     * fl_malloc'd, any order; the result takes it. */
    checker_key_verdict *per_key;
    size_t nper_key;
} checker_report;

/* What a checker's report panel draws with (report/ provides it; the
 * kit to draw with is checkers/panel.h). Borrowed for the call. */
typedef struct checker_panel_env {
    const json_t *results;  /* the whole results.json: {"checkers": ...} */
    /* The x position (a tick of the page's time axis) of the event whose
     * "index" is idx; -1 if the history is not at hand or has none. */
    int64_t (*tick_of_index)(const void *page, int64_t idx);
    const void *page;
} checker_panel_env;

typedef struct checker checker;
struct checker {
    const char *name;   /* the key in results.json's "checkers" */
    const char *about;  /* one line, for usage messages */
    /*
     * FL_OK with the report filled whatever the verdict; an error (with a
     * message naming the event or the option) only when the check could
     * not be run: FL_EUSAGE (bad options), FL_EDATA (an op of the wrong
     * shape), FL_ENOMEM. `needed` is the result of `needs` on the same
     * history (NULL when the checker needs nothing).
     */
    int (*check)(const history *h, const checker_options *opt,
                 const checker_result *needed, checker_report *out,
                 fl_error *err);
    /* The explanation again, from the stored JSON result alone, so that a
     * report of a stored run (report/report.h) says what --explain said.
     * NULL: the report gives no words beyond the verdict. */
    int (*explain_json)(const json_t *result, FILE *out);
    /*
     * Optional: another checker whose result this one reuses (one, for
     * now). Whoever runs this checker (checker_check, checkers/compose.h)
     * runs that one first on the same history, with the options
     * `needs_options` derives from this one's (NULL: the same), or reuses
     * its result when a composition already has it for the same question.
     */
    const checker *needs;
    void (*needs_options)(const checker_options *mine, checker_options *theirs);
    /*
     * Optional: this checker's part of report.html, drawn from its stored
     * JSON result alone. html_verdict: the verdict as badges and words
     * inside the verdict list's <li> (NULL: a badge with the checker's
     * name and the start of its explanation); html_panel: its figures
     * after the verdicts (NULL: none). HTML escaped as checkers/panel.h
     * does it; write only to out.
     */
    void (*html_verdict)(FILE *out, const char *name, const json_t *result,
                         const checker_panel_env *env);
    void (*html_panel)(FILE *out, const char *name, const json_t *result,
                       const checker_panel_env *env);
    /* Optional: check the JSONL file at path without building a history,
     * for a checker with a faster reader of its own shape of history.
     * FL_OK with the report filled, CHECKER_DECLINED when the file is not
     * of that shape (the caller then reads the history and calls check),
     * or an error as check's. NULL: always read the history. Only for a
     * checker that needs nothing. */
    int (*check_file)(const char *path, const checker_options *opt,
                      checker_report *out, fl_error *err);
};

#define CHECKER_DECLINED (-1) /* check_file: read the history instead */

/* ---- The registry ----------------------------------------------------------- */

/* The checker called name; FL_EUSAGE naming the known ones if none is. */
int checker_find(const char *name, const checker **out, fl_error *err);

/* Names of the checkers, NULL-terminated, in registry order. */
const char *const *checker_names(void);

/* ---- Running one ------------------------------------------------------------- */

/* Run c on h, and first what c needs (checker.needs). FL_OK with *out set
 * whatever the verdict; otherwise c's error, or FL_ENOMEM. */
int checker_check(const checker *c, const history *h,
                  const checker_options *opt, checker_result **out,
                  fl_error *err);

/* Run c's check_file on the JSONL file at path: FL_OK with *out set, or
 * with *out NULL when c has none or declined (read the history and call
 * checker_check); otherwise c's error, or FL_ENOMEM. */
int checker_check_file(const checker *c, const char *path,
                       const checker_options *opt, checker_result **out,
                       fl_error *err);

/* Run c on h given the result of what it needs (NULL if it needs
 * nothing; then borrowed for the call). checkers/compose.h uses it. */
int checker_check_given(const checker *c, const history *h,
                        const checker_options *opt,
                        const checker_result *needed, checker_result **out,
                        fl_error *err);

/* The options c->needs runs with when c runs with opt. */
void checker_needs_options(const checker *c, const checker_options *opt,
                           checker_options *out);

/* Whether two option sets ask the same question of a checker (model,
 * initial value, nil reads, splitting): budgets, threads and shrinking
 * may differ, so one's result can stand for the other's. */
bool checker_options_same_question(const checker_options *a,
                                   const checker_options *b);

const char *checker_result_name(const checker_result *r);
const checker *checker_result_checker(const checker_result *r);
checker_verdict checker_result_verdict(const checker_result *r);
/* Key's verdict in a checker's per-key verdicts (checker_report.per_key):
 * CHECKER_UNKNOWN when the checker gave none for it. */
checker_verdict checker_result_key_verdict(const checker_result *r,
                                           uint32_t key);
/* The wall time of the check itself (what it needed not included). */
double checker_result_elapsed_ms(const checker_result *r);
/* The JSON result, borrowed: valid until checker_result_free(). */
json_t *checker_result_json(const checker_result *r);
/* The one-line summary, and the explanation in words, written to out. */
int checker_result_summary(const checker_result *r, FILE *out);
int checker_result_explain(const checker_result *r, FILE *out);
void checker_result_free(checker_result *r);

/*
 * The name of key (a history value id, HISTORY_NONE for the whole history)
 * in a result's per_key, distinct for distinct keys: integers as their
 * digits (1 -> "1"), strings as themselves ("k1") unless that could be read
 * as another key, then JSON-quoted ("1" -> "\"1\"", "*" -> "\"*\"");
 * "*" for the whole history. Caller frees with fl_free; NULL when out of
 * memory.
 */
char *checker_key_name(const history *h, uint32_t key);

/*
 * An operation as every checker's counterexample shows it, so that
 * --explain, the reports and a person read all of them alike: {process,
 * f, key (if any), value, type (of its completion; "info" if none),
 * output (an ok's value), invoke_index, complete_index (if completed)}.
 * invoke_pos is the invocation's position in history_events(h). A new
 * reference (caller's); NULL when out of memory.
 */
json_t *checker_op_json(const history *h, size_t invoke_pos);

#endif

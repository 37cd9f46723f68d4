/*
 * check_options: the one table of checker options that every command
 * judging a history takes (`faultline check`, `faultline report HISTORY`),
 * parsed into checker_options (checkers/checker.h), and the rule that
 * picks the checker to run.
 *
 * A command embeds CLI_CHECK_LONGOPTS in its getopt_long table, hands
 * every option getopt returns to cli_check_option() first, and calls
 * cli_check_resolve() once the arguments are read and before it reads a
 * history: --model is resolved there into a `const lin_model *` once, so
 * a bad model is a usage error even when the history does not exist.
 *
 * `faultline test` embeds CLI_CHECK_RUN_LONGOPTS instead (its own
 * --time-limit and --keys mean the run's) and hands cli_check_apply to
 * the run store as analyze does.
 *
 * Ownership: a cli_check_options owns the parsed --initial value and the
 * options as given (cli_check_options_free); the checker and the model
 * are static.
 */
#ifndef FL_CLI_CHECK_OPTIONS_H
#define FL_CLI_CHECK_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "checkers/checker.h"
#include "history/history.h"

/* getopt_long codes of the shared options: above any short option. */
enum {
    CLI_OPT_CHECKER = 0x100, CLI_OPT_MODEL, CLI_OPT_CONSISTENCY,
    CLI_OPT_INITIAL, CLI_OPT_NIL_READS_UNKNOWN, CLI_OPT_TIME_LIMIT,
    CLI_OPT_MEMORY_LIMIT, CLI_OPT_THREADS, CLI_OPT_NO_SPLIT,
    CLI_OPT_ALL_KEYS, CLI_OPT_NO_SHRINK, CLI_OPT_NO_FAST_PATH, CLI_OPT_KEYS,
};

/* The entries every command taking checker options has (no terminator). */
#define CLI_CHECK_COMMON_LONGOPTS                                             \
    {"checker", required_argument, NULL, CLI_OPT_CHECKER},                   \
    {"model", required_argument, NULL, CLI_OPT_MODEL},                       \
    {"consistency", required_argument, NULL, CLI_OPT_CONSISTENCY},           \
    {"initial", required_argument, NULL, CLI_OPT_INITIAL},                   \
    {"nil-reads-unknown", no_argument, NULL, CLI_OPT_NIL_READS_UNKNOWN},     \
    {"memory-limit", required_argument, NULL, CLI_OPT_MEMORY_LIMIT},         \
    {"threads", required_argument, NULL, CLI_OPT_THREADS},                   \
    {"no-split", no_argument, NULL, CLI_OPT_NO_SPLIT},                       \
    {"all-keys", no_argument, NULL, CLI_OPT_ALL_KEYS},                       \
    {"no-shrink", no_argument, NULL, CLI_OPT_NO_SHRINK},                     \
    {"no-fast-path", no_argument, NULL, CLI_OPT_NO_FAST_PATH}

/* The shared entries of a `struct option` table (no terminator). */
#define CLI_CHECK_LONGOPTS                                                    \
    CLI_CHECK_COMMON_LONGOPTS,                                                \
    {"time-limit", required_argument, NULL, CLI_OPT_TIME_LIMIT},             \
    {"keys", required_argument, NULL, CLI_OPT_KEYS}

/* The shared entries `faultline test` offers (no terminator): there
 * --time-limit and --keys are the run's own, so the check's time budget
 * is --check-time-limit and the EDN keys do not apply (a run's history
 * is JSONL). */
#define CLI_CHECK_RUN_LONGOPTS                                                \
    CLI_CHECK_COMMON_LONGOPTS,                                                \
    {"check-time-limit", required_argument, NULL, CLI_OPT_TIME_LIMIT}

typedef struct cli_check_options {
    checker_options opt;      /* what the checker is given */
    const checker *checker;   /* after cli_check_resolve: the one to run */
    history_edn_keys keys;    /* --keys, for EDN histories */
    /* private */
    const char *model_name;   /* --model as given, until resolved */
    json_t *initial;
    unsigned given;           /* bit (code - CLI_OPT_CHECKER): given */
    bool isolation_given;     /* --consistency named a transactional model
                                 (opt.isolation, for elle), not a bit */
    json_t *given_json;       /* every option given, {NAME: ARG | true} */
} cli_check_options;

/* The defaults of `faultline check`: cas-register, shrinking, the memory
 * limit of base/alloc.h, all cores. */
void cli_check_options_init(cli_check_options *o);
void cli_check_options_free(cli_check_options *o);

/* Apply one option getopt_long returned. FL_OK when it was one of the
 * shared options; FL_EUSAGE (message on stderr, after "faultline CMD: ")
 * when its argument is bad; 1 when the code is not a shared option. */
int cli_check_option(cli_check_options *o, int code, const char *arg,
                     const char *cmd);

/*
 * Once the arguments are read, before any history: resolve --model
 * (FL_EUSAGE naming the models if unknown) and pick the checker. Without
 * --checker it is "linearizable" with --consistency linearizable, else
 * "sequential", which decides both guarantees (its verdict is
 * linearizability's unless --consistency sequential). The command prints
 * the checker's name with its result, so what ran is never a guess.
 */
int cli_check_resolve(cli_check_options *o, const char *cmd);

/* Whether the option of `code` (CLI_OPT_*) was given; any at all. */
bool cli_check_given(const cli_check_options *o, int code);
bool cli_check_any_given(const cli_check_options *o);

/* Copy into opt the fields the user gave (after cli_check_resolve): a
 * stored run's workload fixes its checkers' options, and `faultline
 * analyze` changes only what was asked. */
void cli_check_apply(const cli_check_options *o, checker_options *opt);

/* The options given, as given: {"model": "register", "no-shrink": true,
 * ...} (test.json's "checker_options"), borrowed from o; NULL: none. */
const json_t *cli_check_given_json(const cli_check_options *o);

/* The shared options' lines of a usage message (CLI_CHECK_LONGOPTS), and
 * those of `faultline test` (CLI_CHECK_RUN_LONGOPTS). */
void cli_check_usage(FILE *out);
void cli_check_usage_run(FILE *out);

#endif

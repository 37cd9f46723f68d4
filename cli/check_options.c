/*
 * check_options.c — the checker options shared by the commands that judge
 * a history. See check_options.h.
 */
#include "cli/check_options.h"
#include "base/alloc.h"
#include "checkers/elle.h"
#include "checkers/lin_model.h"

#include <stdlib.h>
#include <string.h>

void cli_check_options_init(cli_check_options *o)
{
    memset(o, 0, sizeof *o);
    checker_options_init(&o->opt);
    o->opt.shrink = true;
    o->opt.memory_limit_mb = fl_alloc_default_limit() >> 20;
    o->keys = HISTORY_EDN_KEYS_AUTO;
    o->model_name = o->opt.model->name;
}

void cli_check_options_free(cli_check_options *o)
{
    json_decref(o->initial);
    json_decref(o->given_json);
    o->initial = o->given_json = NULL;
}

/* Its long name in the tables: test's --check-time-limit is the others'
 * --time-limit. */
static const char *option_name(int code, const char *cmd)
{
    static const struct option all[] = {CLI_CHECK_LONGOPTS};
    if (code == CLI_OPT_TIME_LIMIT && strcmp(cmd, "test") == 0)
        return "check-time-limit";
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i].val == code)
            return all[i].name;
    return "?";
}

/* Keep what was given, as given, for the record. */
static void remember(cli_check_options *o, int code, const char *arg,
                     const char *cmd)
{
    if (!o->given_json)
        o->given_json = json_object();
    json_object_set_new(o->given_json, option_name(code, cmd),
                        arg ? json_string(arg) : json_true());
}

const json_t *cli_check_given_json(const cli_check_options *o)
{
    return o->given_json;
}

static int number(const char *cmd, const char *flag, const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (*s != '\0' && *end == '\0' && *out >= 0)
        return FL_OK;
    fprintf(stderr, "faultline %s: %s: expected a number >= 0, got \"%s\"\n",
            cmd, flag, s);
    return FL_EUSAGE;
}

/* One of `names` (NULL-terminated) by its index in *out; FL_EUSAGE else. */
static int one_of(const char *cmd, const char *flag, const char *arg,
                  const char *const *names, const char *list, int *out)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(arg, names[i]) == 0) {
            *out = i;
            return FL_OK;
        }
    fprintf(stderr, "faultline %s: %s: %s, not \"%s\"\n", cmd, flag, list, arg);
    return FL_EUSAGE;
}

static int flag_option(cli_check_options *o, int code)
{
    switch (code) {
    case CLI_OPT_NIL_READS_UNKNOWN: o->opt.nil_reads_unknown = true; return FL_OK;
    case CLI_OPT_NO_SPLIT: o->opt.no_split = true; return FL_OK;
    case CLI_OPT_ALL_KEYS: o->opt.all_keys = true; return FL_OK;
    case CLI_OPT_NO_SHRINK: o->opt.shrink = false; return FL_OK;
    case CLI_OPT_NO_FAST_PATH: o->opt.no_fast_path = true; return FL_OK;
    default: return 1;
    }
}

static int number_option(cli_check_options *o, int code, const char *arg,
                         const char *cmd)
{
    double x;
    switch (code) {
    case CLI_OPT_TIME_LIMIT:
        if (number(cmd, strcmp(cmd, "test") == 0 ? "--check-time-limit"
                                                 : "--time-limit", arg, &x) != FL_OK)
            return FL_EUSAGE;
        o->opt.time_limit_s = x;
        return FL_OK;
    case CLI_OPT_MEMORY_LIMIT:
        if (number(cmd, "--memory-limit", arg, &x) != FL_OK)
            return FL_EUSAGE;
        o->opt.memory_limit_mb = (size_t)x;
        return FL_OK;
    case CLI_OPT_THREADS:
        if (number(cmd, "--threads", arg, &x) != FL_OK)
            return FL_EUSAGE;
        o->opt.threads = (int)x;
        return FL_OK;
    default: return 1;
    }
}

int cli_check_option(cli_check_options *o, int code, const char *arg,
                     const char *cmd)
{
    static const char *const levels[] = {"linearizable", "sequential", "both",
                                         NULL};
    static const char *const keys[] = {"auto", "yes", "no", NULL};
    static const checker_consistency level_of[] = {
        CHECKER_CONSISTENCY_LINEARIZABLE, CHECKER_CONSISTENCY_SEQUENTIAL,
        CHECKER_CONSISTENCY_BOTH};
    static const history_edn_keys keys_of[] = {
        HISTORY_EDN_KEYS_AUTO, HISTORY_EDN_KEYS_YES, HISTORY_EDN_KEYS_NO};
    fl_error err = {0};
    json_error_t jerr;
    int i, rc;
    if (code < CLI_OPT_CHECKER || code > CLI_OPT_KEYS)
        return 1;
    o->given |= 1u << (code - CLI_OPT_CHECKER);
    remember(o, code, arg, cmd);
    switch (code) {
    case CLI_OPT_CHECKER:
        if (checker_find(arg, &o->checker, &err) == FL_OK)
            return FL_OK;
        fprintf(stderr, "faultline %s: --checker: %s\n", cmd, err.msg);
        return FL_EUSAGE;
    case CLI_OPT_MODEL: o->model_name = arg; return FL_OK;
    case CLI_OPT_CONSISTENCY:
        if (elle_model_parse(arg, &(elle_model){0}) == 0) {
            o->opt.isolation = arg; /* elle's: a transactional model */
            o->given &= ~(1u << (code - CLI_OPT_CHECKER));
            o->isolation_given = true;
            return FL_OK;
        }
        rc = one_of(cmd, "--consistency", arg, levels,
                    "linearizable, sequential or both, or for elle "
                    "strict-serializable, serializable, snapshot-isolation, "
                    "repeatable-read, read-committed or read-uncommitted", &i);
        if (rc == FL_OK)
            o->opt.consistency = level_of[i];
        return rc;
    case CLI_OPT_INITIAL:
        json_decref(o->initial);
        o->initial = json_loads(arg, JSON_DECODE_ANY, &jerr);
        if (o->initial != NULL)
            return FL_OK;
        fprintf(stderr, "faultline %s: --initial: not JSON: %s\n", cmd, jerr.text);
        return FL_EUSAGE;
    case CLI_OPT_KEYS:
        rc = one_of(cmd, "--keys", arg, keys, "auto, yes or no", &i);
        if (rc == FL_OK)
            o->keys = keys_of[i];
        return rc;
    default:
        rc = flag_option(o, code);
        return rc == 1 ? number_option(o, code, arg, cmd) : rc;
    }
}

bool cli_check_given(const cli_check_options *o, int code)
{
    return o->given & (1u << (code - CLI_OPT_CHECKER));
}

bool cli_check_any_given(const cli_check_options *o)
{
    return o->given != 0 || o->isolation_given;
}

void cli_check_apply(const cli_check_options *o, checker_options *opt)
{
    const checker_options *u = &o->opt;
    if (cli_check_given(o, CLI_OPT_MODEL))
        opt->model = u->model;
    if (cli_check_given(o, CLI_OPT_CONSISTENCY))
        opt->consistency = u->consistency;
    if (o->isolation_given)
        opt->isolation = u->isolation;
    if (cli_check_given(o, CLI_OPT_INITIAL))
        opt->initial = u->initial;
    opt->nil_reads_unknown |= u->nil_reads_unknown;
    if (cli_check_given(o, CLI_OPT_TIME_LIMIT))
        opt->time_limit_s = u->time_limit_s;
    if (cli_check_given(o, CLI_OPT_MEMORY_LIMIT))
        opt->memory_limit_mb = u->memory_limit_mb;
    if (cli_check_given(o, CLI_OPT_THREADS))
        opt->threads = u->threads;
    opt->no_split |= u->no_split;
    opt->all_keys |= u->all_keys;
    opt->no_fast_path |= u->no_fast_path;
    if (cli_check_given(o, CLI_OPT_NO_SHRINK))
        opt->shrink = false;
}

int cli_check_resolve(cli_check_options *o, const char *cmd)
{
    o->opt.model = lin_model_find(o->model_name);
    if (o->opt.model == NULL) {
        fprintf(stderr, "faultline %s: --model: unknown model \"%s\" (models:",
                cmd, o->model_name);
        for (const char *const *m = lin_model_list(); *m; m++)
            fprintf(stderr, " %s", *m);
        fputs(")\n", stderr);
        return FL_EUSAGE;
    }
    o->opt.initial = o->initial;
    if (o->checker != NULL)
        return FL_OK;
    bool lin_only = cli_check_given(o, CLI_OPT_CONSISTENCY) &&
                    o->opt.consistency == CHECKER_CONSISTENCY_LINEARIZABLE;
    fl_error err = {0};
    if (checker_find(lin_only ? "linearizable" : "sequential", &o->checker,
                     &err) != FL_OK) {
        fprintf(stderr, "faultline %s: %s\n", cmd, err.msg);
        return FL_EUSAGE;
    }
    return FL_OK;
}

/* The lines every command shares, up to the time budget. */
static void usage_head(FILE *out, const char *checker_default)
{
    fprintf(out, "  --checker C          what judges the history (default: "
                 "%s):\n", checker_default);
    for (const char *const *c = checker_names(); *c; c++) {
        const checker *ck;
        if (checker_find(*c, &ck, NULL) == FL_OK)
            fprintf(out, "                         %-13s %s\n", ck->name,
                    ck->about);
    }
    fprintf(out, "  --model M            (linearizable, sequential) one of:");
    for (const char *const *m = lin_model_list(); *m; m++)
        fprintf(out, " %s", *m);
    fputs("\n"
          "  --consistency C      linearizable, sequential, or both (the\n"
          "                       default): both verdicts and the anomaly\n"
          "                       (stale read, non-sequential); the exit\n"
          "                       code is sequential's with sequential,\n"
          "                       else linearizability's. For elle, the\n"
          "                       isolation model: strict-serializable\n"
          "                       (default), serializable,\n"
          "                       snapshot-isolation, repeatable-read,\n"
          "                       read-committed or read-uncommitted\n"
          "  --initial JSON       the model's initial value (default: the\n"
          "                       model's empty value; null for registers)\n"
          "  --nil-reads-unknown  a read that returned null constrains\n"
          "                       nothing (Knossos's convention)\n", out);
}

/* The lines after it. */
static void usage_tail(FILE *out)
{
    fputs("  --memory-limit MB    give up with \"unknown\" when the check's\n"
          "                       memory would pass MB megabytes (a hard\n"
          "                       limit; default: half of physical memory;\n"
          "                       0: none)\n"
          "  --threads N          keys checked in parallel (default: cores)\n"
          "  --no-split           check all keys as one object\n"
          "  --all-keys           finish every key even after one is found\n"
          "                       not linearizable\n"
          "  --no-shrink          do not minimise the counterexample\n"
          "  --no-fast-path       search even a register whose values are\n"
          "                       written once (decided in O(n log n)\n"
          "                       otherwise)\n", out);
}

void cli_check_usage(FILE *out)
{
    usage_head(out, "sequential, or\n                       linearizable "
                    "with --consistency linearizable");
    fputs("  --time-limit S       give up with \"unknown\" after S seconds\n",
          out);
    usage_tail(out);
    fputs("  --keys auto|yes|no   EDN: are [k v] values independent keys\n",
          out);
}

void cli_check_usage_run(FILE *out)
{
    usage_head(out, "the workload's\n                       checkers, "
                    "`--workload` lists them");
    fputs("  --check-time-limit S give up with \"unknown\" after S seconds\n"
          "                       (default 300)\n", out);
    usage_tail(out);
}

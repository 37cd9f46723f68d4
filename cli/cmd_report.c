/*
 * faultline report — (re)write a checked run's junit.xml, summary.md and
 * report.html from its results.json (report/report.h), or check a bare
 * history and write its report.html (report/html.h). Part of the checking
 * binary: it reads files and links no controller.
 */
#include "cli/cli.h"
#include "base/alloc.h"
#include "checkers/checker.h"
#include "report/html.h"
#include "report/report.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int usage(FILE *out, int code)
{
    fputs("usage: faultline report RUN_DIR\n"
          "       faultline report HISTORY [--model M] [--checker C] "
          "[--initial JSON]\n"
          "               [--nil-reads-unknown] [--time-limit S] "
          "[--keys auto|yes|no] [-o FILE]\n\n"
          "RUN_DIR: writes RUN_DIR/junit.xml (a test case per checker and per "
          "key found\nnot valid), RUN_DIR/summary.md (verdicts and the first "
          "anomaly) and\nRUN_DIR/report.html (the page to read: verdicts, the "
          "counterexample drawn,\ntimeline, latency and throughput) from "
          "RUN_DIR/results.json.\n\n"
          "HISTORY (.jsonl or Jepsen .edn): checks it as `faultline check` "
          "does (default:\nlinearizability and sequential consistency "
          "against --model, default\ncas-register; --checker C: C alone) "
          "and writes its report.html to FILE\n(default: beside it, h.jsonl "
          "-> h.report.html).\n\n"
          "Exit: 0 written (whatever the verdict: `faultline check` gives it "
          "as the exit\ncode), 64 usage, 65 results.json is not a run's "
          "results or the history is\nmalformed, 66 no results.json (run "
          "`faultline analyze RUN_DIR` first) or no\nhistory, 74 cannot "
          "write.\n", out);
    return code;
}

static int run_dir(const char *dir)
{
    fl_error err = {0};
    int rc = report_write_dir(dir, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline report: %s\n", err.msg);
        return rc;
    }
    printf("%s/junit.xml\n%s/summary.md\n%s/report.html\n", dir, dir, dir);
    return 0;
}

typedef struct report_args {
    checker_options opt;
    json_t *initial;
    const checker *only;   /* --checker; NULL: sequential (both verdicts) */
    history_edn_keys keys;
    const char *out;
} report_args;

static int parse(report_args *a, int c, const char *arg)
{
    fl_error err = {0};
    json_error_t jerr;
    char *end;
    switch (c) {
    case 'm': a->opt.model = arg; return FL_OK;
    case 'C':
        if (checker_find(arg, &a->only, &err) == FL_OK)
            return FL_OK;
        fprintf(stderr, "faultline report: --checker: %s\n", err.msg);
        return FL_EUSAGE;
    case 'i':
        json_decref(a->initial);
        a->initial = json_loads(arg, JSON_DECODE_ANY, &jerr);
        if (a->initial)
            return FL_OK;
        fprintf(stderr, "faultline report: --initial: not JSON: %s\n",
                jerr.text);
        return FL_EUSAGE;
    case 'n': a->opt.nil_reads_unknown = true; return FL_OK;
    case 't':
        a->opt.time_limit_s = strtod(arg, &end);
        if (*arg && *end == '\0' && a->opt.time_limit_s >= 0)
            return FL_OK;
        fprintf(stderr, "faultline report: --time-limit: expected seconds, "
                        "got \"%s\"\n", arg);
        return FL_EUSAGE;
    case 'k':
        a->keys = strcmp(arg, "yes") == 0  ? HISTORY_EDN_KEYS_YES
                  : strcmp(arg, "no") == 0 ? HISTORY_EDN_KEYS_NO
                                           : HISTORY_EDN_KEYS_AUTO;
        if (a->keys != HISTORY_EDN_KEYS_AUTO || strcmp(arg, "auto") == 0)
            return FL_OK;
        fprintf(stderr, "faultline report: --keys: auto, yes or no\n");
        return FL_EUSAGE;
    case 'o': a->out = arg; return FL_OK;
    default: return FL_EUSAGE;
    }
}

/* Run one checker into results' "checkers"; combine its verdict. */
static int run_checker(const char *name, const history *h,
                       const checker_options *opt, json_t *checkers,
                       checker_verdict *v, fl_error *err)
{
    const checker *c;
    checker_result *r;
    int rc = checker_find(name, &c, err);
    if (rc == FL_OK)
        rc = checker_check(c, h, opt, &r, err);
    if (rc != FL_OK)
        return rc;
    *v = checker_verdict_combine(*v, checker_result_verdict(r));
    json_object_set(checkers, c->name, checker_result_json(r));
    checker_result_summary(r, stdout);
    checker_result_free(r);
    return FL_OK;
}

/* h.jsonl -> h.report.html (new string, fl_free). */
static char *default_out(const char *path)
{
    size_t n = strlen(path);
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash) && dot != path)
        n = (size_t)(dot - path);
    char *out = fl_malloc(n + sizeof ".report.html");
    if (out)
        sprintf(out, "%.*s.report.html", (int)n, path);
    return out;
}

static int bare_history(const char *path, report_args *a)
{
    fl_error err = {0};
    history *h = NULL;
    int rc = cli_read_history(path, a->keys, &h, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline report: %s\n", err.msg);
        return rc;
    }
    cli_print_warnings(h, stderr);
    a->opt.initial = a->initial;
    a->opt.shrink = true;
    json_t *checkers = json_object();
    checker_verdict v = CHECKER_VALID;
    /* as `faultline check` does: the sequential checker decides both
     * guarantees in one search of each key (linearizability's verdict) */
    rc = run_checker(a->only ? a->only->name : "sequential", h, &a->opt,
                     checkers, &v, &err);
    char *out = a->out ? fl_strdup(a->out) : default_out(path);
    if (rc == FL_OK && out == NULL)
        rc = fl_error_set(&err, FL_ENOMEM, "out of memory");
    json_t *results = json_pack("{s:o,s:O,s:I,s:I}", "valid",
                                checker_verdict_json(v), "checkers", checkers,
                                "events", (json_int_t)history_len(h),
                                "pending", (json_int_t)history_pending(h));
    if (rc == FL_OK)
        rc = report_html_write(out, path, h, results, &err);
    if (rc == FL_OK)
        printf("%s\n", out);
    else
        fprintf(stderr, "faultline report: %s\n", err.msg);
    fl_free(out);
    json_decref(results);
    json_decref(checkers);
    history_free(h);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"checker", required_argument, NULL, 'C'},
        {"initial", required_argument, NULL, 'i'},
        {"nil-reads-unknown", no_argument, NULL, 'n'},
        {"time-limit", required_argument, NULL, 't'},
        {"keys", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    report_args a = {.keys = HISTORY_EDN_KEYS_AUTO};
    checker_options_init(&a.opt);
    int c, rc = FL_OK;
    optind = 1;
    while (rc == FL_OK && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'h') {
            json_decref(a.initial);
            return usage(stdout, 0);
        }
        rc = c == '?' ? FL_EUSAGE : parse(&a, c, optarg);
    }
    if (rc == FL_OK && optind != argc - 1)
        rc = FL_EUSAGE;
    if (rc != FL_OK) {
        json_decref(a.initial);
        return usage(stderr, FL_EUSAGE);
    }
    struct stat st;
    const char *path = argv[optind];
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        rc = argc == 2 ? run_dir(path)
                       : (fprintf(stderr, "faultline report: RUN_DIR takes "
                                          "no options\n"), FL_EUSAGE);
    else
        rc = bare_history(path, &a);
    json_decref(a.initial);
    return rc;
}

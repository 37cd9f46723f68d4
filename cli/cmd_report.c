/*
 * faultline report — (re)write a checked run's junit.xml, summary.md and
 * report.html from its results.json (report/report.h), or check a bare
 * history and write its report.html (report/html.h). Part of the checking
 * binary: it reads files and links no controller.
 */
#include "cli/cli.h"
#include "base/alloc.h"
#include "checkers/checker.h"
#include "checkers/compose.h"
#include "cli/check_options.h"
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
          "       faultline report HISTORY [checker options] [-o FILE]\n\n"
          "RUN_DIR: writes RUN_DIR/junit.xml (a test case per checker and per "
          "key found\nnot valid), RUN_DIR/summary.md (verdicts and the first "
          "anomaly) and\nRUN_DIR/report.html (the page to read: verdicts, the "
          "counterexample drawn,\ntimeline, latency and throughput) from "
          "RUN_DIR/results.json.\n\n"
          "HISTORY (.jsonl or Jepsen .edn): checks it as `faultline check` "
          "does, with the\nsame options (default: the sequential checker, "
          "linearizability and\nsequential consistency against --model, "
          "default cas-register) and writes its\nreport.html to FILE "
          "(default: beside it, h.jsonl -> h.report.html).\n\n"
          "Exit: 0 written (whatever the verdict: `faultline check` gives it "
          "as the exit\ncode), 64 usage, 65 results.json is not a run's "
          "results or the history is\nmalformed, 66 no results.json (run "
          "`faultline analyze RUN_DIR` first) or no\nhistory, 74 cannot "
          "write.\n\nChecker options, as `faultline check`'s:\n", out);
    cli_check_usage(out);
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
    cli_check_options c;
    const char *out;
} report_args;

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
    int rc = cli_read_history(path, a->c.keys, &h, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline report: %s\n", err.msg);
        return rc;
    }
    cli_print_warnings(h, stderr);
    /* as `faultline check` does: one checker, named in results.json */
    compose_item item = {a->c.checker, a->c.opt};
    composition *run = NULL;
    rc = compose_run(h, &item, 1, &run, &err);
    if (rc == FL_OK)
        checker_result_summary(compose_result(run, 0), stdout);
    char *out = a->out ? fl_strdup(a->out) : default_out(path);
    if (rc == FL_OK && out == NULL)
        rc = fl_error_set(&err, FL_ENOMEM, "out of memory");
    json_t *results = rc == FL_OK ? compose_json(run) : NULL;
    if (rc == FL_OK && results == NULL)
        rc = fl_error_set(&err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK) {
        json_object_set_new(results, "events", json_integer((json_int_t)history_len(h)));
        json_object_set_new(results, "pending",
                            json_integer((json_int_t)history_pending(h)));
        rc = report_html_write(out, path, h, results, &err);
    }
    if (rc == FL_OK)
        printf("%s\n", out);
    else
        fprintf(stderr, "faultline report: %s\n", err.msg);
    fl_free(out);
    json_decref(results);
    compose_free(run);
    history_free(h);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_CHECK_LONGOPTS,
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    report_args a = {0};
    cli_check_options_init(&a.c);
    int c, rc = FL_OK;
    optind = 1;
    while (rc == FL_OK && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_check_options_free(&a.c);
            return usage(stdout, 0);
        }
        if (c == 'o')
            a.out = optarg;
        else
            rc = c == '?' ? FL_EUSAGE : cli_check_option(&a.c, c, optarg, "report");
    }
    if (rc == FL_OK && optind != argc - 1)
        rc = FL_EUSAGE;
    if (rc == FL_OK)
        rc = cli_check_resolve(&a.c, "report");
    if (rc != FL_OK) {
        cli_check_options_free(&a.c);
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
    cli_check_options_free(&a.c);
    return rc;
}

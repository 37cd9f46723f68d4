/*
 * faultline analyze — judge a stored run again (harness/run_store.h). Part
 * of the checking binary: it needs the run store, not the controller.
 * Takes the checker options of `faultline check` (cli/check_options.h):
 * those given change the workload's checkers' options; --checker judges
 * with that checker alone.
 */
#include "cli/check_options.h"
#include "cli/cli.h"
#include "harness/run_store.h"

#include <stdio.h>
#include <string.h>

#define CHECK_TIME_LIMIT_S 300.0 /* as run/run.c's own check */

static int usage(FILE *out, int code)
{
    fputs("usage: faultline analyze [--force] [checker options] RUN_DIR\n"
          "Re-checks RUN_DIR/history.jsonl and rewrites results.json and "
          "history.edn.\nA run still being recorded is refused unless "
          "--force (then what it has\nrecorded so far is checked). The "
          "run's workload names its checkers and their\noptions; a checker "
          "option given here changes that option for each of them\n"
          "(--checker C: C alone; default time limit 300 s).\n"
          "Exit: 0 valid, 1 invalid, 2 unknown, 3 the run is still "
          "recording or never\nstarted, 64 usage, 65 bad history, 66 no "
          "history.\n\nChecker options, as `faultline check`'s:\n", out);
    cli_check_usage(out);
    return code;
}

static void adjust(const void *arg, checker_options *opt)
{
    cli_check_apply(arg, opt);
}

static int parse(int argc, char **argv, cli_check_options *o, bool *force)
{
    static const struct option opts[] = {
        CLI_CHECK_LONGOPTS,
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc = FL_OK;
    optind = 1;
    while (rc == FL_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout, -1);
        if (c == 'f')
            *force = true;
        else
            rc = c == '?' ? FL_EUSAGE : cli_check_option(o, c, optarg, "analyze");
    }
    if (rc == FL_OK && optind != argc - 1)
        rc = FL_EUSAGE;
    if (rc != FL_OK)
        return usage(stderr, FL_EUSAGE);
    return cli_check_resolve(o, "analyze"); /* it says what is wrong */
}

int cmd_analyze(int argc, char **argv)
{
    cli_check_options o;
    bool force = false;
    cli_check_options_init(&o);
    int rc = parse(argc, argv, &o, &force);
    if (rc != FL_OK) {
        cli_check_options_free(&o);
        return rc < 0 ? 0 : rc;
    }
    /* cli_check_resolve picks a checker for `check`; here none given
     * means the workload's */
    run_store_judge judge = {
        .only = cli_check_given(&o, CLI_OPT_CHECKER) ? o.checker : NULL,
        .adjust = adjust, .arg = &o};
    fl_error err = {0};
    checker_verdict v;
    rc = run_store_analyze_judged(argv[optind], CHECK_TIME_LIMIT_S, force,
                                  cli_check_any_given(&o) ? &judge : NULL,
                                  stdout, &v, &err);
    cli_check_options_free(&o);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline analyze: %s\n", err.msg);
        return rc == RUN_STORE_EBUSY || rc == RUN_STORE_ENEVER_RAN
                   ? CLI_EXIT_CANNOT_RUN : rc;
    }
    return (int)v;
}

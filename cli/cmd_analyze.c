/*
 * faultline analyze — judge a stored run again (harness/run_store.h). Part
 * of the checking binary: it needs the run store, not the controller.
 */
#include "cli/cli.h"
#include "harness/run_store.h"

#include <stdio.h>
#include <string.h>

#define CHECK_TIME_LIMIT_S 300.0 /* as run/run.c's own check */

int cmd_analyze(int argc, char **argv)
{
    bool force = argc == 3 && strcmp(argv[1], "--force") == 0;
    const char *dir = argv[argc - 1];
    if ((argc != 2 && !force) || dir[0] == '-') {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: faultline analyze [--force] RUN_DIR\n"
                "Re-checks RUN_DIR/history.jsonl and rewrites results.json and "
                "history.edn.\nA run still being recorded is refused unless "
                "--force (then what it has\nrecorded so far is checked).\n"
                "Exit: 0 valid, 1 invalid, 2 unknown, 3 the run is still "
                "recording or never\nstarted, 65 bad history, 66 no history.\n");
        return help ? 0 : FL_EUSAGE;
    }
    fl_error err = {0};
    checker_verdict v;
    int rc = run_store_analyze(dir, CHECK_TIME_LIMIT_S, force, stdout, &v, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline analyze: %s\n", err.msg);
        return rc == RUN_STORE_EBUSY || rc == RUN_STORE_ENEVER_RAN
                   ? CLI_EXIT_CANNOT_RUN : rc;
    }
    return (int)v;
}

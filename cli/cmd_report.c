/*
 * faultline report — (re)write a checked run's junit.xml and summary.md
 * from its results.json (report/report.h). Part of the checking binary:
 * it reads files and links no controller.
 */
#include "cli/cli.h"
#include "report/report.h"

#include <stdio.h>
#include <string.h>

int cmd_report(int argc, char **argv)
{
    bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
    if (argc != 2 || help || argv[1][0] == '-') {
        fprintf(help ? stdout : stderr,
                "usage: faultline report RUN_DIR\n"
                "Writes RUN_DIR/junit.xml (a test case per checker and per "
                "key found not valid)\nand RUN_DIR/summary.md (verdicts and "
                "the first anomaly) from RUN_DIR/results.json.\n"
                "Exit: 0 written, 65 results.json is not a run's results, "
                "66 no results.json\n(run `faultline analyze RUN_DIR` "
                "first), 74 cannot write.\n");
        return help ? 0 : FL_EUSAGE;
    }
    fl_error err = {0};
    int rc = report_write_dir(argv[1], &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline report: %s\n", err.msg);
        return rc;
    }
    printf("%s/junit.xml\n%s/summary.md\n", argv[1], argv[1]);
    return 0;
}

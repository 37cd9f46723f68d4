/*
 * cli: the subcommands of the faultline command-line tool. Each takes the
 * arguments after "faultline" (argv[0] is the subcommand's own name) and
 * returns the process exit status documented in the README:
 * 0 success/valid, 1 invalid, 2 unknown, 3 a test could not run,
 * 64 usage, 65 bad input data, 66 an input file could not be opened,
 * 74 an I/O error.
 */
#ifndef FL_CLI_H
#define FL_CLI_H

#include "history/history.h"

#define CLI_EXIT_CANNOT_RUN 3

/* Shared by the commands that read a history: the format from the
 * extension, `keys` for EDN's [k v] tuples; and the reader's warnings
 * (a dropped cut-off last line) on out (stderr, or a buffer). */
int cli_read_history(const char *path, history_edn_keys keys, history **out,
                     fl_error *err);
void cli_print_warnings(const history *h, FILE *out);

int cmd_history(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* The checking binary's test, cluster and serve (cli/harness_exec.c):
 * exec faultline-harness, beside this executable, with the same
 * arguments (argv[0] is the command's name). Returns only when the exec
 * failed: CLI_EXIT_CANNOT_RUN, the reason on stderr. */
int cli_exec_harness(int argc, char **argv);

#endif

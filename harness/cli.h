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

#define CLI_EXIT_CANNOT_RUN 3

int cmd_history(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_analyze(int argc, char **argv);

#endif

/*
 * crash_logs: the lines of a run's downloaded node logs (RUN/nodes/NODE/
 * every file) that contain one of the crash patterns (a target's
 * crash_patterns, the user's --log-pattern): the log half of the crash
 * checker (checkers/crash.h). A pattern is a plain substring, matched
 * case-sensitively ("panic:", "Assertion").
 */
#ifndef FL_CRASH_LOGS_H
#define FL_CRASH_LOGS_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"

/* At most this many lines are kept (the first ones, node by node). */
#define CRASH_LOGS_MAX_LINES 40

/* Scan one file (read from in; node and file name it in the result) for
 * patterns (a JSON array of strings), appending {"node", "file", "line",
 * "text", "pattern"} to lines until it holds CRASH_LOGS_MAX_LINES. */
int crash_logs_scan_file(FILE *in, const char *node, const char *file,
                         const json_t *patterns, json_t *lines,
                         fl_error *err);

/* Every regular file under run_dir/nodes/NODE/ (none: an empty result).
 * *lines: a new array (the caller's). */
int crash_logs_scan(const char *run_dir, const json_t *patterns,
                    json_t **lines, fl_error *err);

#endif

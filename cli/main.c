/*
 * faultline — a Jepsen-style consistency testing harness.
 * The entry point only dispatches to the subcommands in cli/cmd_*.c.
 * Built twice (Makefile): for faultline-harness with FL_CONTROLLER, where
 * the controller's commands (test, cluster, serve) run here, and for
 * faultline without, where they exec faultline-harness
 * (cli/harness_exec.c), so that `check` links no SSH, curl or HTTP server.
 */
#include "cli/cli.h"
#include "base/alloc.h"
#include "base/fl_error.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define FAULTLINE_VERSION "0.1.0"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

#ifdef FL_CONTROLLER
#define CONTROLLER(fn) fn
#else
#define CONTROLLER(fn) cli_exec_harness
#endif

static const command commands[] = {
    {"test", CONTROLLER(cmd_test), "run a test against a target on a cluster"},
    {"analyze", cmd_analyze, "re-check a stored run: analyze RUN_DIR"},
    {"report", cmd_report, "write a checked run's junit.xml and summary.md"},
    {"check", cmd_check, "decide whether a history is linearizable"},
    {"history", cmd_history, "convert (jsonl <-> edn) and summarise histories"},
    {"cluster", CONTROLLER(cmd_cluster), "local test cluster: up [--nodes N], down, status"},
    {"serve", CONTROLLER(cmd_serve), "browse the stored runs over HTTP (127.0.0.1:8080)"},
};

static int usage(FILE *out, int code)
{
    fprintf(out, "usage: faultline COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`faultline COMMAND --help` describes each one.\n"
                 "exit codes: 0 valid/ok, 1 invalid, 2 unknown, 3 test could "
                 "not run, 64 usage, 65 bad data, 66 cannot open input\n");
    return code;
}

int main(int argc, char **argv)
{
    /* jansson's allocations too go through the one hook (base/alloc.h). */
    json_set_alloc_funcs(fl_malloc, fl_free);
    if (argc < 2)
        return usage(stderr, FL_EUSAGE);
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "help") == 0)
        return usage(stdout, 0);
    if (strcmp(name, "--version") == 0) {
        printf("faultline %s\n", FAULTLINE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "faultline: unknown command \"%s\"\n", name);
    return usage(stderr, FL_EUSAGE);
}

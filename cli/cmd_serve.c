/*
 * faultline serve [--port P] [--results DIR] [--bind ADDR] — the results
 * directory over HTTP (serve/serve.h) until SIGINT or SIGTERM. Part of the
 * harness binary, which links libmicrohttpd; `faultline serve` execs it.
 */
#include "cli/cli.h"
#include "serve/serve.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVE_DEFAULT_PORT 8080u
#define PARSED_HELP (-1) /* --help was printed: exit 0 */

static int usage(FILE *out, int code)
{
    fprintf(out,
            "usage: faultline serve [--port P] [--results DIR] [--bind ADDR]\n"
            "\n"
            "Serves the results directory over HTTP until SIGINT or SIGTERM: "
            "at / the runs,\nnewest first, coloured by verdict, each linking "
            "to its report.html and files.\n"
            "\n"
            "  --port P       default %u; 0 picks a free port (printed)\n"
            "  --results DIR  default results\n"
            "  --bind ADDR    default 127.0.0.1 (this machine only). Any other "
            "address\n"
            "                 (0.0.0.0, ::) shows every stored run, history "
            "and node log\n"
            "                 to whoever can reach it: there is no "
            "authentication.\n"
            "\n"
            "Exit: 0 after SIGINT/SIGTERM, 64 usage, 66 no such directory, "
            "74 cannot listen.\n",
            SERVE_DEFAULT_PORT);
    return code;
}

static int parse_port(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || s[0] == '-' || v > 65535) {
        fprintf(stderr, "faultline serve: --port %s: want 0-65535\n", s);
        return FL_EUSAGE;
    }
    *out = (unsigned)v;
    return FL_OK;
}

static int parse_args(int argc, char **argv, serve_config *cfg)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"results", required_argument, NULL, 'r'},
        {"bind", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 'h')
            return usage(stdout, PARSED_HELP);
        if (c == 'p' && parse_port(optarg, &cfg->port) != FL_OK)
            return FL_EUSAGE;
        if (c == 'r')
            cfg->results = optarg;
        if (c == 'b')
            cfg->bind = optarg;
        if (c == '?')
            return usage(stderr, FL_EUSAGE);
    }
    if (optind < argc) {
        fprintf(stderr, "faultline serve: unexpected argument %s\n",
                argv[optind]);
        return usage(stderr, FL_EUSAGE);
    }
    return FL_OK;
}

int cmd_serve(int argc, char **argv)
{
    serve_config cfg = {.results = "results", .bind = "127.0.0.1",
                        .port = SERVE_DEFAULT_PORT};
    int rc = parse_args(argc, argv, &cfg);
    if (rc != FL_OK)
        return rc == PARSED_HELP ? 0 : rc;
    /* Blocked before the server's threads start, so they inherit the mask
     * and the signals reach sigwait() below, never a handler mid-request. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    serve_server *s;
    fl_error err = {0};
    rc = serve_start(&cfg, &s, &err);
    if (rc != FL_OK) {
        fprintf(stderr, "faultline serve: %s\n", err.msg);
        return rc;
    }
    bool v6 = strchr(cfg.bind, ':') != NULL;
    printf("faultline serve: %s at http://%s%s%s:%u/ (Ctrl-C stops)\n",
           serve_root(s), v6 ? "[" : "", cfg.bind, v6 ? "]" : "",
           serve_port(s));
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    serve_stop(s);
    printf("faultline serve: stopped (%s)\n",
           sig == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}

/* raftkv: one node of the bundled Raft key-value store (see server.h and
 * the README). Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 64 usage, and
 * the fl_error codes of a failed start or a fatal storage error. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "targets/raftkv/server.h"
#include "base/alloc.h"

int main(int argc, char **argv)
{
    /* jansson's allocations too go through the one hook (base/alloc.h). */
    json_set_alloc_funcs(fl_malloc, fl_free);
    server_config cfg;
    fl_error err;
    fl_error_clear(&err);
    if (server_parse_args(argc, argv, &cfg, &err)) {
        fprintf(stderr, "raftkv: %s\n%s", err.msg, server_usage());
        return FL_EUSAGE;
    }
    if (cfg.help) {
        fputs(server_usage(), stdout);
        return 0;
    }
    FILE *log = stderr;
    if (cfg.log_path[0] && !(log = fopen(cfg.log_path, "a"))) {
        perror(cfg.log_path);
        return FL_ENOINPUT;
    }
    cfg.log = log;
    /* Block the stop signals in every thread; this one waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    server *s = NULL;
    int rc = server_start(&cfg, &s, &err);
    if (rc) {
        fprintf(log, "raftkv: %s\n", err.msg);
        if (log != stderr) {
            fprintf(stderr, "raftkv: %s\n", err.msg);
            fclose(log);
        }
        return rc;
    }
    int sig = 0;
    sigwait(&set, &sig);
    if (server_failed(s, &err)) {
        rc = err.code ? err.code : FL_EIO;
        fprintf(stderr, "raftkv: %s\n", err.msg);
    }
    server_stop(s);
    if (log != stderr)
        fclose(log);
    return rc;
}

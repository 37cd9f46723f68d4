/*
 * daemon: find, signal and rest a database process on a node. See
 * daemon.h.
 */
#include "targets/clients/daemon.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIND "d=%s/%s; ps=; " \
    "for q in /proc/[0-9]*; do " \
    "tr '\\0' ' ' < $q/cmdline 2>/dev/null | grep -Eq -- \"%s\" && " \
    "ps=\"$ps ${q#/proc/}\"; done; "

#define WAIT_GONE "for p in $ps; do for i in $(seq 100); do [ -d /proc/$p ] && " \
    "! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null || break; " \
    "sleep 0.05; done; done"

static char *with_pid_file(const daemon_match *m, char *cmd)
{
    if (!cmd || !m->pid_file)
        return cmd;
    char *s = NULL;
    if (asprintf(&s, "%s; rm -f $d/%s", cmd, m->pid_file) < 0)
        s = NULL;
    free(cmd);
    return s;
}

char *daemon_signal_cmd(const daemon_match *m, const char *sig)
{
    char *s = NULL;
    bool kill = strcmp(sig, "KILL") == 0;
    if (asprintf(&s, FIND "[ -n \"$ps\" ] || exit 0; kill -%s $ps%s%s",
                 m->node_dir, m->name, m->cmdline_re, sig, kill ? "; " : "",
                 kill ? WAIT_GONE : "") < 0)
        return NULL;
    return kill ? with_pid_file(m, s) : s;
}

char *daemon_rest_cmd(const daemon_match *m)
{
    char *s = NULL;
    /* A stopped process must be continued before SIGKILL can reap it
     * promptly, and counted first: it is a fault an earlier run left. */
    if (asprintf(&s, FIND "stopped=0; for p in $ps; do "
                 "grep -q '^State:.*T' /proc/$p/status 2>/dev/null && "
                 "stopped=$((stopped + 1)); done; "
                 "if [ -n \"$ps\" ]; then kill -CONT $ps; kill -KILL $ps; "
                 WAIT_GONE "; %s%s%s fi 2>/dev/null; "
                 "echo \"running=$(echo $ps | wc -w) stopped=$stopped\"",
                 m->node_dir, m->name, m->cmdline_re,
                 m->pid_file ? "rm -f $d/" : "",
                 m->pid_file ? m->pid_file : "", m->pid_file ? ";" : "") < 0)
        return NULL;
    return s;
}

int daemon_plain(const char *s, const char *extra)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s)))
            return 0;
    return 1;
}

int daemon_run(remote *r, size_t node, char *cmd, int timeout_ms,
               const char *who, fl_error *err)
{
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", who);
    int rc = remote_run(r, node, cmd, timeout_ms, err);
    free(cmd);
    return rc;
}

int daemon_collect_logs(remote *r, size_t node, const char *node_dir,
                        const char *const *files, const char *local_dir,
                        fl_error *err)
{
    int first = FL_OK;
    for (size_t i = 0; files[i]; i++) {
        char rpath[4096], lpath[4096];
        fl_error e2 = {0};
        snprintf(rpath, sizeof rpath, "%s/%s/%s", node_dir,
                 remote_name(r, node), files[i]);
        snprintf(lpath, sizeof lpath, "%s/%s", local_dir, files[i]);
        int rc = remote_download(r, node, rpath, lpath, 30000, &e2);
        if (rc != FL_OK && first == FL_OK) {
            first = rc;
            *err = e2;
        }
    }
    return first;
}

daemon_match daemon_match_of(const daemon_spec *sp, const char *node_dir,
                             const char *name)
{
    return (daemon_match){.node_dir = node_dir, .name = name,
                          .cmdline_re = sp->cmdline_re,
                          .pid_file = sp->pid_file};
}

int daemon_check_binary(remote *r, size_t node, const char *node_dir,
                        const daemon_spec *sp, const char *binary,
                        fl_error *err)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "mkdir -p %s/%s && [ -x %s ] || { echo 'no %s at %s "
                 "on this node (%s)' >&2; exit 1; }", node_dir,
                 remote_name(r, node), binary, sp->what, binary,
                 sp->install_hint) < 0)
        cmd = NULL;
    return daemon_run(r, node, cmd, 15000, sp->what, err);
}

int daemon_signal(remote *r, size_t node, const char *node_dir,
                  const daemon_spec *sp, const char *sig, fl_error *err)
{
    daemon_match m = daemon_match_of(sp, node_dir, remote_name(r, node));
    return daemon_run(r, node, daemon_signal_cmd(&m, sig), 15000, sp->what,
                      err);
}

int daemon_wipe(remote *r, size_t node, const char *node_dir,
                const daemon_spec *sp, fl_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        /* A mount point (powerfs, mounted over the data directory by the
         * power-loss fault's prepare) is emptied, not removed. */
        fprintf(f, "d=%s/%s; for x in", node_dir, remote_name(r, node));
        for (size_t i = 0; sp->wipe[i]; i++)
            fprintf(f, " $d/%s", sp->wipe[i]);
        fprintf(f, "; do if mountpoint -q $x 2>/dev/null; then "
                "find $x -mindepth 1 -delete || exit 1; "
                "else rm -rf $x || exit 1; fi; done");
        if (fclose(f) != 0) {
            free(buf);
            buf = NULL;
        }
    }
    return daemon_run(r, node, buf, 15000, sp->what, err);
}

int daemon_collect(remote *r, size_t node, const char *node_dir,
                   const daemon_spec *sp, const char *local_dir, fl_error *err)
{
    return daemon_collect_logs(r, node, node_dir, sp->logs, local_dir, err);
}

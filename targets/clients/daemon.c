/*
 * daemon: find, signal and rest a database process on a node. See
 * daemon.h.
 */
#include "targets/clients/daemon.h"
#include "base/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FIND's test of one /proc/$q: its command line, or (by_environ) its
 * environment holds the marker. */
#define BY_CMDLINE "tr '\\0' ' ' 2>/dev/null < $q/cmdline | grep -Eq -- \"%s\""
#define BY_ENVIRON "tr '\\0' '\\n' 2>/dev/null < $q/environ | " \
    "grep -qx -- \"" DAEMON_ENV_MARKER "=$d\"%s"

#define SCAN "ps=; for q in /proc/[0-9]*; do %s && " \
    "ps=\"$ps ${q#/proc/}\"; done; "
#define FIND "d=%s/%s; " SCAN

/* FIND's process test for m, new string. */
static char *test_of(const daemon_match *m)
{
    char *t = NULL;
    if (asprintf(&t, m->by_environ ? BY_ENVIRON : BY_CMDLINE,
                 m->by_environ ? "" : m->cmdline_re) < 0)
        return NULL;
    return t;
}

#define WAIT_GONE "for p in $ps; do for i in $(seq 100); do [ -d /proc/$p ] && " \
    "! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null || break; " \
    "sleep 0.05; done; done"

/* After a kill, look again (four more times at most): a child forked
 * while the first scan ran, and not yet exec'd, shows its parent's
 * command line and environment and was not recognised then. */
#define KILL_AGAIN "; for pass in 1 2 3 4; do sleep 0.05; " SCAN \
    "[ -n \"$ps\" ] || break; kill -KILL $ps; " WAIT_GONE "; done"

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
    char *s = NULL, *test = test_of(m);
    bool kill = strcmp(sig, "KILL") == 0;
    if (!test || asprintf(&s, FIND "[ -n \"$ps\" ] || exit 0; kill -%s $ps%s%s",
                          m->node_dir, m->name, test, sig, kill ? "; " : "",
                          kill ? WAIT_GONE : "") < 0)
        s = NULL;
    if (s && kill) {
        char *again = NULL;
        if (asprintf(&again, "%s" KILL_AGAIN, s, test) < 0)
            again = NULL;
        free(s);
        s = again;
    }
    free(test);
    return kill ? with_pid_file(m, s) : s;
}

char *daemon_rest_cmd(const daemon_match *m)
{
    char *s = NULL, *test = test_of(m);
    /* A stopped process must be continued before SIGKILL can reap it
     * promptly, and counted first: it is a fault an earlier run left. */
    if (test && asprintf(&s, FIND "running=$(echo $ps | wc -w); "
                 "stopped=0; for p in $ps; do "
                 "grep -q '^State:.*T' /proc/$p/status 2>/dev/null && "
                 "stopped=$((stopped + 1)); done; "
                 "if [ -n \"$ps\" ]; then kill -CONT $ps; kill -KILL $ps; "
                 WAIT_GONE KILL_AGAIN "; %s%s%s fi 2>/dev/null; "
                 "echo \"running=$running stopped=$stopped\"",
                 m->node_dir, m->name, test, test,
                 m->pid_file ? "rm -f $d/" : "",
                 m->pid_file ? m->pid_file : "", m->pid_file ? ";" : "") < 0)
        s = NULL;
    free(test);
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

FILE *daemon_text_open(daemon_text *t)
{
    *t = (daemon_text){0};
    return t->f = open_memstream(&t->buf, &t->len);
}

char *daemon_text_close(daemon_text *t)
{
    if (fclose(t->f) != 0) {
        free(t->buf);
        return NULL;
    }
    return t->buf;
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
                          .pid_file = sp->pid_file,
                          .by_environ = sp->by_environ};
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
    daemon_text t;
    FILE *f = daemon_text_open(&t);
    if (!f)
        return daemon_run(r, node, NULL, 15000, sp->what, err);
    /* A mount point (powerfs, mounted over the data directory by the
     * power-loss fault's prepare) is emptied, not removed. */
    fprintf(f, "d=%s/%s; for x in", node_dir, remote_name(r, node));
    for (size_t i = 0; sp->wipe[i]; i++)
        fprintf(f, " $d/%s", sp->wipe[i]);
    fprintf(f, "; do if mountpoint -q $x 2>/dev/null; then "
            "find $x -mindepth 1 -delete || exit 1; "
            "else rm -rf $x || exit 1; fi; done");
    return daemon_run(r, node, daemon_text_close(&t), 15000, sp->what, err);
}

int daemon_collect(remote *r, size_t node, const char *node_dir,
                   const daemon_spec *sp, const char *local_dir, fl_error *err)
{
    return daemon_collect_logs(r, node, node_dir, sp->logs, local_dir, err);
}

/* ---- the default db ------------------------------------------------------------ */

/* s as one single-quoted shell word: 'it'\''s'. New string; NULL when
 * out of memory. */
static char *single_quoted(const char *s)
{
    size_t n = 3;
    for (const char *c = s; *c; c++)
        n += *c == '\'' ? 4 : 1;
    char *q = malloc(n), *o = q;
    if (!q)
        return NULL;
    *o++ = '\'';
    for (const char *c = s; *c; c++) {
        if (*c == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *c;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

char *daemon_start_cmd(const daemon_spec *sp, const char *node_dir,
                       const char *name, daemon_start parts)
{
    daemon_match m = daemon_match_of(sp, node_dir, name);
    char *test = parts.command ? test_of(&m) : NULL, *s = NULL;
    const char *prepare = parts.prepare;
    /* The pid file alone would be trusted blindly: the pid it names must
     * still be this node's daemon (found as the rest step finds it). */
    /* The marker goes to the database's environment only: the waiting
     * shell is no process of the database's for the rest step to count. */
    char *inner = NULL;
    if (parts.command &&
        asprintf(&inner, "%s%s & echo $! > %s; wait $!; echo $? > \"$d/"
                 TARGET_DB_EXIT_FILE "\"", sp->by_environ ? "export "
                 DAEMON_ENV_MARKER "=$d; " : "", parts.command,
                 sp->pid_file) < 0)
        inner = NULL;
    char *quoted = inner ? single_quoted(inner) : NULL;
    free(inner);
    /* The waiting shell writes the pid file itself (its own pid would name
     * the wrong process); the start returns once it is written. */
    if (test && quoted &&
        asprintf(&s, "set -e; d=%s/%s; mkdir -p $d; cd $d; "
                 "if [ -f %s ] && q=/proc/$(cat %s) && %s; then "
                 "echo \"already running as ${q#/proc/}\"; exit 0; fi; "
                 "%s%srm -f %s $d/" TARGET_DB_EXIT_FILE "; export d; "
                 "setsid nohup sh -c %s >>$d/stdout.log 2>&1 </dev/null & "
                 "i=0; while [ ! -s %s ] && [ $i -lt 100 ]; do sleep 0.05; "
                 "i=$((i+1)); done",
                 node_dir, name, sp->pid_file, sp->pid_file, test,
                 prepare ? prepare : "", prepare ? "; " : "",
                 sp->pid_file, quoted, sp->pid_file) < 0)
        s = NULL;
    free(quoted);
    free(test);
    free(parts.prepare);
    free(parts.command);
    return s;
}

int daemon_db_init(daemon_db *d, const target_config *cfg,
                   const daemon_spec *sp, const char *binary,
                   int (*start_parts)(const void *, size_t, daemon_start *),
                   fl_error *err)
{
    const char *dir = cfg->node_dir ? cfg->node_dir : TARGET_DEFAULT_NODE_DIR;
    memset(d, 0, sizeof *d);
    if (!daemon_plain(dir, "/._-"))
        return fl_error_set(err, FL_EUSAGE, "%s: the node directory \"%s\" "
                            "must be a plain path", sp->what, dir);
    for (size_t i = 0; i < remote_count(cfg->remote); i++)
        if (!daemon_plain(remote_address(cfg->remote, i), ".:-") ||
            !daemon_plain(remote_name(cfg->remote, i), "._-"))
            return fl_error_set(err, FL_EUSAGE, "%s: node \"%s\" (%s) needs "
                                "a plain name and address", sp->what,
                                remote_name(cfg->remote, i),
                                remote_address(cfg->remote, i));
    *d = (daemon_db){.remote = cfg->remote, .node_dir = strdup(dir),
                     .spec = sp, .binary = binary ? strdup(binary) : NULL,
                     .start_parts = start_parts};
    if (!d->node_dir || (binary && !d->binary)) {
        daemon_db_clear(d);
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", sp->what);
    }
    return FL_OK;
}

void daemon_db_clear(daemon_db *d)
{
    free(d->node_dir);
    free(d->binary);
    memset(d, 0, sizeof *d);
}

int daemon_db_install(void *st, size_t node, fl_error *err)
{
    daemon_db *d = st;
    if (d->binary)
        return daemon_check_binary(d->remote, node, d->node_dir, d->spec,
                                   d->binary, err);
    char *cmd = NULL;
    if (asprintf(&cmd, "mkdir -p %s/%s", d->node_dir,
                 remote_name(d->remote, node)) < 0)
        cmd = NULL;
    return daemon_run(d->remote, node, cmd, 15000, d->spec->what, err);
}

int daemon_db_start(void *st, size_t node, fl_error *err)
{
    daemon_db *d = st;
    daemon_start parts = {0};
    d->start_parts(st, node, &parts);
    char *cmd = daemon_start_cmd(d->spec, d->node_dir,
                                 remote_name(d->remote, node), parts);
    return daemon_run(d->remote, node, cmd, 15000, d->spec->what, err);
}

static int db_signal(void *st, size_t node, const char *sig, fl_error *err)
{
    daemon_db *d = st;
    return daemon_signal(d->remote, node, d->node_dir, d->spec, sig, err);
}

int daemon_db_kill(void *st, size_t n, fl_error *e) { return db_signal(st, n, "KILL", e); }
int daemon_db_pause(void *st, size_t n, fl_error *e) { return db_signal(st, n, "STOP", e); }
int daemon_db_resume(void *st, size_t n, fl_error *e) { return db_signal(st, n, "CONT", e); }

int daemon_db_wipe(void *st, size_t node, fl_error *err)
{
    daemon_db *d = st;
    return daemon_wipe(d->remote, node, d->node_dir, d->spec, err);
}

int daemon_db_collect_logs(void *st, size_t node, const char *local_dir,
                           fl_error *err)
{
    daemon_db *d = st;
    return daemon_collect(d->remote, node, d->node_dir, d->spec, local_dir,
                          err);
}

char *daemon_db_rest_cmd(void *st, size_t node)
{
    daemon_db *d = st;
    daemon_match m = daemon_match_of(d->spec, d->node_dir,
                                     remote_name(d->remote, node));
    return daemon_rest_cmd(&m);
}

int daemon_db_await(const daemon_db *d, size_t node, int timeout_ms,
                    int (*probe)(void *st, size_t node, fl_error *err),
                    void *st, const char *not_ready, fl_error *err)
{
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    for (;;) {
        int r = probe(st, node, err);
        if (r != 0)
            return r > 0 ? FL_OK : err->code;
        if (fl_clock_mono_s() >= until)
            break;
        fl_sleep_s(0.1);
    }
    char logs[256] = "";
    for (size_t i = 0; d->spec->logs && d->spec->logs[i]; i++)
        snprintf(logs + strlen(logs), sizeof logs - strlen(logs), "%s%s",
                 i ? " and " : "", d->spec->logs[i]);
    return fl_error_set(err, FL_EIO, "node %s: %s %s within %d ms (see its "
                        "%s)", remote_name(d->remote, node), d->spec->what,
                        not_ready, timeout_ms, logs);
}

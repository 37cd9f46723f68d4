/*
 * daemon: the shell commands that find, signal and bring to rest a
 * database process on a node, for every target that runs one (raftkv,
 * etcd, ZooKeeper). Pure: each returns a command string for remote_run.
 *
 * A process is found in /proc by its command line, never trusted to a pid
 * file alone: pid files go stale (pids are reused) or are lost (a
 * controller that died mid-run). The pattern must match only this node's
 * process — in a local cluster every node's processes share one host — so
 * it names the node's own directory ($d below), and it must be anchored
 * at the start of the command line so that the grep never matches itself.
 *
 * Each command begins by setting $d to NODE_DIR/NAME, so a pattern (and
 * the pid file) may use $d.
 *
 * Over the remote, the db calls every such target makes alike, given a
 * daemon_spec: check the binary is there, signal, wipe, collect logs
 * (daemon_check_binary ... daemon_collect), and daemon_run for a command
 * the target built itself (its start command).
 */
#ifndef FL_TARGET_DAEMON_H
#define FL_TARGET_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/fl_error.h"
#include "harness/remote.h"
#include "harness/target.h"

/* What to look for on a node: the node's directory and an extended-regex
 * over the command line with NUL bytes turned to spaces (it may use $d;
 * it goes inside double quotes), and the pid file under $d to remove once
 * the process is killed (NULL: none). All borrowed. */
typedef struct daemon_match {
    const char *node_dir;
    const char *name;
    const char *cmdline_re;
    const char *pid_file;
    /* Found instead by DAEMON_ENV_MARKER=$d in /proc/PID/environ, which
     * daemon_start_cmd exports: for a command line faultline did not
     * write (a target file's), and every child it forks is found too. */
    bool by_environ;
} daemon_match;

/* The environment variable that marks a by_environ daemon's processes. */
#define DAEMON_ENV_MARKER "FAULTLINE_NODE_DIR"

/* Send signal sig ("KILL", "STOP", "CONT") to every matching process. A
 * KILL waits (bounded, 5 s) until they are gone or zombies, so that a
 * restart never races the old process for its ports, and removes the pid
 * file. New string (caller frees); NULL when out of memory. */
char *daemon_signal_cmd(const daemon_match *m, const char *sig);

/* Continue and kill every matching process and print "running=N
 * stopped=M" (how many there were, how many of them paused): the rest
 * step of target_vtable.rest_cmd. New string; NULL when out of memory. */
char *daemon_rest_cmd(const daemon_match *m);

/* Whether s is non-empty and only letters, digits and characters of
 * `extra`: what may go into a command line unquoted. */
int daemon_plain(const char *s, const char *extra);

/* A string written with fprintf (a command line): daemon_text_open gives
 * the stream, NULL when out of memory; daemon_text_close ends it and
 * returns the new string (the caller's), NULL when out of memory. */
typedef struct daemon_text {
    char *buf;
    size_t len;
    FILE *f;
} daemon_text;
FILE *daemon_text_open(daemon_text *t);
char *daemon_text_close(daemon_text *t);

/* Run cmd (owned: freed here; NULL means building it ran out of memory,
 * reported as such, naming `who`) on the node. */
int daemon_run(remote *r, size_t node, char *cmd, int timeout_ms,
               const char *who, fl_error *err);

/* Download NODE_DIR/NAME/FILE for each of files (NULL-terminated) into
 * local_dir/FILE. Every file is tried; the first failure is returned. */
int daemon_collect_logs(remote *r, size_t node, const char *node_dir,
                        const char *const *files, const char *local_dir,
                        fl_error *err);

/* A database process as a target runs it. All borrowed (static tables). */
typedef struct daemon_spec {
    const char *what;             /* "etcd": names it in messages */
    const char *cmdline_re;       /* as daemon_match */
    const char *pid_file;         /* as daemon_match */
    const char *const *wipe;      /* under $d, removed by daemon_wipe */
    const char *const *logs;      /* under $d, downloaded by daemon_collect */
    const char *install_hint;     /* what to do when the binary is missing */
    bool by_environ;              /* as daemon_match; cmdline_re unused */
} daemon_spec;

/* The match of sp's process on the named node. */
daemon_match daemon_match_of(const daemon_spec *sp, const char *node_dir,
                             const char *name);

/* Make the node's directory and check that binary is executable there:
 * the database is the node's own (a package, or a path the user names). */
int daemon_check_binary(remote *r, size_t node, const char *node_dir,
                        const daemon_spec *sp, const char *binary,
                        fl_error *err);

/* daemon_signal_cmd run on the node. */
int daemon_signal(remote *r, size_t node, const char *node_dir,
                  const daemon_spec *sp, const char *sig, fl_error *err);

/* Remove sp->wipe under the node's directory; one that is a mount point
 * (powerfs over the data directory) is emptied instead. */
int daemon_wipe(remote *r, size_t node, const char *node_dir,
                const daemon_spec *sp, fl_error *err);

/* daemon_collect_logs of sp->logs. */
int daemon_collect(remote *r, size_t node, const char *node_dir,
                   const daemon_spec *sp, const char *local_dir, fl_error *err);

/* ---- the default db: a daemon per node, described by data ------------------

 * A target whose database is one process per node started by a command
 * line gets every db call but await_ready and leader from here: its state
 * struct begins with a daemon_db, filled in by daemon_db_init, and its
 * vtable names DAEMON_DB_CALLS. What differs between such targets is
 * data (a daemon_spec) and one function that writes the node's command
 * line; what a start does around it (the directory, the "already
 * running" check, setsid, the pid file, stdout.log) is the same for all.
 */

/* The node's start, as the target sees it: shell run first in $d under
 * set -e (NULL: none; mkdir, config files) and the daemon's command line
 * (it runs in the background from $d). Both new strings, owned by the
 * caller of the target's start_parts. */
typedef struct daemon_start {
    char *prepare;
    char *command;
} daemon_start;

typedef struct daemon_db {
    remote *remote;            /* borrowed; outlives the target */
    char *node_dir;            /* owned */
    const daemon_spec *spec;   /* borrowed (a static table) */
    char *binary;              /* owned; install checks it is executable on
                                  the node; NULL: install only makes $d */
    /* Fill in the node's start (st: the target's state, which begins
     * with this daemon_db). FL_ENOMEM leaves both NULL. */
    int (*start_parts)(const void *st, size_t node, daemon_start *out);
} daemon_db;

/*
 * The whole start command for the node called name in node_dir: make $d,
 * exit 0 when sp's process already runs under the pid file, run
 * parts.prepare (may be NULL), then parts.command in the background
 * under setsid nohup with stdout and stderr appended to $d/stdout.log and
 * its pid in $d/PID_FILE. parts.command runs under a shell of its own
 * that waits for it and writes its exit status (128 + the signal when
 * killed) to $d/TARGET_DB_EXIT_FILE when it ends, after the file an
 * earlier start left is removed: how the run's crash watcher tells how it
 * ended (harness/target.h). That shell sees $d exported and the command
 * as written (quoted for it here), so the command may use $d and any
 * quotes. parts is freed here. New string; NULL when out
 * of memory (parts.command NULL: building it ran out).
 */
char *daemon_start_cmd(const daemon_spec *sp, const char *node_dir,
                       const char *name, daemon_start parts);

/* Fill in d for cfg: the node directory (TARGET_DEFAULT_NODE_DIR when
 * none) must be a plain path and every node's name and address plain
 * words, as the commands put them unquoted. binary may be NULL. FL_EUSAGE
 * naming sp->what and the node, or FL_ENOMEM. On failure d holds nothing
 * to clear. */
int daemon_db_init(daemon_db *d, const target_config *cfg,
                   const daemon_spec *sp, const char *binary,
                   int (*start_parts)(const void *, size_t, daemon_start *),
                   fl_error *err);

/* Free what daemon_db_init allocated. */
void daemon_db_clear(daemon_db *d);

/* target_vtable's db calls for a state that begins with a daemon_db. */
int daemon_db_install(void *st, size_t node, fl_error *err);
int daemon_db_start(void *st, size_t node, fl_error *err);
int daemon_db_kill(void *st, size_t node, fl_error *err);
int daemon_db_pause(void *st, size_t node, fl_error *err);
int daemon_db_resume(void *st, size_t node, fl_error *err);
int daemon_db_wipe(void *st, size_t node, fl_error *err);
int daemon_db_collect_logs(void *st, size_t node, const char *local_dir,
                           fl_error *err);
char *daemon_db_rest_cmd(void *st, size_t node);

/* The vtable fields a daemon target takes from here: all of its db calls
 * but await_ready and leader, or (DAEMON_DB_CALLS_BUT_INSTALL) all but
 * install too, for a target that installs its own way (raftkv uploads
 * its build, then calls daemon_db_install). */
#define DAEMON_DB_CALLS_BUT_INSTALL \
    .start = daemon_db_start, .kill = daemon_db_kill, \
    .pause = daemon_db_pause, .resume = daemon_db_resume, \
    .wipe = daemon_db_wipe, .collect_logs = daemon_db_collect_logs, \
    .rest_cmd = daemon_db_rest_cmd
#define DAEMON_DB_CALLS .install = daemon_db_install, DAEMON_DB_CALLS_BUT_INSTALL

/*
 * Poll probe (1: ready; 0: not yet; -1: never will be, *err set, e.g. the
 * test network is gone) every 100 ms for at most timeout_ms. FL_EIO when
 * not ready in time: "node N: WHAT did not ... within T ms (see its
 * LOGS)", with not_ready the words for what did not happen.
 */
int daemon_db_await(const daemon_db *d, size_t node, int timeout_ms,
                    int (*probe)(void *st, size_t node, fl_error *err),
                    void *st, const char *not_ready, fl_error *err);

#endif

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

#include <stddef.h>

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
} daemon_match;

/* A start command puts DAEMON_WRAP_BEGIN before the database's command
 * line and DAEMON_WRAP_END after it (before its redirections and `&`):
 * the process then runs under a shell that writes its exit status to
 * $d/TARGET_DB_EXIT_FILE when it ends (harness/target.h), after the file
 * an earlier start left is removed. The line goes inside double quotes:
 * it may use $d and single quotes, not double quotes. The wrapper's own
 * command line begins with "sh", so a cmdline_re anchored at the
 * database's binary never matches it. */
#define DAEMON_WRAP_BEGIN "rm -f $d/" TARGET_DB_EXIT_FILE "; setsid nohup sh -c \""
#define DAEMON_WRAP_END "; echo \\$? > $d/" TARGET_DB_EXIT_FILE "\""

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

#endif

/*
 * db_existing: the db calls of existing mode (--db existing; target.h's
 * target_db), for every target alike. The database is the user's and
 * already running, so faultline touches it only through the user's own
 * shell commands (--kill-cmd, --start-cmd, --pause-cmd, --resume-cmd),
 * run on the node over SSH, and remembers on the node what it did:
 *
 *   kill    touch DIR/db-killed, then the kill command
 *   start   only if DIR/db-killed: the start command, then remove it
 *   pause   touch DIR/db-paused, then the pause command
 *   resume  only if DIR/db-paused: the resume command, then remove it
 *
 * (DIR is NODE_DIR/<node name>, the dead man's switch's directory). The
 * marker is made before the command, so a controller that dies between
 * the two still leaves it. Rest — at the start of every test and in the
 * dead man's switch — is resume-if-marked then start-if-marked: it undoes
 * exactly what a faultline run did and never kills anything. A start or
 * resume with no marker does nothing, so the final sweep after a failed
 * action never starts a database faultline did not stop.
 *
 * The user's commands run in a subshell with stdin from /dev/null and
 * output appended to DIR/db-commands.log (so a daemon they start cannot
 * hold the SSH channel open); a failure prints the log's last lines.
 *
 * The command builders are pure (tests run them under sh); db_existing_op
 * and db_existing_collect_logs run them over the remote.
 */
#ifndef FL_DB_EXISTING_H
#define FL_DB_EXISTING_H

#include <stddef.h>

#include "base/fl_error.h"
#include "harness/remote.h"
#include "harness/target_db.h"

#define DB_EXISTING_KILLED "db-killed"
#define DB_EXISTING_PAUSED "db-paused"
#define DB_EXISTING_LOG "db-commands.log"

/* A deep copy of db (caller frees with db_existing_free); NULL on OOM. */
target_db *db_existing_dup(const target_db *db);
void db_existing_free(target_db *db);

/* The option that gives op's command ("--kill-cmd"); op one TARGET_DB_*
 * bit. */
const char *db_existing_option(unsigned op);

/* The command for one db call op (a TARGET_DB_* bit) on the node whose
 * directory is dir, with the user's command user_cmd (non-NULL). New
 * string or NULL on OOM. */
char *db_existing_op_cmd(const char *dir, unsigned op, const char *user_cmd);

/* The rest command (see above): prints "resumed=R restarted=S
 * unrestored=U", U counting what it found marked but could not undo (no
 * command given, or the command failed). New string or NULL on OOM. */
char *db_existing_rest_cmd(const target_db *db, const char *dir);

/* Run op on node: FL_EUSAGE naming the option when db has no command for
 * it. node_dir as for the target. */
int db_existing_op(remote *r, size_t node, const char *node_dir,
                   const target_db *db, unsigned op, fl_error *err);

/* The node's logs into local_dir: --logs-cmd's stdout as logs-cmd.out,
 * each --log-path file under its base name. Nothing to do: FL_OK. Every
 * one is tried; the first failure is returned. */
int db_existing_collect_logs(remote *r, size_t node, const target_db *db,
                             const char *local_dir, fl_error *err);

#endif

/*
 * crashwatch: notice, within a second, that a managed database process
 * ended when nobody meant it to (a crash, an outside kill -9).
 *
 * A managed target starts its process under a wrapper that writes the
 * process's exit status to NODE_DIR/NAME/TARGET_DB_EXIT_FILE when it ends,
 * and removes that file before each start (target.h). The watcher keeps
 * one long poll per node on a connection of its own: a remote shell loop
 * that checks the file every CRASHWATCH_POLL_S and returns as soon as its
 * presence changes, or after CRASHWATCH_ROUND_S with "running". So a node
 * costs one SSH channel per round while all is well, not one per check,
 * and a death is seen within CRASHWATCH_POLL_S plus the channel's return.
 * Its connection is its own (never behind the nemesis, a client or a log
 * download), so a slow kill elsewhere never delays it.
 *
 * Kills the nemesis makes are not crashes: whoever kills marks the node
 * (crashwatch_expect_down) before the kill and unmarks it once the node is
 * started again. An exit seen while the node was marked, or marked and
 * unmarked during the check that saw it, is not reported.
 *
 * Threads: one per node, started by crashwatch_start. The report
 * callback runs on them (concurrently for different nodes).
 * Ownership: the remote is borrowed and must outlive the watcher.
 */
#ifndef FL_CRASHWATCH_H
#define FL_CRASHWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/fl_error.h"
#include "harness/remote.h"

#define CRASHWATCH_POLL_S 0.5
#define CRASHWATCH_ROUND_S 2

typedef struct crashwatch crashwatch;

/* A process on node ended unexpectedly; how: "exited with code 1",
 * "killed by signal 9 (KILL)", "exited" (status unknown). */
typedef void (*crashwatch_fn)(void *ctx, size_t node, const char *how);

/* Watch every node of r (NODE_DIR/NAME/TARGET_DB_EXIT_FILE); fn(ctx, ...)
 * once per unexpected end (again only after the file went away, i.e. the
 * process was started again). On error nothing is left running. */
int crashwatch_start(remote *r, const char *node_dir, crashwatch_fn fn,
                     void *ctx, crashwatch **out, fl_error *err);

/* The caller is about to end node's process on purpose (down true), or
 * has started it again (down false). Thread safe; w may be NULL. */
void crashwatch_expect_down(crashwatch *w, size_t node, bool down);

/* Stop reporting at once (what happens next, a teardown's kills, is
 * meant); the threads end within a round. w may be NULL. */
void crashwatch_quiet(crashwatch *w);

/* Stop, join the threads, free. NULL is a no-op. */
void crashwatch_free(crashwatch *w);

/* ---- pure, exposed for tests ------------------------------------------------ */

/* The long poll for one node's exit file: returns at once, printing
 * "exited STATUS", when the file is there and present is false; printing
 * "running" when it is not there and present is true; else after a round
 * as it began. New string or NULL. */
char *crashwatch_cmd(const char *exit_file, bool present);

/* The words for an exit status as the wrapper wrote it ("137", "1", ""):
 * a shell's 128+N is signal N. Writes into how (size bytes). */
void crashwatch_how(const char *status, char *how, size_t size);

#endif

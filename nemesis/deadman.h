/*
 * deadman: a dead man's switch on every node, so that a controller that
 * dies (SIGKILL, a crashed machine, a lost network) never leaves a fault
 * in force behind it.
 *
 * deadman_arm() starts a small shell watcher on each node (over SSH,
 * detached) and a thread here that renews a lease file on every node each
 * DEADMAN_RENEW_S. When a node's lease has not been renewed for
 * DEADMAN_EXPIRE_S, its watcher brings the node to rest by itself: every
 * faultline-tagged iptables rule deleted, the target's processes continued
 * and killed (the commands it is given). So a controller killed at time T
 * leaves every node at rest by T + DEADMAN_EXPIRE_S + 2 s (the lease's
 * one-second mtime resolution and the watcher's one-second poll).
 *
 * The switch must never fire under a live controller: that would end a
 * fault without the history saying so. A node whose lease could not be
 * renewed for DEADMAN_EXPIRE_S, or whose watcher has fired, makes
 * deadman_broken() say so, and the run must stop (exit 3) rather than be
 * judged; likewise when no node answers at all.
 *
 * Files on a node, in NODE_DIR/<name>/: deadman.sh, deadman.lease,
 * deadman.pid, deadman.fired (the time it fired, written before the rest),
 * deadman.rested ("TIME STATUS": when the rest ended, its exit status),
 * deadman.log (the rest's output).
 */
#ifndef FL_DEADMAN_H
#define FL_DEADMAN_H

#include "base/fl_error.h"
#include "harness/remote.h"

#define DEADMAN_EXPIRE_S 10
#define DEADMAN_RENEW_S 1

typedef struct deadman deadman;

/*
 * Start a watcher on every node of r (replacing any an earlier run left)
 * and the renewal thread. rest_cmds[i] is the shell command that brings
 * node i to rest; it is copied. node_dir as for the target. The remote is
 * borrowed and must outlive the switch; give the switch a remote of its
 * own, so that a long upload or kill on the test's connections never
 * delays a renewal. On error nothing is left running.
 */
int deadman_arm(remote *r, const char *node_dir, const char *const *rest_cmds,
                deadman **out, fl_error *err);

/* Why the run can no longer be trusted (a watcher fired, a node's lease
 * went unrenewed, no node answers), or NULL. Thread safe; the string is
 * borrowed from d and stays valid until deadman_disarm. */
const char *deadman_broken(deadman *d);

/* The longest gap so far between two renewals of one node's lease (the
 * arming counts as the first), in seconds: DEADMAN_RENEW_S when all is
 * well; near DEADMAN_EXPIRE_S the switch was close to firing under a live
 * controller. Thread safe. */
double deadman_max_lag_s(deadman *d);

/* Stop renewing and stop every watcher without firing it; free. NULL is a
 * no-op. */
void deadman_disarm(deadman *d);

/* ---- Exposed for tests ----------------------------------------------------- */

/* The watcher script for one node's directory. New string or NULL. */
char *deadman_script(const char *dir, int expire_s, const char *rest_cmd);

/* The command that installs and starts the watcher. New string or NULL. */
char *deadman_arm_cmd(const char *dir, int expire_s, const char *rest_cmd);

/* The commands that renew the lease (prints "fired" when the watcher has
 * fired or is gone) and that stop the watcher. New strings or NULL. */
char *deadman_renew_cmd(const char *dir);
char *deadman_stop_cmd(const char *dir);

#endif

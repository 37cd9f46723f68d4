/*
 * deadman: watchers on the nodes and the lease renewal here. See deadman.h.
 */
#include "nemesis/deadman.h"
#include "base/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* No node answering for this long means the cluster is gone: shorter than
 * the expiry, so the run stops before any watcher could fire. */
#define DEADMAN_ALL_SILENT_S 5
#define DEADMAN_CMD_TIMEOUT_MS 3000

struct deadman {
    remote *r;
    size_t n;
    char **dirs;
    double *last_ok;          /* per node: last successful renewal */
    pthread_t thread;
    bool started;
    atomic_int stop;
    pthread_mutex_t lock;     /* broken, max_lag */
    char broken[512];
    double max_lag;           /* longest gap between a node's renewals */
};

/* ---- the commands (pure) ------------------------------------------------------------ */

char *deadman_script(const char *dir, int expire_s, const char *rest_cmd)
{
    char *s = NULL;
    /* The lease is removed before resting, so a renewal racing the
     * watcher finds it gone and reports "fired" instead of reviving a
     * lease nobody watches. deadman.fired says when it fired, before a
     * rest that may take seconds; deadman.rested when the rest ended and
     * its exit status. */
    if (asprintf(&s,
                 "# faultline's dead man's switch (nemesis/deadman.h): brings\n"
                 "# this node to rest when the controller stops renewing the lease.\n"
                 "d=%s\n"
                 "lease=$d/deadman.lease\n"
                 "while [ -f \"$lease\" ]; do\n"
                 "  m=$(stat -c %%Y \"$lease\" 2>/dev/null) || exit 0\n"
                 "  if [ $(( $(date +%%s) - m )) -ge %d ]; then\n"
                 "    rm -f \"$lease\"\n"
                 "    date +%%s >\"$d/deadman.fired\"\n"
                 "    ( %s ) >\"$d/deadman.log\" 2>&1\n"
                 "    echo \"$(date +%%s) $?\" >\"$d/deadman.rested\"\n"
                 "    exit 0\n"
                 "  fi\n"
                 "  sleep 1\n"
                 "done\n",
                 dir, expire_s, rest_cmd) < 0)
        return NULL;
    return s;
}

/* Stops a watcher an earlier run left, if its pid is still a watcher:
 * its whole process group (setsid made it the leader), so that its
 * `sleep` goes too and the node is at rest the moment this returns. */
#define STOP_OLD "if [ -f $d/deadman.pid ]; then p=$(cat $d/deadman.pid); " \
    "grep -qa deadman.sh /proc/$p/cmdline 2>/dev/null && " \
    "{ kill -- -$p 2>/dev/null || kill $p; }; fi; "

char *deadman_arm_cmd(const char *dir, int expire_s, const char *rest_cmd)
{
    char *script = deadman_script(dir, expire_s, rest_cmd), *s = NULL;
    if (!script)
        return NULL;
    if (asprintf(&s, "d=%s; mkdir -p $d && cat >$d/deadman.sh <<'FL_DEADMAN_EOF'\n"
                 "%sFL_DEADMAN_EOF\n"
                 STOP_OLD "rm -f $d/deadman.fired $d/deadman.rested; touch $d/deadman.lease && "
                 "{ setsid nohup sh $d/deadman.sh >/dev/null 2>&1 </dev/null & "
                 "echo $! >$d/deadman.pid; }",
                 dir, script) < 0)
        s = NULL;
    free(script);
    return s;
}

char *deadman_renew_cmd(const char *dir)
{
    char *s = NULL;
    if (asprintf(&s, "if [ -f %s/deadman.lease ]; then touch %s/deadman.lease; "
                 "else echo fired; fi", dir, dir) < 0)
        return NULL;
    return s;
}

char *deadman_stop_cmd(const char *dir)
{
    char *s = NULL;
    if (asprintf(&s, "d=%s; rm -f $d/deadman.lease; " STOP_OLD
                 "rm -f $d/deadman.pid", dir) < 0)
        return NULL;
    return s;
}

/* ---- renewal ----------------------------------------------------------------------------- */

static void set_broken(deadman *d, const char *fmt, const char *node)
{
    pthread_mutex_lock(&d->lock);
    if (!d->broken[0])
        snprintf(d->broken, sizeof d->broken, fmt, node);
    pthread_mutex_unlock(&d->lock);
}

/* One renewal of node i; true when the lease is renewed. */
static bool renew(deadman *d, size_t i)
{
    char *cmd = deadman_renew_cmd(d->dirs[i]);
    fl_ssh_result res = {0};
    fl_error e = {0};
    if (!cmd)
        return false;
    int rc = remote_exec(d->r, i, cmd, DEADMAN_CMD_TIMEOUT_MS, &res, &e);
    free(cmd);
    if (rc != FL_OK)
        return false;
    bool fired = res.out && strstr(res.out, "fired");
    bool ok = res.exit_status == 0 && !fired;
    fl_ssh_result_free(&res);
    if (fired)
        set_broken(d, "node %s: its dead man's switch fired while the run "
                   "went on (faults were lifted without the history saying "
                   "so)", remote_name(d->r, i));
    return ok;
}

static void renew_all(deadman *d)
{
    double now = fl_clock_mono_s();
    bool any = false;
    for (size_t i = 0; i < d->n && !atomic_load(&d->stop); i++) {
        if (renew(d, i)) {
            double t = fl_clock_mono_s();
            pthread_mutex_lock(&d->lock);
            if (t - d->last_ok[i] > d->max_lag)
                d->max_lag = t - d->last_ok[i];
            pthread_mutex_unlock(&d->lock);
            d->last_ok[i] = t;
        }
        else if (now - d->last_ok[i] >= DEADMAN_EXPIRE_S - DEADMAN_RENEW_S)
            set_broken(d, "node %s: its dead man's lease could not be "
                       "renewed in time, so its switch may lift faults "
                       "behind the history's back", remote_name(d->r, i));
        any = any || now - d->last_ok[i] < DEADMAN_ALL_SILENT_S;
    }
    if (!any && !atomic_load(&d->stop))
        set_broken(d, "%sno node has answered over SSH for 5 s: the "
                   "cluster is gone or unreachable", "");
}

static void *renew_main(void *arg)
{
    deadman *d = arg;
    while (!atomic_load(&d->stop)) {
        double next = fl_clock_mono_s() + DEADMAN_RENEW_S;
        renew_all(d);
        while (!atomic_load(&d->stop) && fl_clock_mono_s() < next)
            fl_sleep_s(0.05);
    }
    return NULL;
}

/* ---- arm / disarm ------------------------------------------------------------------------- */

static void stop_watchers(deadman *d)
{
    for (size_t i = 0; i < d->n && d->dirs[i]; i++) {
        char *cmd = deadman_stop_cmd(d->dirs[i]);
        fl_error e = {0};
        if (cmd)
            remote_run(d->r, i, cmd, DEADMAN_CMD_TIMEOUT_MS, &e);
        free(cmd);
    }
}

static void free_deadman(deadman *d)
{
    for (size_t i = 0; d->dirs && i < d->n; i++)
        free(d->dirs[i]);
    free(d->dirs);
    free(d->last_ok);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static int arm_nodes(deadman *d, const char *node_dir,
                     const char *const *rest_cmds, fl_error *err)
{
    for (size_t i = 0; i < d->n; i++) {
        if (asprintf(&d->dirs[i], "%s/%s", node_dir, remote_name(d->r, i)) < 0) {
            d->dirs[i] = NULL;
            return fl_error_set(err, FL_ENOMEM, "deadman: out of memory");
        }
        char *cmd = deadman_arm_cmd(d->dirs[i], DEADMAN_EXPIRE_S, rest_cmds[i]);
        int rc = cmd ? remote_run(d->r, i, cmd, 10000, err)
                     : fl_error_set(err, FL_ENOMEM, "deadman: out of memory");
        free(cmd);
        if (rc != FL_OK)
            return fl_error_wrap(err, "arming the dead man's switch");
        d->last_ok[i] = fl_clock_mono_s();
    }
    return FL_OK;
}

int deadman_arm(remote *r, const char *node_dir, const char *const *rest_cmds,
                deadman **out, fl_error *err)
{
    *out = NULL;
    deadman *d = calloc(1, sizeof *d);
    if (!d)
        return fl_error_set(err, FL_ENOMEM, "deadman: out of memory");
    d->r = r;
    d->n = remote_count(r);
    d->dirs = calloc(d->n, sizeof *d->dirs);
    d->last_ok = calloc(d->n, sizeof *d->last_ok);
    pthread_mutex_init(&d->lock, NULL);
    atomic_init(&d->stop, 0);
    int rc = d->dirs && d->last_ok
                 ? arm_nodes(d, node_dir, rest_cmds, err)
                 : fl_error_set(err, FL_ENOMEM, "deadman: out of memory");
    if (rc == FL_OK &&
        !(d->started = pthread_create(&d->thread, NULL, renew_main, d) == 0))
        rc = fl_error_set(err, FL_ENOMEM, "deadman: cannot start a thread");
    if (rc != FL_OK) {
        stop_watchers(d);
        free_deadman(d);
        return rc;
    }
    *out = d;
    return FL_OK;
}

const char *deadman_broken(deadman *d)
{
    pthread_mutex_lock(&d->lock);
    const char *b = d->broken[0] ? d->broken : NULL;
    pthread_mutex_unlock(&d->lock);
    return b;
}

double deadman_max_lag_s(deadman *d)
{
    pthread_mutex_lock(&d->lock);
    double lag = d->max_lag;
    pthread_mutex_unlock(&d->lock);
    return lag;
}

void deadman_disarm(deadman *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, 1);
    if (d->started)
        pthread_join(d->thread, NULL);
    stop_watchers(d);
    free_deadman(d);
}

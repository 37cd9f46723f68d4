/*
 * The power-loss fault: kill -9 the database on some of the nodes, drop
 * everything it wrote and did not make durable, and start it again on
 * heal. kill -9 alone loses nothing the kernel already holds; a power cut
 * loses what was not fsync'd. See fault.h.
 *
 * Whom the power fails on (pl_plan): every node half the time (a rack or
 * a datacenter losing power), a majority a quarter, a minority a quarter
 * (the leader half of those times, fault_plan_minority). A cut that
 * spares a majority cannot lose what a quorum acknowledged: the
 * survivors' kernels still hold every entry and they elect among
 * themselves. A majority cut loses an acknowledged write only if the
 * survivors had not yet received it (milliseconds; no-fsync raftkv was
 * valid through three of them in a 30 s run), so the whole cluster going
 * down is what shows a database that acknowledges before fsync.
 *
 * Mechanism: powerfs (powerfs/, build/faultline-powerfs), a FUSE file
 * system that writes through to a backing directory and remembers what
 * is durable (powerfs/pfs_tree.h: an fsync'd file's data and size, a
 * directory's names as of its fsync). When the kind is enabled, prepare
 * uploads the binary to NODE_DIR/NAME/ and mounts powerfs over the
 * target's data directory (target_data_path: raftkv's data, etcd's
 * etcd-data, ZooKeeper's data, PostgreSQL's pgdata), backed by
 * NODE_DIR/NAME/powerfs.backing, before the database is installed and
 * started; otherwise the database runs on the plain disk. apply:
 * target_kill (the very call the kill fault makes), then
 * `faultline-powerfs ctl SOCKET lose-unsynced` on the node (target_kill
 * returns once the process is gone, so nothing of it is left to write
 * after the drop, bar a write already queued in FUSE: that one lands as
 * un-fsynced data, which a real crash may keep too).
 * heal: target_start. teardown, rest and so the dead man's switch
 * unmount every powerfs mount under the node's directory (a mount left
 * behind would be inherited by the next run).
 *
 * How strict powerfs is about names is an option (--power-loss-names,
 * powerfs's --names): POSIX's rule by default, under which a database
 * that never fsyncs the directory it made its files in loses them all
 * (etcd 3.4 never fsyncs its data directory after making member/);
 * ext4's and xfs's journal (any fsync commits every earlier name change)
 * or LazyFS's (names are never lost) tell such a loss from one of data.
 *
 * A node needs: /dev/fuse and fuse3 (fusermount3, libfuse3; Debian
 * `fuse3`), root (the mount uses allow_other) and a kernel with FUSE; the
 * binary is uploaded by prepare. Managed mode only: in existing mode the
 * data directory is the user's and prepare refuses.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/build_path.h"
#include "nemesis/fault.h"

#define PL_BINARY "faultline-powerfs"
#define PL_BACKING "powerfs.backing"
#define PL_SOCKET "powerfs.sock"
#define PL_TIMEOUT_MS 30000

extern const fault_kind fault_power_loss;

/* --power-loss-names N: powerfs's --names (pfs_fuse.h), by number. */
static const char *const names_modes[] = {"strict", "journal", "immediate"};

static const fault_option pl_options[] = {
    {"power-loss-names", "N", "power-loss: when file names become durable: "
     "0 at a directory fsync (POSIX), 1 at any fsync (ext4, xfs), 2 at "
     "once (LazyFS)", 0, 2, 0},
    {0},
};

/* Run cmd (owned) on the node; NULL cmd is out of memory. */
static int run(const fault_env *env, size_t node, char *cmd, fl_error *err)
{
    if (!cmd)
        return fl_error_set(err, FL_ENOMEM, "power-loss: out of memory");
    int rc = remote_run(env->r, node, cmd, PL_TIMEOUT_MS, err);
    free(cmd);
    return rc ? fl_error_wrap(err, "power-loss on %s", env->names[node]) : rc;
}

static void pl_plan(fl_rng *rng, size_t n, long leader,
                    const fault_action *in_force, size_t nforce,
                    fault_action *out)
{
    uint64_t r = fl_rng_below(rng, 4);
    if (r == 0 || n < 2) {
        fault_plan_minority(rng, n, leader, in_force, nforce, out);
        return;
    }
    size_t idx[FAULT_MAX_NODES], want = r == 1 ? n / 2 + 1 : n;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < want; i++) {    /* a partial Fisher-Yates */
        size_t j = i + (size_t)fl_rng_below(rng, n - i), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        out->nodes[idx[i]] = true;
    }
}

static int pl_apply(const fault_env *env, const fault_action *a, size_t node,
                    fl_error *err)
{
    (void)a;
    int rc = target_kill(env->t, node, err);
    if (rc != FL_OK)
        return rc;
    char *d = fault_node_path(env, node), *cmd = NULL;
    if (d && asprintf(&cmd, "d=%s; $d/%s ctl $d/%s lose-unsynced", d,
                      PL_BINARY, PL_SOCKET) < 0)
        cmd = NULL;
    free(d);
    return run(env, node, cmd, err);
}

static int pl_heal(const fault_env *env, const fault_action *a, size_t node,
                   fl_error *err)
{
    (void)a;
    return target_start(env->t, node, err);
}

/* Unmount every powerfs mount under $d (lazily if busy) and print how
 * many there were. */
static const char unmount_all[] =
    "n=0; for m in $(awk -v p=\"$d/\" 'index($2, p) == 1 && "
    "$3 == \"fuse.powerfs\" {print $2}' /proc/self/mounts); do "
    "fusermount3 -u \"$m\" 2>/dev/null || umount -l \"$m\" || exit 1; "
    "n=$((n + 1)); done";

static char *pl_rest(const fault_env *env, size_t node)
{
    char *d = fault_node_path(env, node), *cmd = NULL;
    if (d && asprintf(&cmd, "d=%s; %s; echo power-loss=$n", d,
                      unmount_all) < 0)
        cmd = NULL;
    free(d);
    return cmd;
}

/* The node's directory, then the binary beside the old one (a running
 * binary cannot be overwritten, but replaced). */
static int upload(const fault_env *env, size_t node, const char *d,
                  const char *local, fl_error *err)
{
    char *mk = NULL, *up = NULL;
    if (asprintf(&mk, "mkdir -p %s", d) < 0)
        mk = NULL;
    int rc = run(env, node, mk, err);
    if (rc == FL_OK && asprintf(&up, "%s/%s.new", d, PL_BINARY) < 0)
        rc = fl_error_set(err, FL_ENOMEM, "power-loss: out of memory");
    if (rc == FL_OK &&
        (rc = remote_upload(env->r, node, local, up, 0755, PL_TIMEOUT_MS,
                            err)) != FL_OK)
        fl_error_wrap(err, "power-loss: installing %s on %s", local,
                      env->names[node]);
    free(up);
    return rc;
}

static int pl_prepare(const fault_env *env, size_t node, fl_error *err)
{
    char local[PATH_MAX];
    char *data = target_data_path(env->t, node);
    if (!data)
        return fl_error_set(err, FL_EUSAGE, "power-loss needs a database "
                            "faultline manages (--db managed) on a target "
                            "that names its data directory (raftkv, etcd, "
                           "zookeeper, postgres); %s does not",
                            target_name(env->t));
    fault_action opts = {.kind = &fault_power_loss, .options = env->options};
    const char *names =
        names_modes[(int)fault_option_value(&opts, "power-loss-names")];
    char *d = fault_node_path(env, node), *cmd = NULL;
    int rc = d ? FL_OK : fl_error_set(err, FL_ENOMEM, "power-loss: out of "
                                      "memory");
    if (rc == FL_OK && fl_build_path(PL_BINARY, local,
                                             sizeof local) != 0)
        rc = fl_error_set(err, FL_EIO, "power-loss: no %s build beside this "
                          "binary (run `make`)", PL_BINARY);
    if (rc == FL_OK)
        rc = upload(env, node, d, local, err);
    /* The data directory (wiped anyway by the set-up that follows) is made
     * the mount point of a fresh, empty backing directory. */
    if (rc == FL_OK) {
        if (asprintf(&cmd, "d=%s; x=%s; "
                     "if ! command -v fusermount3 >/dev/null || "
                     "[ ! -c /dev/fuse ]; then echo 'power-loss needs fuse3 "
                     "(fusermount3) and /dev/fuse on the node' >&2; exit 1; "
                     "fi; mv -f $d/%s.new $d/%s && rm -rf $d/%s $x && "
                     "mkdir -p -m 700 $d/%s $x && $d/%s mount --names %s "
                     "$d/%s $x $d/%s",
                     d, data, PL_BINARY, PL_BINARY, PL_BACKING, PL_BACKING,
                     PL_BINARY, names, PL_BACKING, PL_SOCKET) < 0)
            cmd = NULL;
        rc = run(env, node, cmd, err);
    }
    free(d);
    free(data);
    return rc;
}

static int pl_teardown(const fault_env *env, size_t node, fl_error *err)
{
    char *d = fault_node_path(env, node), *cmd = NULL;
    if (d && asprintf(&cmd, "d=%s; %s", d, unmount_all) < 0)
        cmd = NULL;
    free(d);
    return run(env, node, cmd, err);
}

const fault_kind fault_power_loss = {
    .name = "power-loss",
    .begin_f = "power-loss",
    .end_f = "power-on",
    .summary = "kill -9 all nodes, a majority or a minority and drop "
               "their un-fsynced writes (powerfs), then start them again",
    .plan = pl_plan,
    .acts_on = FAULT_ON_PROCESS,
    .describe = fault_nodes_json,
    .apply = pl_apply,
    .heal = pl_heal,
    .db_needs = TARGET_DB_KILL | TARGET_DB_START | TARGET_DB_DATA,
    .rest = pl_rest,
    .prepare = pl_prepare,
    .teardown = pl_teardown,
    .options = pl_options,
};

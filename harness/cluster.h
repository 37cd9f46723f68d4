/*
 * cluster: a local test cluster of N nodes on one machine — one network
 * namespace per node, each running its own sshd — so that faultline can
 * drive "remote" nodes over SSH and cut them apart with iptables without
 * any real machines.
 *
 * Network (fixed, private): a bridge CLUSTER_BRIDGE on the host with
 * 10.231.0.1/24; node i (n1..nN) is namespace "fl-n<i>", joined to the
 * bridge by a veth pair (host side "flv<i>", namespace side eth0) with
 * address 10.231.0.<10+i>/24, and lo up. No NAT, no forwarding, no change
 * to the host's own interfaces, routes or firewall. Each sshd runs in its
 * node's own UTS namespace too, so `hostname` on node n3 says "n3".
 *
 * State directory (cluster_state_dir()):
 *   id_ed25519, id_ed25519.pub   the client key (ssh-keygen)
 *   authorized_keys              what every node's sshd accepts
 *   known_hosts                  every node's host key, by address
 *   nodes                        "NAME ADDRESS" per line (see ssh.h)
 *   ssh.conf                     OpenSSH client config: ssh -F ssh.conf n1
 *   n<i>/ssh_host_ed25519_key    node i's host key (+ .pub)
 *   n<i>/sshd_config, sshd.pid, sshd.log
 * Keys survive `down`, so known_hosts stays valid across up/down cycles;
 * `nodes` exists only while the cluster is meant to be up.
 *
 * Everything needs root (CLUSTER_ENOPERM otherwise). Commands are run
 * from argument vectors, never through a shell with caller data; a
 * failing command is reported with its exit status and stderr.
 * Not thread safe: one cluster operation at a time per machine.
 */
#ifndef FL_CLUSTER_H
#define FL_CLUSTER_H

#include <stdbool.h>

#include "base/fl_error.h"

#define CLUSTER_MAX_NODES 20
#define CLUSTER_DEFAULT_NODES 5
#define CLUSTER_DEFAULT_STATE_DIR "/var/lib/faultline"
#define CLUSTER_STATE_ENV "FAULTLINE_STATE"
#define CLUSTER_BRIDGE "flbr0"
#define CLUSTER_BRIDGE_ADDRESS "10.231.0.1"
#define CLUSTER_USER "root"
#define CLUSTER_SSH_PORT 22

/* File names inside the state directory. */
#define CLUSTER_KEY_FILE "id_ed25519"
#define CLUSTER_KNOWN_HOSTS_FILE "known_hosts"
#define CLUSTER_NODES_FILE "nodes"
#define CLUSTER_SSH_CONFIG_FILE "ssh.conf"
/* One lock per machine, not per state directory: the bridge and the
 * namespaces have fixed names, so two state directories still share one
 * cluster. */
#define CLUSTER_LOCK_PATH "/run/lock/faultline-cluster.lock"

enum {
    CLUSTER_EFAILED = 69, /* a command failed, or a node never answered */
    CLUSTER_ENOPERM = 77, /* not root */
    CLUSTER_EBUSY = 75,   /* a test holds the cluster's lock */
};

/* The fixed names and address of node i (1-based). */
typedef struct cluster_node {
    int index;
    char name[8];      /* "n3" */
    char netns[12];    /* "fl-n3" */
    char veth[12];     /* "flv3", the host side */
    char address[16];  /* "10.231.0.13" */
} cluster_node;

/* Fill *out for node i; FL_EUSAGE unless 1 <= i <= CLUSTER_MAX_NODES. */
int cluster_node_at(int i, cluster_node *out, fl_error *err);

/* $FAULTLINE_STATE if set and non-empty, else CLUSTER_DEFAULT_STATE_DIR.
 * Borrowed (environment or static). */
const char *cluster_state_dir(void);

/*
 * Bring up nodes n1..nN (1 <= nodes <= CLUSTER_MAX_NODES), creating or
 * repairing whatever is missing — namespaces, links, addresses, keys,
 * configs, dead sshds — and removing nodes numbered above N. Returns once
 * every sshd answers on port 22, with known_hosts, nodes and ssh.conf
 * written. Safe to run again at any time. A node namespace that exists
 * without this state directory's sshd in it (a cluster brought up from
 * another state directory) has its processes killed first: the caller
 * holds cluster_lock, so no test is using them.
 */
int cluster_up(const char *state_dir, int nodes, fl_error *err);

/*
 * Tear everything down: the sshds (by pid file) and any process left in a
 * node's namespace, the namespaces, veths and the bridge; removes the
 * nodes file. Safe when nothing or only part exists. Keeps going after a
 * failure and reports the first one.
 */
int cluster_down(const char *state_dir, fl_error *err);

typedef struct cluster_node_status {
    cluster_node node;
    bool netns;        /* the namespace exists */
    bool sshd;         /* the pid file names a live sshd of ours */
    bool answers;      /* an SSH banner came back on port 22 */
    /* Left behind in the namespace (a test running, or one that died):
     * faultline-tagged iptables rules, processes other than sshd (the
     * target, a dead man's watcher) and how many of those are paused. */
    int rules, processes, paused;
    char process_names[96];  /* e.g. the target and "sh", distinct, cut to fit */
} cluster_node_status;

typedef struct cluster_status {
    bool configured;   /* the nodes file exists */
    bool bridge;       /* CLUSTER_BRIDGE exists */
    int count;         /* nodes listed (or, unconfigured, namespaces found) */
    cluster_node_status nodes[CLUSTER_MAX_NODES];
} cluster_status;

/* Inspect without changing anything. Errors only for an unreadable or
 * malformed nodes file. */
int cluster_status_get(const char *state_dir, cluster_status *out,
                       fl_error *err);

/* Whether the bridge and the namespaces of nodes n1..n<count> exist; when
 * not, why (in why, size bytes). Cheap: for polling during a run. */
bool cluster_network_present(int count, char *why, size_t size);

/* Whether any node has leftover rules or processes. */
bool cluster_status_leftovers(const cluster_status *st);

/* Configured, bridge present and every node answering. */
bool cluster_status_all_up(const cluster_status *st);

/*
 * The cluster's lock: an exclusive flock(2) on CLUSTER_LOCK_PATH,
 * held by `faultline test` for its whole run and by `cluster up`/`down`
 * while they work, so that neither tears the cluster away from a running
 * test. Never waits: CLUSTER_EBUSY (naming the lock file) when someone
 * holds it. create: make the state directory if missing. On FL_OK *fd
 * is the descriptor owned by the caller (close it to release; it is
 * close-on-exec, so no child keeps the cluster locked).
 */
int cluster_lock(const char *state_dir, bool create, int *fd, fl_error *err);

/* ---- Exposed for tests ----------------------------------------------------- */

/*
 * The status probe: whether an SSH server answers at address:port within
 * timeout_ms (a TCP connection and a banner beginning "SSH-"), from a
 * socket bound to `source` (harness/netbind.h; NULL: unbound) before it
 * connects. The cluster's own probes use CLUSTER_BRIDGE_ADDRESS, so with
 * the bridge gone they fail without sending anything.
 */
bool cluster_probe(const char *address, int port, const char *source,
                   int timeout_ms);

/*
 * The argument vector that starts node n's sshd in its namespace (with its
 * own hostname). Fills argv (room for at least 16 entries, NULL-terminated)
 * with pointers to string literals, n's fields and the given paths, which
 * must outlive it.
 */
void cluster_sshd_argv(const cluster_node *n, const char *config,
                       const char *log, const char **argv);

/* The sshd_config text for node n. New string owned by the caller, or NULL
 * when out of memory. */
char *cluster_sshd_config(const char *state_dir, const cluster_node *n);

#endif

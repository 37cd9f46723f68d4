/*
 * remote: the controller's SSH connections to every node of a test, one
 * per node, shared by the target (install, start, kill...) and the nemesis
 * (iptables). Each connection has its own lock, so different nodes are
 * driven in parallel while one node's commands never interleave. A broken
 * connection is reopened once, transparently, on the next call.
 *
 * Ownership: remote_open() copies the nodes and options it is given; the
 * remote is freed with remote_close(). Borrowed strings returned here live
 * as long as the remote.
 */
#ifndef FL_REMOTE_H
#define FL_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/fl_error.h"
#include "harness/ssh.h"

typedef struct remote_auth {
    const char *user;         /* NULL: root */
    const char *private_key;  /* required */
    const char *known_hosts;  /* host keys to check against; required
                                 unless the opt-out below */
    bool insecure_accept_any_host_key; /* skip the host key check */
    const char *bind_address; /* source IP every connection to a node is
                                 bound to before connecting (the local
                                 cluster's bridge address); NULL: none */
    int port;                 /* 0: 22 */
} remote_auth;

typedef struct remote remote;

/* Connect to every node (in parallel). Errors name the node that failed. */
int remote_open(const fl_nodes *nodes, const remote_auth *auth, remote **out,
                fl_error *err);
void remote_close(remote *r);

size_t remote_count(const remote *r);
const char *remote_name(const remote *r, size_t node);
const char *remote_address(const remote *r, size_t node);
/* All names / addresses, as arrays of remote_count() borrowed strings. */
const char *const *remote_names(const remote *r);
const char *const *remote_addresses(const remote *r);
/* The source address connections to the nodes must be bound to (the
 * auth's bind_address), or NULL. Clients of a target use it too. */
const char *remote_bind_address(const remote *r);

/* Every call below is bounded: a timeout_ms <= 0 (which fl_ssh would
 * take as "no limit") is REMOTE_DEFAULT_TIMEOUT_MS. A time-out's error
 * names the node and the command (or the file). */
#define REMOTE_DEFAULT_TIMEOUT_MS 60000

/* Run a command on a node; *res as for fl_ssh_exec (free it). */
int remote_exec(remote *r, size_t node, const char *cmd, int timeout_ms,
                fl_ssh_result *res, fl_error *err);

/* Run a command that must succeed: a non-zero exit is FL_EIO with the
 * node, the command's exit status and the start of its stderr. */
int remote_run(remote *r, size_t node, const char *cmd, int timeout_ms,
               fl_error *err);

/* Call fn(ctx, node, err) for every node at once, one thread each, and
 * wait for all; the first failure (lowest node) is returned in err, but
 * every node is attempted. fn must be safe to run concurrently for
 * different nodes. */
typedef int (*remote_node_fn)(void *ctx, size_t node, fl_error *err);
int remote_each(remote *r, remote_node_fn fn, void *ctx, fl_error *err);

int remote_upload(remote *r, size_t node, const char *local,
                  const char *remote_path, int mode, int timeout_ms,
                  fl_error *err);
int remote_download(remote *r, size_t node, const char *remote_path,
                    const char *local, int timeout_ms, fl_error *err);

#endif

/*
 * ssh: the controller's hands on a node — one SSH connection per node
 * (libssh2), reused for many commands, file uploads and downloads — plus
 * the parser of the `nodes` file that says which nodes exist.
 *
 * Every blocking step has a deadline: the TCP connect and the SSH
 * handshake and authentication are bounded by the connect time-out, each
 * command and each transfer by the time-out its caller gives. Internally
 * the socket is non-blocking and every libssh2 call is retried after
 * poll(), so a node that stops answering (a partition, a paused VM) can
 * never hang the controller.
 *
 * Threads: call fl_ssh_init() once before the first connection and
 * fl_ssh_exit() after the last one is closed (libssh2's global set-up is
 * not thread safe). A connection may be used by one thread at a time;
 * different connections may be used concurrently from different threads.
 *
 * Errors follow base/fl_error.h; the codes particular to this module are
 * below. After FL_SSH_EUNAVAILABLE, or FL_SSH_ETIMEOUT from a transfer,
 * the connection is unusable (every later call fails fast with
 * FL_SSH_EUNAVAILABLE): close it and connect again.
 */
#ifndef FL_SSH_H
#define FL_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/fl_error.h"

enum {
    FL_SSH_EUNAVAILABLE = 69, /* cannot connect, or the connection broke */
    FL_SSH_ETIMEOUT = 75,     /* a command or transfer ran out of time */
    FL_SSH_EDENIED = 77,      /* host key rejected, or authentication failed */
};

#define FL_SSH_DEFAULT_PORT 22
#define FL_SSH_DEFAULT_USER "root"
#define FL_SSH_DEFAULT_CONNECT_TIMEOUT_MS 5000
/* Captured stdout and stderr are each capped; beyond it exec fails. */
#define FL_SSH_MAX_OUTPUT (16u << 20)

/* ---- Library set-up ------------------------------------------------------- */

/* Global libssh2 set-up; not thread safe; pair with fl_ssh_exit(). */
int fl_ssh_init(fl_error *err);
void fl_ssh_exit(void);

/* ---- Connections ------------------------------------------------------------ */

/* How to reach and authenticate to one host. Borrowed; copied by connect. */
typedef struct fl_ssh_options {
    const char *host;          /* address or name (required) */
    int port;                  /* 0: FL_SSH_DEFAULT_PORT */
    const char *user;          /* NULL: FL_SSH_DEFAULT_USER */
    const char *private_key;   /* path of the key file (required) */
    const char *public_key;    /* NULL: private_key with ".pub" appended */
    const char *known_hosts;   /* OpenSSH known_hosts to check the host key
                                  against; required unless the opt-out below */
    bool insecure_ignore_host_key; /* accept any host key: only for
                                      throwaway test hosts */
    int connect_timeout_ms;    /* connect + handshake + auth; 0: default */
    const char *bind_address;  /* source IP to bind before connecting
                                  (harness/netbind.h); NULL: none */
} fl_ssh_options;

typedef struct fl_ssh fl_ssh;

/*
 * Connect, handshake, verify the host key and authenticate. On success *out
 * is a new connection owned by the caller (free with fl_ssh_close). Errors:
 * FL_EUSAGE (bad options), FL_SSH_EUNAVAILABLE (no TCP connection or
 * handshake, or bind_address is not on this machine: then nothing was
 * sent), FL_SSH_ETIMEOUT, FL_SSH_EDENIED (host key unknown or changed,
 * key refused), FL_ENOINPUT (known_hosts unreadable), FL_ENOMEM.
 *
 * An unknown or changed host key's message gives the key's fingerprint
 * as OpenSSH prints it (SHA256:...) and the commands that would accept
 * it: `ssh-keyscan -p PORT -t TYPE HOST >> FILE`, preceded for a changed
 * key by `ssh-keygen -R HOST -f FILE`. A known_hosts file that does not
 * exist is an empty one (the ssh-keyscan command creates it).
 */
int fl_ssh_connect(const fl_ssh_options *opts, fl_ssh **out, fl_error *err);

/* Disconnect and free. NULL is a no-op. */
void fl_ssh_close(fl_ssh *s);

/* The host this connection was opened to. Borrowed from s. */
const char *fl_ssh_host(const fl_ssh *s);

/* "SHA256:" + the unpadded base64 of a SHA-256 digest (32 bytes), as
 * OpenSSH prints fingerprints, into out (at least FL_SSH_FINGERPRINT_MAX). */
#define FL_SSH_FINGERPRINT_MAX 52
void fl_ssh_fingerprint(const unsigned char sha256[32], char *out);

/* The shell command that would add host's key of the given type
 * ("ed25519", "rsa", "ecdsa", "dsa") to known_hosts — for a changed key
 * (changed true) after removing the old entry. New string owned by the
 * caller, or NULL when out of memory. */
char *fl_ssh_accept_key_command(const char *host, int port, const char *type,
                                const char *known_hosts, bool changed);

/* ---- Commands --------------------------------------------------------------- */

/* What a command did. Its buffers are owned by the result: release them with
 * fl_ssh_result_free(). */
typedef struct fl_ssh_result {
    int exit_status;      /* the remote exit status; -1 if killed by a signal */
    char exit_signal[32]; /* e.g. "KILL" when killed by a signal, else "" */
    char *out;            /* stdout, NUL-terminated (may contain NULs) */
    size_t out_len;
    char *err;            /* stderr, NUL-terminated */
    size_t err_len;
} fl_ssh_result;

void fl_ssh_result_free(fl_ssh_result *r);

/*
 * Run `command` through the remote user's shell (which must be a POSIX
 * shell) and wait for it, at most timeout_ms (<= 0: no limit). A non-zero
 * exit status is not an error: it is in *res. On FL_OK, *res is filled and
 * must be freed; on error *res holds nothing to free. On time-out returns
 * FL_SSH_ETIMEOUT after SIGKILLing the command's process group and closing
 * its channel; the connection stays usable unless the channel would not
 * close within two seconds (then later calls say so).
 */
int fl_ssh_exec(fl_ssh *s, const char *command, int timeout_ms,
                fl_ssh_result *res, fl_error *err);

/* As fl_ssh_exec, with argv (NULL-terminated) quoted so that the remote
 * program receives exactly these arguments. */
int fl_ssh_exec_argv(fl_ssh *s, const char *const *argv, int timeout_ms,
                     fl_ssh_result *res, fl_error *err);

/*
 * Quote argv (NULL-terminated, at least one element) into one POSIX shell
 * command line that runs argv[0] with exactly these arguments, whatever
 * bytes they contain. Returns a new string owned by the caller, or NULL
 * when out of memory.
 */
char *fl_ssh_quote_argv(const char *const *argv);

/* ---- Files (SCP) --------------------------------------------------------- */

/* Copy the local file to remote_path (created or truncated) with the given
 * permission bits, within timeout_ms (<= 0: no limit). */
int fl_ssh_upload(fl_ssh *s, const char *local_path, const char *remote_path,
                  int mode, int timeout_ms, fl_error *err);

/* Copy remote_path to local_path (created or truncated, mode 0644 less the
 * umask), within timeout_ms. A partial local file is removed on failure. */
int fl_ssh_download(fl_ssh *s, const char *remote_path, const char *local_path,
                    int timeout_ms, fl_error *err);

/* ---- The nodes file ------------------------------------------------------ */

/*
 * One node per line: NAME ADDRESS, separated by spaces or tabs. Blank
 * lines and everything after '#' are ignored. Names are 1-63 characters
 * of [A-Za-z0-9._-] and unique; addresses are host names or IP addresses.
 */
typedef struct fl_node {
    char *name;
    char *address;
    size_t line;    /* where it was defined, for messages */
} fl_node;

typedef struct fl_nodes {
    fl_node *nodes; /* owned; free the whole set with fl_nodes_free() */
    size_t count;
} fl_nodes;

/* Parse a nodes file from `in`; `name` is used in messages ("nodes:3: ...").
 * An empty set of nodes is an error. On success *out must be freed. */
int fl_nodes_read(FILE *in, const char *name, fl_nodes *out, fl_error *err);
/* Open and parse `path`: FL_ENOINPUT if it cannot be opened. */
int fl_nodes_load(const char *path, fl_nodes *out, fl_error *err);
void fl_nodes_free(fl_nodes *nodes);
/* The node called name, or NULL. Borrowed from nodes. */
const fl_node *fl_nodes_find(const fl_nodes *nodes, const char *name);

#endif

/*
 * ssh: libssh2 connections with deadlines, SCP transfers, the nodes file.
 *
 * The session is non-blocking from the first byte: every libssh2 call that
 * answers EAGAIN is retried after wait_socket(), which polls the socket in
 * the directions libssh2 is blocked on and gives up at the caller's
 * deadline. That is the only way to bound handshakes, commands and
 * transfers against a host that went silent.
 */
#include "harness/ssh.h"
#include "base/base64.h"
#include "base/clock.h"
#include "harness/netbind.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libssh2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fl_ssh {
    int fd;
    LIBSSH2_SESSION *session;
    bool broken;     /* protocol state unknown after a failure mid-request */
    char host[256];
};

/* How long a timed-out command's channel may take to wind down. */
#define GRACE_MS 2000

/* ---- time and waiting ------------------------------------------------------- */

static int64_t deadline_after(int timeout_ms)
{
    return timeout_ms > 0 ? fl_clock_mono_ns() / 1000000 + timeout_ms : INT64_MAX;
}

/* The last libssh2 error message of the session, for error texts. */
static const char *ssh_msg(const fl_ssh *s)
{
    char *msg = NULL;
    libssh2_session_last_error(s->session, &msg, NULL, 0);
    return msg && *msg ? msg : "unknown libssh2 error";
}

static int ssh_fail(fl_ssh *s, int code, fl_error *err, const char *what)
{
    return fl_error_set(err, code, "%s: %s: %s", s->host, what, ssh_msg(s));
}

/*
 * Sleep until the socket can move in the direction libssh2 is waiting on,
 * or the deadline passes (FL_SSH_ETIMEOUT). Polls at most a second at a
 * time, so a missed direction costs a second, never a hang.
 */
static int wait_socket(fl_ssh *s, int64_t deadline, fl_error *err,
                       const char *what)
{
    int64_t left = deadline == INT64_MAX ? 1000 : deadline - fl_clock_mono_ns() / 1000000;
    if (left <= 0)
        return fl_error_set(err, FL_SSH_ETIMEOUT, "%s: %s: timed out", s->host,
                            what);
    struct pollfd p = {.fd = s->fd};
    int dir = libssh2_session_block_directions(s->session);
    if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
        p.events |= POLLIN;
    if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        p.events |= POLLOUT;
    if (p.events == 0)
        p.events = POLLIN;
    if (poll(&p, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
        return fl_error_set(err, FL_SSH_EUNAVAILABLE, "%s: %s: poll: %s",
                            s->host, what, strerror(errno));
    return FL_OK;
}

/* Retry a libssh2 call returning int while it answers EAGAIN. */
#define RETRY(rc, s, deadline, err, what, call)                               \
    do {                                                                      \
        int w_;                                                               \
        while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN)                       \
            if ((w_ = wait_socket((s), (deadline), (err), (what))) != FL_OK) { \
                (rc) = w_;                                                    \
                break;                                                        \
            }                                                                 \
    } while (0)

/* ---- library set-up ------------------------------------------------------------ */

int fl_ssh_init(fl_error *err)
{
    int rc = libssh2_init(0);
    if (rc != 0)
        return fl_error_set(err, FL_ENOMEM, "libssh2_init failed (%d)", rc);
    return FL_OK;
}

void fl_ssh_exit(void)
{
    libssh2_exit();
}

/* ---- TCP connect with a deadline ------------------------------------------- */

/* 0 when connected, else an errno value (ETIMEDOUT at the deadline). */
static int connect_wait(int fd, const struct addrinfo *ai, int64_t deadline)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return errno;
    for (;;) {
        int64_t left = deadline - fl_clock_mono_ns() / 1000000;
        if (left <= 0)
            return ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return errno;
        if (rc == 0)
            return ETIMEDOUT;
        int e = 0;
        socklen_t len = sizeof e;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            return errno;
        return e;
    }
}

static int tcp_connect(const char *host, int port, const char *bind_address,
                       int64_t deadline, int *out, fl_error *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0)
        return fl_error_set(err, FL_SSH_EUNAVAILABLE, "%s: cannot resolve: %s",
                            host, gai_strerror(g));
    int fd = -1, e = 0, bind_rc = FL_OK;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        /* Bound before connect: if the source address is gone, not even a
         * SYN leaves. An address of the other family is skipped. */
        if ((bind_rc = fl_net_bind(fd, bind_address, err)) != FL_OK) {
            close(fd);
            fd = -1;
            if (bind_rc == FL_EUSAGE)
                continue;
            freeaddrinfo(res);
            return fl_error_wrap(err, "%s port %d", host, port);
        }
        if ((e = connect_wait(fd, ai, deadline)) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0 && bind_rc != FL_OK)
        return fl_error_set(err, FL_SSH_EUNAVAILABLE, "%s port %d: no address "
                            "of the family of source address %s", host, port,
                            bind_address);
    if (fd < 0)
        return fl_error_set(err, e == ETIMEDOUT ? FL_SSH_ETIMEOUT
                                                : FL_SSH_EUNAVAILABLE,
                            "%s port %d: connect: %s", host, port, strerror(e));
    /* Commands are small request/reply exchanges: Nagle's algorithm would
     * hold each one back waiting for a delayed ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out = fd;
    return FL_OK;
}

/* ---- host key and authentication ------------------------------------------ */

static int knownhost_key_type(int hostkey_type)
{
    switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return -1;
    }
}

/* ssh-keyscan's -t name of a host key type. */
static const char *key_type_name(int hostkey_type)
{
    switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return "rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS: return "dsa";
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ed25519";
    default: return "ecdsa";
    }
}

void fl_ssh_fingerprint(const unsigned char sha256[32], char *out)
{
    /* OpenSSH leaves out the '=' padding. */
    fl_base64_encode(sha256, 32, false, out + sprintf(out, "SHA256:"));
}

char *fl_ssh_accept_key_command(const char *host, int port, const char *type,
                                const char *known_hosts, bool changed)
{
    char ports[16], entry[300];
    snprintf(ports, sizeof ports, "%d", port);
    /* known_hosts names a host on another port as [host]:port. */
    if (port == FL_SSH_DEFAULT_PORT)
        snprintf(entry, sizeof entry, "%s", host);
    else
        snprintf(entry, sizeof entry, "[%s]:%d", host, port);
    const char *rm[] = {"ssh-keygen", "-R", entry, "-f", known_hosts, NULL};
    const char *scan[] = {"ssh-keyscan", "-p", ports, "-t", type, host, NULL};
    const char *file[] = {known_hosts, NULL};
    char *r = changed ? fl_ssh_quote_argv(rm) : NULL;
    char *k = fl_ssh_quote_argv(scan), *f = fl_ssh_quote_argv(file), *out = NULL;
    if (k && f && (!changed || r) &&
        asprintf(&out, "%s%s%s >> %s", r ? r : "", r ? " && " : "", k, f) < 0)
        out = NULL;
    free(r);
    free(k);
    free(f);
    return out;
}

/* The host key could not be accepted: say which key it is and how to
 * accept it, so that the user can compare the fingerprint with the
 * host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there). */
static int host_key_refused(fl_ssh *s, int port, int type,
                            const char *known_hosts, bool changed,
                            bool missing, fl_error *err)
{
    char fp[FL_SSH_FINGERPRINT_MAX] = "an unknown fingerprint";
    const char *hash = libssh2_hostkey_hash(s->session,
                                            LIBSSH2_HOSTKEY_HASH_SHA256);
    if (hash)
        fl_ssh_fingerprint((const unsigned char *)hash, fp);
    const char *tname = key_type_name(type);
    char *cmd = fl_ssh_accept_key_command(s->host, port, tname, known_hosts,
                                          changed);
    int rc;
    if (changed)
        rc = fl_error_set(err, FL_SSH_EDENIED,
                          "%s: host key does not match the one in %s: its %s "
                          "key is now %s. Either the host was re-created or "
                          "something is impersonating it; if you trust it, "
                          "replace the old key: %s",
                          s->host, known_hosts, tname, fp,
                          cmd ? cmd : "(out of memory)");
    else
        rc = fl_error_set(err, FL_SSH_EDENIED,
                          "%s: host key not in %s%s: its %s key is %s; if "
                          "that is the host's, add it: %s",
                          s->host, known_hosts,
                          missing ? " (the file does not exist)" : "", tname,
                          fp, cmd ? cmd : "(out of memory)");
    free(cmd);
    return rc;
}

static int check_host_key(fl_ssh *s, const char *known_hosts, int port,
                          fl_error *err)
{
    size_t len;
    int type;
    const char *key = libssh2_session_hostkey(s->session, &len, &type);
    if (key == NULL)
        return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "no host key");
    int kt = knownhost_key_type(type);
    if (kt < 0)
        return fl_error_set(err, FL_SSH_EDENIED,
                            "%s: unsupported host key type %d", s->host, type);
    /* A missing file holds no keys: the advice creates it. */
    bool missing = access(known_hosts, F_OK) != 0 && errno == ENOENT;
    if (missing)
        return host_key_refused(s, port, type, known_hosts, false, true, err);
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s->session);
    if (kh == NULL)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", s->host);
    if (libssh2_knownhost_readfile(kh, known_hosts,
                                   LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
        libssh2_knownhost_free(kh);
        return fl_error_set(err, FL_ENOINPUT, "%s: cannot read known_hosts: %s",
                            known_hosts, ssh_msg(s));
    }
    struct libssh2_knownhost *found = NULL;
    int rc = libssh2_knownhost_checkp(kh, s->host, port, key, len,
                                      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                          LIBSSH2_KNOWNHOST_KEYENC_RAW | kt,
                                      &found);
    libssh2_knownhost_free(kh);
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
        return FL_OK;
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ||
        rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND)
        return host_key_refused(s, port, type, known_hosts,
                                rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH, false,
                                err);
    return ssh_fail(s, FL_SSH_EDENIED, err, "checking the host key");
}

static int authenticate(fl_ssh *s, const fl_ssh_options *o, int64_t deadline,
                        fl_error *err)
{
    const char *user = o->user ? o->user : FL_SSH_DEFAULT_USER;
    char pub[PATH_MAX];
    if (o->public_key)
        snprintf(pub, sizeof pub, "%s", o->public_key);
    else if ((size_t)snprintf(pub, sizeof pub, "%s.pub", o->private_key) >=
             sizeof pub)
        return fl_error_set(err, FL_EUSAGE, "key path too long");
    if (access(o->private_key, R_OK) != 0)
        return fl_error_set(err, FL_ENOINPUT, "private key %s: %s",
                            o->private_key, strerror(errno));
    int rc;
    RETRY(rc, s, deadline, err, "authentication",
          libssh2_userauth_publickey_fromfile_ex(s->session, user,
                                                 (unsigned)strlen(user), pub,
                                                 o->private_key, NULL));
    if (rc == FL_SSH_ETIMEOUT || rc == FL_SSH_EUNAVAILABLE)
        return rc;
    if (rc != 0)
        return fl_error_set(err, FL_SSH_EDENIED,
                            "%s: public-key authentication as %s with %s "
                            "failed: %s",
                            s->host, user, o->private_key, ssh_msg(s));
    return FL_OK;
}

/* ---- connections ------------------------------------------------------------- */

static int check_options(const fl_ssh_options *o, fl_error *err)
{
    if (o == NULL || o->host == NULL || o->private_key == NULL)
        return fl_error_set(err, FL_EUSAGE, "ssh: host and private_key are "
                                            "required");
    if (o->known_hosts == NULL && !o->insecure_ignore_host_key)
        return fl_error_set(err, FL_EUSAGE,
                            "ssh %s: a known_hosts file is required (or "
                            "insecure_ignore_host_key for throwaway hosts)",
                            o->host);
    if (strlen(o->host) >= sizeof ((fl_ssh *)0)->host)
        return fl_error_set(err, FL_EUSAGE, "ssh: host name too long");
    if (o->port < 0 || o->port > 65535)
        return fl_error_set(err, FL_EUSAGE, "ssh %s: bad port %d", o->host,
                            o->port);
    return FL_OK;
}

int fl_ssh_connect(const fl_ssh_options *o, fl_ssh **out, fl_error *err)
{
    *out = NULL;
    int rc = check_options(o, err);
    if (rc != FL_OK)
        return rc;
    fl_ssh *s = calloc(1, sizeof *s);
    if (s == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    s->fd = -1;
    snprintf(s->host, sizeof s->host, "%s", o->host);
    int port = o->port ? o->port : FL_SSH_DEFAULT_PORT;
    int64_t deadline = deadline_after(o->connect_timeout_ms > 0
                                          ? o->connect_timeout_ms
                                          : FL_SSH_DEFAULT_CONNECT_TIMEOUT_MS);
    rc = tcp_connect(o->host, port, o->bind_address, deadline, &s->fd, err);
    if (rc != FL_OK)
        goto fail;
    s->session = libssh2_session_init();
    if (s->session == NULL) {
        rc = fl_error_set(err, FL_ENOMEM, "%s: libssh2 session: out of memory",
                          o->host);
        goto fail;
    }
    libssh2_session_set_blocking(s->session, 0);
    RETRY(rc, s, deadline, err, "handshake",
          libssh2_session_handshake(s->session, s->fd));
    if (rc != 0) {
        if (rc != FL_SSH_ETIMEOUT && rc != FL_SSH_EUNAVAILABLE)
            rc = ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "SSH handshake");
        goto fail;
    }
    if (!o->insecure_ignore_host_key &&
        (rc = check_host_key(s, o->known_hosts, port, err)) != FL_OK)
        goto fail;
    if ((rc = authenticate(s, o, deadline, err)) != FL_OK)
        goto fail;
    *out = s;
    return FL_OK;
fail:
    s->broken = true;
    fl_ssh_close(s);
    return rc;
}

void fl_ssh_close(fl_ssh *s)
{
    if (s == NULL)
        return;
    if (s->session != NULL) {
        if (!s->broken) {
            int rc;
            RETRY(rc, s, fl_clock_mono_ns() / 1000000 + 1000, NULL, "disconnect",
                  libssh2_session_disconnect(s->session, "faultline: done"));
        }
        /* With the socket shut, freeing never waits on the peer: any
         * channel left open is torn down locally. */
        shutdown(s->fd, SHUT_RDWR);
        libssh2_session_set_blocking(s->session, 1);
        libssh2_session_set_timeout(s->session, GRACE_MS);
        libssh2_session_free(s->session);
    }
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

const char *fl_ssh_host(const fl_ssh *s)
{
    return s->host;
}

/* ---- channels ----------------------------------------------------------------- */

typedef struct buffer {
    char *p;
    size_t len, cap;
} buffer;

static int buffer_add(buffer *b, const char *data, size_t n)
{
    if (b->len + n + 1 > FL_SSH_MAX_OUTPUT)
        return FL_ENOMEM;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return FL_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return FL_OK;
}

static int open_channel(fl_ssh *s, int64_t deadline, LIBSSH2_CHANNEL **out,
                        fl_error *err)
{
    LIBSSH2_CHANNEL *ch;
    while ((ch = libssh2_channel_open_session(s->session)) == NULL) {
        if (libssh2_session_last_errno(s->session) != LIBSSH2_ERROR_EAGAIN)
            return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "opening a channel");
        int rc = wait_socket(s, deadline, err, "opening a channel");
        if (rc != FL_OK) {
            s->broken = true;
            return rc;
        }
    }
    *out = ch;
    return FL_OK;
}

/* Read stdout (and stderr, when err_buf is given) until EOF. */
static int drain(fl_ssh *s, LIBSSH2_CHANNEL *ch, int64_t deadline,
                 buffer *out_buf, buffer *err_buf, fl_error *err)
{
    char tmp[16384];
    for (;;) {
        ssize_t n1 = libssh2_channel_read_ex(ch, 0, tmp, sizeof tmp);
        if (n1 > 0 && out_buf && buffer_add(out_buf, tmp, (size_t)n1) != FL_OK)
            return fl_error_set(err, FL_ENOMEM, "%s: stdout over %u bytes",
                                s->host, FL_SSH_MAX_OUTPUT);
        ssize_t n2 = libssh2_channel_read_ex(ch, SSH_EXTENDED_DATA_STDERR, tmp,
                                             sizeof tmp);
        if (n2 > 0 && err_buf && buffer_add(err_buf, tmp, (size_t)n2) != FL_OK)
            return fl_error_set(err, FL_ENOMEM, "%s: stderr over %u bytes",
                                s->host, FL_SSH_MAX_OUTPUT);
        if ((n1 < 0 && n1 != LIBSSH2_ERROR_EAGAIN) ||
            (n2 < 0 && n2 != LIBSSH2_ERROR_EAGAIN)) {
            s->broken = true;
            return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "reading output");
        }
        if (n1 > 0 || n2 > 0)
            continue;
        if (libssh2_channel_eof(ch))
            return FL_OK;
        int rc = wait_socket(s, deadline, err, "waiting for output");
        if (rc != FL_OK)
            return rc;
    }
}

/* Close a channel that has seen EOF, and free it. On failure the session
 * is marked broken and the channel is left to libssh2_session_free. */
static int finish_channel(fl_ssh *s, LIBSSH2_CHANNEL *ch, int64_t deadline,
                          fl_ssh_result *res, fl_error *err)
{
    int rc;
    RETRY(rc, s, deadline, err, "closing the channel",
          libssh2_channel_close(ch));
    if (rc == 0)
        RETRY(rc, s, deadline, err, "closing the channel",
              libssh2_channel_wait_closed(ch));
    if (rc != 0) {
        s->broken = true;
        if (rc == FL_SSH_ETIMEOUT || rc == FL_SSH_EUNAVAILABLE)
            return rc;
        return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "closing the channel");
    }
    if (res != NULL) {
        res->exit_status = libssh2_channel_get_exit_status(ch);
        char *sig = NULL;
        size_t siglen = 0;
        libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL,
                                        NULL);
        if (sig != NULL) {
            snprintf(res->exit_signal, sizeof res->exit_signal, "%.*s",
                     (int)siglen, sig);
            res->exit_status = -1;
            libssh2_free(s->session, sig);
        }
    }
    RETRY(rc, s, deadline, err, "freeing the channel",
          libssh2_channel_free(ch));
    if (rc != 0)
        s->broken = true;
    return rc == 0 ? FL_OK : FL_SSH_EUNAVAILABLE;
}

/* Free a channel that never ran a command (sshd closes those at once). */
static void discard_channel(fl_ssh *s, LIBSSH2_CHANNEL *ch)
{
    int rc;
    RETRY(rc, s, fl_clock_mono_ns() / 1000000 + GRACE_MS, NULL, "freeing the channel",
          libssh2_channel_free(ch));
    if (rc != 0)
        s->broken = true;
}

void fl_ssh_result_free(fl_ssh_result *r)
{
    if (r == NULL)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

static int check_usable(fl_ssh *s, fl_error *err)
{
    if (s->broken)
        return fl_error_set(err, FL_SSH_EUNAVAILABLE,
                            "%s: connection unusable after an earlier failure; "
                            "reconnect",
                            s->host);
    return FL_OK;
}

static void take_buffer(buffer *b, char **p, size_t *len)
{
    if (b->p == NULL)
        b->p = calloc(1, 1);
    *p = b->p;
    *len = b->len;
}

/* Open a channel and start command on it. */
static int start_command(fl_ssh *s, const char *command, int64_t deadline,
                         LIBSSH2_CHANNEL **out, fl_error *err)
{
    LIBSSH2_CHANNEL *ch = NULL;
    int rc = open_channel(s, deadline, &ch, err);
    if (rc != FL_OK)
        return rc;
    RETRY(rc, s, deadline, err, "starting the command",
          libssh2_channel_exec(ch, command));
    if (rc > 0) { /* out of time mid-request: the session is in limbo */
        s->broken = true;
        return rc;
    }
    if (rc < 0) {
        rc = ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "starting the command");
        discard_channel(s, ch);
        return rc;
    }
    *out = ch;
    return FL_OK;
}

/*
 * Every command first reports its shell's pid on stderr (PID_MARK<pid>\n),
 * because libssh2 1.10 cannot send a signal request: to stop a command that
 * overran, a second channel kills that pid's process group (sshd makes the
 * shell a session leader). The mark is removed before the caller sees it.
 */
#define PID_MARK "FAULTLINE-PID:"
#define PID_PREFIX "printf '" PID_MARK "%%s\\n' \"$$\" >&2\n"

static long take_pid(buffer *b)
{
    size_t m = strlen(PID_MARK);
    if (b->len < m || memcmp(b->p, PID_MARK, m) != 0)
        return 0;
    char *nl = memchr(b->p, '\n', b->len);
    if (nl == NULL)
        return 0;
    long pid = strtol(b->p + m, NULL, 10);
    size_t cut = (size_t)(nl + 1 - b->p);
    memmove(b->p, nl + 1, b->len - cut + 1);
    b->len -= cut;
    return pid;
}

/* Stop an overrun command: SIGKILL its process group, then let its channel
 * wind down. If it will not within GRACE_MS, the connection is marked
 * broken rather than left half-used. */
static void stop_command(fl_ssh *s, LIBSSH2_CHANNEL *ch, long pid)
{
    int64_t grace = fl_clock_mono_ns() / 1000000 + GRACE_MS;
    LIBSSH2_CHANNEL *k = NULL;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "kill -KILL -- -%ld", pid);
    if (pid > 1 && start_command(s, cmd, grace, &k, NULL) == FL_OK &&
        (drain(s, k, grace, NULL, NULL, NULL) != FL_OK ||
         finish_channel(s, k, grace, NULL, NULL) != FL_OK))
        s->broken = true;
    if (s->broken || drain(s, ch, grace, NULL, NULL, NULL) != FL_OK ||
        finish_channel(s, ch, grace, NULL, NULL) != FL_OK)
        s->broken = true;
}

int fl_ssh_exec(fl_ssh *s, const char *command, int timeout_ms,
                fl_ssh_result *res, fl_error *err)
{
    memset(res, 0, sizeof *res);
    int rc = check_usable(s, err);
    if (rc != FL_OK)
        return rc;
    int64_t deadline = deadline_after(timeout_ms);
    char *wrapped = NULL;
    if (asprintf(&wrapped, PID_PREFIX "%s", command) < 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    LIBSSH2_CHANNEL *ch = NULL;
    rc = start_command(s, wrapped, deadline, &ch, err);
    free(wrapped);
    if (rc != FL_OK)
        return rc;
    buffer out = {0}, errb = {0};
    rc = drain(s, ch, deadline, &out, &errb, err);
    long pid = take_pid(&errb);
    if (rc == FL_OK)
        rc = finish_channel(s, ch, deadline, res, err);
    else if (!s->broken)
        stop_command(s, ch, pid);
    if (rc == FL_SSH_ETIMEOUT)
        fl_error_set(err, rc, "%s: command timed out after %d ms: %.200s",
                     s->host, timeout_ms, command);
    if (rc != FL_OK) {
        free(out.p);
        free(errb.p);
        memset(res, 0, sizeof *res);
        return rc;
    }
    take_buffer(&out, &res->out, &res->out_len);
    take_buffer(&errb, &res->err, &res->err_len);
    if (res->out == NULL || res->err == NULL) {
        fl_ssh_result_free(res);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    return FL_OK;
}

int fl_ssh_exec_argv(fl_ssh *s, const char *const *argv, int timeout_ms,
                     fl_ssh_result *res, fl_error *err)
{
    memset(res, 0, sizeof *res);
    if (argv == NULL || argv[0] == NULL)
        return fl_error_set(err, FL_EUSAGE, "ssh exec: empty argv");
    char *cmd = fl_ssh_quote_argv(argv);
    if (cmd == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = fl_ssh_exec(s, cmd, timeout_ms, res, err);
    free(cmd);
    return rc;
}

/* ---- quoting -------------------------------------------------------------------- */

static bool shell_safe(const char *a)
{
    if (*a == '\0')
        return false;
    for (const char *p = a; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_@%+=:,./-", *p))
            return false;
    return true;
}

/* Single quotes keep every byte literal except the quote itself, which is
 * written as '\'' (close, escaped quote, reopen). */
static size_t quoted_len(const char *a)
{
    if (shell_safe(a))
        return strlen(a);
    size_t n = 2;
    for (const char *p = a; *p; p++)
        n += *p == '\'' ? 4 : 1;
    return n;
}

static char *quote_into(char *d, const char *a)
{
    if (shell_safe(a)) {
        size_t n = strlen(a);
        memcpy(d, a, n);
        return d + n;
    }
    *d++ = '\'';
    for (const char *p = a; *p; p++) {
        if (*p == '\'') {
            memcpy(d, "'\\''", 4);
            d += 4;
        } else {
            *d++ = *p;
        }
    }
    *d++ = '\'';
    return d;
}

char *fl_ssh_quote_argv(const char *const *argv)
{
    size_t n = 1;
    for (size_t i = 0; argv[i]; i++)
        n += quoted_len(argv[i]) + 1;
    char *s = malloc(n);
    if (s == NULL)
        return NULL;
    char *d = s;
    for (size_t i = 0; argv[i]; i++) {
        if (i > 0)
            *d++ = ' ';
        d = quote_into(d, argv[i]);
    }
    *d = '\0';
    return s;
}

/* ---- SCP -------------------------------------------------------------------------- */

static int write_all(fl_ssh *s, LIBSSH2_CHANNEL *ch, const char *p, size_t n,
                     int64_t deadline, fl_error *err)
{
    while (n > 0) {
        ssize_t w = libssh2_channel_write(ch, p, n);
        if (w == LIBSSH2_ERROR_EAGAIN) {
            int rc = wait_socket(s, deadline, err, "sending");
            if (rc != FL_OK)
                return rc;
            continue;
        }
        if (w < 0)
            return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "sending");
        p += w;
        n -= (size_t)w;
    }
    return FL_OK;
}

static int send_file(fl_ssh *s, LIBSSH2_CHANNEL *ch, int fd, off_t size,
                     int64_t deadline, fl_error *err)
{
    char buf[32768];
    off_t sent = 0;
    while (sent < size) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fl_error_set(err, FL_EIO, "reading the local file: %s",
                                n < 0 ? strerror(errno) : "it shrank");
        int rc = write_all(s, ch, buf, (size_t)n, deadline, err);
        if (rc != FL_OK)
            return rc;
        sent += n;
    }
    /* scp's protocol: the sender ends each file with a zero byte. */
    int rc = write_all(s, ch, "", 1, deadline, err);
    if (rc != FL_OK)
        return rc;
    RETRY(rc, s, deadline, err, "sending EOF", libssh2_channel_send_eof(ch));
    if (rc == 0)
        RETRY(rc, s, deadline, err, "waiting for scp",
              libssh2_channel_wait_eof(ch));
    if (rc < 0 && rc != FL_SSH_ETIMEOUT)
        return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "finishing the upload");
    return rc;
}

static LIBSSH2_CHANNEL *scp_open(fl_ssh *s, const char *remote, int mode,
                                 off_t size, libssh2_struct_stat *st,
                                 int64_t deadline, int *rc, fl_error *err)
{
    for (;;) {
        LIBSSH2_CHANNEL *ch =
            st ? libssh2_scp_recv2(s->session, remote, st)
               : libssh2_scp_send64(s->session, remote, mode & 0777,
                                    (libssh2_int64_t)size, 0, 0);
        if (ch != NULL)
            return ch;
        if (libssh2_session_last_errno(s->session) != LIBSSH2_ERROR_EAGAIN) {
            *rc = fl_error_set(err, FL_EIO, "%s: scp %s: %s", s->host, remote,
                               ssh_msg(s));
            return NULL;
        }
        if ((*rc = wait_socket(s, deadline, err, "starting scp")) != FL_OK) {
            s->broken = true;
            return NULL;
        }
    }
}

int fl_ssh_upload(fl_ssh *s, const char *local_path, const char *remote_path,
                  int mode, int timeout_ms, fl_error *err)
{
    int rc = check_usable(s, err);
    if (rc != FL_OK)
        return rc;
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = fl_error_set(err, FL_ENOINPUT, "%s: cannot read: %s", local_path,
                          fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int64_t deadline = deadline_after(timeout_ms);
    LIBSSH2_CHANNEL *ch = scp_open(s, remote_path, mode, st.st_size, NULL,
                                   deadline, &rc, err);
    if (ch != NULL) {
        rc = send_file(s, ch, fd, st.st_size, deadline, err);
        fl_ssh_result r = {0};
        if (rc == FL_OK)
            rc = finish_channel(s, ch, deadline, &r, err);
        else
            s->broken = true;
        if (rc == FL_OK && r.exit_status != 0)
            rc = fl_error_set(err, FL_EIO, "%s: upload to %s: remote scp "
                                           "exited with status %d",
                              s->host, remote_path, r.exit_status);
    }
    close(fd);
    if (rc != FL_OK)
        fl_error_wrap(err, "upload %s -> %s", local_path, remote_path);
    return rc;
}

static int recv_file(fl_ssh *s, LIBSSH2_CHANNEL *ch, int fd, off_t size,
                     int64_t deadline, fl_error *err)
{
    char buf[32768];
    off_t got = 0;
    while (got < size) {
        size_t want = size - got < (off_t)sizeof buf ? (size_t)(size - got)
                                                     : sizeof buf;
        ssize_t n = libssh2_channel_read(ch, buf, want);
        if (n == LIBSSH2_ERROR_EAGAIN) {
            int rc = wait_socket(s, deadline, err, "receiving");
            if (rc != FL_OK)
                return rc;
            continue;
        }
        if (n < 0)
            return ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "receiving");
        if (n == 0 && libssh2_channel_eof(ch))
            return fl_error_set(err, FL_EIO, "%s: file cut short", s->host);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                return fl_error_set(err, FL_EIO, "writing: %s", strerror(errno));
            off += w > 0 ? w : 0;
        }
        got += n;
    }
    /* scp's protocol ends with an acknowledgement from the receiver; then
     * EOF lets the remote scp exit. */
    int rc = write_all(s, ch, "", 1, deadline, err);
    if (rc == FL_OK)
        RETRY(rc, s, deadline, err, "sending EOF", libssh2_channel_send_eof(ch));
    if (rc == FL_OK)
        rc = drain(s, ch, deadline, NULL, NULL, err);
    return rc < 0 ? ssh_fail(s, FL_SSH_EUNAVAILABLE, err, "finishing") : rc;
}

int fl_ssh_download(fl_ssh *s, const char *remote_path, const char *local_path,
                    int timeout_ms, fl_error *err)
{
    int rc = check_usable(s, err);
    if (rc != FL_OK)
        return rc;
    int64_t deadline = deadline_after(timeout_ms);
    libssh2_struct_stat st;
    memset(&st, 0, sizeof st);
    LIBSSH2_CHANNEL *ch = scp_open(s, remote_path, 0, 0, &st, deadline, &rc,
                                   err);
    if (ch == NULL)
        return fl_error_wrap(err, "download %s -> %s", remote_path, local_path);
    int fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = fl_error_set(err, FL_EIO, "%s: cannot create: %s", local_path,
                          strerror(errno));
        int64_t grace = fl_clock_mono_ns() / 1000000 + GRACE_MS;
        int e;
        /* EOF instead of the acknowledgement makes the remote scp quit. */
        RETRY(e, s, grace, NULL, "sending EOF", libssh2_channel_send_eof(ch));
        if (e != 0 || drain(s, ch, grace, NULL, NULL, NULL) != FL_OK ||
            finish_channel(s, ch, grace, NULL, NULL) != FL_OK)
            s->broken = true;
        return rc;
    }
    rc = recv_file(s, ch, fd, st.st_size, deadline, err);
    if (rc == FL_OK)
        rc = finish_channel(s, ch, deadline, NULL, err);
    else
        s->broken = true;
    if (close(fd) != 0 && rc == FL_OK)
        rc = fl_error_set(err, FL_EIO, "%s: %s", local_path, strerror(errno));
    if (rc != FL_OK) {
        unlink(local_path);
        fl_error_wrap(err, "download %s -> %s", remote_path, local_path);
    }
    return rc;
}

/* ---- the nodes file ------------------------------------------------------------ */

static bool valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 63)
        return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
            return false;
    return true;
}

static bool valid_address(const char *a)
{
    size_t len = strlen(a);
    if (len == 0 || len > 253)
        return false;
    for (const char *p = a; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".:-", *p))
            return false;
    return true;
}

static int add_node(fl_nodes *ns, size_t *cap, const char *name,
                    const char *addr, size_t line)
{
    if (ns->count == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        fl_node *v = realloc(ns->nodes, c * sizeof *v);
        if (v == NULL)
            return FL_ENOMEM;
        ns->nodes = v;
        *cap = c;
    }
    fl_node *n = &ns->nodes[ns->count];
    n->name = strdup(name);
    n->address = strdup(addr);
    n->line = line;
    ns->count++;
    return n->name && n->address ? FL_OK : FL_ENOMEM;
}

/* Check and add one line's node; the line is modified in place. */
static int parse_node_line(char *line, const char *file, size_t lineno,
                           fl_nodes *ns, size_t *cap, fl_error *err)
{
    char *hash = strchr(line, '#');
    if (hash != NULL)
        *hash = '\0';
    static const char ws[] = " \t\r\n\v\f";
    char *save = NULL;
    char *name = strtok_r(line, ws, &save);
    if (name == NULL)
        return FL_OK;
    char *addr = strtok_r(NULL, ws, &save);
    char *extra = strtok_r(NULL, ws, &save);
    if (addr == NULL)
        return fl_error_set(err, FL_EDATA, "%s:%zu: expected NAME ADDRESS, "
                            "found only \"%.64s\"", file, lineno, name);
    if (extra != NULL)
        return fl_error_set(err, FL_EDATA, "%s:%zu: expected NAME ADDRESS, "
                            "found more: \"%.64s\"", file, lineno, extra);
    if (!valid_name(name))
        return fl_error_set(err, FL_EDATA, "%s:%zu: bad node name \"%.64s\" "
                            "(1-63 characters of A-Z a-z 0-9 . _ -)",
                            file, lineno, name);
    if (!valid_address(addr))
        return fl_error_set(err, FL_EDATA, "%s:%zu: bad address \"%.64s\" "
                            "for node %s", file, lineno, addr, name);
    const fl_node *dup = fl_nodes_find(ns, name);
    if (dup != NULL)
        return fl_error_set(err, FL_EDATA, "%s:%zu: node \"%s\" is already "
                            "defined on line %zu", file, lineno, name,
                            dup->line);
    if (add_node(ns, cap, name, addr, lineno) != FL_OK)
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", file);
    return FL_OK;
}

int fl_nodes_read(FILE *in, const char *name, fl_nodes *out, fl_error *err)
{
    fl_nodes ns = {0};
    size_t cap = 0, lineno = 0, len = 0;
    char *line = NULL;
    int rc = FL_OK;
    while (rc == FL_OK && getline(&line, &len, in) != -1)
        rc = parse_node_line(line, name, ++lineno, &ns, &cap, err);
    if (rc == FL_OK && ferror(in))
        rc = fl_error_set(err, FL_EIO, "%s: read error", name);
    if (rc == FL_OK && ns.count == 0)
        rc = fl_error_set(err, FL_EDATA, "%s: no nodes (expected lines of "
                          "NAME ADDRESS)", name);
    free(line);
    if (rc != FL_OK) {
        fl_nodes_free(&ns);
        return rc;
    }
    *out = ns;
    return FL_OK;
}

int fl_nodes_load(const char *path, fl_nodes *out, fl_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fl_error_set(err, FL_ENOINPUT, "%s: cannot open: %s", path,
                            strerror(errno));
    int rc = fl_nodes_read(f, path, out, err);
    fclose(f);
    return rc;
}

void fl_nodes_free(fl_nodes *ns)
{
    if (ns == NULL)
        return;
    for (size_t i = 0; i < ns->count; i++) {
        free(ns->nodes[i].name);
        free(ns->nodes[i].address);
    }
    free(ns->nodes);
    ns->nodes = NULL;
    ns->count = 0;
}

const fl_node *fl_nodes_find(const fl_nodes *ns, const char *name)
{
    for (size_t i = 0; i < ns->count; i++)
        if (ns->nodes[i].name && strcmp(ns->nodes[i].name, name) == 0)
            return &ns->nodes[i];
    return NULL;
}

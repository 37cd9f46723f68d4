/*
 * pgwire.c — see pgwire.h. Messages: a type byte (none for the startup
 * message), a big-endian int32 length that counts itself, the body.
 */
#include "targets/clients/pgwire.h"
#include "harness/netbind.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PGW_MAX_MESSAGE (16u << 20)

struct pgw {
    int fd;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wait for fd to be ready for `events` until deadline: 1, 0 (timed out),
 * -1 (error). */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* Send all n bytes: 0, or -1 (*sent says whether any byte went out). */
static int send_all(int fd, const char *p, size_t n, double deadline,
                    bool *sent, bool *timed_out)
{
    while (n > 0) {
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w <= 0) {
            *timed_out = w == 0;
            return -1;
        }
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        *sent = true;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int recv_all(int fd, char *p, size_t n, double deadline,
                    bool *timed_out)
{
    while (n > 0) {
        int w = wait_fd(fd, POLLIN, deadline);
        if (w <= 0) {
            *timed_out = w == 0;
            return -1;
        }
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 |
           u[3];
}

static void put32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

/* One message: *type and *body (malloc'd, NUL-terminated, *len bytes). */
static int read_msg(int fd, double deadline, char *type, char **body,
                    size_t *len, bool *timed_out)
{
    char head[5];
    if (recv_all(fd, head, 5, deadline, timed_out) != 0)
        return -1;
    uint32_t n = be32(head + 1);
    if (n < 4 || n > PGW_MAX_MESSAGE)
        return -1;
    *type = head[0];
    *len = n - 4;
    *body = malloc(*len + 1);
    if (*body == NULL || recv_all(fd, *body, *len, deadline, timed_out) != 0) {
        free(*body);
        *body = NULL;
        return -1;
    }
    (*body)[*len] = '\0';
    return 0;
}

/* An ErrorResponse's field f ('C' code, 'M' message), or "". */
static const char *error_field(const char *body, size_t len, char f)
{
    for (size_t i = 0; i < len && body[i];) {
        char k = body[i];
        const char *v = body + i + 1;
        if (k == f)
            return v;
        i += 2 + strlen(v);
    }
    return "";
}

int pgw_connect(const char *host, int port, const char *source,
                const char *user, const char *database, int timeout_ms,
                pgw **out, fl_error *err)
{
    *out = NULL;
    double deadline = now_ms() + timeout_ms;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return fl_error_set(err, FL_EUSAGE, "postgres: \"%s\" is not an IPv4 "
                            "address", host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fl_error_set(err, FL_EIO, "postgres: socket: %s", strerror(errno));
    int rc = fl_net_bind(fd, source, err);
    if (rc != FL_OK) {
        close(fd);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bool timed_out = false, sent = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return fl_error_set(err, FL_EIO, "postgres: connect %s:%d: %s", host,
                            port, strerror(errno));
    }
    int w = wait_fd(fd, POLLOUT, deadline), soerr = 0;
    socklen_t sl = sizeof soerr;
    if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
        soerr != 0) {
        close(fd);
        return fl_error_set(err, FL_EIO, "postgres: connect %s:%d: %s", host,
                            port, w == 0 ? "timed out" : strerror(soerr));
    }
    char msg[512];
    int n = snprintf(msg + 8, sizeof msg - 8, "user%c%s%cdatabase%c%s%c%c", 0,
                     user, 0, 0, database, 0, 0);
    if (n < 0 || (size_t)n + 8 >= sizeof msg) {
        close(fd);
        return fl_error_set(err, FL_EUSAGE, "postgres: user or database too "
                            "long");
    }
    put32(msg, (uint32_t)n + 8);
    put32(msg + 4, 196608); /* protocol 3.0 */
    if (send_all(fd, msg, (size_t)n + 8, deadline, &sent, &timed_out) != 0) {
        close(fd);
        return fl_error_set(err, FL_EIO, "postgres: start-up: %s",
                            timed_out ? "timed out" : "connection lost");
    }
    for (;;) {
        char type, *body;
        size_t len;
        if (read_msg(fd, deadline, &type, &body, &len, &timed_out) != 0) {
            close(fd);
            return fl_error_set(err, FL_EIO, "postgres: start-up: %s",
                                timed_out ? "timed out" : "connection lost");
        }
        if (type == 'E' || (type == 'R' && (len < 4 || be32(body) != 0))) {
            char why[300];
            snprintf(why, sizeof why, "%s", type == 'E'
                     ? error_field(body, len, 'M')
                     : "the server wants a password (use trust authentication)");
            free(body);
            close(fd);
            return fl_error_set(err, FL_EIO, "postgres: start-up refused: %s",
                                why);
        }
        free(body);
        if (type == 'Z')
            break;
    }
    pgw *c = malloc(sizeof *c);
    if (c == NULL) {
        close(fd);
        return fl_error_set(err, FL_ENOMEM, "postgres: out of memory");
    }
    c->fd = fd;
    *out = c;
    return FL_OK;
}

void pgw_close(pgw *c)
{
    if (c == NULL)
        return;
    char bye[5] = {'X'};
    put32(bye + 1, 4);
    ssize_t ignored = send(c->fd, bye, 5, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    close(c->fd);
    free(c);
}

void pgw_result_clear(pgw_result *res)
{
    for (size_t i = 0; i < res->n; i++) {
        free(res->stmts[i].tag);
        free(res->stmts[i].value);
    }
    free(res->stmts);
    free(res->message);
    memset(res, 0, sizeof *res);
}

/* The statement being answered (appended on its first message). */
static pgw_stmt *current(pgw_result *res, bool *open)
{
    if (!*open) {
        pgw_stmt *p = realloc(res->stmts, (res->n + 1) * sizeof *p);
        if (p == NULL)
            return NULL;
        res->stmts = p;
        memset(&p[res->n++], 0, sizeof *p);
        *open = true;
    }
    return &res->stmts[res->n - 1];
}

int pgw_query(pgw *c, const char *sql, int timeout_ms, pgw_result *res,
              fl_error *err)
{
    memset(res, 0, sizeof *res);
    double deadline = now_ms() + timeout_ms;
    size_t n = strlen(sql) + 1;
    char *msg = malloc(n + 5);
    if (msg == NULL)
        return fl_error_set(err, FL_ENOMEM, "postgres: out of memory");
    msg[0] = 'Q';
    put32(msg + 1, (uint32_t)n + 4);
    memcpy(msg + 5, sql, n);
    int s = send_all(c->fd, msg, n + 5, deadline, &res->sent, &res->timed_out);
    free(msg);
    if (s != 0) {
        res->broken = true;
        return FL_OK;
    }
    bool open = false;
    for (;;) {
        char type, *body;
        size_t len;
        if (read_msg(c->fd, deadline, &type, &body, &len, &res->timed_out)) {
            res->broken = true;
            return FL_OK;
        }
        pgw_stmt *st = NULL;
        if (type == 'D' || type == 'C' || type == 'T') {
            st = current(res, &open);
            if (st == NULL) {
                free(body);
                return fl_error_set(err, FL_ENOMEM, "postgres: out of memory");
            }
        }
        if (type == 'D' && !st->has_row && len >= 6) {
            uint32_t vl = be32(body + 2);
            st->has_row = true;
            if (vl != UINT32_MAX && vl <= len - 6)
                st->value = strndup(body + 6, vl);
        } else if (type == 'C') {
            st->tag = strdup(body);
            open = false;
        } else if (type == 'E') {
            res->error = true;
            snprintf(res->sqlstate, sizeof res->sqlstate, "%s",
                     error_field(body, len, 'C'));
            free(res->message);
            res->message = strdup(error_field(body, len, 'M'));
        } else if (type == 'Z') {
            free(body);
            return FL_OK;
        }
        free(body);
    }
}

/* transport: see transport.h. One thread polls the listening socket, the
 * inbound connections, the outbound links and a wake-up eventfd. */
#include "targets/raftkv/transport.h"
#include "base/alloc.h"
#include "base/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_IN 32            /* inbound connections kept at once */
#define RX_MAX 8192          /* received frames not yet taken */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define POLL_MS 50

typedef struct qframe {
    struct qframe *next;
    size_t len;
    uint8_t *data;
} qframe;

typedef struct out_link {
    int fd;               /* -1: not connected */
    bool connecting;
    uint64_t since_ms;    /* connect start or last write progress */
    uint64_t next_try_ms;
    uint32_t backoff_ms;
    qframe *head, *tail;
    size_t n, off;        /* frames queued; bytes of head already sent */
} out_link;

typedef struct in_conn {
    int fd; /* -1: free slot */
    uint8_t *buf;
    size_t len, cap;
    uint64_t last_ms;
} in_conn;

struct transport {
    transport_config cfg;
    int listen_fd, wake_fd;
    pthread_t thread;
    pthread_mutex_t mu; /* guards out[].head/tail/n, rx_*, stop */
    bool stop;
    out_link out[RAFT_MAX_NODES + 1];
    in_conn in[MAX_IN];
    transport_frame *rx_head, *rx_tail;
    size_t rx_n;
};

static void poke(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w; /* a full eventfd counter already means "wake up" */
}

int transport_parse_addr(const char *s, transport_addr *out, fl_error *err)
{
    const char *colon = strrchr(s, ':');
    struct in_addr a;
    memset(out, 0, sizeof *out);
    if (!colon || (size_t)(colon - s) >= sizeof out->host)
        return fl_error_set(err, FL_EUSAGE,
                            "address \"%s\": expected IPV4:PORT", s);
    memcpy(out->host, s, (size_t)(colon - s));
    if (inet_pton(AF_INET, out->host, &a) != 1)
        return fl_error_set(err, FL_EUSAGE,
                            "address \"%s\": \"%s\" is not an IPv4 address",
                            s, out->host);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
        return fl_error_set(err, FL_EUSAGE,
                            "address \"%s\": port must be 1..65535", s);
    out->port = (uint16_t)port;
    return FL_OK;
}

static struct sockaddr_in sockaddr_of(const transport_addr *a, bool any_port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(any_port ? 0 : a->port);
    inet_pton(AF_INET, a->host, &sa.sin_addr);
    return sa;
}

/* ---- outbound -------------------------------------------------------------------- */

static void queue_clear(out_link *l)
{
    while (l->head) {
        qframe *f = l->head;
        l->head = f->next;
        fl_free(f->data);
        fl_free(f);
    }
    l->tail = NULL;
    l->n = l->off = 0;
}

/* Close a broken link, drop what it had queued (stale by the time we
 * reconnect) and schedule the next attempt. Caller holds mu. */
static void link_fail(out_link *l, uint64_t now)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->connecting = false;
    queue_clear(l);
    l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (l->backoff_ms > BACKOFF_MAX_MS)
        l->backoff_ms = BACKOFF_MAX_MS;
    l->next_try_ms = now + l->backoff_ms;
}

static void link_connect(transport *t, raft_id p, uint64_t now)
{
    out_link *l = &t->out[p];
    struct sockaddr_in self = sockaddr_of(&t->cfg.addrs[t->cfg.self], true);
    struct sockaddr_in peer = sockaddr_of(&t->cfg.addrs[p], false);
    int one = 1;
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        link_fail(l, now);
        return;
    }
    setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Bind to our own peer address so partitions by address apply. */
    if (bind(l->fd, (struct sockaddr *)&self, sizeof self) < 0 ||
        (connect(l->fd, (struct sockaddr *)&peer, sizeof peer) < 0 &&
         errno != EINPROGRESS)) {
        link_fail(l, now);
        return;
    }
    l->connecting = true;
    l->since_ms = now;
}

static void link_connected(out_link *l, uint64_t now)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        link_fail(l, now);
        return;
    }
    l->connecting = false;
    l->backoff_ms = 0;
    l->since_ms = now;
}

static void link_write(out_link *l, uint64_t now)
{
    while (l->head) {
        qframe *f = l->head;
        ssize_t w = send(l->fd, f->data + l->off, f->len - l->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                link_fail(l, now);
            return;
        }
        l->since_ms = now;
        l->off += (size_t)w;
        if (l->off < f->len)
            continue;
        l->head = f->next;
        if (!l->head)
            l->tail = NULL;
        l->n--;
        l->off = 0;
        fl_free(f->data);
        fl_free(f);
    }
}

/* The peer never writes on our outbound connection: any readable event is
 * EOF or an error. */
static void link_readable(out_link *l, uint64_t now)
{
    uint8_t junk[256];
    ssize_t r = recv(l->fd, junk, sizeof junk, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        link_fail(l, now);
}

int transport_send(transport *t, raft_id to, uint8_t *frame, size_t len)
{
    qframe *f = NULL;
    pthread_mutex_lock(&t->mu);
    out_link *l = to >= 1 && to <= t->cfg.n_nodes && to != t->cfg.self
                      ? &t->out[to] : NULL;
    if (l && l->n < TRANSPORT_QUEUE_MAX && (f = fl_malloc(sizeof *f))) {
        f->next = NULL;
        f->len = len;
        f->data = frame;
        if (l->tail)
            l->tail->next = f;
        else
            l->head = f;
        l->tail = f;
        l->n++;
    }
    pthread_mutex_unlock(&t->mu);
    if (!f) {
        fl_free(frame);
        return -1;
    }
    poke(t->wake_fd);
    return 0;
}

/* ---- inbound ---------------------------------------------------------------------- */

static void in_close(in_conn *c)
{
    close(c->fd);
    fl_free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static void in_accept(transport *t, uint64_t now)
{
    int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    in_conn *slot = &t->in[0];
    for (int i = 0; i < MAX_IN; i++) {
        if (t->in[i].fd < 0) {
            slot = &t->in[i];
            break;
        }
        if (t->in[i].last_ms < slot->last_ms)
            slot = &t->in[i];
    }
    if (slot->fd >= 0) /* all busy: the quietest is probably dead */
        in_close(slot);
    slot->fd = fd;
    slot->last_ms = now;
}

/* Hand complete frames to the raft thread; false if the stream is bad. */
static bool in_extract(transport *t, in_conn *c)
{
    bool any = false;
    size_t pos = 0;
    while (c->len - pos >= 4) {
        size_t flen = raft_msg_frame_len(c->buf + pos);
        if (flen < 5 || flen > RAFT_MSG_MAX_FRAME)
            return false;
        if (c->len - pos < flen)
            break;
        transport_frame *f = fl_malloc(sizeof *f + flen);
        if (f) {
            f->next = NULL;
            f->len = flen;
            memcpy(f->data, c->buf + pos, flen);
            pthread_mutex_lock(&t->mu);
            if (t->rx_n < RX_MAX) {
                if (t->rx_tail)
                    t->rx_tail->next = f;
                else
                    t->rx_head = f;
                t->rx_tail = f;
                t->rx_n++;
                f = NULL;
                any = true;
            }
            pthread_mutex_unlock(&t->mu);
            fl_free(f); /* dropped: raft thread is behind */
        }
        pos += flen;
    }
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
    if (any)
        poke(t->cfg.notify_fd);
    return true;
}

static void in_read(transport *t, in_conn *c, uint64_t now)
{
    if (c->cap - c->len < 65536) {
        uint8_t *nb = fl_realloc(c->buf, c->cap + 65536);
        if (!nb) {
            in_close(c);
            return;
        }
        c->buf = nb;
        c->cap += 65536;
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        in_close(c);
        return;
    }
    if (r < 0)
        return;
    c->len += (size_t)r;
    c->last_ms = now;
    if (!in_extract(t, c))
        in_close(c);
}

transport_frame *transport_recv(transport *t)
{
    pthread_mutex_lock(&t->mu);
    transport_frame *f = t->rx_head;
    t->rx_head = t->rx_tail = NULL;
    t->rx_n = 0;
    pthread_mutex_unlock(&t->mu);
    return f;
}

/* ---- the thread ------------------------------------------------------------------- */

enum { SLOT_WAKE, SLOT_LISTEN, SLOT_OUT, SLOT_IN };

typedef struct poll_set {
    struct pollfd pfd[2 + RAFT_MAX_NODES + MAX_IN];
    int kind[2 + RAFT_MAX_NODES + MAX_IN];
    int which[2 + RAFT_MAX_NODES + MAX_IN];
    int n;
} poll_set;

static void ps_add(poll_set *ps, int fd, short events, int kind, int which)
{
    ps->pfd[ps->n] = (struct pollfd){.fd = fd, .events = events};
    ps->kind[ps->n] = kind;
    ps->which[ps->n] = which;
    ps->n++;
}

/* Start due connections, abandon stalled ones, and list what to poll. */
static void build_poll_set(transport *t, poll_set *ps, uint64_t now)
{
    ps->n = 0;
    ps_add(ps, t->wake_fd, POLLIN, SLOT_WAKE, 0);
    ps_add(ps, t->listen_fd, POLLIN, SLOT_LISTEN, 0);
    for (raft_id p = 1; p <= t->cfg.n_nodes; p++) {
        out_link *l = &t->out[p];
        if (p == t->cfg.self)
            continue;
        if (l->fd < 0 && l->n > 0 && now >= l->next_try_ms)
            link_connect(t, p, now);
        if (l->fd >= 0 && !l->connecting && l->n == 0)
            l->since_ms = now; /* idle is not stalled */
        if (l->fd >= 0 && now - l->since_ms > TRANSPORT_STALL_MS)
            link_fail(l, now);
        if (l->fd < 0)
            continue;
        short ev = l->connecting ? POLLOUT : (short)(POLLIN | (l->n ? POLLOUT : 0));
        ps_add(ps, l->fd, ev, SLOT_OUT, (int)p);
    }
    for (int i = 0; i < MAX_IN; i++)
        if (t->in[i].fd >= 0)
            ps_add(ps, t->in[i].fd, POLLIN, SLOT_IN, i);
}

static void handle_out(transport *t, out_link *l, short re, uint64_t now)
{
    (void)t;
    if (l->connecting) {
        if (re & (POLLOUT | POLLERR | POLLHUP))
            link_connected(l, now);
        return;
    }
    if (re & (POLLERR | POLLHUP)) {
        link_fail(l, now);
        return;
    }
    if (re & POLLIN)
        link_readable(l, now);
    if (l->fd >= 0 && (re & POLLOUT))
        link_write(l, now);
}

static void *transport_main(void *arg)
{
    transport *t = arg;
    poll_set ps;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        if (t->stop) {
            pthread_mutex_unlock(&t->mu);
            break;
        }
        build_poll_set(t, &ps, (uint64_t)(fl_clock_mono_ns() / 1000000));
        pthread_mutex_unlock(&t->mu);
        if (poll(ps.pfd, (nfds_t)ps.n, POLL_MS) < 0 && errno != EINTR)
            break;
        uint64_t now = (uint64_t)(fl_clock_mono_ns() / 1000000);
        for (int i = 0; i < ps.n; i++) {
            short re = ps.pfd[i].revents;
            if (!re)
                continue;
            if (ps.kind[i] == SLOT_WAKE) {
                uint64_t v;
                ssize_t r = read(t->wake_fd, &v, sizeof v);
                (void)r;
            } else if (ps.kind[i] == SLOT_LISTEN) {
                in_accept(t, now);
            } else if (ps.kind[i] == SLOT_OUT) {
                pthread_mutex_lock(&t->mu);
                handle_out(t, &t->out[ps.which[i]], re, now);
                pthread_mutex_unlock(&t->mu);
            } else if (t->in[ps.which[i]].fd == ps.pfd[i].fd) {
                in_read(t, &t->in[ps.which[i]], now);
            }
        }
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------- */

static int listen_on(const transport_addr *a, int *out, fl_error *err)
{
    struct sockaddr_in sa = sockaddr_of(a, false);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fl_error_set(err, FL_EIO, "transport: socket: %s",
                            strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        close(fd);
        return fl_error_set(err, FL_EIO, "transport: cannot listen on %s:%u: %s",
                            a->host, a->port, strerror(e));
    }
    *out = fd;
    return FL_OK;
}

int transport_start(const transport_config *cfg, transport **out,
                    fl_error *err)
{
    if (cfg->n_nodes < 1 || cfg->n_nodes > RAFT_MAX_NODES ||
        cfg->self < 1 || cfg->self > cfg->n_nodes)
        return fl_error_set(err, FL_EUSAGE, "transport: bad node id %u of %u",
                            cfg->self, cfg->n_nodes);
    transport *t = fl_calloc(1, sizeof *t);
    if (!t)
        return fl_error_set(err, FL_ENOMEM, "transport: out of memory");
    t->cfg = *cfg;
    t->wake_fd = -1;
    for (int i = 0; i <= RAFT_MAX_NODES; i++)
        t->out[i].fd = -1;
    for (int i = 0; i < MAX_IN; i++)
        t->in[i].fd = -1;
    int rc = listen_on(&cfg->addrs[cfg->self], &t->listen_fd, err);
    if (rc) {
        fl_free(t);
        return rc;
    }
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&t->mu, NULL);
    if (t->wake_fd < 0 || pthread_create(&t->thread, NULL, transport_main, t)) {
        if (t->wake_fd >= 0)
            close(t->wake_fd);
        close(t->listen_fd);
        pthread_mutex_destroy(&t->mu);
        fl_free(t);
        return fl_error_set(err, FL_EIO, "transport: cannot start thread");
    }
    *out = t;
    return FL_OK;
}

void transport_stop(transport *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_mutex_unlock(&t->mu);
    poke(t->wake_fd);
    pthread_join(t->thread, NULL);
    for (raft_id p = 0; p <= RAFT_MAX_NODES; p++) {
        if (t->out[p].fd >= 0)
            close(t->out[p].fd);
        queue_clear(&t->out[p]);
    }
    for (int i = 0; i < MAX_IN; i++)
        if (t->in[i].fd >= 0)
            in_close(&t->in[i]);
    transport_frame *f = t->rx_head;
    while (f) {
        transport_frame *next = f->next;
        fl_free(f);
        f = next;
    }
    close(t->listen_fd);
    close(t->wake_fd);
    pthread_mutex_destroy(&t->mu);
    fl_free(t);
}

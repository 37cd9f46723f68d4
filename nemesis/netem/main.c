/*
 * faultline-netem: the packet fault's shaper, run on a node (inside its
 * network namespace) for as long as the fault is in force. It binds an
 * NFQUEUE over raw netfilter netlink (no library beyond libc), receives
 * every packet iptables steers into that queue, decides its fate with
 * shape.h, and gives the verdicts: drop at once, or accept when its time
 * comes (out of order: the kernel matches verdicts by packet id). A
 * duplicate is sent again through a raw socket with a mark the steering
 * rule skips. On SIGTERM or SIGINT every held packet is let go and the
 * program exits 0; the rule's --queue-bypass lets traffic through
 * unshaped whenever no shaper is bound, so a killed shaper never cuts a
 * node off.
 *
 * Usage: faultline-netem --queue N [--delay MS] [--jitter MS] [--loss P]
 *        [--duplicate P] [--reorder P] [--corrupt P] [--rate KBIT]
 *        [--seed S] [--mark M] [--tag WORD] [--daemon]
 * --tag is ignored: it lets a node's rest command find this node's shaper
 * on a host that runs several nodes. --daemon returns (exit 0) once the
 * queue is bound, the shaper running on in the background; any failure
 * before that is an exit 1 with the reason on stderr.
 */
#include "nemesis/netem/shape.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NETEM_BUF (256 * 1024)
#define NETEM_MAX_HELD 65536

typedef struct held {
    uint64_t release_ns;
    uint32_t id;              /* network order, as the kernel gave it */
    unsigned char *data;      /* the packet's bytes when kept, or NULL */
    size_t len;
    bool changed;             /* data is to replace the packet */
    bool duplicate;           /* send data again when it goes */
} held;

typedef struct netem {
    int nl, raw;              /* netfilter netlink; raw IP for duplicates */
    uint16_t queue;
    uint32_t mark;
    shaper sh;
    held *heap;               /* min-heap on release_ns */
    size_t count;
} netem;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- netlink messages --------------------------------------------------------- */

/* Start a message of nfqueue type t for our queue in buf. */
static struct nlmsghdr *msg_start(char *buf, uint16_t t, uint16_t queue,
                                  uint16_t flags)
{
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    memset(buf, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
    h->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    h->nlmsg_type = (uint16_t)((NFNL_SUBSYS_QUEUE << 8) | t);
    h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    struct nfgenmsg *g = NLMSG_DATA(h);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(queue);
    return h;
}

static void msg_attr(struct nlmsghdr *h, uint16_t type, const void *data,
                     size_t len)
{
    struct nlattr *a = (struct nlattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + len);
    memcpy((char *)a + NLA_HDRLEN, data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static int msg_send(int fd, struct nlmsghdr *h)
{
    struct sockaddr_nl to = {.nl_family = AF_NETLINK};
    return sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&to,
                  sizeof to) < 0 ? -1 : 0;
}

/* Send a config message and wait for its ack: 0, or -1 with errno. */
static int config(netem *ne, struct nlmsghdr *h)
{
    static char buf[8192];
    h->nlmsg_flags |= NLM_F_ACK;
    if (msg_send(ne->nl, h) != 0)
        return -1;
    ssize_t n = recv(ne->nl, buf, sizeof buf, 0);
    if (n < 0)
        return -1;
    struct nlmsghdr *r = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(r, (size_t)n) || r->nlmsg_type != NLMSG_ERROR)
        return 0;
    struct nlmsgerr *e = NLMSG_DATA(r);
    if (e->error) {
        errno = -e->error;
        return -1;
    }
    return 0;
}

/* Bind the queue: whole packets (a duplicate or a corruption needs the
 * bytes), a long queue, and fail-open (a full queue accepts, never drops:
 * the loss is ours to choose). */
static int bind_queue(netem *ne)
{
    char buf[256];
    struct nlmsghdr *h = msg_start(buf, NFQNL_MSG_CONFIG, ne->queue, 0);
    struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND,
                                       .pf = htons(AF_INET)};
    msg_attr(h, NFQA_CFG_CMD, &cmd, sizeof cmd);
    if (config(ne, h) != 0)
        return -1;
    h = msg_start(buf, NFQNL_MSG_CONFIG, ne->queue, 0);
    struct nfqnl_msg_config_params params = {.copy_range = htonl(0xffff),
                                             .copy_mode = NFQNL_COPY_PACKET};
    msg_attr(h, NFQA_CFG_PARAMS, &params, sizeof params);
    uint32_t maxlen = htonl(NETEM_MAX_HELD);
    msg_attr(h, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
    uint32_t flags = htonl(NFQA_CFG_F_FAIL_OPEN);
    msg_attr(h, NFQA_CFG_FLAGS, &flags, sizeof flags);
    msg_attr(h, NFQA_CFG_MASK, &flags, sizeof flags);
    return config(ne, h);
}

static void verdict(netem *ne, uint32_t id, uint32_t v,
                    const unsigned char *data, size_t len)
{
    static char buf[NLMSG_HDRLEN + 64 + 0x10000];
    struct nlmsghdr *h = msg_start(buf, NFQNL_MSG_VERDICT, ne->queue, 0);
    struct nfqnl_msg_verdict_hdr vh = {.verdict = htonl(v), .id = id};
    msg_attr(h, NFQA_VERDICT_HDR, &vh, sizeof vh);
    if (data && len <= 0xffff)
        msg_attr(h, NFQA_PAYLOAD, data, len);
    if (msg_send(ne->nl, h) != 0)
        perror("faultline-netem: verdict");
}

/* ---- held packets --------------------------------------------------------------- */

static void heap_push(netem *ne, held x)
{
    size_t i = ne->count++;
    while (i > 0 && ne->heap[(i - 1) / 2].release_ns > x.release_ns) {
        ne->heap[i] = ne->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    ne->heap[i] = x;
}

static held heap_pop(netem *ne)
{
    held top = ne->heap[0], last = ne->heap[--ne->count];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ne->count)
            break;
        if (c + 1 < ne->count &&
            ne->heap[c + 1].release_ns < ne->heap[c].release_ns)
            c++;
        if (ne->heap[c].release_ns >= last.release_ns)
            break;
        ne->heap[i] = ne->heap[c];
        i = c;
    }
    if (ne->count)
        ne->heap[i] = last;
    return top;
}

/* Send a copy of an IPv4 packet through the raw socket, marked so that
 * the steering rule lets it pass. */
static void send_copy(netem *ne, const unsigned char *pkt, size_t len)
{
    if (len < 20 || (pkt[0] >> 4) != 4)
        return;
    struct sockaddr_in to = {.sin_family = AF_INET};
    memcpy(&to.sin_addr, pkt + 16, 4);
    if (sendto(ne->raw, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
        perror("faultline-netem: duplicate");
}

/* Accept a packet (changed, and its duplicate sent, as decided). */
static void let_go(netem *ne, held *h)
{
    verdict(ne, h->id, NF_ACCEPT, h->changed ? h->data : NULL, h->len);
    if (h->duplicate && h->data)
        send_copy(ne, h->data, h->len);
    free(h->data);
}

/* Let go of every packet due by now (all of them when now is UINT64_MAX). */
static void release_due(netem *ne, uint64_t now)
{
    while (ne->count && ne->heap[0].release_ns <= now) {
        held h = heap_pop(ne);
        let_go(ne, &h);
    }
}

/* One queued packet: its header and payload attributes. */
static void on_packet(netem *ne, struct nlmsghdr *h)
{
    size_t off = NLMSG_ALIGN(sizeof(struct nfgenmsg));
    struct nfqnl_msg_packet_hdr *ph = NULL;
    unsigned char *payload = NULL;
    size_t plen = 0;
    while (off + NLA_HDRLEN <= NLMSG_PAYLOAD(h, 0)) {
        struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + off);
        if (a->nla_len < NLA_HDRLEN || off + a->nla_len > NLMSG_PAYLOAD(h, 0))
            break;
        int type = a->nla_type & NLA_TYPE_MASK;
        if (type == NFQA_PACKET_HDR)
            ph = (struct nfqnl_msg_packet_hdr *)((char *)a + NLA_HDRLEN);
        else if (type == NFQA_PAYLOAD) {
            payload = (unsigned char *)a + NLA_HDRLEN;
            plen = a->nla_len - NLA_HDRLEN;
        }
        off += NLA_ALIGN(a->nla_len);
    }
    if (!ph)
        return;
    uint64_t now = now_ns();
    shape_decision d = shaper_decide(&ne->sh, plen, now);
    if (d.drop) {
        verdict(ne, ph->packet_id, NF_DROP, NULL, 0);
        return;
    }
    /* The bytes are kept only when needed: to damage them, or to send
     * them again beside the original (at the same time, as netem). */
    held x = {.release_ns = d.release_ns, .id = ph->packet_id,
              .changed = d.corrupt && payload,
              .duplicate = d.duplicate && payload};
    if ((x.changed || x.duplicate) && (x.data = malloc(plen))) {
        memcpy(x.data, payload, plen);
        x.len = plen;
        if (x.changed)
            shape_corrupt(x.data, plen);
    }
    x.changed = x.changed && x.data;
    if (x.release_ns <= now || ne->count == NETEM_MAX_HELD) {
        let_go(ne, &x);
        return;
    }
    heap_push(ne, x);
}

static void on_readable(netem *ne)
{
    static char buf[NETEM_BUF];
    for (;;) {
        ssize_t got = recv(ne->nl, buf, sizeof buf, MSG_DONTWAIT);
        if (got <= 0)
            return;   /* EAGAIN; ENOBUFS (a message lost) is survived */
        int len = (int)got;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
             h = NLMSG_NEXT(h, len))
            if ((h->nlmsg_type & 0xff) == NFQNL_MSG_PACKET &&
                (h->nlmsg_type >> 8) == NFNL_SUBSYS_QUEUE)
                on_packet(ne, h);
    }
}

static void run(netem *ne)
{
    struct pollfd pfd = {.fd = ne->nl, .events = POLLIN};
    while (!stopping) {
        int timeout = 1000;
        if (ne->count) {
            uint64_t now = now_ns(), at = ne->heap[0].release_ns;
            timeout = at <= now ? 0 : (int)((at - now) / 1000000u) + 1;
            if (timeout > 1000)
                timeout = 1000;
        }
        if (poll(&pfd, 1, timeout) > 0)
            on_readable(ne);
        release_due(ne, now_ns());
    }
    release_due(ne, UINT64_MAX);
}

/* ---- set-up ---------------------------------------------------------------------- */

static int usage(const char *why)
{
    fprintf(stderr, "faultline-netem: %s\nusage: faultline-netem --queue N "
            "[--delay MS] [--jitter MS] [--loss P] [--duplicate P] "
            "[--reorder P] [--corrupt P] [--rate KBIT] [--seed S] [--mark M] "
            "[--tag WORD] [--daemon]\n", why);
    return 2;
}

/* Parse argv into p and the rest; 0, or usage()'s code. */
static int parse(int argc, char **argv, shape_params *p, long *queue,
                 uint64_t *seed, uint32_t *mark, int *daemonize)
{
    struct { const char *name; double *to; } nums[] = {
        {"--delay", &p->delay_ms}, {"--jitter", &p->jitter_ms},
        {"--loss", &p->loss}, {"--duplicate", &p->duplicate},
        {"--reorder", &p->reorder}, {"--corrupt", &p->corrupt},
        {"--rate", &p->rate_kbit},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        size_t k = 0;
        if (strcmp(a, "--daemon") == 0) {
            *daemonize = 1;
            continue;
        }
        if (!v)
            return usage("an option lacks its value");
        i++;
        while (k < sizeof nums / sizeof *nums && strcmp(a, nums[k].name) != 0)
            k++;
        if (k < sizeof nums / sizeof *nums)
            *nums[k].to = strtod(v, &end);
        else if (strcmp(a, "--queue") == 0)
            *queue = strtol(v, &end, 10);
        else if (strcmp(a, "--seed") == 0)
            *seed = strtoull(v, &end, 10);
        else if (strcmp(a, "--mark") == 0)
            *mark = (uint32_t)strtoul(v, &end, 0);
        else if (strcmp(a, "--tag") == 0)
            end = (char *)v + strlen(v);
        else
            return usage(a);
        if (!end || *end)
            return usage(a);
    }
    if (*queue < 0 || *queue > 65535)
        return usage("--queue must be 0..65535");
    const char *bad = shape_params_check(p);
    return bad ? usage(bad) : 0;
}

static int open_sockets(netem *ne)
{
    ne->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    ne->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (ne->nl < 0 || ne->raw < 0)
        return -1;
    int big = 8 << 20, one = 1;
    /* A burst must not overflow the socket: a lost message leaves its
     * packet queued until the shaper exits. */
    if (setsockopt(ne->nl, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
        setsockopt(ne->nl, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(ne->nl, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    struct sockaddr_nl me = {.nl_family = AF_NETLINK};
    if (bind(ne->nl, (struct sockaddr *)&me, sizeof me) != 0)
        return -1;
    return setsockopt(ne->raw, SOL_SOCKET, SO_MARK, &ne->mark, sizeof ne->mark);
}

/* --daemon: fork; the parent waits for the child's word that the queue is
 * bound and exits with it. Returns the write end in the child (-1 when
 * not daemonizing), or exits. */
static int detach(int daemonize)
{
    int fds[2];
    if (!daemonize)
        return -1;
    if (pipe(fds) != 0) {
        perror("faultline-netem: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("faultline-netem: fork");
        exit(1);
    }
    if (pid > 0) {
        char c = 1;
        close(fds[1]);
        exit(read(fds[0], &c, 1) == 1 && c == 0 ? 0 : 1);
    }
    close(fds[0]);
    setsid();
    return fds[1];
}

int main(int argc, char **argv)
{
    shape_params p = {0};
    long queue = -1;
    uint64_t seed = 1;
    uint32_t mark = 0x464c;
    int daemonize = 0;
    int rc = parse(argc, argv, &p, &queue, &seed, &mark, &daemonize);
    if (rc)
        return rc;
    int ready = detach(daemonize);
    netem ne = {.queue = (uint16_t)queue, .mark = mark};
    shaper_init(&ne.sh, &p, seed);
    ne.heap = malloc(NETEM_MAX_HELD * sizeof *ne.heap);
    if (!ne.heap || open_sockets(&ne) != 0 || bind_queue(&ne) != 0) {
        fprintf(stderr, "faultline-netem: binding queue %ld: %s (needs root, "
                "nfnetlink_queue and xt_NFQUEUE)\n", queue, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ready >= 0) {
        char ok = 0;
        if (write(ready, &ok, 1) != 1)
            return 1;
        close(ready);
    }
    run(&ne);
    free(ne.heap);
    return 0;
}

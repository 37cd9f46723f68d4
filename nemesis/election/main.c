/*
 * faultline-election: the election-kill fault's agent, run on a node
 * (inside its network namespace) for the fault's window. It polls the
 * node's own status over HTTP every POLL_MS, and kills -9 and starts
 * again at once the node's database when watch.h says so: a follower
 * whose term rose (it just voted), a leader once per period. Everything
 * happens on the node, so a restart takes milliseconds, not the SSH round
 * trips of the target's kill and start (the Raft simulation found the
 * schedule works only when the restart is that quick: bench_vv_hunt.c).
 *
 * The restart repeats the database's own start: the process named by
 * --pid-file was started by faultline's wrapper (targets/clients/daemon.h:
 * `sh -c '... & echo $! > PIDFILE; wait $!; echo $? > db.exit'`), its
 * parent; the agent reads that shell's argv, environment, directory and
 * stdout, kills the database, waits for the wrapper to record the exit
 * and end, removes db.exit and the pid file as a start does, and runs the
 * same shell again in a new session. A pid file that does not name a
 * wrapped process is an error (exit 1).
 *
 * With --hold PORT --peer HOST:PORT it is also a proxy in front of the
 * database's peer port (the fault steers the peers' new connections to
 * PORT with an iptables REDIRECT): each peer's frames are relayed to
 * HOST:PORT and held while the database restarts, then written to the
 * new process, so messages in flight outlive the restart (etcd's
 * robustness tests put such a proxy in front of every peer).
 *
 * Usage: faultline-election --status HOST:PORT [--path /status]
 *        --pid-file PATH [--window-ms MS] [--period-ms MS] [--chance PCT]
 *        [--seed S]
 * Prints "leader_kills=N voter_kills=M polls=P" (with --hold also
 * "relayed=C replays=R": peer connections taken, restarts bridged) and
 * exits 0 at the end of
 * the window; 1 on a usage error or a restart that failed.
 */
#include "nemesis/election/watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 2
#define STATUS_TIMEOUT_MS 100
#define MAX_ARGS 64
#define MAX_BLOB 65536

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000),
                          (long)((ms - (double)(time_t)(ms / 1000) * 1000) *
                                 1e6)};
    nanosleep(&ts, NULL);
}

/* One GET of the status; the response into buf. Returns its length, or
 * -1 (no answer within STATUS_TIMEOUT_MS). */
static ssize_t get_status(const struct sockaddr_in *sa, const char *path,
                          char *buf, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t got = -1;
    size_t n = 0;
    double until = now_s() + STATUS_TIMEOUT_MS / 1000.0;
    char req[512];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 &&
        errno != EINPROGRESS)
        goto out;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, STATUS_TIMEOUT_MS) != 1 || (p.revents & (POLLERR | POLLHUP)))
        goto out;
    if (write(fd, req, (size_t)rl) != rl)
        goto out;
    for (;;) {
        int left = (int)((until - now_s()) * 1000);
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) != 1)
            goto out;
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0 && errno == EAGAIN)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n + 1 >= size)
            break;
    }
    buf[n] = '\0';
    got = (ssize_t)n;
out:
    close(fd);
    return got;
}

/* A /proc file's bytes (NUL-separated lists), into buf. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    ssize_t r;
    while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Split a NUL-separated list into v (at most max - 1 entries, then NULL). */
static int split(char *blob, ssize_t len, char **v, int max)
{
    int k = 0;
    for (char *p = blob; p < blob + len && k < max - 1; p += strlen(p) + 1)
        v[k++] = p;
    v[k] = NULL;
    return k;
}

/* What it takes to start the database again as its wrapper did. */
typedef struct wrapper {
    pid_t db, sh;
    char argv_blob[MAX_BLOB], env_blob[MAX_BLOB];
    char *argv[MAX_ARGS], *env[1024];
    char cwd[PATH_MAX], out[PATH_MAX];
} wrapper;

static int wrapper_read(const char *pid_file, wrapper *w)
{
    char buf[64], path[128];
    if (read_file(pid_file, buf, sizeof buf) <= 0 ||
        (w->db = (pid_t)atol(buf)) <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)w->db);
    char stat[1024];
    if (read_file(path, stat, sizeof stat) <= 0)
        return -1;
    const char *rp = strrchr(stat, ')');
    char state;
    int ppid;
    if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid <= 1)
        return -1;
    w->sh = (pid_t)ppid;
    snprintf(path, sizeof path, "/proc/%d/cmdline", ppid);
    ssize_t an = read_file(path, w->argv_blob, sizeof w->argv_blob);
    snprintf(path, sizeof path, "/proc/%d/environ", ppid);
    ssize_t en = read_file(path, w->env_blob, sizeof w->env_blob);
    if (an <= 0 || en < 0 ||
        split(w->argv_blob, an, w->argv, MAX_ARGS) != 3 ||
        strcmp(w->argv[1], "-c") != 0)
        return -1;
    split(w->env_blob, en, w->env, 1024);
    snprintf(path, sizeof path, "/proc/%d/cwd", ppid);
    ssize_t cl = readlink(path, w->cwd, sizeof w->cwd - 1);
    snprintf(path, sizeof path, "/proc/%d/fd/1", ppid);
    ssize_t ol = readlink(path, w->out, sizeof w->out - 1);
    if (cl <= 0 || ol <= 0)
        return -1;
    w->cwd[cl] = w->out[ol] = '\0';
    return 0;
}

static bool gone(pid_t p)
{
    char path[64], st[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
    if (read_file(path, st, sizeof st) <= 0)
        return true;
    const char *rp = strrchr(st, ')');
    return rp && rp[1] == ' ' && rp[2] == 'Z';
}

/* Kill the database, let its wrapper record the exit, start it again. */
static int restart(const char *pid_file, const char *exit_file)
{
    wrapper *w = calloc(1, sizeof *w);
    if (!w || wrapper_read(pid_file, w) != 0) {
        free(w);
        return 0;   /* not running (a restart under way): nothing to do */
    }
    kill(w->db, SIGKILL);
    for (int i = 0; i < 2000 && !gone(w->sh); i++)
        sleep_ms(1);
    unlink(exit_file);
    unlink(pid_file);
    pid_t c = fork();
    if (c == 0) {
        if (fork() != 0)
            _exit(0);   /* the grandchild is init's: no zombie here */
        setsid();
        signal(SIGHUP, SIG_IGN);   /* as nohup */
        int in = open("/dev/null", O_RDONLY);
        int out = open(w->out, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (in < 0 || out < 0 || chdir(w->cwd) != 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execvpe(w->argv[0], w->argv, w->env);
        _exit(127);
    }
    int st = 0;
    if (c > 0)
        waitpid(c, &st, 0);
    free(w);
    return c > 0 ? 0 : -1;
}


/* ---- the holding proxy (--hold) ------------------------------------------------ */

/* One peer's connection to the node, relayed frame by frame (u32
 * big-endian length, then the body: raftkv's wire format) to the
 * database. When the database dies the peer's connection stays up and
 * what it sends is held; the frame being written is written again, whole,
 * to the restarted process, so a message in flight outlives the restart. */
#define MAX_CONNS 32
#define BUF_MAX (8u << 20)

typedef struct relay {
    int in, up;          /* the peer's connection; ours to the database */
    char *buf;           /* bytes read from in: the last REPLAY_S of what
                            was written to up, then what was not */
    size_t len, sent;    /* sent: bytes of buf written to up */
    size_t mark;         /* a frame boundary: what is before it goes at
                            the next mark */
    double mark_at;
} relay;

/* What was written to the database within this long is written again to
 * the restarted process: the dead one may not have read it (a message in
 * flight outlives the restart, as through a network that holds it). */
#define REPLAY_S 0.1

static relay relays[MAX_CONNS];
static unsigned relayed, replays;   /* connections taken, restarts bridged */
static int listen_fd = -1;
static struct sockaddr_in upstream;

static int hold_open(const char *port)
{
    struct sockaddr_in sa = upstream;
    sa.sin_port = htons((uint16_t)atoi(port));
    int one = 1;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 ||
        setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) ||
        listen(listen_fd, 64))
        return -1;
    for (int i = 0; i < MAX_CONNS; i++)
        relays[i] = (relay){.in = -1, .up = -1};
    return 0;
}

static void relay_close(relay *r)
{
    if (r->in >= 0)
        close(r->in);
    if (r->up >= 0)
        close(r->up);
    free(r->buf);
    *r = (relay){.in = -1, .up = -1};
}

static void hold_accept(void)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int i = 0;
        while (i < MAX_CONNS && relays[i].in >= 0)
            i++;
        if (i == MAX_CONNS) {
            close(fd);
            continue;
        }
        relays[i] = (relay){.in = fd, .up = -1, .buf = malloc(BUF_MAX)};
        relayed++;
        if (!relays[i].buf)
            relay_close(&relays[i]);
    }
}

/* Bytes of whole frames at the head of r's buffer. */
static size_t whole_frames(const relay *r)
{
    size_t off = 0;
    while (off + 4 <= r->len) {
        const unsigned char *p = (const unsigned char *)r->buf + off;
        size_t f = 4 + ((size_t)p[0] << 24 | (size_t)p[1] << 16 |
                        (size_t)p[2] << 8 | p[3]);
        if (off + f > r->len)
            break;
        off += f;
    }
    return off;
}

/* The last whole frame's start at or before `sent`: where to write again
 * from when the database died in the middle of a frame. */
static size_t frame_start(const relay *r, size_t sent)
{
    size_t off = 0, start = 0;
    while (off + 4 <= r->len && off <= sent) {
        const unsigned char *p = (const unsigned char *)r->buf + off;
        size_t f = 4 + ((size_t)p[0] << 24 | (size_t)p[1] << 16 |
                        (size_t)p[2] << 8 | p[3]);
        start = off;
        if (off + f > sent)
            break;
        off += f;
        start = off;
    }
    return start;
}

static void relay_down(relay *r)
{
    close(r->up);
    r->up = -1;
    r->sent = 0;   /* the buffer starts at a frame boundary: replay it */
    replays++;
}

/* Forget what was written more than REPLAY_S ago. */
static void relay_mark(relay *r, double now)
{
    if (now - r->mark_at < REPLAY_S)
        return;
    memmove(r->buf, r->buf + r->mark, r->len - r->mark);
    r->len -= r->mark;
    r->sent = r->sent > r->mark ? r->sent - r->mark : 0;
    r->mark = frame_start(r, r->sent);
    r->mark_at = now;
}

static void relay_pump(relay *r)
{
    if (r->in < 0)
        return;
    if (r->len < BUF_MAX) {
        ssize_t n = read(r->in, r->buf + r->len, BUF_MAX - r->len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            relay_close(r);   /* the peer went away: so does the relay */
            return;
        }
        if (n > 0)
            r->len += (size_t)n;
    }
    if (r->up < 0 && r->len) {
        r->up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = {0, 20000};
        if (r->up >= 0)
            setsockopt(r->up, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (r->up < 0 || connect(r->up, (struct sockaddr *)&upstream,
                                 sizeof upstream) != 0) {
            if (r->up >= 0)
                close(r->up);
            r->up = -1;   /* not up again yet: hold, try at the next poll */
            return;
        }
        fcntl(r->up, F_SETFL, O_NONBLOCK);
    }
    if (r->up >= 0) {
        char junk[64];   /* the database never writes here: EOF is death */
        ssize_t n = recv(r->up, junk, sizeof junk, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            relay_down(r);
            return;
        }
    }
    size_t whole = whole_frames(r);
    while (r->up >= 0 && r->sent < whole) {
        ssize_t w = send(r->up, r->buf + r->sent, whole - r->sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (w <= 0) {
            relay_down(r);
            return;
        }
        r->sent += (size_t)w;
    }
    relay_mark(r, now_s());
}

/* Wait up to ms for the proxy's sockets, then move what there is. */
static void hold_step(double ms)
{
    if (listen_fd < 0) {
        sleep_ms(ms);
        return;
    }
    struct pollfd p[MAX_CONNS + 1];
    int n = 0;
    p[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    for (int i = 0; i < MAX_CONNS; i++)
        if (relays[i].in >= 0)
            p[n++] = (struct pollfd){.fd = relays[i].in, .events = POLLIN};
    poll(p, (nfds_t)n, (int)ms);
    hold_accept();
    for (int i = 0; i < MAX_CONNS; i++)
        relay_pump(&relays[i]);
}

int main(int argc, char **argv)
{
    const char *status = NULL, *path = "/status", *pid_file = NULL;
    const char *hold = NULL, *peer = NULL;
    double window = 4000, period = 1000, chance = 100, lag = 5;
    unsigned long long seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--status")) status = v;
        else if (!strcmp(k, "--path")) path = v;
        else if (!strcmp(k, "--pid-file")) pid_file = v;
        else if (!strcmp(k, "--window-ms")) window = atof(v);
        else if (!strcmp(k, "--period-ms")) period = atof(v);
        else if (!strcmp(k, "--chance")) chance = atof(v);
        else if (!strcmp(k, "--lag-ms")) lag = atof(v);
        else if (!strcmp(k, "--hold")) hold = v;
        else if (!strcmp(k, "--peer")) peer = v;
        else if (!strcmp(k, "--seed")) seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "faultline-election: unknown option %s\n", k);
            return 1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64];
    const char *colon = status ? strrchr(status, ':') : NULL;
    if (!colon || !pid_file || (size_t)(colon - status) >= sizeof host) {
        fprintf(stderr, "usage: faultline-election --status HOST:PORT "
                        "--pid-file PATH [--path P] [--window-ms MS] "
                        "[--period-ms MS] [--chance PCT] [--lag-ms MS] "
                        "[--seed S]\n");
        return 1;
    }
    memcpy(host, status, (size_t)(colon - status));
    host[colon - status] = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "faultline-election: %s is not an IPv4 address\n",
                host);
        return 1;
    }
    if (hold) {
        const char *pc = peer ? strrchr(peer, ':') : NULL;
        char ph[64];
        if (!pc || (size_t)(pc - peer) >= sizeof ph) {
            fprintf(stderr, "faultline-election: --hold needs --peer "
                            "HOST:PORT\n");
            return 1;
        }
        memcpy(ph, peer, (size_t)(pc - peer));
        ph[pc - peer] = '\0';
        upstream = (struct sockaddr_in){.sin_family = AF_INET,
                                        .sin_port = htons((uint16_t)atoi(pc + 1))};
        if (inet_pton(AF_INET, ph, &upstream.sin_addr) != 1 ||
            hold_open(hold) != 0) {
            fprintf(stderr, "faultline-election: cannot hold on %s:%s: %s\n",
                    ph, hold, strerror(errno));
            return 1;
        }
    }
    char exit_file[PATH_MAX];
    const char *slash = strrchr(pid_file, '/');
    snprintf(exit_file, sizeof exit_file, "%.*sdb.exit",
             slash ? (int)(slash - pid_file + 1) : 0, pid_file);
    srand48((long)seed);
    watch_state w;
    double start = now_s(), end = start + window / 1000.0;
    watch_init(&w, start, period / 1000.0, chance);
    unsigned leader_kills = 0, voter_kills = 0, polls = 0;
    static char buf[16384];
    for (double now = start; now < end; now = now_s()) {
        ssize_t n = get_status(&sa, path, buf, sizeof buf);
        long long term;
        watch_role role;
        bool as_leader;
        polls++;
        if (n > 0 && watch_parse_status(buf, (size_t)n, &term, &role) &&
            watch_step(&w, now, term, role, (uint32_t)(drand48() * 10000),
                       &as_leader)) {
            /* The status changes once the vote is persisted and handed to
             * the node's transport: let the transport write it. */
            if (!as_leader && lag > 0)
                hold_step(lag);
            if (restart(pid_file, exit_file) != 0) {
                fprintf(stderr, "faultline-election: restart failed: %s\n",
                        strerror(errno));
                return 1;
            }
            as_leader ? leader_kills++ : voter_kills++;
            continue;
        }
        hold_step(POLL_MS);
    }
    printf("leader_kills=%u voter_kills=%u polls=%u", leader_kills,
           voter_kills, polls);
    if (hold)
        printf(" relayed=%u replays=%u", relayed, replays);
    printf("\n");
    return 0;
}

/*
 * ZooKeeper target: the db side runs QuorumPeerMain on the nodes over
 * SSH; the client is ZooKeeper's C library, one session per client. See
 * zookeeper.h for the layout, the options and the outcome table.
 */
#include "targets/clients/zookeeper.h"
#include "base/clock.h"
#include "harness/netbind.h"
#include "targets/clients/daemon.h"
#include "targets/clients/rmw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* The synchronous calls exist only in the multi-threaded library. */
#define THREADED
#include <zookeeper/zookeeper.h>

#define DEFAULT_JAVA "/usr/bin/java"
#define DEFAULT_CLASSPATH "/usr/share/java/zookeeper.jar:" \
    "/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
#define ZK_ADD_ATTEMPTS 20
/* Largest value read back: the set workload's arrays stay well below. */
#define ZK_MAX_DATA (1 << 20)
/* Our own return codes beside the library's ZOO_ERRORS (all <= 0): a
 * local failure before anything was sent, and data that is not JSON. */
#define ZK_RC_NOMEM 1
#define ZK_RC_NOT_JSON 2

/* ---- the start command (pure) -------------------------------------------------------- */

/* Short ticks so that elections and syncs take seconds, not the
 * defaults' tens of seconds; initLimit is generous because a follower's
 * JVM may still be warming up when it first syncs. preAllocSize keeps
 * each node's transaction log at 1 MB instead of 64 MB. */
static const char *const zk_cfg_fixed[] = {
    "tickTime=200",
    "initLimit=50",
    "syncLimit=15",
    "dataDir=$d/data",
    "preAllocSize=1024",
    "4lw.commands.whitelist=srvr,ruok,mntr",
    "admin.enableServer=false",
    NULL,
};

static const char *const zk_log4j[] = {
    "log4j.rootLogger=INFO, F",
    "log4j.appender.F=org.apache.log4j.FileAppender",
    "log4j.appender.F.File=$d/zookeeper.log",
    "log4j.appender.F.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.F.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] "
    "%-5p [%t] %c{1}@%L - %m%n",
    NULL,
};

/* printf '%s\n' of each line into file; lines hold $d, so double quotes. */
static void put_lines(FILE *f, const char *const *lines, const char *file)
{
    fputs("printf '%s\\n'", f);
    for (size_t i = 0; lines[i]; i++)
        fprintf(f, " \"%s\"", lines[i]);
    fprintf(f, " > %s; ", file);
}

static const daemon_spec zk_daemon = {
    .what = "zookeeper",
    .cmdline_re = "^[^ ]*java -Dfaultline.dir=$d ",
    .pid_file = "zookeeper.pid",
    .wipe = (const char *const[]){"data", "zookeeper.log", "stdout.log",
                                  "zookeeper.pid", "zoo.cfg",
                                  "log4j.properties", NULL},
    .logs = (const char *const[]){"zookeeper.log", "stdout.log", "zoo.cfg",
                                  NULL},
    .install_hint = "install default-jre-headless and zookeeper (make deps), "
                    "or give --java PATH",
};

/* Node i's preparation in $d: its jars checked, myid, zoo.cfg and
 * log4j.properties written. */
static char *prepare_line(const char *classpath, size_t n,
                          const char *const *addrs, size_t i)
{
    daemon_text t;
    FILE *f = daemon_text_open(&t);
    if (!f)
        return NULL;
    fprintf(f, "mkdir -p data; "
               "for j in $(echo %s | tr : ' '); do [ -r $j ] || "
               "{ echo \"$j: not found (install zookeeper, or give "
               "--classpath)\"; exit 1; }; done; "
               "echo %zu > data/myid; ", classpath, i + 1);
    put_lines(f, zk_cfg_fixed, "zoo.cfg");
    fprintf(f, "printf '%%s\\n' clientPort=%d clientPortAddress=%s",
            ZK_CLIENT_PORT, addrs[i]);
    for (size_t j = 0; j < n; j++)
        fprintf(f, " server.%zu=%s:%d:%d", j + 1, addrs[j], ZK_QUORUM_PORT,
                ZK_ELECTION_PORT);
    fputs(" >> zoo.cfg; ", f);
    put_lines(f, zk_log4j, "log4j.properties");
    fputs("true", f);
    return daemon_text_close(&t);
}

/* -Dfaultline.dir=$d comes first: the process is found by it (daemon.h).
 * A small serial-GC heap and the client compiler only: five JVMs share two
 * cores, and start-up time is what counts. A short cnxTimeout: election
 * connections to a partitioned peer give up after 2 s, not 5. */
static char *command_line(const char *java, const char *classpath)
{
    char *s = NULL;
    if (asprintf(&s, "%s -Dfaultline.dir=$d -Xmx64m -Xms32m "
                 "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
                 "-Dzookeeper.cnxTimeout=2000 "
                 "-Dlog4j.configuration=file:$d/log4j.properties "
                 "-cp $d:%s org.apache.zookeeper.server.quorum.QuorumPeerMain "
                 "$d/zoo.cfg", java, classpath) < 0)
        return NULL;
    return s;
}

char *zk_start_cmd(const char *java, const char *classpath,
                   const char *node_dir, const char *name, size_t n,
                   const char *const *addrs, size_t i)
{
    return daemon_start_cmd(&zk_daemon, node_dir, name,
                            (daemon_start){.prepare = prepare_line(classpath,
                                                                   n, addrs, i),
                                           .command = command_line(java,
                                                                   classpath)});
}

/* ---- four-letter words ---------------------------------------------------------------- */

bool zk_parse_srvr(const char *text, char *mode, size_t size,
                   unsigned long long *zxid)
{
    *zxid = 0;
    if (size)
        mode[0] = '\0';
    const char *z = strstr(text, "Zxid: ");
    if (z)
        *zxid = strtoull(z + 6, NULL, 0);
    const char *m = strstr(text, "Mode: ");
    if (!m)
        return false;
    m += 6;
    size_t k = strcspn(m, "\r\n");
    if (k >= size)
        k = size ? size - 1 : 0;
    if (size) {
        memcpy(mode, m, k);
        mode[k] = '\0';
    }
    return true;
}

static int wait_fd(int fd, short events, double until)
{
    int left = (int)((until - fl_clock_mono_s()) * 1000);
    struct pollfd p = {.fd = fd, .events = events};
    return left > 0 && poll(&p, 1, left) == 1 ? 0 : -1;
}

/* Connect fd to sa without blocking past until. */
static int connect_by(int fd, const struct sockaddr_in *sa, double until)
{
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
        return 0;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, until) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr)
        return -1;
    return 0;
}

/* Read until EOF (four-letter words close after answering). */
static int read_all(int fd, char *buf, size_t size, double until)
{
    size_t got = 0;
    for (;;) {
        if (wait_fd(fd, POLLIN, until) != 0)
            return -1;
        ssize_t k = read(fd, buf + got, size - 1 - got);
        if (k < 0)
            return -1;
        got += (size_t)k;
        buf[got] = '\0';
        if (k == 0 || got == size - 1)
            return 0;
    }
}

int zk_four_letter(const char *source, const char *addr, int port,
                   const char *word, int timeout_ms, char *buf, size_t size,
                   fl_error *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    buf[0] = '\0';
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return fl_error_set(err, FL_EUSAGE, "zookeeper: %s is not an IPv4 "
                            "address", addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fl_error_set(err, FL_EIO, "zookeeper: socket: %s",
                            strerror(errno));
    int rc = fl_net_bind(fd, source, err);
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    size_t wl = strlen(word);
    if (rc == FL_OK &&
        (connect_by(fd, &sa, until) != 0 ||
         write(fd, word, wl) != (ssize_t)wl ||
         read_all(fd, buf, size, until) != 0))
        rc = fl_error_set(err, FL_EIO, "zookeeper: %s to %s:%d: no answer "
                          "within %d ms", word, addr, port, timeout_ms);
    close(fd);
    return rc;
}

/* ---- binding the C library's sockets ----------------------------------------------------- */

static char zk_source[64];
static atomic_int zk_source_port;   /* 0: no source set */

void zk_net_bind_source(const char *source, int port)
{
    atomic_store(&zk_source_port, 0);
    if (!source || !*source || strlen(source) >= sizeof zk_source)
        return;
    strcpy(zk_source, source);
    atomic_store(&zk_source_port, port);
}

int __real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len);

static bool unbound_socket(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return false;
    if (ss.ss_family == AF_INET)
        return ((struct sockaddr_in *)&ss)->sin_port == 0;
    if (ss.ss_family == AF_INET6)
        return ((struct sockaddr_in6 *)&ss)->sin6_port == 0;
    return false;
}

static int dest_port(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)addr)->sin_port);
    if (addr->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    return -1;
}

int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int port = atomic_load(&zk_source_port);
    if (port && addr && dest_port(addr) == port && unbound_socket(fd)) {
        fl_error e = {0};
        if (fl_net_bind(fd, zk_source, &e) != FL_OK) {
            errno = EADDRNOTAVAIL;
            return -1;
        }
    }
    return __real_connect(fd, addr, len);
}

/* ---- outcomes (pure) --------------------------------------------------------------------- */

static void set_error(target_result *out, history_type type, const char *msg,
                      const char *detail)
{
    out->type = type;
    out->error = json_pack("{s:s}", "error", msg);
    if (out->error && detail)
        json_object_set_new(out->error, "detail", json_string(detail));
}

void zk_classify_error(int rc, bool is_read, target_result *out)
{
    memset(out, 0, sizeof *out);
    history_type maybe = is_read ? HISTORY_FAIL : HISTORY_INFO;
    switch (rc) {
    case ZNONODE:
        set_error(out, HISTORY_FAIL, "no node", NULL);
        break;
    case ZBADVERSION:
        set_error(out, HISTORY_FAIL, "bad version", NULL);
        out->refused = true;
        break;
    case ZNODEEXISTS:
        set_error(out, HISTORY_FAIL, "node exists", NULL);
        out->refused = true;
        break;
    case ZCONNECTIONLOSS:
        set_error(out, maybe, "connection loss", NULL);
        break;
    case ZOPERATIONTIMEOUT:
        set_error(out, maybe, "operation timeout", NULL);
        break;
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
        set_error(out, HISTORY_INFO, "session expired", zerror(rc));
        break;
    default:
        set_error(out, maybe, "zookeeper error", zerror(rc));
        break;
    }
}

/* ---- state and options ------------------------------------------------------------------- */

typedef struct zk_state {
    daemon_db db;            /* first: the daemon default's calls use it;
                                its binary is the JVM */
    char *classpath;
    bool sync_reads;
} zk_state;

/* The options, as target_options_parse leaves them. */
typedef struct zk_options {
    const char *java, *classpath;
    int read_mode;           /* READ_PLAIN or READ_SYNC */
} zk_options;

enum { READ_PLAIN, READ_SYNC };

static const target_option zk_option_table[] = {
    {.name = "java", .arg = "PATH", .chars = "/._-+",
     .help = "the JVM on the nodes", .default_value = DEFAULT_JAVA,
     .offset = offsetof(zk_options, java)},
    {.name = "classpath", .arg = "CP", .chars = "/._-+:",
     .help = "ZooKeeper's jars on the nodes, colon-separated",
     .default_value = DEFAULT_CLASSPATH,
     .offset = offsetof(zk_options, classpath)},
    {.name = "read-mode", .type = TARGET_OPT_CHOICE, .arg = "MODE",
     .choices = (const char *const[]){"plain", "sync", NULL},
     .help = "plain (getData from the session's node: may be stale) or "
             "sync (sync first)", .default_value = "plain",
     .offset = offsetof(zk_options, read_mode)},
    {0},
};

static void zk_destroy(void *st)
{
    zk_state *s = st;
    if (!s)
        return;
    daemon_db_clear(&s->db);
    free(s->classpath);
    free(s);
}

static int zk_start_parts(const void *st, size_t node, daemon_start *out)
{
    const zk_state *s = st;
    const remote *r = s->db.remote;
    out->prepare = prepare_line(s->classpath, remote_count(r),
                                remote_addresses(r), node);
    out->command = command_line(s->db.binary, s->classpath);
    return out->prepare && out->command ? FL_OK : FL_ENOMEM;
}

static int zk_check_nodes(const remote *r, fl_error *err)
{
    for (size_t i = 0; i < remote_count(r); i++) {
        struct in_addr a;
        if (inet_pton(AF_INET, remote_address(r, i), &a) != 1 ||
            !daemon_plain(remote_name(r, i), "._-"))
            return fl_error_set(err, FL_EUSAGE, "zookeeper: node \"%s\" (%s) "
                                "needs a plain name and an IPv4 address",
                                remote_name(r, i), remote_address(r, i));
    }
    return FL_OK;
}

static int zk_create(const target_config *cfg, void **out, fl_error *err)
{
    const zk_options *o = cfg->options;
    if (!o)
        return fl_error_set(err, FL_EUSAGE, "zookeeper: options not parsed");
    int rc = zk_check_nodes(cfg->remote, err);
    if (rc != FL_OK)
        return rc;
    zk_state *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "zookeeper: out of memory");
    rc = daemon_db_init(&s->db, cfg, &zk_daemon, o->java, zk_start_parts,
                        err);
    if (rc != FL_OK) {
        free(s);
        return rc;
    }
    s->classpath = strdup(o->classpath);
    s->sync_reads = o->read_mode == READ_SYNC;
    if (!s->classpath) {
        zk_destroy(s);
        return fl_error_set(err, FL_ENOMEM, "zookeeper: out of memory");
    }
    /* The library logs every lost connection to stderr; outcomes are in
     * the history already. */
    zoo_set_debug_level((ZooLogLevel)0);
    zk_net_bind_source(remote_bind_address(cfg->remote), ZK_CLIENT_PORT);
    *out = s;
    return FL_OK;
}

/* srvr on node: true with its mode and zxid when it serves. */
static bool zk_srvr(const zk_state *s, size_t node, int timeout_ms,
                    char *mode, size_t size, unsigned long long *zxid,
                    fl_error *err)
{
    char text[2048];
    if (zk_four_letter(remote_bind_address(s->db.remote),
                       remote_address(s->db.remote, node), ZK_CLIENT_PORT,
                       "srvr", timeout_ms, text, sizeof text, err) != FL_OK)
        return false;
    return zk_parse_srvr(text, mode, size, zxid);
}

static int zk_await_ready(void *st, size_t node, int timeout_ms, fl_error *err)
{
    zk_state *s = st;
    double until = fl_clock_mono_s() + timeout_ms / 1000.0;
    char mode[32] = "";
    unsigned long long zxid;
    fl_error e = {0};
    for (;;) {
        e.code = FL_OK;
        if (zk_srvr(s, node, 1000, mode, sizeof mode, &zxid, &e))
            return FL_OK;
        if (e.code == FL_NET_EUNBOUND)
            return fl_error_set(err, FL_EIO, "node %s: %s",
                                remote_name(s->db.remote, node), e.msg);
        if (fl_clock_mono_s() >= until)
            break;
        fl_sleep_s(0.2);
    }
    return fl_error_set(err, FL_EIO, "node %s: zookeeper did not answer srvr "
                        "with a Mode on %s:%d within %d ms (see its "
                        "zookeeper.log and stdout.log)",
                        remote_name(s->db.remote, node),
                        remote_address(s->db.remote, node), ZK_CLIENT_PORT,
                        timeout_ms);
}

/* The node whose srvr says leader; of two (an old leader cut off that
 * has not noticed yet), the one with the higher zxid, whose epoch is the
 * newer. */
static long zk_leader(void *st)
{
    zk_state *s = st;
    long best = -1;
    unsigned long long best_zxid = 0;
    for (size_t i = 0; i < remote_count(s->db.remote); i++) {
        char mode[32];
        unsigned long long zxid;
        fl_error e = {0};
        if (zk_srvr(s, i, 500, mode, sizeof mode, &zxid, &e) &&
            strcmp(mode, "leader") == 0 && (best < 0 || zxid > best_zxid)) {
            best = (long)i;
            best_zxid = zxid;
        }
    }
    return best;
}

/* ---- client ---------------------------------------------------------------------------------- */

typedef struct zk_client {
    const zk_state *s;
    size_t node;
    zhandle_t *zh;
} zk_client;

static void zk_watcher(zhandle_t *zh, int type, int state, const char *path,
                       void *ctx)
{
    (void)zh, (void)type, (void)state, (void)path, (void)ctx;
}

/* A new session with the client's node (connecting in the background:
 * the first operations wait for it, bounded by the session timeout). */
static int zk_session(zk_client *c)
{
    char host[80];
    snprintf(host, sizeof host, "%s:%d", remote_address(c->s->db.remote, c->node),
             ZK_CLIENT_PORT);
    c->zh = zookeeper_init(host, zk_watcher, ZK_SESSION_TIMEOUT_MS, NULL,
                           NULL, 0);
    return c->zh ? 0 : -1;
}

static int zk_client_open(void *st, size_t node, void **out, fl_error *err)
{
    zk_client *c = calloc(1, sizeof *c);
    if (c) {
        c->s = st;
        c->node = node;
    }
    if (!c || zk_session(c) != 0) {
        free(c);
        return fl_error_set(err, FL_ENOMEM, "zookeeper client: cannot start "
                            "a session with node %zu: %s", node,
                            strerror(errno));
    }
    *out = c;
    return FL_OK;
}

static void zk_client_close(void *cl)
{
    zk_client *c = cl;
    if (!c)
        return;
    if (c->zh)
        zookeeper_close(c->zh);
    free(c);
}

static void key_path(const json_t *key, char *out, size_t size)
{
    if (json_is_integer(key))
        snprintf(out, size, "/faultline-%" JSON_INTEGER_FORMAT,
                 json_integer_value(key));
    else
        snprintf(out, size, "/faultline-%s",
                 json_string_value(key) ? json_string_value(key) : "");
}

/* An expired session cannot come back: the next operation gets a new
 * one (and runs under a new process, the expired op being info). */
static bool session_gone(zk_client *c)
{
    return !c->zh || zoo_state(c->zh) == ZOO_EXPIRED_SESSION_STATE ||
           zoo_state(c->zh) == ZOO_AUTH_FAILED_STATE;
}

static void renew_session(zk_client *c)
{
    if (c->zh)
        zookeeper_close(c->zh);
    c->zh = NULL;
    zk_session(c);
}

typedef struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int rc;
} sync_wait;

static void sync_done(int rc, const char *value, const void *data)
{
    (void)value;
    sync_wait *w = (sync_wait *)data;
    pthread_mutex_lock(&w->lock);
    w->rc = rc;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* sync(path): the library calls every completion exactly once, with
 * ZCONNECTIONLOSS or ZCLOSING at the latest, so this wait ends. */
static int zk_sync(zhandle_t *zh, const char *path)
{
    sync_wait w = {.lock = PTHREAD_MUTEX_INITIALIZER,
                   .cond = PTHREAD_COND_INITIALIZER};
    int rc = zoo_async(zh, path, sync_done, &w);
    if (rc != ZOK)
        return rc;
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    return w.rc;
}

/* getData of path into *value (JSON null: no node) and *version. */
static int zk_get(zk_client *c, const char *path, json_t **value,
                  int *version)
{
    *value = NULL;
    char *buf = malloc(ZK_MAX_DATA);
    if (!buf)
        return ZK_RC_NOMEM;
    int len = ZK_MAX_DATA;
    struct Stat stat;
    int rc = zoo_get(c->zh, path, 0, buf, &len, &stat);
    if (rc == ZNONODE) {
        *value = json_null();
        *version = -1;
        rc = ZOK;
    } else if (rc == ZOK) {
        *version = stat.version;
        *value = len > 0 ? json_loadb(buf, (size_t)len, JSON_DECODE_ANY, NULL)
                         : json_null();
        if (!*value)
            rc = ZK_RC_NOT_JSON;
    }
    free(buf);
    return rc;
}

static void zk_read(zk_client *c, const char *path, target_result *out)
{
    memset(out, 0, sizeof *out);
    int version;
    int rc = c->s->sync_reads ? zk_sync(c->zh, path) : ZOK;
    if (rc == ZOK)
        rc = zk_get(c, path, &out->value, &version);
    if (rc == ZK_RC_NOMEM)
        set_error(out, HISTORY_FAIL, "out of memory", NULL);
    else if (rc == ZK_RC_NOT_JSON)
        set_error(out, HISTORY_FAIL, "zookeeper error", "the data is not JSON");
    else if (rc != ZOK)
        zk_classify_error(rc, true, out);
    else
        out->type = HISTORY_OK;
}

/* setData at version (-1: any); no node and create: create it. */
static int zk_put(zk_client *c, const char *path, const json_t *value,
                  int version, bool create)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return ZK_RC_NOMEM;
    int len = (int)strlen(text);
    int rc = create ? zoo_create(c->zh, path, text, len, &ZOO_OPEN_ACL_UNSAFE,
                                 0, NULL, 0)
                    : zoo_set(c->zh, path, text, len, version);
    free(text);
    return rc;
}

/* A write: setData, or create on first use. Any attempt that may have
 * been sent makes a later definite error indefinite. */
static int zk_write_value(zk_client *c, const char *path, const json_t *v)
{
    int rc = zk_put(c, path, v, -1, false);
    if (rc == ZNONODE) {
        rc = zk_put(c, path, v, -1, true);
        if (rc == ZNODEEXISTS)      /* created by another client meanwhile */
            rc = zk_put(c, path, v, -1, false);
    }
    return rc;
}

static void zk_outcome(int rc, bool is_read, const json_t *written,
                       target_result *out)
{
    if (rc == ZK_RC_NOMEM || rc == ZK_RC_NOT_JSON) {
        memset(out, 0, sizeof *out);
        set_error(out, HISTORY_FAIL, rc == ZK_RC_NOMEM ? "out of memory"
                  : "zookeeper error", rc == ZK_RC_NOMEM ? NULL
                  : "the data is not JSON");
    } else if (rc != ZOK) {
        zk_classify_error(rc, is_read, out);
    } else {
        memset(out, 0, sizeof *out);
        out->type = HISTORY_OK;
        out->value = json_deep_copy(written);
    }
}

/* cas [old, next] (op_value: the pair, an ok's value as invoked). */
static void zk_cas(zk_client *c, const char *path, const json_t *op_value,
                   target_result *out)
{
    const json_t *old = json_array_get(op_value, 0);
    const json_t *next = json_array_get(op_value, 1);
    json_t *now = NULL;
    int version;
    int rc = zk_get(c, path, &now, &version);
    if (rc == ZOK && !json_equal(now, old)) {
        memset(out, 0, sizeof *out);
        set_error(out, HISTORY_FAIL, "precondition failed", NULL);
        out->refused = true;
    } else if (rc == ZOK && version < 0) {
        /* old is null and the node absent: create it. */
        zk_outcome(zk_put(c, path, next, -1, true), false, op_value, out);
    } else if (rc == ZOK) {
        zk_outcome(zk_put(c, path, next, version, false), false, op_value,
                   out);
    } else {
        /* The read changed nothing: whatever it met, the cas did not
         * happen. */
        zk_outcome(rc, true, NULL, out);
    }
    json_decref(now);
}

/* The set add: rmw's READ is getData, its CAS setData at the version
 * that READ saw (create when the set was absent). */
static void zk_add(zk_client *c, const char *path, const json_t *element,
                   target_result *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_integer(element)) {
        set_error(out, HISTORY_FAIL, "zookeeper error", "an add's element "
                  "must be an integer");
        return;
    }
    rmw_add st;
    rmw_add_init(&st, json_integer_value(element));
    int version = -1;
    double deadline = fl_clock_mono_s() + 2.0 * ZK_SESSION_TIMEOUT_MS / 1000.0;
    for (int i = 0; i < ZK_ADD_ATTEMPTS && fl_clock_mono_s() < deadline; i++) {
        if (st.wait)
            fl_sleep_s(0.05);
        json_t *next = NULL;
        rmw_action act = rmw_add_next(&st, &next);
        if (act == RMW_DONE)
            break;
        target_result r;
        if (act == RMW_READ) {
            json_t *v = NULL;
            int rc = zk_get(c, path, &v, &version);
            zk_outcome(rc, true, v, &r);
            json_decref(v);
            rmw_add_read_answer(&st, &r);
        } else {
            int rc = zk_put(c, path, next, version, st.current == NULL);
            zk_outcome(rc, false, next, &r);
            if (rc == ZBADVERSION || rc == ZNODEEXISTS ||
                (rc == ZNONODE && st.current)) {
                target_result_clear(&r);
                rmw_add_cas_refused(&st, false, NULL);
            } else {
                rmw_add_cas_answer(&st, &r);
            }
        }
        json_decref(next);
    }
    rmw_add_give_up(&st);
    *out = st.result;
    memset(&st.result, 0, sizeof st.result);
    rmw_add_clear(&st);
}

static void zk_client_invoke(void *cl, const target_op *op, target_result *out)
{
    zk_client *c = cl;
    memset(out, 0, sizeof *out);
    const char *source = remote_bind_address(c->s->db.remote);
    if (source && !fl_net_is_local(source)) {
        set_error(out, HISTORY_FAIL, TARGET_ERROR_UNBOUND, NULL);
        return;
    }
    if (session_gone(c)) {
        /* This process's session is over: the op is not sent, and its
         * info hands the client a new process for the new session. */
        renew_session(c);
        set_error(out, HISTORY_INFO, "session expired", NULL);
        return;
    }
    char path[96];
    key_path(op->key, path, sizeof path);
    if (strcmp(op->f, "read") == 0) {
        zk_read(c, path, out);
    } else if (strcmp(op->f, "write") == 0) {
        zk_outcome(zk_write_value(c, path, op->value), false, op->value, out);
    } else if (strcmp(op->f, "cas") == 0 && json_array_size(op->value) == 2) {
        zk_cas(c, path, op->value, out);
    } else if (strcmp(op->f, "add") == 0) {
        zk_add(c, path, op->value, out);
    } else {
        set_error(out, HISTORY_FAIL, "zookeeper error", "unknown operation "
                  "or malformed value");
    }
    /* Expired while in flight (the op is info): the next op starts the
     * new session, under the new process the info gives it. */
    if (session_gone(c))
        renew_session(c);
}

static const char *const zk_operations[] = {"read", "write", "cas", "add",
                                            NULL};

const target_vtable zk_target = {
    .name = "zookeeper",
    /* the JVM's and ZooKeeper's words for an end it did not choose */
    .crash_patterns = (const char *const[]){"OutOfMemoryError", " FATAL ",
                                            "Unexpected exception, exiting abnormally",
                                            "# A fatal error has been detected",
                                            NULL},
    .options = zk_option_table,
    .options_size = sizeof(zk_options),
    .operations = zk_operations,
    .ready_timeout_ms = ZK_READY_TIMEOUT_MS,
    .create = zk_create,
    .destroy = zk_destroy,
    DAEMON_DB_CALLS,
    .data_dir = "data",
    /* ZooKeeper 3.8 (dataDir, no dataLogDir): transaction logs and
     * snapshots. */
    .data_files = (const char *const[]){"version-2/log.*",
                                        "version-2/snapshot.*", NULL},
    .await_ready = zk_await_ready,
    .leader = zk_leader,
    .client_open = zk_client_open,
    .client_invoke = zk_client_invoke,
    .client_close = zk_client_close,
};

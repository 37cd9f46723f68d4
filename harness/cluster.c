/*
 * cluster: network namespaces with their own sshd, made with ip(8),
 * ssh-keygen(1) and sshd(8).
 *
 * Every step first looks at what exists (/run/netns, /sys/class/net, pid
 * files, /proc) and only then acts, which is what makes `up` a repair and
 * `down` safe after a crash.
 */
#include "harness/cluster.h"
#include "base/clock.h"
#include "harness/netbind.h"
#include "harness/ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SSHD "/usr/sbin/sshd"
#define SSH_KEYGEN "/usr/bin/ssh-keygen"
#define ANSWER_TIMEOUT_MS 10000
#define RUN_OUTPUT_MAX (1 << 20)

/* ---- small helpers -------------------------------------------------------------- */

/* snprintf into a PATH_MAX buffer; FL_EUSAGE if it does not fit. */
static int path_fmt(char *buf, fl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int path_fmt(char *buf, fl_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX)
        return fl_error_set(err, FL_EUSAGE, "path too long");
    return FL_OK;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static bool netns_exists(const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "/run/netns/%s", name);
    return exists(p);
}

static bool link_exists(const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "/sys/class/net/%s", name);
    return exists(p);
}

int cluster_node_at(int i, cluster_node *out, fl_error *err)
{
    if (i < 1 || i > CLUSTER_MAX_NODES)
        return fl_error_set(err, FL_EUSAGE, "node number %d out of range 1-%d",
                            i, CLUSTER_MAX_NODES);
    memset(out, 0, sizeof *out);
    out->index = i;
    snprintf(out->name, sizeof out->name, "n%d", i);
    snprintf(out->netns, sizeof out->netns, "fl-n%d", i);
    snprintf(out->veth, sizeof out->veth, "flv%d", i);
    snprintf(out->address, sizeof out->address, "10.231.0.%d", 10 + i);
    return FL_OK;
}

const char *cluster_state_dir(void)
{
    const char *s = getenv(CLUSTER_STATE_ENV);
    return s && *s ? s : CLUSTER_DEFAULT_STATE_DIR;
}

static int check_root(fl_error *err)
{
    if (geteuid() != 0)
        return fl_error_set(err, CLUSTER_ENOPERM,
                            "the local cluster needs root (network namespaces, "
                            "a bridge and sshd): run as root");
    return FL_OK;
}

/* sshd_config takes unquoted paths, so keep the state dir simple. */
static int check_state_dir(const char *dir, fl_error *err)
{
    if (dir == NULL || dir[0] != '/')
        return fl_error_set(err, FL_EUSAGE, "state directory must be an "
                            "absolute path, not \"%s\"", dir ? dir : "");
    if (strpbrk(dir, " \t\n\r\"'#\\") != NULL)
        return fl_error_set(err, FL_EUSAGE, "state directory \"%s\" must not "
                            "contain spaces, quotes, # or backslashes", dir);
    if (strlen(dir) > PATH_MAX / 2)
        return fl_error_set(err, FL_EUSAGE, "state directory path too long");
    return FL_OK;
}

int cluster_lock(const char *state, bool create, int *fd_out, fl_error *err)
{
    *fd_out = -1;
    int rc = check_state_dir(state, err);
    if (rc != FL_OK)
        return rc;
    /* Before the first `cluster up` the state directory does not exist. */
    if (create && mkdir(state, 0700) != 0 && errno != EEXIST)
        return fl_error_set(err, FL_EIO, "cannot create %s: %s", state,
                            strerror(errno));
    const char *path = CLUSTER_LOCK_PATH;
    if (mkdir("/run/lock", 0755) != 0 && errno != EEXIST)
        return fl_error_set(err, FL_EIO, "cannot create /run/lock: %s",
                            strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fl_error_set(err, FL_EIO, "cannot open %s: %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return fl_error_set(err, CLUSTER_EBUSY, "a faultline test is "
                                "running on this cluster (%s is locked)",
                                path);
        return fl_error_set(err, FL_EIO, "cannot lock %s: %s", path,
                            strerror(e));
    }
    *fd_out = fd;
    return FL_OK;
}

/* ---- running commands ------------------------------------------------------------ */

/* argv joined by spaces, for messages only. */
static void argv_text(const char *const *argv, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; argv[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " " : "",
                                 argv[i]);
}

/* Read both pipes to EOF; stdout into *out (if wanted), stderr into errb. */
static void collect(int ofd, int efd, char **out, char *errb, size_t errcap)
{
    size_t olen = 0, elen = 0, ocap = 0;
    struct pollfd p[2] = {{.fd = ofd, .events = POLLIN},
                          {.fd = efd, .events = POLLIN}};
    char buf[4096];
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++) {
            if (p[k].fd < 0 || p[k].revents == 0)
                continue;
            ssize_t n = read(p[k].fd, buf, sizeof buf);
            if (n <= 0) {
                p[k].fd = -1;
                continue;
            }
            if (k == 1) {
                size_t c = (size_t)n < errcap - 1 - elen ? (size_t)n
                                                         : errcap - 1 - elen;
                memcpy(errb + elen, buf, c);
                elen += c;
            } else if (out && olen + (size_t)n < RUN_OUTPUT_MAX) {
                if (olen + (size_t)n + 1 > ocap) {
                    ocap = (olen + (size_t)n + 1) * 2;
                    char *q = realloc(*out, ocap);
                    if (q == NULL)
                        continue;
                    *out = q;
                }
                memcpy(*out + olen, buf, (size_t)n);
                olen += (size_t)n;
                (*out)[olen] = '\0';
            }
        }
    }
    errb[elen] = '\0';
    while (elen > 0 && (errb[elen - 1] == '\n' || errb[elen - 1] == ' '))
        errb[--elen] = '\0';
}

static int spawn(const char *const *argv, int ofd, int efd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    int rc = posix_spawnp(pid, argv[0], &fa, NULL, (char *const *)argv,
                          environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/*
 * Run argv (argv[0] found in PATH) and wait for it. stdout goes to *out
 * when out is not NULL (a new string, or NULL if there was none; the
 * caller frees it), else is discarded. Non-zero exit: CLUSTER_EFAILED
 * with the command line, status and stderr.
 */
static int run(const char *const *argv, char **out, fl_error *err)
{
    int op[2], ep[2];
    if (out)
        *out = NULL;
    if (pipe2(op, O_CLOEXEC) != 0)
        return fl_error_set(err, CLUSTER_EFAILED, "pipe: %s", strerror(errno));
    if (pipe2(ep, O_CLOEXEC) != 0) {
        close(op[0]);
        close(op[1]);
        return fl_error_set(err, CLUSTER_EFAILED, "pipe: %s", strerror(errno));
    }
    pid_t pid;
    int rc = spawn(argv, op[1], ep[1], &pid);
    close(op[1]);
    close(ep[1]);
    char errb[512], cmd[256];
    argv_text(argv, cmd, sizeof cmd);
    if (rc != 0) {
        close(op[0]);
        close(ep[0]);
        return fl_error_set(err, CLUSTER_EFAILED, "cannot run `%s`: %s", cmd,
                            strerror(rc));
    }
    collect(op[0], ep[0], out, errb, sizeof errb);
    close(op[0]);
    close(ep[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return FL_OK;
    if (out) {
        free(*out);
        *out = NULL;
    }
    if (WIFEXITED(status))
        return fl_error_set(err, CLUSTER_EFAILED, "`%s` failed (exit %d): %s",
                            cmd, WEXITSTATUS(status),
                            errb[0] ? errb : "(no message)");
    return fl_error_set(err, CLUSTER_EFAILED, "`%s` killed by signal %d", cmd,
                        WTERMSIG(status));
}

#define RUN(err, ...) run((const char *const[]){__VA_ARGS__, NULL}, NULL, (err))

/* ---- files -------------------------------------------------------------------------- */

static int mkdirs(const char *dir, mode_t mode, fl_error *err)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(p, mode) != 0 && errno != EEXIST)
                return fl_error_set(err, FL_EIO, "mkdir %s: %s", p,
                                    strerror(errno));
            if (end)
                return FL_OK;
            *s = '/';
        }
    }
}

/* Replace path with text atomically (write a temporary, then rename). */
static int write_file(const char *path, const char *text, mode_t mode,
                      fl_error *err)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return fl_error_set(err, FL_EIO, "%s: %s", tmp, strerror(errno));
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fchmod(fd, mode) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fl_error_set(err, FL_EIO, "writing %s: %s", path, strerror(e));
    }
    return FL_OK;
}

/* The whole file as a new string (caller frees), or NULL. */
static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    if (buf)
        buf[fread(buf, 1, 65535, f)] = '\0';
    fclose(f);
    return buf;
}

/* An ed25519 key pair at path (+ .pub), made by ssh-keygen if either half
 * is missing. */
static int ensure_key(const char *path, const char *comment, fl_error *err)
{
    char pub[PATH_MAX + 8];
    snprintf(pub, sizeof pub, "%s.pub", path);
    if (exists(path) && exists(pub))
        return FL_OK;
    unlink(path);
    unlink(pub);
    return RUN(err, SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment,
               "-f", path);
}

/* ---- processes ------------------------------------------------------------------- */

/* Whether pid is alive (not a zombie) and its command line mentions `arg`. */
static bool process_matches(pid_t pid, const char *arg)
{
    char p[64], stat[512];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return false;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    char *close_paren = strrchr(stat, ')');
    if (close_paren == NULL || close_paren[1] == '\0' || close_paren[2] == 'Z')
        return false;
    if (arg == NULL)
        return true;
    snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
    /* sshd rewrites its argv into one title ("sshd: /usr/sbin/sshd -f
     * CONFIG ... [listener] ..."), so look for arg anywhere in it. */
    f = fopen(p, "r");
    if (f == NULL)
        return false;
    char cmd[4096];
    n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        cmd[i] = cmd[i] == '\0' ? ' ' : cmd[i];
    cmd[n] = '\0';
    return strstr(cmd, arg) != NULL;
}

/* The pid in a pid file, if it names a live process started with `arg`. */
static pid_t pidfile_process(const char *pidfile, const char *arg)
{
    char *text = read_small_file(pidfile);
    if (text == NULL)
        return 0;
    long pid = strtol(text, NULL, 10);
    free(text);
    if (pid <= 1 || pid > INT_MAX || !process_matches((pid_t)pid, arg))
        return 0;
    return (pid_t)pid;
}

/* Signal pid, then wait up to wait_ms for it to be gone. */
static bool kill_and_wait(pid_t pid, int sig, int wait_ms)
{
    if (kill(pid, sig) != 0)
        return errno == ESRCH;
    for (int t = 0; t < wait_ms; t += 20) {
        if (!process_matches(pid, NULL))
            return true;
        fl_sleep_s(0.02);
    }
    return !process_matches(pid, NULL);
}

/* SIGKILL every process in a namespace: timed-out commands, sessions. */
static int kill_netns_processes(const char *netns, fl_error *err)
{
    char *out = NULL;
    int rc = run((const char *const[]){"ip", "netns", "pids", netns, NULL},
                 &out, err);
    if (rc != FL_OK)
        return rc;
    char *save = NULL;
    for (char *t = out ? strtok_r(out, "\n", &save) : NULL; t;
         t = strtok_r(NULL, "\n", &save)) {
        long pid = strtol(t, NULL, 10);
        if (pid > 1 && pid != getpid())
            kill_and_wait((pid_t)pid, SIGKILL, 1000);
    }
    free(out);
    return FL_OK;
}

/* ---- per-node files ---------------------------------------------------------------- */

typedef struct node_paths {
    char dir[PATH_MAX];
    char config[PATH_MAX];
    char pidfile[PATH_MAX];
    char log[PATH_MAX];
    char hostkey[PATH_MAX];
} node_paths;

static int node_paths_of(const char *state, const cluster_node *n,
                         node_paths *p, fl_error *err)
{
    if (path_fmt(p->dir, err, "%s/%s", state, n->name) != FL_OK ||
        path_fmt(p->config, err, "%s/sshd_config", p->dir) != FL_OK ||
        path_fmt(p->pidfile, err, "%s/sshd.pid", p->dir) != FL_OK ||
        path_fmt(p->log, err, "%s/sshd.log", p->dir) != FL_OK ||
        path_fmt(p->hostkey, err, "%s/ssh_host_ed25519_key", p->dir) != FL_OK)
        return FL_EUSAGE;
    return FL_OK;
}

char *cluster_sshd_config(const char *state_dir, const cluster_node *n)
{
    char *text = NULL;
    int len = asprintf(
        &text,
        "# Written by `faultline cluster up`; rewritten on every up.\n"
        "ListenAddress %s\n"
        "Port %d\n"
        "HostKey %s/%s/ssh_host_ed25519_key\n"
        "PidFile %s/%s/sshd.pid\n"
        "AuthorizedKeysFile %s/authorized_keys\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "UsePAM no\n"
        "# The state directory may live under /tmp, which StrictModes "
        "refuses.\n"
        "StrictModes no\n"
        "PrintMotd no\n"
        "X11Forwarding no\n"
        "MaxSessions 64\n"
        "MaxStartups 64\n"
        "# The nodes share the host's home directory. bash sources\n"
        "# ~/.bashrc for commands sshd runs, unless it is not the top-level\n"
        "# shell: a host .bashrc that hangs or stalls (pyenv's rehash lock\n"
        "# left by a killed session made every command time out) would\n"
        "# stall the controller's every command.\n"
        "SetEnv SHLVL=1\n"
        "Subsystem sftp internal-sftp\n",
        n->address, CLUSTER_SSH_PORT, state_dir, n->name, state_dir, n->name,
        state_dir);
    return len < 0 ? NULL : text;
}

void cluster_sshd_argv(const cluster_node *n, const char *config,
                       const char *log, const char **argv)
{
    /* A UTS namespace of its own gives each node its own hostname; the
     * shell's script is a constant and every variable part is an argument. */
    static const char *const head[] = {
        "ip", "netns", "exec", NULL, "unshare", "--uts", "--", "/bin/sh",
        "-c", "hostname \"$1\" && exec " SSHD " -f \"$2\" -E \"$3\"", "sh",
    };
    size_t k = 0;
    for (; k < sizeof head / sizeof *head; k++)
        argv[k] = head[k];
    argv[3] = n->netns;
    argv[k++] = n->name;
    argv[k++] = config;
    argv[k++] = log;
    argv[k] = NULL;
}

/* ---- bringing nodes up --------------------------------------------------------------- */

static int ensure_bridge(fl_error *err)
{
    int rc = FL_OK;
    if (!link_exists(CLUSTER_BRIDGE))
        rc = RUN(err, "ip", "link", "add", CLUSTER_BRIDGE, "type", "bridge");
    if (rc == FL_OK)
        rc = RUN(err, "ip", "addr", "replace", CLUSTER_BRIDGE_ADDRESS "/24",
                 "dev", CLUSTER_BRIDGE);
    if (rc == FL_OK)
        rc = RUN(err, "ip", "link", "set", CLUSTER_BRIDGE, "up");
    return rc;
}

static int ensure_node_net(const cluster_node *n, fl_error *err)
{
    char cidr[24];
    snprintf(cidr, sizeof cidr, "%s/24", n->address);
    int rc = FL_OK;
    if (!netns_exists(n->netns))
        rc = RUN(err, "ip", "netns", "add", n->netns);
    if (rc == FL_OK && !link_exists(n->veth))
        rc = RUN(err, "ip", "link", "add", n->veth, "type", "veth", "peer",
                 "name", "eth0", "netns", n->netns);
    if (rc == FL_OK)
        rc = RUN(err, "ip", "link", "set", n->veth, "master", CLUSTER_BRIDGE,
                 "up");
    if (rc == FL_OK)
        rc = RUN(err, "ip", "-n", n->netns, "addr", "replace", cidr, "dev",
                 "eth0");
    if (rc == FL_OK)
        rc = RUN(err, "ip", "-n", n->netns, "link", "set", "eth0", "up");
    if (rc == FL_OK)
        rc = RUN(err, "ip", "-n", n->netns, "link", "set", "lo", "up");
    return rc;
}

static int ensure_sshd(const char *state, const cluster_node *n, fl_error *err)
{
    node_paths p;
    int rc = node_paths_of(state, n, &p, err);
    if (rc == FL_OK)
        rc = mkdirs(p.dir, 0700, err);
    if (rc == FL_OK)
        rc = ensure_key(p.hostkey, n->name, err);
    if (rc != FL_OK)
        return rc;
    char *config = cluster_sshd_config(state, n);
    if (config == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    rc = write_file(p.config, config, 0600, err);
    free(config);
    if (rc != FL_OK || pidfile_process(p.pidfile, p.config) != 0)
        return rc;
    unlink(p.pidfile);
    /* sshd refuses to start without its privilege-separation directory. */
    if ((rc = mkdirs("/run/sshd", 0755, err)) != FL_OK)
        return rc;
    const char *argv[16];
    cluster_sshd_argv(n, p.config, p.log, argv);
    rc = run(argv, NULL, err);
    return rc == FL_OK ? FL_OK
                       : fl_error_wrap(err, "starting sshd of %s (log: %s)",
                                       n->name, p.log);
}

bool cluster_probe(const char *address, int port, const char *source,
                   int timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1)
        return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    /* Without the bridge there is no cluster to probe: never let the SYN
     * look for another way out. */
    if (fl_net_bind(fd, source, NULL) != FL_OK) {
        close(fd);
        return false;
    }
    int64_t deadline = fl_clock_mono_ns() / 1000000 + timeout_ms;
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ||
        errno == EINPROGRESS) {
        char banner[8];
        size_t got = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (got < 4 && fl_clock_mono_ns() / 1000000 < deadline &&
               poll(&p, 1, (int)(deadline - fl_clock_mono_ns() / 1000000)) > 0) {
            ssize_t n = read(fd, banner + got, 4 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        ok = got == 4 && memcmp(banner, "SSH-", 4) == 0;
    }
    close(fd);
    return ok;
}

static bool ssh_answers(const char *address, int timeout_ms)
{
    return cluster_probe(address, CLUSTER_SSH_PORT, CLUSTER_BRIDGE_ADDRESS,
                         timeout_ms);
}

static int wait_answering(const cluster_node *nodes, int count, fl_error *err)
{
    int64_t deadline = fl_clock_mono_ns() / 1000000 + ANSWER_TIMEOUT_MS;
    for (int i = 0; i < count; i++) {
        while (!ssh_answers(nodes[i].address, 500)) {
            if (fl_clock_mono_ns() / 1000000 > deadline)
                return fl_error_set(err, CLUSTER_EFAILED,
                                    "sshd of %s (%s) did not answer on port "
                                    "%d within %d s; see its sshd.log",
                                    nodes[i].name, nodes[i].address,
                                    CLUSTER_SSH_PORT, ANSWER_TIMEOUT_MS / 1000);
            fl_sleep_s(0.05);
        }
    }
    return FL_OK;
}

/* ---- the shared files -------------------------------------------------------------- */

static int append(char **text, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int append(char **text, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *piece = NULL;
    int n = vasprintf(&piece, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FL_ENOMEM;
    char *t = realloc(*text, *len + (size_t)n + 1);
    if (t == NULL) {
        free(piece);
        return FL_ENOMEM;
    }
    memcpy(t + *len, piece, (size_t)n + 1);
    *len += (size_t)n;
    *text = t;
    free(piece);
    return FL_OK;
}

/* "ssh-ed25519 AAAA..." from a .pub file: its first two fields. */
static int public_key_of(const char *pubfile, char *out, size_t n,
                         fl_error *err)
{
    char *text = read_small_file(pubfile);
    char type[64], key[512];
    int ok = text && sscanf(text, "%63s %511s", type, key) == 2;
    free(text);
    if (!ok)
        return fl_error_set(err, FL_EIO, "%s: not an OpenSSH public key",
                            pubfile);
    snprintf(out, n, "%s %s", type, key);
    return FL_OK;
}

static int write_known_hosts(const char *state, const cluster_node *nodes,
                             int count, fl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = append(&text, &len, "# faultline cluster node host keys\n");
    for (int i = 0; i < count && rc == FL_OK; i++) {
        char pub[PATH_MAX], key[600];
        snprintf(pub, sizeof pub, "%s/%s/ssh_host_ed25519_key.pub", state,
                 nodes[i].name);
        rc = public_key_of(pub, key, sizeof key, err);
        if (rc == FL_OK && append(&text, &len, "%s %s\n", nodes[i].address,
                                  key) != FL_OK)
            rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" CLUSTER_KNOWN_HOSTS_FILE, state);
    if (rc == FL_OK)
        rc = write_file(path, text, 0644, err);
    free(text);
    return rc;
}

static int write_nodes_and_config(const char *state, const cluster_node *nodes,
                                  int count, fl_error *err)
{
    char *list = NULL, *conf = NULL;
    size_t llen = 0, clen = 0;
    bool ok = append(&list, &llen, "# NAME ADDRESS (faultline cluster up)\n") ==
                  FL_OK &&
              append(&conf, &clen, "# ssh -F %s/" CLUSTER_SSH_CONFIG_FILE
                     " n1\n", state) == FL_OK;
    for (int i = 0; i < count && ok; i++)
        ok = append(&list, &llen, "%s %s\n", nodes[i].name,
                    nodes[i].address) == FL_OK &&
             append(&conf, &clen, "Host %s %s\n  HostName %s\n",
                    nodes[i].name, nodes[i].address,
                    nodes[i].address) == FL_OK;
    ok = ok && append(&conf, &clen,
                      "Host *\n  User " CLUSTER_USER "\n  Port %d\n"
                      "  IdentityFile %s/" CLUSTER_KEY_FILE "\n"
                      "  IdentitiesOnly yes\n"
                      "  UserKnownHostsFile %s/" CLUSTER_KNOWN_HOSTS_FILE "\n"
                      "  StrictHostKeyChecking yes\n",
                      CLUSTER_SSH_PORT, state, state) == FL_OK;
    int rc = ok ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" CLUSTER_SSH_CONFIG_FILE, state);
    if (rc == FL_OK)
        rc = write_file(path, conf, 0644, err);
    snprintf(path, sizeof path, "%s/" CLUSTER_NODES_FILE, state);
    if (rc == FL_OK)
        rc = write_file(path, list, 0644, err);
    free(list);
    free(conf);
    return rc;
}

static int ensure_client_key(const char *state, fl_error *err)
{
    char key[PATH_MAX], pub[PATH_MAX + 8], auth[PATH_MAX];
    snprintf(key, sizeof key, "%s/" CLUSTER_KEY_FILE, state);
    snprintf(pub, sizeof pub, "%s.pub", key);
    snprintf(auth, sizeof auth, "%s/authorized_keys", state);
    int rc = ensure_key(key, "faultline", err);
    if (rc != FL_OK)
        return rc;
    char *text = read_small_file(pub);
    if (text == NULL)
        return fl_error_set(err, FL_EIO, "%s: %s", pub, strerror(errno));
    rc = write_file(auth, text, 0600, err);
    free(text);
    return rc;
}

/* ---- tearing nodes down ----------------------------------------------------------- */

/* Remove node n entirely; keeps going, returns the first failure. */
static int node_down(const char *state, const cluster_node *n, fl_error *err)
{
    int first = FL_OK;
    fl_error e = {0};
    node_paths p;
    if (state && node_paths_of(state, n, &p, &e) == FL_OK) {
        pid_t pid = pidfile_process(p.pidfile, p.config);
        if (pid > 0 && !kill_and_wait(pid, SIGTERM, 2000))
            kill_and_wait(pid, SIGKILL, 1000);
        unlink(p.pidfile);
    }
    if (netns_exists(n->netns)) {
        int rc = kill_netns_processes(n->netns, &e);
        if (rc == FL_OK)
            rc = RUN(&e, "ip", "netns", "del", n->netns);
        if (rc != FL_OK && first == FL_OK)
            first = fl_error_set(err, rc, "%s", e.msg);
    }
    /* Deleting the namespace takes the veth pair with it, a moment later. */
    for (int t = 0; t < 100 && link_exists(n->veth); t++)
        fl_sleep_s(0.02);
    if (link_exists(n->veth) && RUN(&e, "ip", "link", "del", n->veth) != FL_OK &&
        link_exists(n->veth) && first == FL_OK)
        first = fl_error_set(err, e.code, "%s", e.msg);
    return first;
}

/* ---- the public operations ----------------------------------------------------------- */

static int prepare(const char *state, fl_error *err)
{
    int rc = check_root(err);
    if (rc == FL_OK)
        rc = check_state_dir(state, err);
    if (rc != FL_OK)
        return rc;
    if (access(SSHD, X_OK) != 0 || access(SSH_KEYGEN, X_OK) != 0)
        return fl_error_set(err, CLUSTER_EFAILED,
                            "%s or %s is missing: install openssh-server and "
                            "openssh-client (make deps)",
                            SSHD, SSH_KEYGEN);
    return FL_OK;
}

/*
 * Whether node n's namespace exists without this state directory's sshd in
 * it: a cluster brought up from another state directory (or left by a test
 * whose state directory is gone). Its sshd holds port 22 with other host
 * keys, so joining it would fail every host-key check; the caller holds
 * the machine's cluster lock, so nobody is using it: its processes are
 * killed. The namespace and its link stay (a new link would have a new MAC
 * address that the host's neighbour cache does not know for seconds).
 */
static bool orphaned(const char *state, const cluster_node *n)
{
    node_paths p;
    fl_error e = {0};
    if (!netns_exists(n->netns) || node_paths_of(state, n, &p, &e) != FL_OK)
        return false;
    return pidfile_process(p.pidfile, p.config) <= 0;
}

int cluster_up(const char *state, int count, fl_error *err)
{
    if (count < 1 || count > CLUSTER_MAX_NODES)
        return fl_error_set(err, FL_EUSAGE, "--nodes must be 1-%d, not %d",
                            CLUSTER_MAX_NODES, count);
    int rc = prepare(state, err);
    if (rc != FL_OK)
        return rc;
    cluster_node nodes[CLUSTER_MAX_NODES];
    for (int i = 0; i < CLUSTER_MAX_NODES; i++)
        cluster_node_at(i + 1, &nodes[i], NULL);
    for (int i = count; i < CLUSTER_MAX_NODES && rc == FL_OK; i++)
        rc = node_down(state, &nodes[i], err);
    if (rc == FL_OK)
        rc = mkdirs(state, 0700, err);
    if (rc == FL_OK)
        rc = ensure_client_key(state, err);
    if (rc == FL_OK)
        rc = ensure_bridge(err);
    for (int i = 0; i < count && rc == FL_OK; i++) {
        if (orphaned(state, &nodes[i]))
            rc = kill_netns_processes(nodes[i].netns, err);
        if (rc == FL_OK)
            rc = ensure_node_net(&nodes[i], err);
        if (rc == FL_OK)
            rc = ensure_sshd(state, &nodes[i], err);
        if (rc != FL_OK)
            fl_error_wrap(err, "node %s", nodes[i].name);
    }
    if (rc == FL_OK)
        rc = wait_answering(nodes, count, err);
    if (rc == FL_OK)
        rc = write_known_hosts(state, nodes, count, err);
    if (rc == FL_OK)
        rc = write_nodes_and_config(state, nodes, count, err);
    return rc;
}

int cluster_down(const char *state, fl_error *err)
{
    int rc = check_root(err);
    if (rc == FL_OK)
        rc = check_state_dir(state, err);
    if (rc != FL_OK)
        return rc;
    for (int i = 1; i <= CLUSTER_MAX_NODES; i++) {
        cluster_node n;
        cluster_node_at(i, &n, NULL);
        fl_error e = {0};
        if (node_down(state, &n, &e) != FL_OK && rc == FL_OK)
            rc = fl_error_set(err, e.code, "%s", e.msg);
    }
    fl_error e = {0};
    if (link_exists(CLUSTER_BRIDGE) &&
        RUN(&e, "ip", "link", "del", CLUSTER_BRIDGE) != FL_OK && rc == FL_OK)
        rc = fl_error_set(err, e.code, "%s", e.msg);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" CLUSTER_NODES_FILE, state);
    if (unlink(path) != 0 && errno != ENOENT && rc == FL_OK)
        rc = fl_error_set(err, FL_EIO, "%s: %s", path, strerror(errno));
    return rc;
}

static int count_tagged_rules(const char *netns)
{
    char *out = NULL;
    int n = 0;
    if (run((const char *const[]){"ip", "netns", "exec", netns, "iptables",
                                  "-w", "-S", NULL}, &out, NULL) != FL_OK)
        return 0;
    for (const char *p = out; p && (p = strstr(p, "--comment faultline")); p++)
        n++;
    free(out);
    return n;
}

static void add_name(char *names, size_t size, const char *name)
{
    char padded[80], haystack[160];
    snprintf(padded, sizeof padded, " %.64s ", name);
    snprintf(haystack, sizeof haystack, " %.150s ", names);
    if (strstr(haystack, padded))
        return;
    size_t len = strlen(names);
    snprintf(names + len, size - len, "%s%s", len ? " " : "", name);
}

/* The namespace's processes other than sshd (the daemon and the sessions
 * it forks are all called sshd). */
static void count_processes(cluster_node_status *s)
{
    char *out = NULL, *save = NULL;
    if (run((const char *const[]){"ip", "netns", "pids", s->node.netns, NULL},
            &out, NULL) != FL_OK)
        return;
    for (char *t = out ? strtok_r(out, "\n", &save) : NULL; t;
         t = strtok_r(NULL, "\n", &save)) {
        char path[64], comm[64] = "", state = '?', *line;
        snprintf(path, sizeof path, "/proc/%ld/stat", strtol(t, NULL, 10));
        if (!(line = read_small_file(path)))
            continue;
        char *open = strchr(line, '('), *close = strrchr(line, ')');
        if (open && close && close > open && close[1] == ' ') {
            snprintf(comm, sizeof comm, "%.*s", (int)(close - open - 1), open + 1);
            state = close[2];
        }
        free(line);
        if (strcmp(comm, "sshd") == 0 || !comm[0])
            continue;
        s->processes++;
        s->paused += state == 'T';
        add_name(s->process_names, sizeof s->process_names, comm);
    }
    free(out);
}

static void node_status(const char *state, cluster_node_status *s)
{
    node_paths p;
    s->netns = netns_exists(s->node.netns);
    s->sshd = node_paths_of(state, &s->node, &p, NULL) == FL_OK &&
              pidfile_process(p.pidfile, p.config) != 0;
    s->answers = s->netns && ssh_answers(s->node.address, 1000);
    if (s->netns) {
        s->rules = count_tagged_rules(s->node.netns);
        count_processes(s);
    }
}

bool cluster_status_leftovers(const cluster_status *st)
{
    for (int i = 0; i < st->count; i++)
        if (st->nodes[i].rules || st->nodes[i].processes)
            return true;
    return false;
}

/* Nodes of a cluster without a nodes file: whatever namespaces exist. */
static void found_nodes(cluster_status *st)
{
    for (int i = 1; i <= CLUSTER_MAX_NODES; i++) {
        cluster_node n;
        cluster_node_at(i, &n, NULL);
        if (netns_exists(n.netns))
            st->nodes[st->count++].node = n;
    }
}

static int listed_nodes(const fl_nodes *ns, cluster_status *st, fl_error *err)
{
    if (ns->count > CLUSTER_MAX_NODES)
        return fl_error_set(err, FL_EDATA, "nodes file lists %zu nodes, more "
                            "than %d", ns->count, CLUSTER_MAX_NODES);
    for (size_t i = 0; i < ns->count; i++) {
        int k = atoi(ns->nodes[i].name + 1);
        cluster_node *n = &st->nodes[st->count++].node;
        if (ns->nodes[i].name[0] != 'n' ||
            cluster_node_at(k, n, NULL) != FL_OK ||
            strcmp(n->name, ns->nodes[i].name) != 0 ||
            strcmp(n->address, ns->nodes[i].address) != 0)
            return fl_error_set(err, FL_EDATA, "nodes file line %zu: \"%s "
                                "%s\" is not a node of the local cluster",
                                ns->nodes[i].line, ns->nodes[i].name,
                                ns->nodes[i].address);
    }
    return FL_OK;
}

int cluster_status_get(const char *state, cluster_status *st, fl_error *err)
{
    memset(st, 0, sizeof *st);
    int rc = check_state_dir(state, err);
    if (rc != FL_OK)
        return rc;
    st->bridge = link_exists(CLUSTER_BRIDGE);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" CLUSTER_NODES_FILE, state);
    if (!exists(path)) {
        found_nodes(st);
    } else {
        fl_nodes ns = {0};
        st->configured = true;
        rc = fl_nodes_load(path, &ns, err);
        if (rc == FL_OK)
            rc = listed_nodes(&ns, st, err);
        fl_nodes_free(&ns);
        if (rc != FL_OK)
            return rc;
    }
    for (int i = 0; i < st->count; i++)
        node_status(state, &st->nodes[i]);
    return FL_OK;
}

bool cluster_network_present(int count, char *why, size_t size)
{
    if (!link_exists(CLUSTER_BRIDGE)) {
        snprintf(why, size, "lost the cluster: the bridge %s is gone",
                 CLUSTER_BRIDGE);
        return false;
    }
    for (int i = 1; i <= count; i++) {
        cluster_node n;
        if (cluster_node_at(i, &n, NULL) == FL_OK && !netns_exists(n.netns)) {
            snprintf(why, size, "lost the cluster: the namespace %s of node "
                     "%s is gone", n.netns, n.name);
            return false;
        }
    }
    return true;
}

bool cluster_status_all_up(const cluster_status *st)
{
    if (!st->configured || !st->bridge || st->count == 0)
        return false;
    for (int i = 0; i < st->count; i++)
        if (!st->nodes[i].netns || !st->nodes[i].sshd || !st->nodes[i].answers)
            return false;
    return true;
}

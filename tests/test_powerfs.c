/*
 * powerfs against a model of what a power cut may keep.
 *
 * Each test mounts build/asan/faultline-powerfs (or $POWERFS) over a
 * fresh temporary directory and drives it through the kernel, as a
 * database would. The random test issues seeded sequences of creates,
 * writes (some O_SYNC), truncates, fsyncs, fdatasyncs, renames (also over
 * files and across directories), unlinks, directory fsyncs and crashes
 * (`lose-unsynced`), and checks the mount against a pure model after
 * every operation (reads see the latest state) and, after every crash,
 * the mount and the backing directory against what the model says
 * survives:
 *
 *   - a file's data and size survive as of its last fsync / fdatasync /
 *     O_SYNC write (a new file's: empty);
 *   - a name survives only as of its directory's last fsync, a rename
 *     being one change (the source's or the target's fsync makes it
 *     durable in both); a file no durable name reaches is gone.
 *
 * The model is written from those rules alone (it keeps whole contents
 * and places, not pfs_tree's undo pages and staging).
 *
 * Mounts are started with --die-with-parent (auto_unmount): each test
 * unmounts in its teardown, and if this process dies the daemon dies and
 * fusermount3 removes the mount. One test checks that. Skipped, with the
 * reason, when /dev/fuse or fusermount3 is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/rng.h"

#define SEEDS 40
#define OPS_PER_SEED 150

typedef struct mnt {
    char dir[64], backing[96], mount[96], sock[96];
    pid_t pid;
    const char *names;          /* --names MODE; NULL: the default */
} mnt;

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *powerfs_bin(void)
{
    static char path[256];
    const char *env = getenv("POWERFS");
    if (env)
        return env;
    const char *build = getenv("BUILD");
    snprintf(path, sizeof path, "%s/asan/faultline-powerfs",
             build ? build : "build");
    return path;
}

static bool is_mounted(const char *path)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    if (!f)
        return false;
    char line[1024], dev[512], at[512];
    bool found = false;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%511s %511s", dev, at) == 2 && !strcmp(at, path))
            found = true;
    fclose(f);
    return found;
}

/* Send a control command; the answer into out. 0 or -1. */
static int ctl(const mnt *m, const char *cmd, char *out, size_t size)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", m->sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    char line[128];
    snprintf(line, sizeof line, "%s\n", cmd);
    ssize_t w = write(fd, line, strlen(line));
    size_t got = 0;
    ssize_t r;
    while (got < size - 1 && (r = read(fd, out + got, size - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fd);
    return w == (ssize_t)strlen(line) ? 0 : -1;
}

static void start(mnt *m)
{
    m->pid = fork();
    assert_true(m->pid >= 0);
    if (m->pid == 0) {
        if (m->names)
            execl(powerfs_bin(), powerfs_bin(), "mount", "--die-with-parent",
                  "--names", m->names, m->backing, m->mount, m->sock,
                  (char *)NULL);
        else
            execl(powerfs_bin(), powerfs_bin(), "mount", "--die-with-parent",
                  m->backing, m->mount, m->sock, (char *)NULL);
        _exit(127);
    }
    /* Ready once the socket answers: it is made after the mount. */
    char out[256];
    for (int i = 0; i < 3000; i++) {
        if (ctl(m, "status", out, sizeof out) == 0 && !strncmp(out, "ok", 2))
            return;
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid)
            fail_msg("faultline-powerfs exited (status %d) before mounting",
                     st);
        nap_ms(10);
    }
    fail_msg("faultline-powerfs did not answer on %s", m->sock);
}

/* Unmount and reap; a mount that does not go is lazily detached and the
 * test fails. */
static void stop(mnt *m)
{
    if (m->pid <= 0)
        return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "fusermount3 -u %s 2>/dev/null", m->mount);
    int rc = system(cmd);
    int st;
    for (int i = 0; i < 1000 && waitpid(m->pid, &st, WNOHANG) == 0; i++)
        nap_ms(10);
    if (waitpid(m->pid, &st, WNOHANG) == 0) {
        kill(m->pid, SIGKILL);
        waitpid(m->pid, &st, 0);
    }
    m->pid = 0;
    /* The daemon's own exit: nonzero if ASan found a leak or an error. */
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("faultline-powerfs ended with status %#x", st);
    if (is_mounted(m->mount)) {
        snprintf(cmd, sizeof cmd, "umount -l %s", m->mount);
        (void)!system(cmd);
        fail_msg("%s was still mounted after fusermount3 -u", m->mount);
    }
    assert_int_equal(rc, 0);
}

static int setup(void **state)
{
    if (access("/dev/fuse", R_OK | W_OK) != 0 ||
        system("command -v fusermount3 >/dev/null") != 0)
        return 0;    /* each test skips */
    mnt *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    snprintf(m->dir, sizeof m->dir, "/tmp/fl-powerfs.XXXXXX");
    if (!mkdtemp(m->dir))
        return -1;
    snprintf(m->backing, sizeof m->backing, "%s/backing", m->dir);
    snprintf(m->mount, sizeof m->mount, "%s/mnt", m->dir);
    snprintf(m->sock, sizeof m->sock, "%s/ctl.sock", m->dir);
    if (mkdir(m->backing, 0755) || mkdir(m->mount, 0755))
        return -1;
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    mnt *m = *state;
    if (!m)
        return 0;
    if (m->pid > 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "fusermount3 -u %s 2>/dev/null || "
                 "umount -l %s 2>/dev/null", m->mount, m->mount);
        (void)!system(cmd);
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
    }
    bool left = is_mounted(m->mount);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", m->dir);
    (void)!system(cmd);
    free(m);
    return left ? -1 : 0;
}

static mnt *mounted(void **state)
{
    mnt *m = *state;
    if (!m)
        skip();    /* no /dev/fuse or fusermount3: nothing to mount */
    start(m);
    return m;
}

/* ---- file helpers ------------------------------------------------------------- */

static void at(const char *root, const char *rel, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", root, rel);
}

static void sync_path(const char *path, bool data_only)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(data_only ? fdatasync(fd) : fsync(fd), 0);
    close(fd);
}

static void put(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
}

/* Whole contents of path into a malloc'd buffer (*len); NULL if absent. */
static unsigned char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    ssize_t r;
    while (buf && (r = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    close(fd);
    *len = n;
    return buf;
}

static bool holds(const char *path, const char *s)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    bool same = b && len == strlen(s) && memcmp(b, s, len) == 0;
    free(b);
    return same;
}

static void crash(const mnt *m)
{
    char out[256];
    assert_int_equal(ctl(m, "lose-unsynced", out, sizeof out), 0);
    if (strncmp(out, "ok", 2) != 0)
        fail_msg("lose-unsynced: %s", out);
}

/* ---- the model ----------------------------------------------------------------------- */

#define DIRS 2                  /* "" (the root) and "d" */
#define NAMES 4                 /* f0..f3 in each */
#define MAX_INODES 4096
#define MAX_SIZE 24000

typedef struct minode {
    bool live;
    unsigned char *cur, *dur;
    size_t cur_len, dur_len;
    int cur_dir, dur_dir;       /* -1: no place */
    int cur_name, dur_name;
} minode;

/* When names become durable (powerfs's --names). */
typedef enum { M_STRICT, M_JOURNAL, M_IMMEDIATE } m_names;

typedef struct model {
    minode in[MAX_INODES];
    int count;
    m_names names;
} model;

static const char *dir_rel(int d)
{
    return d == 0 ? "" : "d/";
}

static void rel_path(int d, int name, char *buf, size_t size)
{
    snprintf(buf, size, "%sf%d", dir_rel(d), name);
}

static int m_at(const model *md, int d, int name, bool durable)
{
    for (int i = 0; i < md->count; i++) {
        const minode *n = &md->in[i];
        if (n->live && (durable ? n->dur_dir == d && n->dur_name == name
                                : n->cur_dir == d && n->cur_name == name))
            return i;
    }
    return -1;
}

/* n is durably at (d, name); whatever was durably there is not. */
static void m_place_durable(model *md, int i, int d, int name)
{
    int j = m_at(md, d, name, true);
    if (j >= 0 && j != i)
        md->in[j].dur_dir = -1;
    md->in[i].dur_dir = d;
    md->in[i].dur_name = name;
}

static void m_fsync_dir(model *md, int d)
{
    for (int i = 0; i < md->count; i++) {
        minode *n = &md->in[i];
        if (!n->live)
            continue;
        if (n->dur_dir == d && n->cur_dir != d) {
            if (n->cur_dir >= 0)
                m_place_durable(md, i, n->cur_dir, n->cur_name);
            else
                n->dur_dir = -1;
        }
    }
    for (int i = 0; i < md->count; i++)
        if (md->in[i].live && md->in[i].cur_dir == d)
            m_place_durable(md, i, d, md->in[i].cur_name);
}

/* Every name durable where it is now: a journal commit. */
static void m_names_durable(model *md)
{
    for (int i = 0; i < md->count; i++) {
        minode *n = &md->in[i];
        if (!n->live)
            continue;
        if (n->cur_dir >= 0)
            m_place_durable(md, i, n->cur_dir, n->cur_name);
        else
            n->dur_dir = -1;
    }
}

/* A create, rename or unlink happened. */
static void m_name_changed(model *md)
{
    if (md->names == M_IMMEDIATE)
        m_names_durable(md);
}

/* A file's fsync, fdatasync or O_SYNC write (journal: with every name
 * change before it). */
static void m_synced(model *md, minode *n)
{
    free(n->dur);
    n->dur = malloc(n->cur_len ? n->cur_len : 1);
    memcpy(n->dur, n->cur, n->cur_len);
    n->dur_len = n->cur_len;
    if (md->names == M_JOURNAL)
        m_names_durable(md);
}

static void m_crash(model *md)
{
    for (int i = 0; i < md->count; i++) {
        minode *n = &md->in[i];
        if (!n->live)
            continue;
        if (n->dur_dir < 0) {
            n->live = false;
            continue;
        }
        free(n->cur);
        n->cur = malloc(n->dur_len ? n->dur_len : 1);
        memcpy(n->cur, n->dur, n->dur_len);
        n->cur_len = n->dur_len;
        n->cur_dir = n->dur_dir;
        n->cur_name = n->dur_name;
    }
}

static void m_free(model *md)
{
    for (int i = 0; i < md->count; i++) {
        free(md->in[i].cur);
        free(md->in[i].dur);
    }
}

static void m_resize(minode *n, size_t len)
{
    n->cur = realloc(n->cur, len ? len : 1);
    if (len > n->cur_len)
        memset(n->cur + n->cur_len, 0, len - n->cur_len);
    n->cur_len = len;
}

/* ---- comparing ------------------------------------------------------------------------------ */

/* The names under root/dir_rel(d), other than "d" itself, as a bitmask of
 * f0..f3; fails on any other name. */
static unsigned listed(const char *root, int d, const char *what, int seed,
                       int op)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, dir_rel(d));
    DIR *dir = opendir(path);
    if (!dir)
        fail_msg("seed %d op %d: %s: cannot list %s", seed, op, what, path);
    unsigned mask = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        int k;
        char extra;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (d == 0 && !strcmp(e->d_name, "d")) ||
            (d == 0 && !strcmp(e->d_name, ".powerfs")))
            continue;
        if (sscanf(e->d_name, "f%d%c", &k, &extra) != 1 || k < 0 ||
            k >= NAMES)
            fail_msg("seed %d op %d: %s: unexpected name %s%s", seed, op,
                     what, dir_rel(d), e->d_name);
        mask |= 1u << k;
    }
    closedir(dir);
    return mask;
}

/* root (the mount or the backing) holds exactly the model's current
 * files. */
static void compare(const model *md, const char *root, const char *what,
                    int seed, int op)
{
    for (int d = 0; d < DIRS; d++) {
        unsigned want = 0;
        for (int k = 0; k < NAMES; k++)
            if (m_at(md, d, k, false) >= 0)
                want |= 1u << k;
        unsigned got = listed(root, d, what, seed, op);
        if (got != want)
            fail_msg("seed %d op %d: %s: %s holds names %#x, the model %#x",
                     seed, op, what, d ? "d" : "/", got, want);
        for (int k = 0; k < NAMES; k++) {
            int i = m_at(md, d, k, false);
            if (i < 0)
                continue;
            char rel[32], path[256];
            rel_path(d, k, rel, sizeof rel);
            at(root, rel, path, sizeof path);
            size_t len;
            unsigned char *b = slurp(path, &len);
            const minode *n = &md->in[i];
            if (!b || len != n->cur_len || memcmp(b, n->cur, len) != 0) {
                size_t diff = 0;
                while (b && diff < len && diff < n->cur_len &&
                       b[diff] == n->cur[diff])
                    diff++;
                free(b);
                fail_msg("seed %d op %d: %s: %s has %zu bytes, the model "
                         "%zu (first difference at %zu)", seed, op, what,
                         rel, len, n->cur_len, diff);
            }
            free(b);
        }
    }
}

/* ---- one random operation ------------------------------------------------------------------------ */

static int pick_file(const model *md, fl_rng *rng)
{
    int live[MAX_INODES], n = 0;
    for (int i = 0; i < md->count; i++)
        if (md->in[i].live && md->in[i].cur_dir >= 0)
            live[n++] = i;
    return n ? live[fl_rng_below(rng, (uint64_t)n)] : -1;
}

static void file_path(const mnt *m, const minode *n, char *buf, size_t size)
{
    char rel[32];
    rel_path(n->cur_dir, n->cur_name, rel, sizeof rel);
    at(m->mount, rel, buf, size);
}

static void op_write(model *md, const mnt *m, fl_rng *rng, int i, bool osync)
{
    minode *n = &md->in[i];
    size_t off = (size_t)fl_rng_below(rng, n->cur_len + 200);
    size_t len = 1 + (size_t)fl_rng_below(rng, 6000);
    if (off + len > MAX_SIZE)
        return;
    unsigned char *buf = malloc(len);
    for (size_t k = 0; k < len; k++)
        buf[k] = (unsigned char)fl_rng_next(rng);
    char path[256];
    file_path(m, n, path, sizeof path);
    int fd = open(path, O_WRONLY | (osync ? O_SYNC : 0));
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
    if (off + len > n->cur_len)
        m_resize(n, off + len);
    memcpy(n->cur + off, buf, len);
    free(buf);
    if (osync)
        m_synced(md, n);
}

static void op_random(model *md, const mnt *m, fl_rng *rng)
{
    char path[256], to[256], rel[32];
    int i = pick_file(md, rng);
    unsigned r = (unsigned)fl_rng_below(rng, 100);
    if (r < 12 || i < 0) {                          /* create */
        int d = (int)fl_rng_below(rng, DIRS), k = (int)fl_rng_below(rng, NAMES);
        if (m_at(md, d, k, false) >= 0 || md->count == MAX_INODES)
            return;
        rel_path(d, k, rel, sizeof rel);
        at(m->mount, rel, path, sizeof path);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        assert_true(fd >= 0);
        close(fd);
        minode *n = &md->in[md->count++];
        *n = (minode){.live = true, .cur = malloc(1), .dur = malloc(1),
                      .cur_dir = d, .cur_name = k, .dur_dir = -1};
        m_name_changed(md);
    } else if (r < 40) {
        op_write(md, m, rng, i, false);
    } else if (r < 44) {
        op_write(md, m, rng, i, true);
    } else if (r < 52) {                            /* truncate */
        minode *n = &md->in[i];
        size_t len = (size_t)fl_rng_below(rng, n->cur_len + 5000);
        file_path(m, n, path, sizeof path);
        assert_int_equal(truncate(path, (off_t)len), 0);
        m_resize(n, len);
    } else if (r < 64) {                            /* fsync, fdatasync */
        file_path(m, &md->in[i], path, sizeof path);
        sync_path(path, fl_rng_below(rng, 2));
        m_synced(md, &md->in[i]);
    } else if (r < 74) {                            /* rename */
        minode *n = &md->in[i];
        int d = (int)fl_rng_below(rng, DIRS), k = (int)fl_rng_below(rng, NAMES);
        file_path(m, n, path, sizeof path);
        rel_path(d, k, rel, sizeof rel);
        at(m->mount, rel, to, sizeof to);
        assert_int_equal(rename(path, to), 0);
        int j = m_at(md, d, k, false);
        if (j >= 0 && j != i)
            md->in[j].cur_dir = -1;
        n->cur_dir = d;
        n->cur_name = k;
        m_name_changed(md);
    } else if (r < 80) {                            /* unlink */
        file_path(m, &md->in[i], path, sizeof path);
        assert_int_equal(unlink(path), 0);
        md->in[i].cur_dir = -1;
        m_name_changed(md);
    } else {                                        /* fsync a directory */
        int d = (int)fl_rng_below(rng, DIRS);
        snprintf(path, sizeof path, "%s/%s", m->mount, d ? "d" : "");
        sync_path(path, false);
        if (md->names == M_STRICT)
            m_fsync_dir(md, d);
        else    /* a journal commits every directory */
            m_names_durable(md);
    }
}

/* seeds seeds of the random test with powerfs and the model in mode
 * names. */
static void random_against_model(void **state, m_names names, int seeds)
{
    static const char *const flag[] = {"strict", "journal", "immediate"};
    mnt *m = *state;
    if (m)
        m->names = flag[names];
    m = mounted(state);
    char path[256];
    /* The directory "d" is made durable once, for every seed. */
    at(m->mount, "d", path, sizeof path);
    assert_int_equal(mkdir(path, 0755), 0);
    sync_path(m->mount, false);
    unsigned long crashes = 0, ops = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        fl_rng rng;
        fl_rng_seed(&rng, (uint64_t)seed);
        model md = {.count = 0, .names = names};
        for (int op = 0; op < OPS_PER_SEED; op++, ops++) {
            if (fl_rng_below(&rng, 12) == 0) {
                crash(m);
                m_crash(&md);
                crashes++;
                compare(&md, m->backing, "backing after crash", seed, op);
            } else {
                op_random(&md, m, &rng);
            }
            compare(&md, m->mount, "mount", seed, op);
        }
        /* Clear the files for the next seed, durably. */
        for (int d = 0; d < DIRS; d++)
            for (int k = 0; k < NAMES; k++) {
                char rel[32];
                rel_path(d, k, rel, sizeof rel);
                at(m->mount, rel, path, sizeof path);
                unlink(path);
            }
        sync_path(m->mount, false);
        at(m->mount, "d", path, sizeof path);
        sync_path(path, false);
        crash(m);
        m_free(&md);
        model empty = {.count = 0};
        compare(&empty, m->backing, "backing between seeds", seed, 0);
    }
    print_message("powerfs model test (--names %s): %d seeds, %lu "
                  "operations, %lu crashes\n", flag[names], seeds, ops,
                  crashes);
    stop(m);
}

static void test_random_against_model(void **state)
{
    random_against_model(state, M_STRICT, SEEDS);
}

/* The relaxed modes change only when names become durable: fewer seeds. */
static void test_random_journal(void **state)
{
    random_against_model(state, M_JOURNAL, SEEDS / 4);
}

static void test_random_immediate(void **state)
{
    random_against_model(state, M_IMMEDIATE, SEEDS / 4);
}

/* ---- directed cases ------------------------------------------------------------------------ */

/* etcd 3.4's first start, as strace shows it: mkdir member (the data
 * directory is never fsync'd), member/wal with a file fdatasync'd, then
 * an fsync of member. Strict POSIX loses all of member; a journal keeps
 * it (the fdatasync committed the mkdir); immediate keeps every name. */
static void etcd_first_start(void **state, const char *names, bool kept)
{
    mnt *m = *state;
    if (m)
        m->names = names;
    m = mounted(state);
    char member[256], wal[256], file[256], late[256];
    at(m->mount, "member", member, sizeof member);
    at(m->mount, "member/wal", wal, sizeof wal);
    at(m->mount, "member/wal/0.wal", file, sizeof file);
    at(m->mount, "member/late", late, sizeof late);
    assert_int_equal(mkdir(member, 0700), 0);
    assert_int_equal(mkdir(wal, 0700), 0);
    put(file, "entries");
    sync_path(file, true);
    sync_path(member, false);
    sync_path(wal, false);
    put(late, "unsynced");      /* a name made after the last fsync */
    crash(m);
    assert_int_equal(access(member, F_OK) == 0, kept);
    assert_int_equal(holds(file, "entries"), kept);
    /* Only immediate keeps a name with no fsync after it; its data,
     * never synced, is gone in every mode. */
    bool late_kept = strcmp(names, "immediate") == 0;
    assert_int_equal(access(late, F_OK) == 0, late_kept);
    if (late_kept)
        assert_true(holds(late, ""));
    stop(m);
}

static void test_names_strict_loses_unsynced_mkdir(void **state)
{
    etcd_first_start(state, "strict", false);
}

static void test_names_journal_commits_at_any_fsync(void **state)
{
    etcd_first_start(state, "journal", true);
}

static void test_names_immediate_keeps_every_name(void **state)
{
    etcd_first_start(state, "immediate", true);
}

#define USER_A 4301
#define USER_B 4302
#define GROUP_A 4401

/* In a child, as uid/gid: make d (0777 under umask 022) and d/f (0600)
 * under root, and report through the exit status what the mount shows:
 * 0 when both are the caller's with the modes asked. */
static int make_as_user(const char *root)
{
    char d[256], f[256];
    at(root, "d", d, sizeof d);
    at(root, "d/f", f, sizeof f);
    umask(022);
    if (setgid(GROUP_A) != 0 || setuid(USER_A) != 0)
        return 10;
    if (mkdir(d, 0777) != 0)
        return 11;
    int fd = open(f, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0)
        return 12;
    close(fd);
    struct stat sd, sf;
    if (stat(d, &sd) != 0 || stat(f, &sf) != 0)
        return 13;
    if (sd.st_uid != USER_A || sd.st_gid != GROUP_A ||
        (sd.st_mode & 07777) != 0755)
        return 14;
    if (sf.st_uid != USER_A || sf.st_gid != GROUP_A ||
        (sf.st_mode & 07777) != 0600)
        return 15;
    return 0;
}

/* errno of opening path for reading as uid. */
static int open_errno_as(const char *path, uid_t uid)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setuid(uid) != 0)
            _exit(255);
        int fd = open(path, O_RDONLY);
        _exit(fd >= 0 ? 0 : errno);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void stat_path(const char *path, struct stat *st)
{
    assert_int_equal(lstat(path, st), 0);
}

/* A database run as its own user (PostgreSQL insists that its data
 * directory is its own, mode 0700): new nodes are the caller's, modes and
 * owners set through the mount show in it and in the backing, the kernel
 * enforces them, and a crash keeps them. */
static void test_owner_and_mode_pass_through(void **state)
{
    if (geteuid() != 0)
        skip();    /* setuid and chown need root */
    mnt *m = mounted(state);
    char root_b[256], d[256], f[256], fb[256];
    at(m->mount, "d", d, sizeof d);
    at(m->mount, "d/f", f, sizeof f);
    at(m->backing, "d/f", fb, sizeof fb);
    assert_int_equal(chmod(m->dir, 0711), 0);    /* mkdtemp's is 0700 */
    assert_int_equal(chmod(m->mount, 0777), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(make_as_user(m->mount));
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    struct stat s1, s2;
    stat_path(fb, &s1);
    assert_int_equal(s1.st_uid, USER_A);
    assert_int_equal(s1.st_mode & 07777, 0600);
    /* The mode is enforced: another user cannot read A's 0600 file. */
    assert_int_equal(open_errno_as(f, USER_B), EACCES);
    assert_int_equal(chown(f, USER_B, -1), 0);
    assert_int_equal(chmod(f, 0640), 0);
    assert_int_equal(open_errno_as(f, USER_B), 0);
    /* The mount's root, chown'd and chmod'd as initdb's caller does: now
     * only its owner gets in. */
    assert_int_equal(chown(m->mount, USER_A, GROUP_A), 0);
    assert_int_equal(chmod(m->mount, 0700), 0);
    assert_int_equal(open_errno_as(f, USER_B), EACCES);
    stat_path(m->mount, &s1);
    assert_int_equal(s1.st_uid, USER_A);
    assert_int_equal(s1.st_mode & 07777, 0700);
    snprintf(root_b, sizeof root_b, "%s", m->backing);
    stat_path(root_b, &s2);
    assert_int_equal(s2.st_uid, USER_A);
    assert_int_equal(s2.st_mode & 07777, 0700);
    /* Durable names keep their owners and modes through a crash. */
    sync_path(f, false);
    sync_path(d, false);
    sync_path(m->mount, false);
    crash(m);
    stat_path(f, &s1);
    assert_int_equal(s1.st_uid, USER_B);
    assert_int_equal(s1.st_gid, GROUP_A);
    assert_int_equal(s1.st_mode & 07777, 0640);
    stop(m);
}

static void test_fsynced_survives_unsynced_goes(void **state)
{
    mnt *m = mounted(state);
    char a[256], b[256];
    at(m->mount, "a", a, sizeof a);
    at(m->mount, "b", b, sizeof b);
    put(a, "durable");
    sync_path(a, false);
    sync_path(m->mount, false);
    put(b, "never synced");     /* its name was never made durable */
    int fd = open(a, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "+more", 5), 5);
    close(fd);
    assert_true(holds(a, "durable+more"));
    char out[256];
    assert_int_equal(ctl(m, "status", out, sizeof out), 0);
    assert_non_null(strstr(out, "unsynced_bytes=17 "));    /* 12 + 5 */
    crash(m);
    assert_true(holds(a, "durable"));
    assert_int_equal(access(b, F_OK), -1);
    assert_int_equal(ctl(m, "status", out, sizeof out), 0);
    assert_non_null(strstr(out, "unsynced_bytes=0 "));
    stop(m);
}

static void test_rename_needs_dir_fsync(void **state)
{
    mnt *m = mounted(state);
    char tmp[256], dst[256];
    at(m->mount, "state.tmp", tmp, sizeof tmp);
    at(m->mount, "state", dst, sizeof dst);
    put(dst, "v1");
    sync_path(dst, false);
    sync_path(m->mount, false);
    /* Write-and-rename without the directory's fsync: undone. */
    put(tmp, "v2");
    sync_path(tmp, false);
    assert_int_equal(rename(tmp, dst), 0);
    crash(m);
    assert_true(holds(dst, "v1"));
    assert_int_equal(access(tmp, F_OK), -1);
    /* With it: kept. */
    put(tmp, "v3");
    sync_path(tmp, false);
    assert_int_equal(rename(tmp, dst), 0);
    sync_path(m->mount, false);
    crash(m);
    assert_true(holds(dst, "v3"));
    stop(m);
}

/* etcd makes its WAL directory as wal.tmp and renames it into place. */
static void test_directory_rename(void **state)
{
    mnt *m = mounted(state);
    char dir[256], file[256], dst[256], moved[256];
    at(m->mount, "wal.tmp", dir, sizeof dir);
    at(m->mount, "wal.tmp/0.wal", file, sizeof file);
    at(m->mount, "wal", dst, sizeof dst);
    at(m->mount, "wal/0.wal", moved, sizeof moved);
    assert_int_equal(mkdir(dir, 0755), 0);
    put(file, "entries");
    sync_path(file, false);
    sync_path(dir, false);
    sync_path(m->mount, false);
    assert_int_equal(rename(dir, dst), 0);
    assert_true(holds(moved, "entries"));
    crash(m);
    assert_true(holds(file, "entries"));    /* the rename was undone */
    assert_int_equal(rename(dir, dst), 0);
    sync_path(m->mount, false);
    crash(m);
    assert_true(holds(moved, "entries"));
    assert_int_equal(access(dir, F_OK), -1);
    stop(m);
}

/* What is in the backing at mount is durable; an orderly unmount makes
 * everything durable. */
static void test_mount_and_unmount_are_durable(void **state)
{
    mnt *m = *state;
    if (!m)
        skip();
    char path[256];
    at(m->backing, "before", path, sizeof path);
    put(path, "there at mount");
    mounted(state);
    crash(m);
    at(m->mount, "before", path, sizeof path);
    assert_true(holds(path, "there at mount"));
    at(m->mount, "late", path, sizeof path);
    put(path, "unsynced at unmount");
    stop(m);
    at(m->backing, "late", path, sizeof path);
    assert_true(holds(path, "unsynced at unmount"));
    at(m->backing, ".powerfs", path, sizeof path);
    assert_int_equal(access(path, F_OK), -1);
}

/* A process that mounts and dies without unmounting leaves no mount:
 * the daemon follows it and auto_unmount removes the mount. */
static void test_no_mount_left_behind(void **state)
{
    mnt *m = *state;
    if (!m)
        skip();
    pid_t owner = fork();
    assert_true(owner >= 0);
    if (owner == 0) {
        start(m);    /* this child is the daemon's parent */
        _exit(0);    /* dies with the mount up */
    }
    int st;
    assert_int_equal(waitpid(owner, &st, 0), owner);
    assert_int_equal(WEXITSTATUS(st), 0);
    bool gone = false;
    for (int i = 0; i < 1000 && !(gone = !is_mounted(m->mount)); i++)
        nap_ms(20);
    assert_true(gone);
}

static void test_control_channel_rejects_unknown(void **state)
{
    mnt *m = mounted(state);
    char out[256];
    assert_int_equal(ctl(m, "reboot", out, sizeof out), 0);
    assert_non_null(strstr(out, "error unknown command"));
    assert_int_equal(ctl(m, "flush", out, sizeof out), 0);
    assert_int_equal(strncmp(out, "ok", 2), 0);
    stop(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fsynced_survives_unsynced_goes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_needs_dir_fsync, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_directory_rename, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mount_and_unmount_are_durable,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_mount_left_behind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_control_channel_rejects_unknown,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_strict_loses_unsynced_mkdir,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_names_journal_commits_at_any_fsync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_immediate_keeps_every_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_and_mode_pass_through,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_journal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_immediate, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

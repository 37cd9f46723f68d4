/*
 * faultline-powerfs: a FUSE file system that loses what was not made
 * durable when told to (powerfs/pfs_tree.h says exactly what survives).
 *
 *   faultline-powerfs mount [--foreground] [--die-with-parent]
 *                     [--names strict|journal|immediate]
 *                     BACKING MOUNTPOINT SOCKET
 *       Mount BACKING's contents at MOUNTPOINT; listen for commands on the
 *       unix socket SOCKET (keep it outside the mount). Returns once the
 *       mount and the socket are ready; the daemon runs until unmounted
 *       (fusermount3 -u MOUNTPOINT, or umount -l), and an orderly unmount
 *       makes everything durable. --die-with-parent (tests): stay in the
 *       foreground, and when the parent dies, die and let fusermount3's
 *       auto_unmount remove the mount, so no test leaves one behind.
 *       --names: when names become durable (pfs_fuse.h; default strict).
 *       New files belong to the process that made them and the kernel
 *       checks modes (default_permissions), as on a disk.
 *   faultline-powerfs ctl SOCKET COMMAND
 *       Send COMMAND (lose-unsynced, flush, status) and print the answer;
 *       exit 0 if it begins with "ok".
 *
 * Exit codes: 0, 64 usage, 74 failure (the message says which call).
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "powerfs/pfs_fuse.h"

#define EXIT_USAGE 64
#define EXIT_IO 74
#define LINE_MAX_CTL 256

static int usage(void)
{
    fprintf(stderr,
            "usage: faultline-powerfs mount [--foreground] [--die-with-parent]"
            " [--names strict|journal|immediate] BACKING MOUNTPOINT SOCKET\n"
            "       faultline-powerfs ctl SOCKET lose-unsynced|flush|status\n");
    return EXIT_USAGE;
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) {
        fprintf(stderr, "faultline-powerfs: socket path too long (max %zu): "
                "%s\n", sizeof a->sun_path - 1, path);
        return -1;
    }
    strcpy(a->sun_path, path);
    return 0;
}

/* ---- the client ------------------------------------------------------------------ */

static int ctl(const char *sock, const char *cmd)
{
    struct sockaddr_un a;
    if (unix_addr(sock, &a))
        return EXIT_USAGE;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fprintf(stderr, "faultline-powerfs: connecting to %s: %s (is "
                "powerfs mounted with that socket?)\n", sock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return EXIT_IO;
    }
    char line[LINE_MAX_CTL];
    snprintf(line, sizeof line, "%s\n", cmd);
    size_t len = strlen(line), got = 0;
    if (write(fd, line, len) != (ssize_t)len) {
        fprintf(stderr, "faultline-powerfs: writing to %s: %s\n", sock,
                strerror(errno));
        close(fd);
        return EXIT_IO;
    }
    ssize_t r;
    while (got < sizeof line - 1 &&
           (r = read(fd, line + got, sizeof line - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    line[got] = '\0';
    fputs(line, stdout);
    return strncmp(line, "ok", 2) == 0 ? 0 : EXIT_IO;
}

/* ---- the server ------------------------------------------------------------------ */

typedef struct server {
    pfs_fs *fs;
    int listen_fd;
} server;

static void serve_one(pfs_fs *fs, int fd)
{
    char cmd[LINE_MAX_CTL], out[LINE_MAX_CTL];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof cmd - 1 &&
           (r = read(fd, cmd + got, sizeof cmd - 1 - got)) > 0) {
        got += (size_t)r;
        if (memchr(cmd, '\n', got))
            break;
    }
    cmd[got] = '\0';
    cmd[strcspn(cmd, "\r\n")] = '\0';
    pfs_fuse_command(fs, cmd, out, sizeof out - 1);
    strcat(out, "\n");
    (void)!write(fd, out, strlen(out));
}

static void *serve(void *arg)
{
    server *s = arg;
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        serve_one(s->fs, fd);
        close(fd);
    }
}

static int listen_on(const char *path)
{
    struct sockaddr_un a;
    if (unix_addr(path, &a))
        return -1;
    unlink(path);    /* a socket left by an earlier daemon */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(fd, 8) < 0) {
        fprintf(stderr, "faultline-powerfs: listening on %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int mount_and_serve(const char *backing, const char *mnt,
                           const char *sock, bool foreground,
                           bool die_with_parent, pfs_names names)
{
    pfs_fs fs = {.lock = PTHREAD_MUTEX_INITIALIZER, .names = names};
    /* The kernel applied the caller's umask to every mode it sends; ours
     * must not cut it again. */
    umask(0);
    if (!(fs.tree = pfs_tree_open(backing))) {
        fprintf(stderr, "faultline-powerfs: backing directory %s: %s\n",
                backing, strerror(errno));
        return EXIT_IO;
    }
    char opts[256];
    /* The backing in the mount table says whose mount a leftover is. */
    snprintf(opts, sizeof opts, "-ofsname=powerfs:%s,subtype=powerfs,"
             "allow_other,default_permissions%s",
             strchr(backing, ',') ? "backing" : backing,
             die_with_parent ? ",auto_unmount" : "");
    char *argv[] = {"faultline-powerfs", opts, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(2, argv);
    int status = EXIT_IO;
    int lfd = -1;
    struct fuse_session *se = fuse_session_new(&args, pfs_fuse_ops(),
                                               sizeof *pfs_fuse_ops(), &fs);
    if (!se)
        goto free_tree;
    if (fuse_set_signal_handlers(se) != 0)
        goto destroy;
    if (fuse_session_mount(se, mnt) != 0) {
        fprintf(stderr, "faultline-powerfs: mounting on %s failed\n", mnt);
        goto handlers;
    }
    if ((lfd = listen_on(sock)) < 0)
        goto unmount;
    if (die_with_parent)
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* Returns in the parent once the child is running (or exits). */
    if (fuse_daemonize(foreground || die_with_parent) != 0)
        goto unmount;
    server srv = {.fs = &fs, .listen_fd = lfd};
    pthread_t th;
    if (pthread_create(&th, NULL, serve, &srv) != 0)
        goto unmount;
    pthread_detach(th);
    status = fuse_session_loop(se) == 0 ? 0 : EXIT_IO;
unmount:
    fuse_session_unmount(se);
    if (lfd >= 0) {
        close(lfd);
        unlink(sock);
    }
handlers:
    fuse_remove_signal_handlers(se);
destroy:
    fuse_session_destroy(se);
free_tree:
    fuse_opt_free_args(&args);
    /* The control thread may still be in a command: take the lock for
     * good before the tree goes. */
    pthread_mutex_lock(&fs.lock);
    pfs_tree_free(fs.tree);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "ctl") == 0)
        return ctl(argv[2], argv[3]);
    if (argc < 2 || strcmp(argv[1], "mount") != 0)
        return usage();
    bool foreground = false, die_with_parent = false;
    pfs_names names = PFS_NAMES_STRICT;
    int i = 2;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--foreground") == 0)
            foreground = true;
        else if (strcmp(argv[i], "--die-with-parent") == 0)
            die_with_parent = true;
        else if (strcmp(argv[i], "--names") == 0 && i + 1 < argc &&
                 pfs_names_parse(argv[i + 1], &names) == 0)
            i++;
        else
            return usage();
    }
    if (argc - i != 3)
        return usage();
    return mount_and_serve(argv[i], argv[i + 1], argv[i + 2], foreground,
                           die_with_parent, names);
}

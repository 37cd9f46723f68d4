/*
 * pfs_fuse: the FUSE operations of powerfs. Each one takes the lock, asks
 * pfs_tree for the node and its backing path, does the call on the
 * backing directory, tells pfs_tree what changed, and replies.
 */
#define FUSE_USE_VERSION 34
#include "powerfs/pfs_fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* A handle: the backing descriptor, and whether writes through it are
 * synchronous (O_SYNC / O_DSYNC). */
#define FH_SYNC (1ull << 32)

static pfs_fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static int fh_fd(const struct fuse_file_info *fi)
{
    return (int)(fi->fh & 0xffffffffu);
}

/* Reply with n's entry (one more kernel reference) or the error. */
static void reply_entry(fuse_req_t req, pfs_fs *fs, pfs_node *n)
{
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    int rc = pfs_tree_stat(fs->tree, n, &e.attr);
    if (rc) {
        pthread_mutex_unlock(&fs->lock);
        fuse_reply_err(req, -rc);
        return;
    }
    e.ino = n->ino;
    n->nlookup++;
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_entry(req, &e);
}

static void reply_unlock_err(fuse_req_t req, pfs_fs *fs, int neg)
{
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_err(req, -neg);
}

static bool reserved(fuse_ino_t parent, const char *name)
{
    return parent == PFS_ROOT && strcmp(name, PFS_STAGING) == 0;
}

int pfs_names_parse(const char *name, pfs_names *out)
{
    static const char *const names[] = {"strict", "journal", "immediate"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (pfs_names)i;
            return 0;
        }
    return -1;
}

/* A name changed (create, mkdir, symlink, unlink, rename). */
static void names_changed(pfs_fs *fs)
{
    if (fs->names == PFS_NAMES_IMMEDIATE)
        pfs_tree_names_durable(fs->tree);
}

/* Give the node just made at the backing's path to the calling process,
 * as a disk would: powerfs runs as root and made it as root. The group
 * stays the parent's (as the backing set it) in a set-group-ID
 * directory. Nothing to do when powerfs is not root (it can only have
 * been mounted for its own user). 0 or -errno. */
static int give_to_caller(fuse_req_t req, pfs_fs *fs, uint64_t parent,
                          const char *path)
{
    if (geteuid() != 0)
        return 0;
    const struct fuse_ctx *c = fuse_req_ctx(req);
    struct stat pst;
    pfs_node *p = pfs_tree_node(fs->tree, parent);
    int rc = p ? pfs_tree_stat(fs->tree, p, &pst) : -ENOENT;
    if (rc)
        return rc;
    gid_t gid = pst.st_mode & S_ISGID ? (gid_t)-1 : c->gid;
    if (fchownat(pfs_tree_backing_fd(fs->tree), path, c->uid, gid,
                 AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    return 0;
}

/* ---- lookups and attributes --------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_child(fs->tree, parent, name);
    if (!n)
        return reply_unlock_err(req, fs, -ENOENT);
    reply_entry(req, fs, n);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_tree_forget(fs->tree, ino, nlookup);
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    struct stat st;
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n ? -ENOENT : 0;
    if (rc == 0 && fi && n->type == PFS_FILE) {
        rc = fstat(fh_fd(fi), &st) < 0 ? -errno : 0;
        st.st_ino = ino;
    } else if (rc == 0) {
        rc = pfs_tree_stat(fs->tree, n, &st);
    }
    pthread_mutex_unlock(&fs->lock);
    if (rc)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, 0);
}

/* Cut or extend n to size, saving what the change destroys. */
static int truncate_node(pfs_fs *fs, pfs_node *n, int fd, off_t size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    off_t lo = size < st.st_size ? size : st.st_size;
    off_t hi = size < st.st_size ? st.st_size : size;
    int rc = pfs_tree_before_change(fs->tree, n, fd, lo, hi);
    if (rc)
        return rc;
    if (ftruncate(fd, size) < 0)
        return -errno;
    pfs_tree_changed(n, (uint64_t)(hi - lo));
    return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    int bfd = -1;
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    char path[PFS_PATH_MAX];
    int rc = !n ? -ENOENT : pfs_tree_path(fs->tree, n, path, sizeof path);
    bfd = pfs_tree_backing_fd(fs->tree);
    if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
        int fd = fi ? fh_fd(fi) : openat(bfd, path, O_RDWR | O_NOFOLLOW);
        rc = fd < 0 ? -errno : truncate_node(fs, n, fd, attr->st_size);
        if (!fi && fd >= 0)
            close(fd);
    }
    if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE) &&
        fchmodat(bfd, path, attr->st_mode & 07777, 0) < 0)
        rc = -errno;
    if (rc == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
        uid_t uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
        gid_t gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
        if (fchownat(bfd, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            rc = -errno;
    }
    if (rc == 0 && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
        if (to_set & FUSE_SET_ATTR_ATIME_NOW)
            ts[0].tv_nsec = UTIME_NOW;
        else if (to_set & FUSE_SET_ATTR_ATIME)
            ts[0] = attr->st_atim;
        if (to_set & FUSE_SET_ATTR_MTIME_NOW)
            ts[1].tv_nsec = UTIME_NOW;
        else if (to_set & FUSE_SET_ATTR_MTIME)
            ts[1] = attr->st_mtim;
        if (utimensat(bfd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
            rc = -errno;
    }
    struct stat st;
    if (rc == 0)
        rc = pfs_tree_stat(fs->tree, n, &st);
    pthread_mutex_unlock(&fs->lock);
    if (rc)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, 0);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    pfs_fs *fs = fs_of(req);
    char path[PFS_PATH_MAX], target[PFS_PATH_MAX];
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n ? -ENOENT : pfs_tree_path(fs->tree, n, path, sizeof path);
    ssize_t len = rc ? -1 : readlinkat(pfs_tree_backing_fd(fs->tree), path,
                                       target, sizeof target - 1);
    if (rc == 0 && len < 0)
        rc = -errno;
    pthread_mutex_unlock(&fs->lock);
    if (rc)
        return (void)fuse_reply_err(req, -rc);
    target[len] = '\0';
    fuse_reply_readlink(req, target);
}

/* ---- names ----------------------------------------------------------------------- */

/* Make parent/name in the backing with make(), then its node. */
static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
                      pfs_type type, mode_t mode, const char *link)
{
    pfs_fs *fs = fs_of(req);
    char path[PFS_PATH_MAX];
    pthread_mutex_lock(&fs->lock);
    if (reserved(parent, name))
        return reply_unlock_err(req, fs, -EPERM);
    if (pfs_tree_child(fs->tree, parent, name))
        return reply_unlock_err(req, fs, -EEXIST);
    int rc = pfs_tree_child_path(fs->tree, parent, name, path, sizeof path);
    int bfd = pfs_tree_backing_fd(fs->tree);
    if (rc == 0 && type == PFS_DIR && mkdirat(bfd, path, mode) < 0)
        rc = -errno;
    if (rc == 0 && type == PFS_OTHER && symlinkat(link, bfd, path) < 0)
        rc = -errno;
    if (rc)
        return reply_unlock_err(req, fs, rc);
    pfs_node *n = NULL;
    if ((rc = give_to_caller(req, fs, parent, path)) == 0 &&
        !(n = pfs_tree_add(fs->tree, parent, name, type)))
        rc = -ENOMEM;
    if (rc) {    /* not made after all */
        (void)unlinkat(bfd, path, type == PFS_DIR ? AT_REMOVEDIR : 0);
        return reply_unlock_err(req, fs, rc);
    }
    names_changed(fs);
    reply_entry(req, fs, n);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode)
{
    make_node(req, parent, name, PFS_DIR, mode, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name)
{
    make_node(req, parent, name, PFS_OTHER, 0, link);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev)
{
    (void)parent, (void)name, (void)mode, (void)rdev;
    fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
                    const char *name)
{
    (void)ino, (void)parent, (void)name;
    fuse_reply_err(req, EPERM);    /* hard links are not tracked */
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
                        bool dir)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_child(fs->tree, parent, name);
    int rc = !n ? -ENOENT
           : dir && n->type != PFS_DIR ? -ENOTDIR
           : !dir && n->type == PFS_DIR ? -EISDIR
           : pfs_tree_unlink(fs->tree, parent, name);
    if (rc == 0)
        names_changed(fs);
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_err(req, -rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_name(req, parent, name, false);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_name(req, parent, name, true);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags)
{
    pfs_fs *fs = fs_of(req);
    if (flags & ~RENAME_NOREPLACE)
        return (void)fuse_reply_err(req, EINVAL);
    if (reserved(newparent, newname))
        return (void)fuse_reply_err(req, EPERM);
    pthread_mutex_lock(&fs->lock);
    int rc = pfs_tree_rename(fs->tree, parent, name, newparent, newname,
                             flags & RENAME_NOREPLACE);
    if (rc == 0)
        names_changed(fs);
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_err(req, -rc);
}

/* ---- files ---------------------------------------------------------------------------- */

/* Open n's backing file with the application's flags, less the ones
 * powerfs carries out itself (O_TRUNC: with an undo; O_APPEND: the
 * kernel gives the offset). */
static int open_backing(pfs_fs *fs, pfs_node *n, int flags,
                        struct fuse_file_info *fi)
{
    char path[PFS_PATH_MAX];
    int rc = pfs_tree_path(fs->tree, n, path, sizeof path);
    if (rc)
        return rc;
    int oflags = (flags & ~(O_TRUNC | O_APPEND | O_CREAT | O_EXCL |
                            O_NOCTTY | O_SYNC | O_DSYNC)) | O_NOFOLLOW;
    if ((oflags & O_ACCMODE) == O_WRONLY)
        oflags = (oflags & ~O_ACCMODE) | O_RDWR;  /* undo needs reads */
    int fd = openat(pfs_tree_backing_fd(fs->tree), path, oflags);
    if (fd < 0)
        return -errno;
    if ((flags & O_TRUNC) && (rc = truncate_node(fs, n, fd, 0)) != 0) {
        close(fd);
        return rc;
    }
    fi->fh = (uint64_t)fd | (flags & (O_SYNC | O_DSYNC) ? FH_SYNC : 0);
    fi->keep_cache = 0;
    n->open++;
    return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n ? -ENOENT : n->type != PFS_FILE ? -EISDIR
           : open_backing(fs, n, fi->flags, fi);
    pthread_mutex_unlock(&fs->lock);
    if (rc)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_open(req, fi);
}

/* Make the new, empty file parent/name (owned by the caller) and its
 * node into *out. 0 or -errno; nothing is left behind on failure. */
static int make_file(fuse_req_t req, pfs_fs *fs, fuse_ino_t parent,
                     const char *name, mode_t mode, pfs_node **out)
{
    char path[PFS_PATH_MAX];
    int bfd = pfs_tree_backing_fd(fs->tree);
    int rc = pfs_tree_child_path(fs->tree, parent, name, path, sizeof path);
    if (rc)
        return rc;
    int fd = openat(bfd, path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode);
    if (fd < 0)
        return -errno;
    close(fd);
    if ((rc = give_to_caller(req, fs, parent, path)) == 0 &&
        !(*out = pfs_tree_add(fs->tree, parent, name, PFS_FILE)))
        rc = -ENOMEM;
    if (rc) {
        (void)unlinkat(bfd, path, 0);
        return rc;
    }
    names_changed(fs);
    return 0;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    if (reserved(parent, name))
        return reply_unlock_err(req, fs, -EPERM);
    pfs_node *n = pfs_tree_child(fs->tree, parent, name);
    int rc = 0;
    if (n && (fi->flags & O_EXCL))
        rc = -EEXIST;
    if (!n && rc == 0)
        rc = make_file(req, fs, parent, name, mode, &n);
    if (rc == 0 && n->type != PFS_FILE)
        rc = -EISDIR;
    if (rc == 0)
        rc = open_backing(fs, n, fi->flags, fi);
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    if (rc == 0)
        rc = pfs_tree_stat(fs->tree, n, &e.attr);
    if (rc)
        return reply_unlock_err(req, fs, rc);
    e.ino = n->ino;
    n->nlookup++;
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_create(req, &e, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)ino;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return (void)fuse_reply_err(req, ENOMEM);
    /* No lock: the descriptor is the caller's, and a read races nothing
     * powerfs keeps. */
    ssize_t r = pread(fh_fd(fi), buf, size, off);
    if (r < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_buf(req, buf, (size_t)r);
    free(buf);
}

/* fsync of file n through fd: the backing too, then the durable state
 * (in journal mode every name change so far goes with it). */
static int file_durable(pfs_fs *fs, pfs_node *n, int fd)
{
    struct stat st;
    if (fdatasync(fd) < 0 || fstat(fd, &st) < 0)
        return -errno;
    pfs_tree_file_durable(fs->tree, n, st.st_size);
    if (fs->names == PFS_NAMES_JOURNAL)
        pfs_tree_names_durable(fs->tree);
    return 0;
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
                     size_t size, off_t off, struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    int fd = fh_fd(fi);
    struct stat st;
    ssize_t w = -1;
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n ? -ENOENT : fstat(fd, &st) < 0 ? -errno : 0;
    /* A write past the end also fills the hole between. */
    if (rc == 0)
        rc = pfs_tree_before_change(fs->tree, n, fd,
                                    off < st.st_size ? off : st.st_size,
                                    off + (off_t)size);
    if (rc == 0 && (w = pwrite(fd, buf, size, off)) < 0)
        rc = -errno;
    if (rc == 0)
        pfs_tree_changed(n, (uint64_t)w);
    if (rc == 0 && (fi->fh & FH_SYNC))
        rc = file_durable(fs, n, fd);
    pthread_mutex_unlock(&fs->lock);
    if (rc)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_write(req, (size_t)w);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    fuse_reply_err(req, 0);    /* close(2) promises nothing durable */
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    close(fh_fd(fi));
    pfs_tree_release(fs->tree, ino);
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi)
{
    (void)datasync;    /* the size is data here: fdatasync = fsync */
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n ? -ENOENT : file_durable(fs, n, fh_fd(fi));
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_err(req, -rc);
}

/* ---- directories -------------------------------------------------------------------------- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n || n->gone ? -ENOENT : n->type != PFS_DIR ? -ENOTDIR : 0;
    pthread_mutex_unlock(&fs->lock);
    fi->fh = 0;
    if (rc)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_open(req, fi);
}

typedef struct dir_fill {
    pfs_fs *fs;
    fuse_req_t req;
    char *buf;
    size_t size, len;
    off_t index, from;
} dir_fill;

static bool fill_one(dir_fill *f, const char *name, fuse_ino_t ino,
                     mode_t type)
{
    if (f->index++ < f->from)
        return true;
    struct stat st = {.st_ino = ino, .st_mode = type};
    size_t need = fuse_add_direntry(f->req, f->buf + f->len,
                                    f->size - f->len, name, &st, f->index);
    if (need > f->size - f->len)
        return false;
    f->len += need;
    return true;
}

static int fill_child(void *ctx, const pfs_node *n)
{
    mode_t type = n->type == PFS_DIR ? S_IFDIR
                : n->type == PFS_FILE ? S_IFREG : S_IFLNK;
    return fill_one(ctx, n->name, n->ino, type) ? 0 : 1;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
                       off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    pfs_fs *fs = fs_of(req);
    dir_fill f = {.fs = fs, .req = req, .size = size, .from = off};
    if (!(f.buf = malloc(size ? size : 1)))
        return (void)fuse_reply_err(req, ENOMEM);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    if (n && fill_one(&f, ".", ino, S_IFDIR) &&
        fill_one(&f, "..", n->parent ? n->parent : ino, S_IFDIR))
        pfs_tree_each_child(fs->tree, ino, fill_child, &f);
    pthread_mutex_unlock(&fs->lock);
    if (!n)
        fuse_reply_err(req, ENOENT);
    else
        fuse_reply_buf(req, f.buf, f.len);
    free(f.buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
                          struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                        struct fuse_file_info *fi)
{
    (void)datasync, (void)fi;
    pfs_fs *fs = fs_of(req);
    pthread_mutex_lock(&fs->lock);
    pfs_node *n = pfs_tree_node(fs->tree, ino);
    int rc = !n || n->gone ? -ENOENT : n->type != PFS_DIR ? -ENOTDIR : 0;
    if (rc == 0 && fs->names == PFS_NAMES_STRICT)
        pfs_tree_dir_durable(fs->tree, n);
    else if (rc == 0)    /* a journal commits every directory at once */
        pfs_tree_names_durable(fs->tree);
    pthread_mutex_unlock(&fs->lock);
    fuse_reply_err(req, -rc);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    pfs_fs *fs = fs_of(req);
    struct statvfs sv;
    if (fstatvfs(pfs_tree_backing_fd(fs->tree), &sv) < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_statfs(req, &sv);
}

static void op_destroy(void *userdata)
{
    /* An orderly unmount is a clean shutdown: everything reaches disk. */
    pfs_fs *fs = userdata;
    pthread_mutex_lock(&fs->lock);
    (void)pfs_tree_flush(fs->tree);
    pthread_mutex_unlock(&fs->lock);
}

static const struct fuse_lowlevel_ops ops = {
    .destroy = op_destroy,
    .lookup = op_lookup,
    .forget = op_forget,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .create = op_create,
};

const struct fuse_lowlevel_ops *pfs_fuse_ops(void)
{
    return &ops;
}

/* ---- the control channel's commands ------------------------------------------------------------ */

void pfs_fuse_command(pfs_fs *fs, const char *cmd, char *out, size_t size)
{
    pfs_status st;
    int rc = 0;
    pthread_mutex_lock(&fs->lock);
    pfs_tree_status(fs->tree, &st);
    if (strcmp(cmd, "lose-unsynced") == 0)
        rc = pfs_tree_lose(fs->tree);
    else if (strcmp(cmd, "flush") == 0)
        rc = pfs_tree_flush(fs->tree);
    else if (strcmp(cmd, "status") != 0)
        rc = -EINVAL;
    pthread_mutex_unlock(&fs->lock);
    if (rc == -EINVAL)
        snprintf(out, size, "error unknown command \"%.64s\" (known: "
                 "lose-unsynced, flush, status)", cmd);
    else if (rc)
        snprintf(out, size, "error %s: %s", cmd, strerror(-rc));
    else
        snprintf(out, size, "ok unsynced_bytes=%llu dirty_files=%llu "
                 "pending_name_ops=%llu",
                 (unsigned long long)st.unsynced_bytes,
                 (unsigned long long)st.dirty_files,
                 (unsigned long long)st.pending_name_ops);
}

/*
 * pfs_tree: the durable state beside a write-through backing directory.
 * See pfs_tree.h for the rules; this file keeps them.
 *
 * Nodes live in an array indexed by ino (never reused, so an ino the
 * kernel still holds can never name another file). Lookups scan it:
 * databases' data directories hold tens of files, and a scan of a few
 * hundred pointers costs less than the FUSE round trip that asks for it.
 */
#include "powerfs/pfs_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pfs_tree {
    int fd;                      /* the backing directory */
    pfs_node **nodes;            /* by ino; NULL: free */
    size_t cap;
    uint64_t next;               /* the next ino to hand out */
};

/* ---- the table ------------------------------------------------------------ */

pfs_node *pfs_tree_node(pfs_tree *t, uint64_t ino)
{
    return ino < t->next ? t->nodes[ino] : NULL;
}

int pfs_tree_backing_fd(const pfs_tree *t)
{
    return t->fd;
}

static pfs_node *node_new(pfs_tree *t, pfs_type type)
{
    if (t->next >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        pfs_node **nodes = realloc(t->nodes, cap * sizeof *nodes);
        if (!nodes)
            return NULL;
        memset(nodes + t->cap, 0, (cap - t->cap) * sizeof *nodes);
        t->nodes = nodes;
        t->cap = cap;
    }
    pfs_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->ino = t->next++;
    n->type = type;
    t->nodes[n->ino] = n;
    return n;
}

static void drop_saved(pfs_node *n)
{
    for (size_t p = 0; p < n->nsaved; p++)
        free(n->saved[p]);
    free(n->saved);
    n->saved = NULL;
    n->nsaved = 0;
}

static void node_free(pfs_tree *t, pfs_node *n)
{
    t->nodes[n->ino] = NULL;
    drop_saved(n);
    free(n->name);
    free(n->dname);
    free(n);
}

/* Free n if nothing can reach it any more. */
static void maybe_free(pfs_tree *t, pfs_node *n)
{
    if (n->gone && n->nlookup == 0 && n->open == 0 && n->ino != PFS_ROOT)
        node_free(t, n);
}

pfs_node *pfs_tree_child(pfs_tree *t, uint64_t dir, const char *name)
{
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (n && n->parent == dir && strcmp(n->name, name) == 0)
            return n;
    }
    return NULL;
}

int pfs_tree_each_child(pfs_tree *t, uint64_t dir,
                        int (*fn)(void *ctx, const pfs_node *child), void *ctx)
{
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (n && n->parent == dir && n->ino != PFS_ROOT) {
            int rc = fn(ctx, n);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- paths ------------------------------------------------------------------ */

static int path_of(pfs_tree *t, uint64_t ino, char *buf, size_t size,
                   size_t *len)
{
    pfs_node *n = pfs_tree_node(t, ino);
    if (!n || n->gone)
        return -ENOENT;
    if (ino == PFS_ROOT) {
        *len = 0;
        buf[0] = '\0';
        return 0;
    }
    int w;
    if (n->parent == 0) {
        if (!n->staged)
            return -ENOENT;
        w = snprintf(buf, size, "%s/%llu", PFS_STAGING,
                     (unsigned long long)n->ino);
        if (w < 0 || (size_t)w >= size)
            return -ENAMETOOLONG;
        *len = (size_t)w;
        return 0;
    }
    int rc = path_of(t, n->parent, buf, size, len);
    if (rc)
        return rc;
    w = snprintf(buf + *len, size - *len, "%s%s", *len ? "/" : "", n->name);
    if (w < 0 || (size_t)w >= size - *len)
        return -ENAMETOOLONG;
    *len += (size_t)w;
    return 0;
}

int pfs_tree_path(pfs_tree *t, const pfs_node *n, char *buf, size_t size)
{
    size_t len;
    int rc = path_of(t, n->ino, buf, size, &len);
    if (rc == 0 && len == 0)
        snprintf(buf, size, ".");
    return rc;
}

int pfs_tree_child_path(pfs_tree *t, uint64_t dir, const char *name,
                        char *buf, size_t size)
{
    size_t len;
    int rc = path_of(t, dir, buf, size, &len);
    if (rc)
        return rc;
    int w = snprintf(buf + len, size - len, "%s%s", len ? "/" : "", name);
    return w < 0 || (size_t)w >= size - len ? -ENAMETOOLONG : 0;
}

static int staged_path(const pfs_node *n, char *buf, size_t size)
{
    int w = snprintf(buf, size, "%s/%llu", PFS_STAGING,
                     (unsigned long long)n->ino);
    return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
}

int pfs_tree_stat(pfs_tree *t, const pfs_node *n, struct stat *st)
{
    char path[PFS_PATH_MAX];
    int rc = pfs_tree_path(t, n, path, sizeof path);
    if (rc)
        return rc;
    if (fstatat(t->fd, path, st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    st->st_ino = n->ino;
    return 0;
}

/* ---- open: scan what is there ------------------------------------------------ */

static int remove_tree_at(int at, const char *name)
{
    if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            rc = remove_tree_at(dirfd(d), e->d_name);
    closedir(d);
    if (rc == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0)
        rc = -errno;
    return rc;
}

static int scan(pfs_tree *t, uint64_t dir, int fd)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (dir == PFS_ROOT && !strcmp(e->d_name, PFS_STAGING))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = -errno;
            break;
        }
        pfs_type type = S_ISDIR(st.st_mode) ? PFS_DIR
                      : S_ISREG(st.st_mode) ? PFS_FILE : PFS_OTHER;
        pfs_node *n = pfs_tree_add(t, dir, e->d_name, type);
        if (!n || !(n->dname = strdup(e->d_name))) {
            rc = -ENOMEM;
            break;
        }
        n->dparent = dir;
        n->dsize = st.st_size;
        if (type == PFS_DIR) {
            int sub = openat(dirfd(d), e->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            rc = sub < 0 ? -errno : scan(t, n->ino, sub);
        }
    }
    closedir(d);
    return rc;
}

pfs_tree *pfs_tree_open(const char *backing)
{
    pfs_tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->next = PFS_ROOT;
    t->fd = open(backing, O_RDONLY | O_DIRECTORY);
    int rc = t->fd < 0 ? -errno : 0;
    /* Leftover staging is what an earlier powerfs had unlinked: gone. */
    if (rc == 0)
        rc = remove_tree_at(t->fd, PFS_STAGING);
    if (rc == 0 && mkdirat(t->fd, PFS_STAGING, 0700) < 0)
        rc = -errno;
    pfs_node *root = rc ? NULL : node_new(t, PFS_DIR);
    if (rc == 0 && !root)
        rc = -ENOMEM;
    if (rc == 0) {
        int fd = dup(t->fd);
        rc = fd < 0 ? -errno : scan(t, PFS_ROOT, fd);
    }
    /* What was there at mount is durable: no name change is pending. */
    for (uint64_t i = 1; rc == 0 && i < t->next; i++)
        if (t->nodes[i])
            t->nodes[i]->name_ops = 0;
    if (rc) {
        pfs_tree_free(t);
        errno = -rc;
        return NULL;
    }
    return t;
}

void pfs_tree_free(pfs_tree *t)
{
    if (!t)
        return;
    for (uint64_t i = 0; i < t->next; i++)
        if (t->nodes && t->nodes[i])
            node_free(t, t->nodes[i]);
    free(t->nodes);
    if (t->fd >= 0) {
        /* Empty after a flush; otherwise the next mount clears it. */
        (void)unlinkat(t->fd, PFS_STAGING, AT_REMOVEDIR);
        close(t->fd);
    }
    free(t);
}

pfs_node *pfs_tree_add(pfs_tree *t, uint64_t dir, const char *name,
                       pfs_type type)
{
    pfs_node *n = node_new(t, type);
    if (!n)
        return NULL;
    if (!(n->name = strdup(name))) {
        node_free(t, n);
        return NULL;
    }
    n->parent = dir;
    pfs_node *d = pfs_tree_node(t, dir);
    if (d)
        d->name_ops++;
    return n;
}

/* ---- file data ---------------------------------------------------------------- */

int pfs_tree_before_change(pfs_tree *t, pfs_node *n, int fd, off_t from,
                           off_t to)
{
    (void)t;
    if (n->type != PFS_FILE || from >= n->dsize || to <= from)
        return 0;
    if (to > n->dsize)
        to = n->dsize;
    size_t need = (size_t)((n->dsize + PFS_PAGE - 1) / PFS_PAGE);
    if (n->nsaved < need) {
        unsigned char **s = realloc(n->saved, need * sizeof *s);
        if (!s)
            return -ENOMEM;
        memset(s + n->nsaved, 0, (need - n->nsaved) * sizeof *s);
        n->saved = s;
        n->nsaved = need;
    }
    for (size_t p = (size_t)(from / PFS_PAGE);
         p < (size_t)((to + PFS_PAGE - 1) / PFS_PAGE); p++) {
        if (n->saved[p])
            continue;
        off_t at = (off_t)p * PFS_PAGE;
        size_t len = (size_t)(n->dsize - at < PFS_PAGE ? n->dsize - at
                                                        : PFS_PAGE);
        unsigned char *page = calloc(1, PFS_PAGE);
        if (!page)
            return -ENOMEM;
        /* Short reads leave zeros: the file was cut below the durable size
         * earlier and that cut already saved these bytes, so a page first
         * touched now lies wholly above the current end. */
        size_t got = 0;
        while (got < len) {
            ssize_t r = pread(fd, page + got, len - got, at + (off_t)got);
            if (r < 0) {
                free(page);
                return -errno;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        n->saved[p] = page;
    }
    return 0;
}

void pfs_tree_changed(pfs_node *n, uint64_t len)
{
    n->dirty_bytes += len;
}

void pfs_tree_file_durable(pfs_tree *t, pfs_node *n, off_t size)
{
    (void)t;
    drop_saved(n);
    n->dsize = size;
    n->dirty_bytes = 0;
}

/* Write n's saved pages back and cut it to its durable size. */
static int restore_file(pfs_tree *t, pfs_node *n)
{
    char path[PFS_PATH_MAX];
    int rc = pfs_tree_path(t, n, path, sizeof path);
    if (rc)
        return rc;
    int fd = openat(t->fd, path, O_WRONLY | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, n->dsize) < 0)
        rc = -errno;
    for (size_t p = 0; rc == 0 && p < n->nsaved; p++) {
        if (!n->saved[p])
            continue;
        off_t at = (off_t)p * PFS_PAGE;
        size_t len = (size_t)(n->dsize - at < PFS_PAGE ? n->dsize - at
                                                        : PFS_PAGE);
        if (pwrite(fd, n->saved[p], len, at) != (ssize_t)len)
            rc = errno ? -errno : -EIO;
    }
    close(fd);
    if (rc == 0)
        pfs_tree_file_durable(t, n, n->dsize);
    return rc;
}

/* ---- names --------------------------------------------------------------------- */

/* Remove a node with no place, current or durable, from the backing. */
static int delete_backing(pfs_tree *t, pfs_node *n)
{
    char path[PFS_PATH_MAX];
    int rc = pfs_tree_path(t, n, path, sizeof path);
    if (rc == 0 && unlinkat(t->fd, path, n->type == PFS_DIR
                                         ? AT_REMOVEDIR : 0) < 0)
        rc = -errno;
    n->parent = 0;
    n->staged = false;
    n->gone = true;
    return rc;
}

/* n has no durable place any more; if it has no current one either it
 * is deleted (it could only come back through the durable place). */
static void clear_durable(pfs_tree *t, pfs_node *n)
{
    n->dparent = 0;
    free(n->dname);
    n->dname = NULL;
    if (n->parent == 0 && !n->gone)
        (void)delete_backing(t, n);
}

/* n is durably at dir/name; what was durably there loses its place. */
static void set_durable(pfs_tree *t, pfs_node *n, uint64_t dir,
                        const char *name)
{
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *m = t->nodes[i];
        if (m && m != n && m->dparent == dir && !strcmp(m->dname, name))
            clear_durable(t, m);
    }
    if (n->dparent == dir && n->dname && !strcmp(n->dname, name))
        return;
    char *copy = strdup(name);
    if (!copy)
        return;               /* OOM: n keeps its old durable place */
    free(n->dname);
    n->dname = copy;
    n->dparent = dir;
}

void pfs_tree_dir_durable(pfs_tree *t, pfs_node *d)
{
    /* What left d: the whole rename becomes durable, or the unlink. */
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (!n || n->dparent != d->ino || n->parent == d->ino)
            continue;
        if (n->parent != 0)
            set_durable(t, n, n->parent, n->name);
        else
            clear_durable(t, n);
    }
    /* What is in d now is durably there (leaving where it was). */
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (n && n->parent == d->ino)
            set_durable(t, n, d->ino, n->name);
    }
    d->name_ops = 0;
}

/* Take n out of its current place: to staging if a crash could bring it
 * back, else out of the backing. */
static int take_out(pfs_tree *t, pfs_node *n)
{
    char path[PFS_PATH_MAX], to[PFS_PATH_MAX];
    int rc = pfs_tree_path(t, n, path, sizeof path);
    if (rc)
        return rc;
    pfs_node *dir = pfs_tree_node(t, n->parent);
    if (dir)
        dir->name_ops++;
    if (n->dparent == 0) {
        rc = delete_backing(t, n);
        maybe_free(t, n);
        return rc;
    }
    if ((rc = staged_path(n, to, sizeof to)) != 0)
        return rc;
    if (renameat(t->fd, path, t->fd, to) < 0)
        return -errno;
    n->parent = 0;
    n->staged = true;
    return 0;
}

static bool has_children(pfs_tree *t, uint64_t dir)
{
    for (uint64_t i = 1; i < t->next; i++)
        if (t->nodes[i] && t->nodes[i]->parent == dir)
            return true;
    return false;
}

int pfs_tree_unlink(pfs_tree *t, uint64_t dir, const char *name)
{
    pfs_node *n = pfs_tree_child(t, dir, name);
    if (!n)
        return -ENOENT;
    if (n->type == PFS_DIR && has_children(t, n->ino))
        return -ENOTEMPTY;
    return take_out(t, n);
}

/* Whether dir is anc or below it. */
static bool is_within(pfs_tree *t, uint64_t dir, uint64_t anc)
{
    for (pfs_node *d = pfs_tree_node(t, dir); d;
         d = d->ino == PFS_ROOT ? NULL : pfs_tree_node(t, d->parent))
        if (d->ino == anc)
            return true;
    return false;
}

int pfs_tree_rename(pfs_tree *t, uint64_t dir, const char *name,
                    uint64_t ndir, const char *nname, bool noreplace)
{
    pfs_node *n = pfs_tree_child(t, dir, name);
    if (!n)
        return -ENOENT;
    pfs_node *m = pfs_tree_child(t, ndir, nname);
    if (m == n)
        return 0;
    if (m && noreplace)
        return -EEXIST;
    if (n->type == PFS_DIR && is_within(t, ndir, n->ino))
        return -EINVAL;
    if (m && m->type == PFS_DIR && n->type != PFS_DIR)
        return -EISDIR;
    if (m && m->type != PFS_DIR && n->type == PFS_DIR)
        return -ENOTDIR;
    if (m && m->type == PFS_DIR && has_children(t, m->ino))
        return -ENOTEMPTY;
    char from[PFS_PATH_MAX], to[PFS_PATH_MAX];
    int rc = pfs_tree_path(t, n, from, sizeof from);
    if (rc == 0)
        rc = pfs_tree_child_path(t, ndir, nname, to, sizeof to);
    char *copy = rc == 0 ? strdup(nname) : NULL;
    if (rc == 0 && !copy)
        rc = -ENOMEM;
    if (rc == 0 && m)
        rc = take_out(t, m);
    if (rc == 0 && renameat(t->fd, from, t->fd, to) < 0)
        rc = -errno;
    if (rc) {
        free(copy);
        return rc;
    }
    free(n->name);
    n->name = copy;
    n->parent = ndir;
    pfs_node *d = pfs_tree_node(t, dir), *nd = pfs_tree_node(t, ndir);
    if (d)
        d->name_ops++;
    if (nd && nd != d)
        nd->name_ops++;
    return 0;
}

void pfs_tree_forget(pfs_tree *t, uint64_t ino, uint64_t n)
{
    pfs_node *node = pfs_tree_node(t, ino);
    if (!node)
        return;
    node->nlookup = node->nlookup > n ? node->nlookup - n : 0;
    maybe_free(t, node);
}

void pfs_tree_release(pfs_tree *t, uint64_t ino)
{
    pfs_node *node = pfs_tree_node(t, ino);
    if (!node)
        return;
    if (node->open)
        node->open--;
    maybe_free(t, node);
}

/* ---- crash and flush ------------------------------------------------------------ */

static unsigned depth(pfs_tree *t, const pfs_node *n)
{
    unsigned d = 0;
    while (n && n->ino != PFS_ROOT && n->parent) {
        d++;
        n = pfs_tree_node(t, n->parent);
    }
    return d;
}

/* Move every linked node into staging, deepest first, so that each rename
 * moves an empty directory or a file. */
static int stage_all(pfs_tree *t)
{
    int first = 0;
    unsigned max = 0;
    for (uint64_t i = 1; i < t->next; i++)
        if (t->nodes[i]) {
            unsigned d = depth(t, t->nodes[i]);
            if (d > max)
                max = d;
        }
    for (unsigned level = max; level >= 1; level--)
        for (uint64_t i = 1; i < t->next; i++) {
            pfs_node *n = t->nodes[i];
            if (!n || n->ino == PFS_ROOT || n->parent == 0 ||
                depth(t, n) != level)
                continue;
            char path[PFS_PATH_MAX], to[PFS_PATH_MAX];
            int rc = pfs_tree_path(t, n, path, sizeof path);
            if (rc == 0)
                rc = staged_path(n, to, sizeof to);
            if (rc == 0 && renameat(t->fd, path, t->fd, to) < 0)
                rc = -errno;
            if (rc) {
                if (!first)
                    first = rc;
                continue;
            }
            n->parent = 0;
            n->staged = true;
        }
    return first;
}

/* Move staged nodes to their durable places, parents before children. */
static int place_durable(pfs_tree *t)
{
    int first = 0;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint64_t i = 1; i < t->next; i++) {
            pfs_node *n = t->nodes[i];
            if (!n || !n->staged || n->dparent == 0)
                continue;
            pfs_node *d = pfs_tree_node(t, n->dparent);
            if (!d || (d->ino != PFS_ROOT && d->parent == 0))
                continue;    /* its directory is not placed (yet) */
            char from[PFS_PATH_MAX], to[PFS_PATH_MAX];
            int rc = staged_path(n, from, sizeof from);
            if (rc == 0)
                rc = pfs_tree_child_path(t, n->dparent, n->dname, to,
                                         sizeof to);
            if (rc == 0 && renameat(t->fd, from, t->fd, to) < 0)
                rc = -errno;
            if (rc) {
                if (!first)
                    first = rc;
                continue;
            }
            char *copy = strdup(n->dname);
            if (!copy)
                return -ENOMEM;
            free(n->name);
            n->name = copy;
            n->parent = n->dparent;
            n->staged = false;
            moved = true;
        }
    }
    return first;
}

int pfs_tree_lose(pfs_tree *t)
{
    int first = 0, rc;
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (n && n->type == PFS_FILE && !n->gone &&
            (rc = restore_file(t, n)) != 0 && !first)
            first = rc;
    }
    if ((rc = stage_all(t)) != 0 && !first)
        first = rc;
    if ((rc = place_durable(t)) != 0 && !first)
        first = rc;
    /* What no durable chain reaches is lost. */
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (!n)
            continue;
        if (n->staged) {
            n->dparent = 0;
            if ((rc = delete_backing(t, n)) != 0 && !first)
                first = rc;
        }
        if (n->type == PFS_DIR)
            n->name_ops = 0;
        maybe_free(t, n);
    }
    return first;
}

int pfs_tree_flush(pfs_tree *t)
{
    int first = 0;
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (!n || n->gone)
            continue;
        if (n->type == PFS_FILE) {
            struct stat st;
            int rc = pfs_tree_stat(t, n, &st);
            if (rc) {
                if (!first)
                    first = rc;
                continue;
            }
            pfs_tree_file_durable(t, n, st.st_size);
        }
    }
    pfs_tree_names_durable(t);
    return first;
}

void pfs_tree_names_durable(pfs_tree *t)
{
    for (uint64_t i = 1; i < t->next; i++) {
        pfs_node *n = t->nodes[i];
        if (!n || n->gone)
            continue;
        if (n->type == PFS_DIR)
            n->name_ops = 0;
        if (n->ino == PFS_ROOT)
            continue;
        if (n->parent)
            set_durable(t, n, n->parent, n->name);
        else
            clear_durable(t, n);
        maybe_free(t, n);
    }
}

void pfs_tree_status(const pfs_tree *t, pfs_status *out)
{
    memset(out, 0, sizeof *out);
    for (uint64_t i = 1; i < t->next; i++) {
        const pfs_node *n = t->nodes[i];
        if (!n)
            continue;
        out->nodes++;
        if (n->type == PFS_FILE && n->dirty_bytes && !n->gone) {
            out->unsynced_bytes += n->dirty_bytes;
            out->dirty_files++;
        }
        if (n->type == PFS_DIR)
            out->pending_name_ops += n->name_ops;
    }
}

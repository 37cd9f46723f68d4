/*
 * pfs_tree: powerfs's memory of what is durable, and the backing
 * directory it keeps in step.
 *
 * powerfs (faultline-powerfs) is mounted over a database's data directory
 * and simulates a machine that loses power: every change an application
 * has not made durable can be dropped on command (`lose-unsynced`).
 *
 * Design: write through, remember the durable state. The backing
 * directory always holds the latest (volatile) state, so reads, stats and
 * mmap need no merging. What would survive a power cut is remembered
 * beside it:
 *
 *   - file data: each regular file has a durable size and, for every page
 *     (PFS_PAGE bytes) below it that was overwritten or truncated away
 *     since the file was last made durable, a copy of the page as it was
 *     (an undo log, saved before the first change to the page). Appends
 *     past the durable size need no copy: truncating to the durable size
 *     undoes them. So an append-only log costs nothing to track.
 *   - names: every node (file, directory, symlink) has its current place
 *     (parent, name) and its durable place (dparent, dname) or none. No
 *     hard links: a node has at most one place of each kind. A node that
 *     is unlinked while it still has a durable place is not removed from
 *     the backing but moved to the staging directory (.powerfs/<ino>,
 *     hidden from the mount), so a crash can bring it back.
 *
 * What survives a crash (the rules pfs_tree_file_durable,
 * pfs_tree_dir_durable and pfs_tree_lose implement; tests/test_powerfs.c
 * checks them against an independent model):
 *
 *   - fsync / fdatasync of a file (or any write through a descriptor
 *     opened O_SYNC / O_DSYNC) makes all of the file's data and its size
 *     durable. Writes not followed by one are lost: the file comes back
 *     with its durable size and contents. A new file's durable contents
 *     are empty.
 *   - fsync of a directory D makes its entries durable: every node now in
 *     D is durably there under its current name, and whatever was durably
 *     in D and is not any more loses that place. A rename is one atomic
 *     change, as in a journalling file system: if the node left D for
 *     another directory T, fsync of D (or of T) makes it durable at its
 *     place in T, never in both or neither.
 *   - Nothing else is durable: creating a file, a rename, an unlink, a
 *     mkdir without an fsync of the directory concerned is undone. POSIX
 *     allows a crash to keep more than was made durable; powerfs keeps
 *     exactly that and no more, the harshest crash allowed.
 *     (That is the strict mode; pfs_fuse.h's names modes relax it by
 *     calling pfs_tree_names_durable.)
 *   - Not tracked: modes, owners, times (set through, never undone),
 *     hard links (refused with EPERM), device nodes (refused).
 *
 * `lose-unsynced` (pfs_tree_lose) rolls the backing back to the durable
 * state: each file's saved pages are written back and its size cut to the
 * durable size; every node is moved into staging, then every node whose
 * durable place chain reaches the root is moved to that place, and the
 * rest are deleted. Afterwards the backing directory is exactly the
 * durable state and everything in it is durable. `flush` makes the
 * current state durable.
 *
 * Thread safety: none; the caller (pfs_fuse.c) serialises every call.
 * Ownership: a pfs_tree owns its nodes and the backing descriptor; node
 * pointers are valid until the next call that can free nodes
 * (pfs_tree_forget, pfs_tree_release, pfs_tree_lose, pfs_tree_unlink).
 */
#ifndef PFS_TREE_H
#define PFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PFS_PAGE 4096
#define PFS_ROOT 1               /* FUSE's root inode */
#define PFS_STAGING ".powerfs"   /* under the backing root, hidden */
#define PFS_PATH_MAX 4096

typedef enum { PFS_FILE, PFS_DIR, PFS_OTHER } pfs_type;

typedef struct pfs_node {
    uint64_t ino;
    pfs_type type;
    uint64_t parent;             /* current place; 0: unlinked */
    char *name;
    uint64_t dparent;            /* durable place; 0: none */
    char *dname;
    bool staged;                 /* unlinked, kept at .powerfs/<ino> */
    bool gone;                   /* no longer in the backing at all */
    uint64_t nlookup;            /* the kernel's references */
    unsigned open;               /* open handles */
    /* PFS_FILE */
    off_t dsize;                 /* durable size */
    unsigned char **saved;       /* saved[p]: page p as durable, or NULL */
    size_t nsaved;               /* slots in saved */
    uint64_t dirty_bytes;        /* written or cut since durable */
    /* PFS_DIR */
    uint64_t name_ops;           /* name changes here since its fsync */
} pfs_node;

typedef struct pfs_tree pfs_tree;

typedef struct pfs_status {
    uint64_t unsynced_bytes;     /* sum of files' dirty_bytes */
    uint64_t dirty_files;
    uint64_t pending_name_ops;   /* sum of directories' name_ops */
    uint64_t nodes;
} pfs_status;

/* Open the backing directory, clear leftover staging, and scan it: what is
 * there at mount is durable. NULL with errno set on failure. Owned by the
 * caller; free with pfs_tree_free. */
pfs_tree *pfs_tree_open(const char *backing);
void pfs_tree_free(pfs_tree *t);
int pfs_tree_backing_fd(const pfs_tree *t);

/* The node of ino, or NULL if there is none (freed or never made). */
pfs_node *pfs_tree_node(pfs_tree *t, uint64_t ino);
/* The child of dir named name in the current state, or NULL. */
pfs_node *pfs_tree_child(pfs_tree *t, uint64_t dir, const char *name);
/* n's path relative to the backing root ("." for the root, ".powerfs/N"
 * when staged) into buf. -ENAMETOOLONG, -ENOENT (gone) or 0. */
int pfs_tree_path(pfs_tree *t, const pfs_node *n, char *buf, size_t size);
/* The path dir/name would have. Same returns. */
int pfs_tree_child_path(pfs_tree *t, uint64_t dir, const char *name,
                        char *buf, size_t size);
/* lstat of n in the backing, with st_ino set to n's ino. 0 or -errno. */
int pfs_tree_stat(pfs_tree *t, const pfs_node *n, struct stat *st);
/* Calls fn for each current child of dir in a stable order (by ino),
 * until fn returns nonzero (returned). */
int pfs_tree_each_child(pfs_tree *t, uint64_t dir,
                        int (*fn)(void *ctx, const pfs_node *child), void *ctx);

/* A node just created in the backing at dir/name (not durable anywhere).
 * NULL on OOM. */
pfs_node *pfs_tree_add(pfs_tree *t, uint64_t dir, const char *name,
                       pfs_type type);

/* Save what a change of bytes [from, to) of file n would destroy of its
 * durable contents; fd is open on n for reading. Call before the change.
 * 0 or -errno. */
int pfs_tree_before_change(pfs_tree *t, pfs_node *n, int fd, off_t from,
                           off_t to);
/* Account len changed bytes (for status). */
void pfs_tree_changed(pfs_node *n, uint64_t len);
/* fsync of file n, whose size is now size: its data and size durable. */
void pfs_tree_file_durable(pfs_tree *t, pfs_node *n, off_t size);
/* fsync of directory d: its entries durable (the header's rules). */
void pfs_tree_dir_durable(pfs_tree *t, pfs_node *d);

/* Make every name durable where it is now (and every unlink final), in
 * all directories at once, as a journalling file system's commit does;
 * file data is untouched. The names modes of pfs_fuse.h call it. */
void pfs_tree_names_durable(pfs_tree *t);

/* Remove dir/name (a file, symlink or empty directory): staged if it has
 * a durable place, else deleted from the backing. 0 or -errno. */
int pfs_tree_unlink(pfs_tree *t, uint64_t dir, const char *name);
/* Rename (no flags but noreplace): the target, if any, goes as by
 * pfs_tree_unlink. 0 or -errno (EEXIST, EISDIR, ENOTDIR, ENOTEMPTY,
 * EINVAL for a directory into itself). */
int pfs_tree_rename(pfs_tree *t, uint64_t dir, const char *name,
                    uint64_t ndir, const char *nname, bool noreplace);

/* The kernel forgot n references to ino / a handle on ino closed; frees
 * the node when gone and unreferenced. */
void pfs_tree_forget(pfs_tree *t, uint64_t ino, uint64_t n);
void pfs_tree_release(pfs_tree *t, uint64_t ino);

/* Roll the backing back to the durable state (the header). Returns 0 or
 * the first -errno; it goes on after a failure so as much as possible is
 * rolled back. */
int pfs_tree_lose(pfs_tree *t);
/* Make everything durable. 0 or -errno. */
int pfs_tree_flush(pfs_tree *t);
void pfs_tree_status(const pfs_tree *t, pfs_status *out);

#endif

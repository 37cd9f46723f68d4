/*
 * pfs_fuse: powerfs's FUSE operations (libfuse3's low-level API) over a
 * pfs_tree, and the commands of its control channel.
 *
 * Every operation and every control command holds one mutex, so a
 * `lose-unsynced` never sees half an operation. Entries and attributes
 * are never cached by the kernel (timeouts 0), and files are opened
 * without keep_cache, so after a crash the kernel asks again and sees the
 * rolled-back state. The kernel's write-back cache stays off: every
 * write reaches powerfs before write(2) returns, as a power cut needs.
 */
#ifndef PFS_FUSE_H
#define PFS_FUSE_H

#include <pthread.h>
#include <stddef.h>

#include "powerfs/pfs_tree.h"

struct fuse_lowlevel_ops;

/*
 * When names (creates, mkdirs, renames, unlinks) become durable:
 *   strict     only by an fsync of the directory concerned (POSIX; the
 *              harshest crash, pfs_tree.h's rules)
 *   journal    also by any fsync / fdatasync of any file: every earlier
 *              name change goes with it, as in ext4 (data=ordered) or
 *              xfs, whose one journal commits all pending metadata at a
 *              file's fsync
 *   immediate  at once: names are never lost, only unsynced file data
 *              (LazyFS's behaviour: it passes names straight through to
 *              its backing file system and caches data only)
 * Operations and owners: names and data as above; modes, owners and
 * times are set through. A new node belongs to the calling process's
 * uid and gid (the parent's gid in a set-group-ID directory), and the
 * kernel checks permissions against them (default_permissions), so a
 * database run as its own user (PostgreSQL) sees what a disk shows it.
 */
typedef enum { PFS_NAMES_STRICT, PFS_NAMES_JOURNAL,
               PFS_NAMES_IMMEDIATE } pfs_names;

typedef struct pfs_fs {
    pfs_tree *tree;              /* owned */
    pthread_mutex_t lock;
    pfs_names names;
} pfs_fs;

/* The mode called name ("strict", "journal", "immediate") into *out: 0,
 * or -1 for an unknown name. */
int pfs_names_parse(const char *name, pfs_names *out);

/* The operations; their userdata is a pfs_fs. */
const struct fuse_lowlevel_ops *pfs_fuse_ops(void);

/*
 * Run one control command ("lose-unsynced", "flush", "status") and write
 * its one-line answer ("ok unsynced_bytes=N dirty_files=N
 * pending_name_ops=N", or "error ...") into out. Takes fs->lock.
 * The status figures are those before the command took effect.
 */
void pfs_fuse_command(pfs_fs *fs, const char *cmd, char *out, size_t size);

#endif

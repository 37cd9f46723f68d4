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

typedef struct pfs_fs {
    pfs_tree *tree;              /* owned */
    pthread_mutex_t lock;
} pfs_fs;

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

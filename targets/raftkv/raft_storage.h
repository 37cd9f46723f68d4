/*
 * raft_storage: durable state of one Raft node in a data directory — the I/O
 * half of step 1 of the Ready contract (raft.h).
 *
 * Files in the directory:
 *
 *   log       records, appended and fsync'd before a save returns:
 *               u32 len | u32 crc32 | u8 type | payload      (big-endian;
 *               len counts type + payload; crc32 (zlib) covers the same)
 *             types: 1 hard state  u64 term | u32 vote
 *                    2 entry       u64 term | u64 index | u8 type | data
 *                    3 truncate    u64 from  (drop entries >= from)
 *             The last hard state record wins. A rewrite (after a snapshot)
 *             starts with the current hard state followed by the entries
 *             after the snapshot.
 *   snapshot  u64 magic "RKVSNAP1" | u64 index | u64 term | u32 len |
 *             u32 crc32(index..data) | data; replaced atomically (write
 *             snapshot.tmp, fsync, rename, fsync the directory).
 *
 * Recovery reads the snapshot, then the log. A final record cut short or
 * failing its checksum, or a bad record followed only by zero bytes — what a
 * crash mid-append leaves — is cut off (the file is truncated there). A bad record followed by more data is corruption
 * and an error: the data after it cannot be trusted to follow it. A crash
 * between writing a snapshot and rewriting the log is repaired: log entries
 * the snapshot covers are dropped, and if the log disagrees with the
 * snapshot at its index, the whole log is dropped.
 *
 * Not thread safe. After an FL_EIO from a save, the in-memory view may be
 * ahead of the disk: close the storage and reopen it (the server should
 * restart the node).
 */
#ifndef RAFT_STORAGE_H
#define RAFT_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "targets/raftkv/raft.h"

typedef struct raft_storage raft_storage;

typedef struct raft_storage_options {
    /* Seeded bug: persist every hard state with vote = RAFT_NONE, so a node
     * restarted mid-term may vote again in that term. */
    bool bug_volatile_vote;
    /* Seeded bug: never fsync / fdatasync (files or the directory): a save
     * returns once write() has, so acknowledged entries survive kill -9
     * (the kernel holds them) but not a power cut. */
    bool bug_no_fsync;
} raft_storage_options;

/* Open the node's data directory dir (created if missing, mode 0755) and
 * recover its state. opts may be NULL (all off). On success *out is owned by
 * the caller (raft_storage_close). Errors: FL_EIO (cannot create/read/
 * truncate), FL_EDATA (corrupt record or snapshot, with file and offset),
 * FL_ENOMEM. */
int raft_storage_open(const char *dir, const raft_storage_options *opts,
                      raft_storage **out, fl_error *err);

/* The persisted state, ready for raft_new(). Pointers are borrowed from the
 * storage and stay valid until the next save or close. */
void raft_storage_restore(const raft_storage *st, raft_restore *out);

/* Bytes cut from a torn log tail at open (0 if none), for logging. */
uint64_t raft_storage_cut_bytes(const raft_storage *st);

/* Do step 1 of rd (snapshot, truncation, entries, hard state) and fsync.
 * Returns only once everything is durable. Errors: FL_EIO, FL_ENOMEM,
 * FL_EUSAGE (entries not following the stored log: a contract breach). */
int raft_storage_save_ready(raft_storage *st, const raft_ready *rd,
                            fl_error *err);

/* Store a snapshot the application made (after raft_compact with the same
 * index and bytes; term from raft_get_status().snapshot_term) and compact the
 * log: entries <= index are dropped by rewriting the log file atomically.
 * data is copied. Errors: FL_EIO, FL_ENOMEM, FL_EUSAGE (index not above the
 * stored snapshot or beyond the stored log). */
int raft_storage_save_snapshot(raft_storage *st, uint64_t index,
                               uint64_t term, const void *data, size_t len,
                               fl_error *err);

/* Close files and free everything. st may be NULL. */
void raft_storage_close(raft_storage *st);

#endif

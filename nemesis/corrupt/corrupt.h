/*
 * corrupt: what the file-corruption faults (nemesis/fault_corrupt.c) do to
 * one data file of a stopped database, as small functions over a file
 * descriptor, so that a test can run them on a temporary file. The node
 * runs them through faultline-corrupt (nemesis/corrupt/main.c), a static
 * program uploaded beside the database.
 *
 * Both modes act on the file's data, which ends one past its last
 * non-zero byte (corrupt_data_end): etcd and ZooKeeper preallocate their
 * logs with zeros, and a bit flipped there, or zeros cut, would touch no
 * record at all. For a file written as it grows (raftkv's log) the data
 * is the whole file.
 *
 *   bitflip N   N distinct bits, at offsets drawn uniformly in the data,
 *               are inverted in place (corrupt_plan_flips, then
 *               corrupt_flip_bits)
 *   truncate N  the file is cut to its data's end less N bytes (at least
 *               0): the last N bytes of what it wrote are gone
 *
 * Every choice comes from a caller's seeded rng: the same seed, file and
 * N give the same corruption.
 */
#ifndef FL_CORRUPT_H
#define FL_CORRUPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "base/rng.h"

/* The most bits one bitflip inverts (its option's bound). */
#define CORRUPT_MAX_FLIPS 4096

typedef struct corrupt_flip {
    uint64_t offset;             /* byte */
    unsigned bit;                /* 0 (least significant) .. 7 */
} corrupt_flip;

/* One past the last non-zero byte of fd's file (0: empty or all zeros),
 * read through pread. FL_EIO on a read error. */
int corrupt_data_end(int fd, uint64_t *end, fl_error *err);

/* Choose min(n, CORRUPT_MAX_FLIPS, end * 8) distinct bits in [0, end)
 * into out (room for n), in ascending order of (offset, bit); returns
 * how many. Pure. */
size_t corrupt_plan_flips(fl_rng *rng, uint64_t end, size_t n,
                          corrupt_flip *out);

/* Invert each of the n bits of flips in fd's file (read, xor, write
 * back; no fsync: the caller decides). FL_EIO naming the offset. */
int corrupt_flip_bits(int fd, const corrupt_flip *flips, size_t n,
                      fl_error *err);

/* Cut fd's file to end - n bytes (0 when n >= end); *new_size is the
 * size it now has. FL_EIO when ftruncate fails. */
int corrupt_cut(int fd, uint64_t end, uint64_t n, uint64_t *new_size,
                fl_error *err);

#endif

/*
 * corrupt: bit flips and truncation of one file. See corrupt.h.
 */
#include "nemesis/corrupt/corrupt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int corrupt_data_end(int fd, uint64_t *end, fl_error *err)
{
    unsigned char buf[65536];
    uint64_t off = 0, last = 0;
    for (;;) {
        ssize_t got = pread(fd, buf, sizeof buf, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return fl_error_set(err, FL_EIO, "reading at %llu: %s",
                                (unsigned long long)off, strerror(errno));
        if (got == 0)
            break;
        for (ssize_t i = got; i-- > 0;)
            if (buf[i]) {
                last = off + (uint64_t)i + 1;
                break;
            }
        off += (uint64_t)got;
    }
    *end = last;
    return FL_OK;
}

static int flip_cmp(const void *a, const void *b)
{
    const corrupt_flip *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return (x->bit > y->bit) - (x->bit < y->bit);
}

size_t corrupt_plan_flips(fl_rng *rng, uint64_t end, size_t n,
                          corrupt_flip *out)
{
    if (n > CORRUPT_MAX_FLIPS)
        n = CORRUPT_MAX_FLIPS;
    if (end < UINT64_MAX / 8 && n > end * 8)
        n = (size_t)(end * 8);
    size_t got = 0;
    /* Drawn until distinct: n is at most a small bound, or all of a tiny
     * file's bits (then the draws still end: each new bit is likelier
     * than not to be found within 8 * end tries). */
    while (got < n) {
        uint64_t b = fl_rng_below(rng, end * 8);
        corrupt_flip f = {b / 8, (unsigned)(b % 8)};
        size_t i = 0;
        while (i < got && flip_cmp(&out[i], &f) != 0)
            i++;
        if (i == got)
            out[got++] = f;
    }
    qsort(out, got, sizeof *out, flip_cmp);
    return got;
}

int corrupt_flip_bits(int fd, const corrupt_flip *flips, size_t n,
                      fl_error *err)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c;
        off_t at = (off_t)flips[i].offset;
        if (pread(fd, &c, 1, at) != 1)
            return fl_error_set(err, FL_EIO, "reading byte %llu: %s",
                                (unsigned long long)flips[i].offset,
                                strerror(errno));
        c ^= (unsigned char)(1u << flips[i].bit);
        if (pwrite(fd, &c, 1, at) != 1)
            return fl_error_set(err, FL_EIO, "writing byte %llu: %s",
                                (unsigned long long)flips[i].offset,
                                strerror(errno));
    }
    return FL_OK;
}

int corrupt_cut(int fd, uint64_t end, uint64_t n, uint64_t *new_size,
                fl_error *err)
{
    uint64_t size = n >= end ? 0 : end - n;
    if (ftruncate(fd, (off_t)size) != 0)
        return fl_error_set(err, FL_EIO, "truncating to %llu bytes: %s",
                            (unsigned long long)size, strerror(errno));
    *new_size = size;
    return FL_OK;
}

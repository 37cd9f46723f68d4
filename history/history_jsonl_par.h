/*
 * Reading a large JSONL history on several threads
 * (history_jsonl_par.c). Internal to history/.
 */
#ifndef FL_HISTORY_JSONL_PAR_H
#define FL_HISTORY_JSONL_PAR_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "history/history.h"
#include "history/history_jsonl_fast.h"

/* Not an FL_E* code: the input was left for the one-thread reader. */
#define HISTORY_PAR_DECLINED (-2)

/* Below this many bytes a file is read on one thread: starting threads and
 * merging their chunks would cost more than they save. */
#define HISTORY_PAR_MIN_BYTES ((size_t)4 << 20)

/* One line of a JSONL file (with its newline if it has one) read into h:
 * FL_OK, or an error prefixed NAME:LINENO. A final line without a newline
 * that is a cut-off object is dropped with a warning. fast: the fast
 * path's scratch, or NULL for jansson only. (history_jsonl.c) */
int history_jsonl_read_line(history *h, history_fast *fast, const char *name,
                            long lineno, const char *line, size_t n,
                            fl_error *err);

/* A stream's lines, read in large blocks (getline, and a getc per line to
 * learn whether it was the last, cost more than the fast path's parse).
 * Zero-initialise but for read and src; free buf with fl_free. */
typedef struct history_lines {
    /* Up to n bytes into buf: how many (0 at the end), or -1 with errno. */
    ssize_t (*read)(void *src, char *buf, size_t n);
    void *src;
    char *buf;
    size_t cap, start, len; /* unread bytes: buf[start .. start + len) */
    bool eof;
    int error;              /* errno of a failed read */
} history_lines;

/* The next line, with its newline if it has one, in [*line, *line + *n):
 * valid until the next call. 1 for a line, 0 at the end, FL_ENOMEM,
 * FL_EIO (r->error says why), or FL_EDATA: a NUL byte before the line's
 * end, which no text history holds (an endless binary input is refused
 * at its first block rather than read until memory runs out).
 * (history_jsonl.c) */
int history_lines_next(history_lines *r, const char **line, size_t *n);

/*
 * history_read_jsonl on threads, when `in` is a regular file with at least
 * HISTORY_PAR_MIN_BYTES left and threads (0: one a core, at most 8) is
 * above 1: the rest of the file is split at line boundaries into one chunk
 * a thread, each read (with pread, from its own offset) into a history of
 * its own, then merged in line order (history_merge_chunk). The result,
 * error or warnings are exactly the one-thread reader's, and `in` is left
 * at the end of the file. HISTORY_PAR_DECLINED, with nothing read, when
 * the input does not qualify.
 */
int history_read_jsonl_parallel(FILE *in, const char *name, int threads,
                                history **out, fl_error *err);

/*
 * The same reader over buf[0, len), cut into ncuts + 1 chunks (one thread
 * each) at the byte offsets cuts[] (ascending): a cut inside a line moves
 * to the start of the next line. ncuts 0 reads on the calling thread. For
 * the tests and the differential fuzzer, which place the cuts themselves.
 */
int history_read_jsonl_split(const char *buf, size_t len, const char *name,
                             const size_t *cuts, size_t ncuts, history **out,
                             fl_error *err);

#endif

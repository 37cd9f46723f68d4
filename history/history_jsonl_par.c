/*
 * history_jsonl_par.c — a large JSONL file read on every core.
 *
 * The file is cut at line boundaries into one chunk a thread. The first
 * chunk is read straight into the result, exactly as the one-thread reader
 * reads it; each later one into a history of its own (history_set_chunk:
 * every field checked, pairing left for the merge, since it depends on the
 * lines before). The chunks are then merged in line order
 * (history_merge_chunk), which pools their names and values in their order
 * and pairs their events: the result is the one-thread reader's, pool ids
 * included. The merge costs one hash look-up per distinct value of a chunk
 * (with the hash already computed) and an array look-up per event.
 *
 * Errors: each chunk stops at its first; the first in line order wins: a
 * chunk's own, or a pairing error found while merging the lines before
 * it. A chunk knows only its own line numbers, so its messages (and the
 * truncated-final-line warning) are relabelled with the file's
 * (relabel()). A chunk gives up once an earlier chunk has failed: nothing
 * after that failure is reported.
 */
#include "history/history_jsonl_par.h"
#include "base/alloc.h"
#include "history/history_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAR_MAX_THREADS 8
#define PAR_MIN_CHUNK ((size_t)1 << 20)
#define PAR_LOOK_EVERY 1024 /* lines between looks at the other chunks */

/* Where the bytes come from: memory, or a file read with pread. */
typedef struct par_source {
    const char *mem; /* NULL: fd */
    int fd;
    off_t base;      /* fd: the file offset of byte 0 */
    size_t len;
} par_source;

/* Up to n bytes at `at` into buf: how many (0 at the end), or -1 with
 * errno set (EIO when the file is shorter than it was). */
static ssize_t source_read(const par_source *s, char *buf, size_t n, size_t at)
{
    if (at >= s->len)
        return 0;
    if (n > s->len - at)
        n = s->len - at;
    if (s->mem != NULL) {
        memcpy(buf, s->mem + at, n);
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t k = pread(s->fd, buf, n, s->base + (off_t)at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            errno = EIO;
        return k == 0 ? -1 : k;
    }
}

/* The lines of bytes [pos, end) of a source. From memory they are the
 * source's own bytes; from a file, history_lines' blocks, read by offset
 * (every thread reads its own range). */
typedef struct chunk_reader {
    const par_source *src;
    size_t pos, end;     /* the next byte to fetch, the chunk's end */
    history_lines lines; /* a file's */
} chunk_reader;

static ssize_t read_range(void *arg, char *buf, size_t n)
{
    chunk_reader *r = arg;
    if (r->pos >= r->end)
        return 0;
    if (n > r->end - r->pos)
        n = r->end - r->pos;
    ssize_t got = source_read(r->src, buf, n, r->pos);
    if (got > 0)
        r->pos += (size_t)got;
    return got;
}

/* The next line, with its newline if it has one: 1, 0 at the end, or
 * FL_ENOMEM, FL_EIO or FL_EDATA (a NUL byte in it). Valid until the next
 * call. */
static int chunk_next_line(chunk_reader *r, const char **line, size_t *n)
{
    if (r->src->mem == NULL)
        return history_lines_next(&r->lines, line, n);
    if (r->pos >= r->end)
        return 0;
    const char *at = r->src->mem + r->pos;
    const char *nl = memchr(at, '\n', r->end - r->pos);
    *line = at;
    *n = nl ? (size_t)(nl - at) + 1 : r->end - r->pos;
    if (memchr(at, '\0', *n) != NULL)   /* as history_lines_next */
        return FL_EDATA;
    r->pos += *n;
    return 1;
}

typedef struct par_chunk {
    size_t index;
    size_t begin, end;      /* its bytes of the source */
    const par_source *src;
    const char *name;
    atomic_size_t *failed;  /* the lowest chunk that has failed so far */
    history *h;             /* chunk 0: the result; the others: a chunk's */
    long *lines;            /* not chunk 0: each event's line in the chunk */
    size_t lines_cap;
    long nlines;            /* lines read */
    long first_backwards;   /* chunk 0: the line where time first went back */
    long warned;            /* the line that added h's warning; 0: none */
    int rc;
    fl_error err;           /* the error, on line nlines (chunk's numbering) */
} par_chunk;

/* After line c->nlines went in: what the merge will need to know of it. */
static int note_line(par_chunk *c, size_t events, size_t warnings)
{
    if (c->index == 0) {
        if (c->first_backwards == 0 && history_time_backwards(c->h) > 0)
            c->first_backwards = c->nlines;
        return FL_OK;
    }
    if (history_warning_count(c->h) > warnings)
        c->warned = c->nlines;
    if (history_len(c->h) == events)
        return FL_OK;
    if (events == c->lines_cap) {
        size_t cap = c->lines_cap ? 2 * c->lines_cap : 4096;
        long *grown = fl_realloc(c->lines, cap * sizeof *grown);
        if (grown == NULL)
            return fl_error_set(&c->err, FL_ENOMEM, "%s:%ld: out of memory",
                                c->name, c->nlines);
        c->lines = grown;
        c->lines_cap = cap;
    }
    c->lines[events] = c->nlines;
    return FL_OK;
}

static void mark_failed(par_chunk *c)
{
    size_t lowest = atomic_load(c->failed);
    while (c->index < lowest &&
           !atomic_compare_exchange_weak(c->failed, &lowest, c->index))
        ;
}

static int reader_error(par_chunk *c, const chunk_reader *r, int more)
{
    if (more == FL_EIO)
        return fl_error_set(&c->err, FL_EIO, "%s: read error: %s", c->name,
                            strerror(r->lines.error));
    c->nlines++; /* the line it could not read */
    if (more == FL_EDATA)
        return fl_error_set(&c->err, FL_EDATA, "%s:%ld: a NUL byte: not a text "
                            "history", c->name, c->nlines);
    return fl_error_set(&c->err, FL_ENOMEM, "%s:%ld: out of memory reading "
                        "the line", c->name, c->nlines);
}

static void *read_chunk(void *arg)
{
    par_chunk *c = arg;
    chunk_reader r = {.src = c->src, .pos = c->begin, .end = c->end};
    r.lines = (history_lines){.read = read_range, .src = &r};
    history_fast fast = {0};
    const char *line;
    size_t n;
    int more;
    while ((more = chunk_next_line(&r, &line, &n)) == 1) {
        c->nlines++;
        if (c->nlines % PAR_LOOK_EVERY == 0 &&
            atomic_load(c->failed) < c->index)
            break; /* never merged: an earlier chunk's error is reported */
        size_t events = history_len(c->h);
        size_t warnings = history_warning_count(c->h);
        c->rc = history_jsonl_read_line(c->h, &fast, c->name, c->nlines, line,
                                        n, &c->err);
        if (c->rc == FL_OK)
            c->rc = note_line(c, events, warnings);
        if (c->rc != FL_OK)
            break;
    }
    if (more != 0 && more != 1)
        c->rc = reader_error(c, &r, more);
    if (c->rc != FL_OK)
        mark_failed(c);
    fl_free(r.lines.buf);
    history_fast_free(&fast);
    return NULL;
}

/*
 * msg, written for line `local` of a chunk, made the one-thread reader's
 * for line `global` of the file: its NAME:LOCAL prefix becomes NAME:GLOBAL.
 * Truncation comes out the same too, as global has at least local's digits.
 * A message without the prefix (a read error) stays as it is.
 */
static void relabel(char *msg, const char *name, long local, long global)
{
    char was[FL_ERROR_MSG_MAX], now[FL_ERROR_MSG_MAX];
    int n = snprintf(was, sizeof was, "%s:%ld", name, local);
    if (n < 0 || (size_t)n >= sizeof was || strncmp(msg, was, (size_t)n) != 0 ||
        msg[n] != ':')
        return;
    snprintf(now, sizeof now, "%s:%ld%s", name, global, msg + n);
    memcpy(msg, now, sizeof now);
}

/* Chunk c's warnings (the truncated-final-line one) into h, relabelled. */
static int merge_warnings(history *h, const par_chunk *c, long base,
                          fl_error *err)
{
    for (size_t i = 0; i < history_warning_count(c->h); i++) {
        char msg[FL_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", history_warning(c->h, i));
        relabel(msg, c->name, c->warned, base + c->warned);
        if (history_add_warning(h, msg) != 0)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    return FL_OK;
}

/* Chunk c (its lines after base) into h: FL_OK, or the first error of its
 * lines, in the file's numbering. */
static int merge_one(history *h, par_chunk *c, long base,
                     long *first_backwards, fl_error *err)
{
    size_t failed, back = SIZE_MAX;
    int rc = history_merge_chunk(h, c->h, history_len(c->h), &failed, &back,
                                 err);
    if (rc != FL_OK)
        return fl_error_wrap(err, "%s:%ld", c->name,
                             base + (failed == SIZE_MAX ? 1 : c->lines[failed]));
    if (*first_backwards == 0 && back != SIZE_MAX)
        *first_backwards = base + c->lines[back];
    if (c->rc != FL_OK) {
        relabel(c->err.msg, c->name, c->nlines, base + c->nlines);
        if (err != NULL)
            *err = c->err;
        return c->rc;
    }
    return merge_warnings(h, c, base, err);
}

static int merge_chunks(par_chunk *chunks, size_t nchunks, fl_error *err)
{
    par_chunk *first = &chunks[0];
    if (first->rc != FL_OK) {
        if (err != NULL)
            *err = first->err;
        return first->rc;
    }
    long base = first->nlines, first_backwards = first->first_backwards;
    for (size_t i = 1; i < nchunks; i++) {
        int rc = merge_one(first->h, &chunks[i], base, &first_backwards, err);
        if (rc != FL_OK)
            return rc;
        base += chunks[i].nlines;
    }
    return history_warn_time_backwards(first->h, first->name, first_backwards,
                                       err);
}

/* Read chunk i of the source, from starts[i] to starts[i + 1], each on a
 * thread (the calling one reads the first), then merge them. */
static int run_chunks(const par_source *src, const char *name,
                      const size_t *starts, size_t nchunks, history **out,
                      fl_error *err)
{
    par_chunk *chunks = fl_calloc(nchunks, sizeof *chunks);
    pthread_t *tids = fl_calloc(nchunks, sizeof *tids);
    bool *running = fl_calloc(nchunks, sizeof *running);
    atomic_size_t failed = nchunks;
    int rc = chunks && tids && running ? FL_OK : FL_ENOMEM;
    for (size_t i = 0; rc == FL_OK && i < nchunks; i++) {
        chunks[i] = (par_chunk){.index = i, .begin = starts[i],
                                .end = starts[i + 1], .src = src,
                                .name = name, .failed = &failed,
                                .h = history_new()};
        if (chunks[i].h == NULL)
            rc = FL_ENOMEM;
        else if (i > 0)
            history_set_chunk(chunks[i].h);
    }
    if (rc == FL_OK) {
        for (size_t i = 1; i < nchunks; i++)
            running[i] = pthread_create(&tids[i], NULL, read_chunk,
                                        &chunks[i]) == 0;
        read_chunk(&chunks[0]);
        for (size_t i = 1; i < nchunks; i++) {
            if (running[i])
                pthread_join(tids[i], NULL);
            else /* no thread to be had: read it here */
                read_chunk(&chunks[i]);
        }
        rc = merge_chunks(chunks, nchunks, err);
    } else {
        fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    if (rc == FL_OK) {
        *out = chunks[0].h;
        chunks[0].h = NULL;
    }
    for (size_t i = 0; chunks != NULL && i < nchunks; i++) {
        history_free(chunks[i].h);
        fl_free(chunks[i].lines);
    }
    fl_free(chunks);
    fl_free(tids);
    fl_free(running);
    return rc;
}

/* The start of the line that offset `at` falls in, or, if `at` is inside
 * a line, of the next one: a cut never splits a line. */
static int line_start(const par_source *src, size_t at, size_t *out)
{
    if (at == 0 || at >= src->len) {
        *out = at < src->len ? at : src->len;
        return FL_OK;
    }
    char buf[4096];
    for (size_t pos = at - 1;;) {
        ssize_t k = source_read(src, buf, sizeof buf, pos);
        if (k <= 0) {
            *out = src->len;
            return k < 0 ? FL_EIO : FL_OK;
        }
        const char *nl = memchr(buf, '\n', (size_t)k);
        if (nl != NULL) {
            *out = pos + (size_t)(nl - buf) + 1;
            return FL_OK;
        }
        pos += (size_t)k;
    }
}

/* The chunks' starts for cuts[] (then the end), and run them. */
static int read_cut(const par_source *src, const char *name,
                    const size_t *cuts, size_t ncuts, history **out,
                    fl_error *err)
{
    size_t *starts = fl_malloc((ncuts + 2) * sizeof *starts);
    if (starts == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    starts[0] = 0;
    int rc = FL_OK;
    for (size_t i = 0; i < ncuts && rc == FL_OK; i++) {
        rc = line_start(src, cuts[i], &starts[i + 1]);
        if (starts[i + 1] < starts[i])
            starts[i + 1] = starts[i];
    }
    starts[ncuts + 1] = src->len;
    if (rc != FL_OK)
        rc = fl_error_set(err, FL_EIO, "%s: read error: %s", name,
                          strerror(errno));
    else
        rc = run_chunks(src, name, starts, ncuts + 1, out, err);
    fl_free(starts);
    return rc;
}

int history_read_jsonl_split(const char *buf, size_t len, const char *name,
                             const size_t *cuts, size_t ncuts, history **out,
                             fl_error *err)
{
    par_source src = {.mem = len ? buf : "", .fd = -1, .len = len};
    return read_cut(&src, name, cuts, ncuts, out, err);
}

int history_read_jsonl_parallel(FILE *in, const char *name, int threads,
                                history **out, fl_error *err)
{
    int fd = fileno(in);
    struct stat st;
    off_t pos;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (pos = ftello(in)) < 0 || pos > st.st_size)
        return HISTORY_PAR_DECLINED;
    size_t len = (size_t)(st.st_size - pos);
    if (threads <= 0)
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads > PAR_MAX_THREADS)
        threads = PAR_MAX_THREADS;
    if ((size_t)threads > len / PAR_MIN_CHUNK)
        threads = (int)(len / PAR_MIN_CHUNK);
    if (len < HISTORY_PAR_MIN_BYTES || threads < 2)
        return HISTORY_PAR_DECLINED;
    size_t cuts[PAR_MAX_THREADS - 1];
    for (int i = 1; i < threads; i++)
        cuts[i - 1] = len / (size_t)threads * (size_t)i;
    par_source src = {.fd = fd, .base = pos, .len = len};
    int rc = read_cut(&src, name, cuts, (size_t)threads - 1, out, err);
    fseeko(in, st.st_size, SEEK_SET); /* where a one-thread read ends */
    return rc;
}

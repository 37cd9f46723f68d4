/*
 * raft_storage.c: the log and snapshot files of raft_storage.h.
 *
 * The storage keeps an in-memory mirror of what is on disk (hard state,
 * snapshot, entries after it) so that restore is free and a compaction can
 * rewrite the log without reading it back.
 */
#include "targets/raftkv/raft_storage.h"
#include "base/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum { REC_HARD_STATE = 1, REC_ENTRY = 2, REC_TRUNCATE = 3 };

#define REC_HEADER 8 /* u32 len | u32 crc */
#define REC_MAX (RAFT_MSG_MAX_FRAME + 64u)
#define SNAP_MAGIC 0x524b56534e415031ULL /* "RKVSNAP1" */
#define SNAP_HEADER (8 + 8 + 8 + 4 + 4)

struct raft_storage {
    char *dir;
    char *log_path, *log_tmp, *snap_path, *snap_tmp;
    int log_fd;
    bool volatile_vote;
    bool no_fsync;
    raft_hard_state hs;
    raft_snapshot snap;
    raft_entry *ents;
    size_t n_ents, cap_ents;
    uint64_t cut_bytes;
};

/* ---- byte buffers ----------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} buf;

static void buf_reserve(buf *b, size_t more)
{
    if (b->oom || b->len + more <= b->cap)
        return;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->len + more)
        nc *= 2;
    uint8_t *p = fl_realloc(b->p, nc);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = nc;
}

static void buf_put(buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (b->oom || !len)
        return;
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void buf_be(buf *b, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    buf_put(b, t, (size_t)bytes);
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t crc(const uint8_t *p, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (len) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)c;
}

/* ---- records ------------------------------------------------------------------ */

/* Append one record: header placeholder, type + payload, then fill in the
 * length and checksum. */
static void rec_begin(buf *b, size_t *start, uint8_t type)
{
    *start = b->len;
    buf_be(b, 0, 4);
    buf_be(b, 0, 4);
    buf_be(b, type, 1);
}

static void rec_end(buf *b, size_t start)
{
    if (b->oom)
        return;
    size_t body = b->len - start - REC_HEADER;
    uint32_t c = crc(b->p + start + REC_HEADER, body);
    for (int i = 0; i < 4; i++) {
        b->p[start + (size_t)i] = (uint8_t)(body >> (24 - 8 * i));
        b->p[start + 4 + (size_t)i] = (uint8_t)(c >> (24 - 8 * i));
    }
}

static void rec_hard_state(buf *b, raft_hard_state hs, bool volatile_vote)
{
    size_t s;
    rec_begin(b, &s, REC_HARD_STATE);
    buf_be(b, hs.term, 8);
    buf_be(b, volatile_vote ? RAFT_NONE : hs.vote, 4);
    rec_end(b, s);
}

static void rec_entry(buf *b, const raft_entry *e)
{
    size_t s;
    rec_begin(b, &s, REC_ENTRY);
    buf_be(b, e->term, 8);
    buf_be(b, e->index, 8);
    buf_be(b, e->type, 1);
    buf_put(b, e->data, e->len);
    rec_end(b, s);
}

static void rec_truncate(buf *b, uint64_t from)
{
    size_t s;
    rec_begin(b, &s, REC_TRUNCATE);
    buf_be(b, from, 8);
    rec_end(b, s);
}

/* ---- files ----------------------------------------------------------------------- */

static int io_fail(fl_error *err, const char *what, const char *path)
{
    return fl_error_set(err, FL_EIO, "raft storage: %s %s: %s", what, path,
                        strerror(errno));
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsync / fdatasync, unless the seeded bug no-fsync skips it: then a
 * save returns after write(), and only what the kernel already holds
 * survives (every kill -9; not a power cut). */
static int sync_fd(const raft_storage *st, int fd, bool data_only)
{
    if (st->no_fsync)
        return 0;
    return data_only ? fdatasync(fd) : fsync(fd);
}

/* A rename is durable only once the directory itself is fsync'd. */
static int fsync_dir(const raft_storage *st, fl_error *err)
{
    if (st->no_fsync)
        return FL_OK;
    int fd = open(st->dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return io_fail(err, "opening directory", st->dir);
    int rc = fsync(fd);
    close(fd);
    return rc ? io_fail(err, "syncing directory", st->dir) : FL_OK;
}

/* Write b to tmp, fsync, rename over path, fsync the directory. */
static int replace_file(raft_storage *st, const char *tmp, const char *path,
                        const buf *b, fl_error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_fail(err, "creating", tmp);
    if (write_all(fd, b->p, b->len) || sync_fd(st, fd, false)) {
        int rc = io_fail(err, "writing", tmp);
        close(fd);
        return rc;
    }
    close(fd);
    if (rename(tmp, path))
        return io_fail(err, "renaming to", path);
    return fsync_dir(st, err);
}

static int read_file(const char *path, buf *out, bool *missing,
                     fl_error *err)
{
    *missing = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = true;
            return FL_OK;
        }
        return io_fail(err, "opening", path);
    }
    for (;;) {
        buf_reserve(out, 65536);
        if (out->oom) {
            close(fd);
            return fl_error_set(err, FL_ENOMEM, "raft storage: reading %s",
                                path);
        }
        ssize_t r = read(fd, out->p + out->len, out->cap - out->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int rc = io_fail(err, "reading", path);
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
    }
    close(fd);
    return FL_OK;
}

/* ---- in-memory log ----------------------------------------------------------------- */

static uint64_t mem_last(const raft_storage *st)
{
    return st->n_ents ? st->ents[st->n_ents - 1].index : st->snap.index;
}

static void mem_clear(raft_storage *st)
{
    for (size_t i = 0; i < st->n_ents; i++)
        fl_free(st->ents[i].data);
    st->n_ents = 0;
}

/* Drop entries with index >= from. */
static void mem_truncate(raft_storage *st, uint64_t from)
{
    while (st->n_ents && st->ents[st->n_ents - 1].index >= from)
        fl_free(st->ents[--st->n_ents].data);
}

/* Drop entries with index <= upto. */
static void mem_drop_prefix(raft_storage *st, uint64_t upto)
{
    size_t k = 0;
    while (k < st->n_ents && st->ents[k].index <= upto)
        fl_free(st->ents[k++].data);
    memmove(st->ents, st->ents + k, (st->n_ents - k) * sizeof *st->ents);
    st->n_ents -= k;
}

static int mem_append(raft_storage *st, const raft_entry *e)
{
    if (st->n_ents == st->cap_ents) {
        size_t nc = st->cap_ents ? st->cap_ents * 2 : 64;
        raft_entry *p = fl_realloc(st->ents, nc * sizeof *p);
        if (!p)
            return -1;
        st->ents = p;
        st->cap_ents = nc;
    }
    raft_entry c = *e;
    c.data = NULL;
    if (e->len) {
        c.data = fl_malloc(e->len);
        if (!c.data)
            return -1;
        memcpy(c.data, e->data, e->len);
    }
    st->ents[st->n_ents++] = c;
    return 0;
}

static uint64_t mem_term_at(const raft_storage *st, uint64_t index)
{
    if (index == st->snap.index)
        return st->snap.term;
    if (!st->n_ents || index < st->ents[0].index || index > mem_last(st))
        return 0;
    return st->ents[index - st->ents[0].index].term;
}

/* ---- recovery ------------------------------------------------------------------------- */

static int load_snapshot(raft_storage *st, fl_error *err)
{
    buf b = {0};
    bool missing;
    int rc = read_file(st->snap_path, &b, &missing, err);
    if (rc || missing)
        goto out;
    if (b.len < SNAP_HEADER || get_be(b.p, 8) != SNAP_MAGIC ||
        get_be(b.p + 24, 4) != b.len - SNAP_HEADER ||
        get_be(b.p + 28, 4) !=
            (crc(b.p + 8, 20) ^ crc(b.p + SNAP_HEADER, b.len - SNAP_HEADER))) {
        rc = fl_error_set(err, FL_EDATA,
                          "raft storage: %s: bad header, length or checksum",
                          st->snap_path);
        goto out;
    }
    st->snap.index = get_be(b.p + 8, 8);
    st->snap.term = get_be(b.p + 16, 8);
    st->snap.len = (uint32_t)(b.len - SNAP_HEADER);
    st->snap.data = fl_malloc(st->snap.len ? st->snap.len : 1);
    if (!st->snap.data) {
        rc = fl_error_set(err, FL_ENOMEM, "raft storage: snapshot");
        goto out;
    }
    memcpy(st->snap.data, b.p + SNAP_HEADER, st->snap.len);
out:
    fl_free(b.p);
    return rc;
}

static int bad_record(const raft_storage *st, size_t off, const char *why,
                      fl_error *err)
{
    return fl_error_set(err, FL_EDATA,
                        "raft storage: %s: record at byte %zu: %s (the log is "
                        "corrupt; restore this node from a peer)",
                        st->log_path, off, why);
}

/* Apply one checksummed record to the in-memory state. */
static int apply_record(raft_storage *st, const uint8_t *p, size_t len,
                        size_t off, fl_error *err)
{
    uint8_t type = p[0];
    p++;
    len--;
    if (type == REC_HARD_STATE && len == 12) {
        st->hs.term = get_be(p, 8);
        st->hs.vote = (raft_id)get_be(p + 8, 4);
        return FL_OK;
    }
    if (type == REC_TRUNCATE && len == 8) {
        mem_truncate(st, get_be(p, 8));
        return FL_OK;
    }
    if (type != REC_ENTRY || len < 17)
        return bad_record(st, off, "unknown type or bad length", err);
    raft_entry e = {.term = get_be(p, 8), .index = get_be(p + 8, 8),
                    .type = p[16], .len = (uint32_t)(len - 17),
                    .data = (uint8_t *)p + 17};
    /* After a truncate or a rewrite the next entry may start anywhere at or
     * below last + 1; a gap is corruption. */
    if (st->n_ents && e.index != mem_last(st) + 1) {
        if (e.index > mem_last(st) + 1 || e.index < st->ents[0].index)
            return bad_record(st, off, "entry index out of sequence", err);
        mem_truncate(st, e.index);
    }
    if (mem_append(st, &e))
        return fl_error_set(err, FL_ENOMEM, "raft storage: log entry");
    return FL_OK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

/* Whether a whole record with a good checksum starts anywhere in b after
 * `from`. A crash tears only the last write, so what follows a torn
 * record's header is a prefix of its own body and holds no whole record
 * (a chance match is a 2^-32 checksum collision); one found means the
 * header's length was damaged, and cutting there would drop good records. */
static bool whole_record_after(const buf *b, size_t from)
{
    for (size_t at = from; at + REC_HEADER < b->len; at++) {
        uint64_t len = get_be(b->p + at, 4);
        if (len >= 1 && len <= REC_MAX && len <= b->len - at - REC_HEADER &&
            get_be(b->p + at + 4, 4) == crc(b->p + at + REC_HEADER,
                                            (size_t)len))
            return true;
    }
    return false;
}

/* Scan records; cut a torn tail. */
static int scan_log(raft_storage *st, const buf *b, size_t *valid_end,
                    fl_error *err)
{
    size_t off = 0;
    while (off < b->len) {
        size_t left = b->len - off;
        uint64_t len = left >= REC_HEADER ? get_be(b->p + off, 4) : 0;
        bool complete = left >= REC_HEADER && len <= left - REC_HEADER;
        bool ok = complete && len >= 1 && len <= REC_MAX &&
                  get_be(b->p + off + 4, 4) ==
                      crc(b->p + off + REC_HEADER, (size_t)len);
        if (!ok) {
            /* Torn: cut short, or the file's final record, or followed by
             * nothing but zeros (blocks allocated by a crashed append whose
             * data never reached the disk). */
            bool last = !complete || off + REC_HEADER + len == b->len ||
                        all_zero(b->p + off, left);
            if (!last)
                return bad_record(st, off, "checksum mismatch", err);
            if (!complete && whole_record_after(b, off + 1))
                return bad_record(st, off, "its length runs past the end of "
                                  "the file, yet whole records follow it",
                                  err);
            break; /* a torn final record: cut it */
        }
        int rc = apply_record(st, b->p + off + REC_HEADER, (size_t)len, off,
                              err);
        if (rc)
            return rc;
        off += REC_HEADER + (size_t)len;
    }
    *valid_end = off;
    return FL_OK;
}

/* Reconcile the log with the snapshot after a crash between writing one and
 * rewriting the other (see raft_storage.h). */
static int reconcile(raft_storage *st, fl_error *err)
{
    if (!st->n_ents)
        return FL_OK;
    uint64_t first = st->ents[0].index;
    if (first > st->snap.index + 1)
        return fl_error_set(err, FL_EDATA,
                            "raft storage: %s starts at index %llu but the "
                            "snapshot ends at %llu: entries are missing",
                            st->log_path, (unsigned long long)first,
                            (unsigned long long)st->snap.index);
    if (!st->snap.index)
        return FL_OK;
    /* The log's own term at the snapshot index (not mem_term_at, which
     * answers with the snapshot's term there). */
    uint64_t last = mem_last(st);
    uint64_t t = first <= st->snap.index && st->snap.index <= last
                     ? st->ents[st->snap.index - first].term
                     : 0;
    if (first <= st->snap.index && t != st->snap.term)
        mem_clear(st);
    else
        mem_drop_prefix(st, st->snap.index);
    return FL_OK;
}

static int recover_log(raft_storage *st, fl_error *err)
{
    buf b = {0};
    bool missing;
    size_t end = 0;
    int rc = read_file(st->log_path, &b, &missing, err);
    if (!rc && !missing)
        rc = scan_log(st, &b, &end, err);
    if (!rc && !missing && end < b.len) {
        st->cut_bytes = b.len - end;
        if (truncate(st->log_path, (off_t)end))
            rc = io_fail(err, "truncating torn tail of", st->log_path);
    }
    fl_free(b.p);
    if (!rc)
        rc = reconcile(st, err);
    if (rc)
        return rc;
    st->log_fd = open(st->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                      0644);
    if (st->log_fd < 0)
        return io_fail(err, "opening", st->log_path);
    if (missing || st->cut_bytes)
        return sync_fd(st, st->log_fd, false) || fsync_dir(st, err)
                   ? io_fail(err, "syncing", st->log_path)
                   : FL_OK;
    return FL_OK;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = fl_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int raft_storage_open(const char *dir, const raft_storage_options *opts,
                      raft_storage **out, fl_error *err)
{
    *out = NULL;
    if (mkdir(dir, 0755) && errno != EEXIST)
        return io_fail(err, "creating directory", dir);
    raft_storage *st = fl_calloc(1, sizeof *st);
    if (!st)
        return fl_error_set(err, FL_ENOMEM, "raft storage: open");
    st->log_fd = -1;
    st->volatile_vote = opts && opts->bug_volatile_vote;
    st->no_fsync = opts && opts->bug_no_fsync;
    st->dir = fl_strdup(dir);
    st->log_path = path_join(dir, "log");
    st->log_tmp = path_join(dir, "log.tmp");
    st->snap_path = path_join(dir, "snapshot");
    st->snap_tmp = path_join(dir, "snapshot.tmp");
    int rc = FL_OK;
    if (!st->dir || !st->log_path || !st->log_tmp || !st->snap_path ||
        !st->snap_tmp)
        rc = fl_error_set(err, FL_ENOMEM, "raft storage: open");
    if (!rc)
        rc = load_snapshot(st, err);
    if (!rc)
        rc = recover_log(st, err);
    if (rc) {
        fl_error_wrap(err, "opening %s", dir);
        raft_storage_close(st);
        return rc;
    }
    *out = st;
    return FL_OK;
}

void raft_storage_restore(const raft_storage *st, raft_restore *out)
{
    *out = (raft_restore){.hard_state = st->hs, .snapshot = st->snap,
                          .entries = st->ents, .n_entries = st->n_ents};
}

uint64_t raft_storage_cut_bytes(const raft_storage *st)
{
    return st->cut_bytes;
}

void raft_storage_close(raft_storage *st)
{
    if (!st)
        return;
    if (st->log_fd >= 0)
        close(st->log_fd);
    mem_clear(st);
    fl_free(st->ents);
    fl_free(st->snap.data);
    fl_free(st->dir);
    fl_free(st->log_path);
    fl_free(st->log_tmp);
    fl_free(st->snap_path);
    fl_free(st->snap_tmp);
    fl_free(st);
}

/* ---- saving ----------------------------------------------------------------------------- */

static int append_sync(raft_storage *st, const buf *b, fl_error *err)
{
    if (b->oom)
        return fl_error_set(err, FL_ENOMEM, "raft storage: building records");
    if (write_all(st->log_fd, b->p, b->len) || sync_fd(st, st->log_fd, true))
        return io_fail(err, "appending to", st->log_path);
    return FL_OK;
}

/* Rewrite the log from memory: hard state, then every entry. */
static int rewrite_log(raft_storage *st, fl_error *err)
{
    buf b = {0};
    rec_hard_state(&b, st->hs, st->volatile_vote);
    for (size_t i = 0; i < st->n_ents; i++)
        rec_entry(&b, &st->ents[i]);
    int rc = b.oom ? fl_error_set(err, FL_ENOMEM, "raft storage: rewrite")
                   : replace_file(st, st->log_tmp, st->log_path, &b, err);
    fl_free(b.p);
    if (rc)
        return rc;
    close(st->log_fd);
    st->log_fd = open(st->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    return st->log_fd < 0 ? io_fail(err, "reopening", st->log_path) : FL_OK;
}

static int write_snapshot(raft_storage *st, uint64_t index, uint64_t term,
                          const void *data, size_t len, fl_error *err)
{
    uint8_t *copy = fl_malloc(len ? len : 1);
    buf b = {0};
    buf_be(&b, SNAP_MAGIC, 8);
    buf_be(&b, index, 8);
    buf_be(&b, term, 8);
    buf_be(&b, len, 4);
    buf_be(&b, 0, 4);
    buf_put(&b, data, len);
    if (!copy || b.oom) {
        fl_free(copy);
        fl_free(b.p);
        return fl_error_set(err, FL_ENOMEM, "raft storage: snapshot");
    }
    uint32_t c = crc(b.p + 8, 20) ^ crc(b.p + SNAP_HEADER, len);
    for (int i = 0; i < 4; i++)
        b.p[28 + i] = (uint8_t)(c >> (24 - 8 * i));
    int rc = replace_file(st, st->snap_tmp, st->snap_path, &b, err);
    fl_free(b.p);
    if (rc) {
        fl_free(copy);
        return rc;
    }
    if (len)
        memcpy(copy, data, len);
    fl_free(st->snap.data);
    st->snap = (raft_snapshot){.index = index, .term = term,
                               .len = (uint32_t)len, .data = copy};
    return FL_OK;
}

int raft_storage_save_snapshot(raft_storage *st, uint64_t index,
                               uint64_t term, const void *data, size_t len,
                               fl_error *err)
{
    if (index <= st->snap.index || index > mem_last(st) ||
        mem_term_at(st, index) != term)
        return fl_error_set(err, FL_EUSAGE,
                            "raft storage: snapshot at %llu (term %llu) does "
                            "not fit the stored log (snapshot %llu, last "
                            "%llu)",
                            (unsigned long long)index,
                            (unsigned long long)term,
                            (unsigned long long)st->snap.index,
                            (unsigned long long)mem_last(st));
    int rc = write_snapshot(st, index, term, data, len, err);
    if (rc)
        return rc;
    mem_drop_prefix(st, index);
    return rewrite_log(st, err);
}

/* A snapshot from the leader replaces the whole log (raft.h, step 1a). */
static int save_received_snapshot(raft_storage *st, const raft_ready *rd,
                                  fl_error *err)
{
    const raft_snapshot *s = rd->snapshot;
    int rc = write_snapshot(st, s->index, s->term, s->data, s->len, err);
    if (rc)
        return rc;
    mem_clear(st);
    for (size_t i = 0; i < rd->n_entries; i++)
        if (mem_append(st, &rd->entries[i]))
            return fl_error_set(err, FL_ENOMEM, "raft storage: entries");
    if (rd->hard_state_changed) {
        st->hs = rd->hard_state;
        if (st->volatile_vote)
            st->hs.vote = RAFT_NONE;
    }
    return rewrite_log(st, err);
}

int raft_storage_save_ready(raft_storage *st, const raft_ready *rd,
                            fl_error *err)
{
    if (rd->snapshot)
        return save_received_snapshot(st, rd, err);
    uint64_t last = mem_last(st);
    if (rd->truncate_from && (rd->truncate_from <= st->snap.index ||
                              rd->truncate_from > last + 1))
        return fl_error_set(err, FL_EUSAGE,
                            "raft storage: truncation at %llu outside the "
                            "stored log (%llu..%llu)",
                            (unsigned long long)rd->truncate_from,
                            (unsigned long long)st->snap.index + 1,
                            (unsigned long long)last);
    if (rd->truncate_from)
        last = rd->truncate_from - 1;
    if (rd->n_entries && rd->entries[0].index != last + 1)
        return fl_error_set(err, FL_EUSAGE,
                            "raft storage: Ready entries start at %llu, the "
                            "stored log ends at %llu",
                            (unsigned long long)rd->entries[0].index,
                            (unsigned long long)last);
    /* Hard state first: a torn write may keep any prefix of these records,
     * and an entry must never be on disk without the term it belongs to. */
    buf b = {0};
    if (rd->hard_state_changed)
        rec_hard_state(&b, rd->hard_state, st->volatile_vote);
    if (rd->truncate_from)
        rec_truncate(&b, rd->truncate_from);
    for (size_t i = 0; i < rd->n_entries; i++)
        rec_entry(&b, &rd->entries[i]);
    int rc = b.len ? append_sync(st, &b, err) : FL_OK;
    fl_free(b.p);
    if (rc)
        return rc;
    if (rd->truncate_from)
        mem_truncate(st, rd->truncate_from);
    for (size_t i = 0; i < rd->n_entries; i++)
        if (mem_append(st, &rd->entries[i]))
            return fl_error_set(err, FL_ENOMEM, "raft storage: entries");
    if (rd->hard_state_changed) {
        st->hs = rd->hard_state;
        if (st->volatile_vote)
            st->hs.vote = RAFT_NONE;
    }
    return FL_OK;
}

/*
 * raft_msg.c: the wire format of raft_msg (documented in raft.h). Decoding
 * treats its input as hostile: every length is checked against what is left
 * before anything is read or allocated.
 */
#include "targets/raftkv/raft.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

/* Fixed part of the body, before snapshot bytes. */
#define BODY_FIXED (3 + 4 + 4 + 8 * 9 + 4)
/* Fixed part of one entry, before its bytes. */
#define ENTRY_FIXED (8 + 8 + 1 + 4)

/* ---- encoding ------------------------------------------------------------------ */

typedef struct wbuf {
    uint8_t *p;
} wbuf;

static void put_u8(wbuf *w, uint8_t v) { *w->p++ = v; }

static void put_u32(wbuf *w, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        *w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_u64(wbuf *w, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *w->p++ = (uint8_t)(v >> (8 * i));
}

static void put_bytes(wbuf *w, const uint8_t *b, size_t len)
{
    if (len)
        memcpy(w->p, b, len);
    w->p += len;
}

static uint64_t body_len(const raft_msg *m)
{
    uint64_t len = BODY_FIXED + (uint64_t)m->snapshot.len + 4;
    for (size_t i = 0; i < m->n_entries; i++)
        len += ENTRY_FIXED + (uint64_t)m->entries[i].len;
    return len;
}

int raft_msg_encode(const raft_msg *m, uint8_t **out, size_t *out_len,
                    fl_error *err)
{
    *out = NULL;
    *out_len = 0;
    uint64_t blen = body_len(m);
    if (blen + 4 > RAFT_MSG_MAX_FRAME || m->n_entries > UINT32_MAX)
        return fl_error_set(err, FL_EUSAGE,
                            "raft: %s message of %llu bytes is over the frame "
                            "limit of %u",
                            raft_msg_type_name(m->type),
                            (unsigned long long)blen, RAFT_MSG_MAX_FRAME);
    uint8_t *buf = fl_malloc((size_t)blen + 4);
    if (!buf)
        return fl_error_set(err, FL_ENOMEM, "raft: out of memory (encode)");
    wbuf w = {buf};
    put_u32(&w, (uint32_t)blen);
    put_u8(&w, RAFT_WIRE_VERSION);
    put_u8(&w, m->type);
    put_u8(&w, m->reject ? 1 : 0);
    put_u32(&w, m->from);
    put_u32(&w, m->to);
    put_u64(&w, m->term);
    put_u64(&w, m->log_index);
    put_u64(&w, m->log_term);
    put_u64(&w, m->commit);
    put_u64(&w, m->hint_index);
    put_u64(&w, m->hint_term);
    put_u64(&w, m->ctx);
    put_u64(&w, m->snapshot.index);
    put_u64(&w, m->snapshot.term);
    put_u32(&w, m->snapshot.len);
    put_bytes(&w, m->snapshot.data, m->snapshot.len);
    put_u32(&w, (uint32_t)m->n_entries);
    for (size_t i = 0; i < m->n_entries; i++) {
        const raft_entry *e = &m->entries[i];
        put_u64(&w, e->term);
        put_u64(&w, e->index);
        put_u8(&w, e->type);
        put_u32(&w, e->len);
        put_bytes(&w, e->data, e->len);
    }
    *out = buf;
    *out_len = (size_t)blen + 4;
    return FL_OK;
}

size_t raft_msg_frame_len(const uint8_t hdr[4])
{
    return 4 + (((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) |
                ((size_t)hdr[2] << 8) | hdr[3]);
}

/* ---- decoding ------------------------------------------------------------------ */

typedef struct rbuf {
    const uint8_t *p;
    size_t left;
    bool bad;
} rbuf;

static const uint8_t *take(rbuf *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint64_t get_be(rbuf *r, int bytes)
{
    const uint8_t *p = take(r, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; p && i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint8_t get_u8(rbuf *r) { return (uint8_t)get_be(r, 1); }
static uint32_t get_u32(rbuf *r) { return (uint32_t)get_be(r, 4); }
static uint64_t get_u64(rbuf *r) { return get_be(r, 8); }

/* Copy len bytes into a new buffer (NULL for 0). Returns -1 on a short
 * buffer (r->bad set) or no memory. */
static int get_bytes(rbuf *r, uint32_t len, uint8_t **out)
{
    *out = NULL;
    const uint8_t *p = take(r, len);
    if (!p)
        return -1;
    if (!len)
        return 0;
    *out = fl_malloc(len);
    if (!*out)
        return -1;
    memcpy(*out, p, len);
    return 0;
}

static int bad(raft_msg *out, fl_error *err, const char *what)
{
    raft_msg_free(out);
    return fl_error_set(err, FL_EDATA, "raft: malformed message: %s", what);
}

static int decode_entries(rbuf *r, raft_msg *out, fl_error *err)
{
    uint32_t count = get_u32(r);
    if (r->bad)
        return bad(out, err, "truncated before the entry count");
    /* Each entry needs at least ENTRY_FIXED bytes: bound the allocation by
     * what the buffer can actually hold. */
    if (count > r->left / ENTRY_FIXED)
        return bad(out, err, "entry count larger than the frame");
    if (count == 0)
        return FL_OK;
    out->entries = fl_calloc(count, sizeof *out->entries);
    if (!out->entries) {
        raft_msg_free(out);
        return fl_error_set(err, FL_ENOMEM, "raft: out of memory (decode)");
    }
    for (uint32_t i = 0; i < count; i++) {
        raft_entry *e = &out->entries[i];
        e->term = get_u64(r);
        e->index = get_u64(r);
        e->type = get_u8(r);
        e->len = get_u32(r);
        out->n_entries = i + 1;
        if (r->bad)
            return bad(out, err, "truncated entry header");
        if (e->type > RAFT_ENTRY_NOOP)
            return bad(out, err, "unknown entry type");
        if (get_bytes(r, e->len, &e->data))
            return r->bad ? bad(out, err, "entry data past the frame end")
                          : fl_error_set(err, FL_ENOMEM,
                                         "raft: out of memory (decode)");
    }
    return FL_OK;
}

int raft_msg_decode(const uint8_t *buf, size_t len, raft_msg *out,
                    fl_error *err)
{
    memset(out, 0, sizeof *out);
    rbuf r = {buf, len, false};
    uint32_t blen = get_u32(&r);
    if (r.bad || blen != r.left)
        return bad(out, err, "frame length does not match the buffer");
    if (get_u8(&r) != RAFT_WIRE_VERSION)
        return bad(out, err, "unsupported wire version");
    out->type = get_u8(&r);
    uint8_t flags = get_u8(&r);
    out->from = get_u32(&r);
    out->to = get_u32(&r);
    out->term = get_u64(&r);
    out->log_index = get_u64(&r);
    out->log_term = get_u64(&r);
    out->commit = get_u64(&r);
    out->hint_index = get_u64(&r);
    out->hint_term = get_u64(&r);
    out->ctx = get_u64(&r);
    out->snapshot.index = get_u64(&r);
    out->snapshot.term = get_u64(&r);
    out->snapshot.len = get_u32(&r);
    if (r.bad)
        return bad(out, err, "truncated header");
    if (out->type < RAFT_MSG_PREVOTE || out->type > RAFT_MSG_SNAPSHOT)
        return bad(out, err, "unknown message type");
    if (flags > 1)
        return bad(out, err, "unknown flags");
    out->reject = flags & 1;
    if (get_bytes(&r, out->snapshot.len, &out->snapshot.data)) {
        if (r.bad)
            return bad(out, err, "snapshot data past the frame end");
        raft_msg_free(out);
        return fl_error_set(err, FL_ENOMEM, "raft: out of memory (decode)");
    }
    int rc = decode_entries(&r, out, err);
    if (rc)
        return rc;
    if (r.left)
        return bad(out, err, "trailing bytes after the last entry");
    return FL_OK;
}

void raft_msg_free(raft_msg *m)
{
    for (size_t i = 0; i < m->n_entries; i++)
        fl_free(m->entries[i].data);
    fl_free(m->entries);
    fl_free(m->snapshot.data);
    memset(m, 0, sizeof *m);
}

const char *raft_msg_type_name(int type)
{
    static const char *names[] = {"?",           "prevote", "prevote-resp",
                                  "vote",        "vote-resp", "append",
                                  "append-resp", "snapshot"};
    return type >= RAFT_MSG_PREVOTE && type <= RAFT_MSG_SNAPSHOT ? names[type]
                                                                 : "unknown";
}

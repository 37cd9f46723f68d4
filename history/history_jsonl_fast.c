/*
 * history_jsonl_fast.c — the JSONL reader's fast path: one pass over a line
 * in the shape the recorder writes, straight to pool keys, no DOM.
 *
 * Parsing a line with jansson, then looking its fields up and printing each
 * value again to find it in the pool, cost 3-4 us an event; this path goes
 * from the bytes to the pool keys (history_internal.h) in one pass and
 * makes a json_t only for a value new to the pool.
 *
 * It takes only lines it can prove are well-formed events: one object whose
 * keys are among index, time, process, type, f, key, value and error, each
 * once, with no escapes in them; values that are integers of at most 18
 * digits, strings of printable ASCII without escapes, null, true, false, or
 * arrays of those (nested up to FAST_MAX_DEPTH); every field of the type
 * the jansson path wants. On anything else — malformed or cut-off JSON, a
 * duplicate or unknown field, a wrong type, an object value, a real, an
 * escape, a non-ASCII byte — it declines, having changed nothing, and the
 * caller reads the line with jansson. So every error message stays the
 * jansson path's word for word, and an accepted line gives the very
 * history_append() call that path would make. fuzz_jsonl_diff checks both.
 */
#include "history/history_jsonl_fast.h"
#include "history/history_internal.h"

#include <string.h>

#define FAST_MAX_DEPTH 32
#define FAST_MAX_DIGITS 18 /* always fits an int64_t */

enum fast_field {
    FIELD_INDEX, FIELD_TIME, FIELD_PROCESS, FIELD_TYPE,
    FIELD_F, FIELD_KEY, FIELD_VALUE, FIELD_ERROR, FIELD_NONE,
};

/* The line being read and where its pool keys are written. Writes need no
 * bounds checks: each value's key is at most one byte longer than its text
 * in the line, and the buffer holds at least twice the line (see
 * history_fast_reserve). */
typedef struct cursor {
    const char *p, *end;
    char *out;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* A string at c->p (at its '"'): its bytes, without the quotes, in
 * [*s, *s + *n). false unless it is printable ASCII without escapes. */
static bool scan_string(cursor *c, const char **s, size_t *n)
{
    const char *p = c->p + 1;
    *s = p;
    while (p < c->end && *p != '"') {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch > 0x7e || ch == '\\')
            return false;
        p++;
    }
    if (p >= c->end)
        return false;
    *n = (size_t)(p - *s);
    c->p = p + 1;
    return true;
}

/* An integer at c->p, as jansson reads it: -?(0|[1-9][0-9]*), not followed
 * by a fraction or an exponent (a real). Longer than FAST_MAX_DIGITS: false,
 * for jansson to range-check. */
static bool scan_int(cursor *c, int64_t *out)
{
    const char *p = c->p;
    bool negative = p < c->end && *p == '-';
    if (negative)
        p++;
    const char *digits = p;
    int64_t v = 0;
    while (p < c->end && *p >= '0' && *p <= '9') {
        if (p - digits == FAST_MAX_DIGITS)
            return false;
        v = v * 10 + (*p - '0');
        p++;
    }
    if (p == digits || (*digits == '0' && p - digits > 1))
        return false;
    if (p < c->end && (*p == '.' || *p == 'e' || *p == 'E'))
        return false;
    *out = negative ? -v : v;
    c->p = p;
    return true;
}

static void put_int(cursor *c, int64_t v)
{
    char digits[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *c->out++ = '-';
    while (n > 0)
        *c->out++ = digits[--n];
}

static bool scan_literal(cursor *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    memcpy(c->out, word, n);
    c->out += n;
    c->p += n;
    return true;
}

static bool scan_value(cursor *c, int depth);

/* An array at c->p, written compactly, as jansson would print it. */
static bool scan_array(cursor *c, int depth)
{
    if (depth >= FAST_MAX_DEPTH)
        return false;
    *c->out++ = '[';
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        *c->out++ = ']';
        return true;
    }
    for (;;) {
        if (!scan_value(c, depth + 1))
            return false;
        skip_ws(c);
        if (c->p >= c->end)
            return false;
        char sep = *c->p++;
        *c->out++ = sep;
        if (sep == ']')
            return true;
        if (sep != ',')
            return false;
        skip_ws(c);
    }
}

/* A value inside an array, in canonical JSON. */
static bool scan_value(cursor *c, int depth)
{
    if (c->p >= c->end)
        return false;
    const char *s;
    size_t n;
    int64_t v;
    switch (*c->p) {
    case '"':
        if (!scan_string(c, &s, &n))
            return false;
        *c->out++ = '"';
        memcpy(c->out, s, n);
        c->out += n;
        *c->out++ = '"';
        return true;
    case '[':
        return scan_array(c, depth);
    case 'n': return scan_literal(c, "null", 4);
    case 't': return scan_literal(c, "true", 4);
    case 'f': return scan_literal(c, "false", 5);
    default:
        if (!scan_int(c, &v))
            return false;
        put_int(c, v);
        return true;
    }
}

/* A field's value as a pool key: 'i' integer, 's' string, 'j' the rest. */
static bool scan_pool_key(cursor *c, history_pool_key *k)
{
    char *start = c->out;
    const char *s;
    size_t n;
    int64_t v;
    if (c->p >= c->end)
        return false;
    if (*c->p == '"') {
        if (!scan_string(c, &s, &n))
            return false;
        *c->out++ = 's';
        memcpy(c->out, s, n);
        c->out += n;
    } else if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {
        if (!scan_int(c, &v))
            return false;
        *c->out++ = 'i';
        put_int(c, v);
    } else {
        *c->out++ = 'j';
        if (!scan_value(c, 0))
            return false;
    }
    *c->out++ = '\0';
    k->text = start;
    k->len = (size_t)(c->out - start - 1);
    return true;
}

/* By length first: memcmp of a constant length is a compare or two. */
static enum fast_field field_of(const char *s, size_t n)
{
    switch (n) {
    case 1: return s[0] == 'f' ? FIELD_F : FIELD_NONE;
    case 3: return memcmp(s, "key", 3) == 0 ? FIELD_KEY : FIELD_NONE;
    case 4:
        return memcmp(s, "time", 4) == 0   ? FIELD_TIME
               : memcmp(s, "type", 4) == 0 ? FIELD_TYPE
                                           : FIELD_NONE;
    case 5:
        return memcmp(s, "index", 5) == 0   ? FIELD_INDEX
               : memcmp(s, "value", 5) == 0 ? FIELD_VALUE
               : memcmp(s, "error", 5) == 0 ? FIELD_ERROR
                                            : FIELD_NONE;
    case 7: return memcmp(s, "process", 7) == 0 ? FIELD_PROCESS : FIELD_NONE;
    default: return FIELD_NONE;
    }
}

/* A string field's bytes, copied NUL-terminated into the output. */
static bool scan_cstring(cursor *c, const char **out)
{
    const char *s;
    size_t n;
    if (c->p >= c->end || *c->p != '"' || !scan_string(c, &s, &n))
        return false;
    memcpy(c->out, s, n);
    c->out[n] = '\0';
    *out = c->out;
    c->out += n + 1;
    return true;
}

static bool scan_type(cursor *c, history_type *out)
{
    const char *s;
    return scan_cstring(c, &s) && history_type_parse(s, out) == 0;
}

static bool scan_process(cursor *c, int64_t *out)
{
    const char *s;
    if (c->p < c->end && *c->p == '"')
        return scan_cstring(c, &s) && strcmp(s, "nemesis") == 0 &&
               (*out = HISTORY_NEMESIS, true);
    return scan_int(c, out) && *out >= 0;
}

static bool scan_scalar_int(cursor *c, int64_t *out)
{
    return c->p < c->end && (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) &&
           scan_int(c, out);
}

static bool scan_field(cursor *c, enum fast_field f, history_keyed_input *in)
{
    switch (f) {
    case FIELD_INDEX: return scan_scalar_int(c, &in->base.index);
    case FIELD_TIME: return scan_scalar_int(c, &in->base.time);
    case FIELD_PROCESS: return scan_process(c, &in->base.process);
    case FIELD_TYPE: return scan_type(c, &in->base.type);
    case FIELD_F: return scan_cstring(c, &in->base.f);
    case FIELD_KEY:
        return scan_pool_key(c, &in->key) &&
               (in->key.text[0] == 'i' || in->key.text[0] == 's');
    case FIELD_VALUE: return scan_pool_key(c, &in->value);
    case FIELD_ERROR: return scan_pool_key(c, &in->error);
    case FIELD_NONE: break;
    }
    return false;
}

/* The object's fields into in; false to decline the line. */
static bool scan_object(cursor *c, history_keyed_input *in)
{
    unsigned seen = 0;
    skip_ws(c);
    if (c->p >= c->end || *c->p++ != '{')
        return false;
    for (;;) {
        skip_ws(c);
        const char *name;
        size_t n;
        if (c->p >= c->end || *c->p != '"' || !scan_string(c, &name, &n))
            return false;
        enum fast_field f = field_of(name, n);
        if (f == FIELD_NONE || (seen & (1u << f)))
            return false;
        seen |= 1u << f;
        skip_ws(c);
        if (c->p >= c->end || *c->p++ != ':')
            return false;
        skip_ws(c);
        if (!scan_field(c, f, in))
            return false;
        skip_ws(c);
        if (c->p >= c->end)
            return false;
        char sep = *c->p++;
        if (sep == '}')
            break;
        if (sep != ',')
            return false;
    }
    skip_ws(c);
    unsigned needed = 1u << FIELD_PROCESS | 1u << FIELD_TYPE | 1u << FIELD_F;
    return c->p == c->end && (seen & needed) == needed;
}

int history_fast_reserve(history_fast *fast, size_t line_len)
{
    size_t need = 2 * line_len + 64;
    if (need <= fast->cap)
        return FL_OK;
    char *buf = fl_realloc(fast->buf, need);
    if (buf == NULL)
        return FL_ENOMEM;
    fast->buf = buf;
    fast->cap = need;
    return FL_OK;
}

void history_fast_free(history_fast *fast)
{
    fl_free(fast->buf);
    fast->buf = NULL;
    fast->cap = 0;
}

bool history_fast_scan(history_fast *fast, const char *line, size_t n,
                       history_keyed_input *in)
{
    if (history_fast_reserve(fast, n) != FL_OK)
        return false; /* jansson's path reports the OOM */
    cursor c = {.p = line, .end = line + n, .out = fast->buf};
    *in = (history_keyed_input){
        .base = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME},
        .value = {.text = "jnull", .len = 5},
    };
    return scan_object(&c, in);
}

int history_fast_line(history *h, history_fast *fast, const char *line,
                      size_t n, fl_error *err)
{
    history_keyed_input in;
    if (!history_fast_scan(fast, line, n, &in))
        return HISTORY_FAST_DECLINED;
    return history_append_keyed(h, &in, err);
}

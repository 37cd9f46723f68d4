/*
 * history_jsonl.c — histories as JSON Lines: the reader, the writers, and
 * the streaming recorder the controller uses while a test runs.
 */
#include "history/history.h"
#include "base/alloc.h"
#include "history/history_internal.h"
#include "history/history_jsonl_fast.h"
#include "history/history_jsonl_par.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Reading -------------------------------------------------------------- */

const char *history_json_kind(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* An optional non-negative integer field; absent leaves *out unchanged. */
static int int_field(const json_t *o, const char *name, int64_t *out,
                     fl_error *err)
{
    const json_t *v = json_object_get(o, name);
    if (v == NULL)
        return FL_OK;
    if (!json_is_integer(v))
        return fl_error_set(err, FL_EDATA,
                            "field \"%s\": expected an integer, got %s", name,
                            history_json_kind(v));
    *out = json_integer_value(v);
    return FL_OK;
}

static int process_field(const json_t *o, int64_t *out, fl_error *err)
{
    const json_t *v = json_object_get(o, "process");
    if (v == NULL)
        return fl_error_set(err, FL_EDATA, "field \"process\": missing");
    if (json_is_string(v) && strcmp(json_string_value(v), "nemesis") == 0) {
        *out = HISTORY_NEMESIS;
        return FL_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fl_error_set(err, FL_EDATA,
                            "field \"process\": expected an integer >= 0 or "
                            "\"nemesis\", got %s",
                            json_is_integer(v) ? "a negative integer"
                                               : history_json_kind(v));
    *out = json_integer_value(v);
    return FL_OK;
}

static int type_field(const json_t *o, history_type *out, fl_error *err)
{
    const json_t *v = json_object_get(o, "type");
    if (v == NULL)
        return fl_error_set(err, FL_EDATA, "field \"type\": missing");
    if (!json_is_string(v))
        return fl_error_set(err, FL_EDATA,
                            "field \"type\": expected a string, got %s",
                            history_json_kind(v));
    if (history_type_parse(json_string_value(v), out) != 0)
        return fl_error_set(err, FL_EDATA,
                            "field \"type\": unknown type \"%s\" (expected "
                            "invoke, ok, fail or info)",
                            json_string_value(v));
    return FL_OK;
}

static int f_field(const json_t *o, const char **out, fl_error *err)
{
    const json_t *v = json_object_get(o, "f");
    if (v == NULL)
        return fl_error_set(err, FL_EDATA, "field \"f\": missing");
    if (!json_is_string(v))
        return fl_error_set(err, FL_EDATA,
                            "field \"f\": expected a string, got %s",
                            history_json_kind(v));
    *out = json_string_value(v);
    return FL_OK;
}

int history_jsonl_decode(const json_t *o, history_input *out, fl_error *err)
{
    if (!json_is_object(o))
        return fl_error_set(err, FL_EDATA,
                            "expected a JSON object per line, got %s",
                            history_json_kind(o));
    history_input in = {
        .index = HISTORY_AUTO_INDEX,
        .time = HISTORY_NO_TIME,
        .key = json_object_get(o, "key"),
        .value = json_object_get(o, "value"),
        .error = json_object_get(o, "error"),
    };
    int rc;
    if ((rc = int_field(o, "index", &in.index, err)) ||
        (rc = int_field(o, "time", &in.time, err)) ||
        (rc = process_field(o, &in.process, err)) ||
        (rc = type_field(o, &in.type, err)) ||
        (rc = f_field(o, &in.f, err)))
        return rc;
    if (in.key != NULL && !json_is_string(in.key) && !json_is_integer(in.key))
        return fl_error_set(err, FL_EDATA,
                            "field \"key\": expected a string or an integer, "
                            "got %s",
                            history_json_kind(in.key));
    *out = in;
    return FL_OK;
}

/* Decode one parsed line and append it. */
static int append_object(history *h, const json_t *o, fl_error *err)
{
    history_input in;
    int rc = history_jsonl_decode(o, &in, err);
    return rc != FL_OK ? rc : history_append_shared(h, &in, err);
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Whether a failed parse of an n-byte line was for want of memory. jansson
 * says so only sometimes: a lexer or string buffer it cannot allocate shows
 * up as an empty error or a syntax error. So a failure that an allocation
 * of the line's size, tried now, shares is counted as out of memory. */
static bool parse_out_of_memory(const json_error_t *jerr, size_t n)
{
    if (json_error_code(jerr) == json_error_out_of_memory || !jerr->text[0])
        return true;
    void *probe = fl_malloc(2 * n + 4096);
    bool short_of_memory = probe == NULL;
    fl_free(probe);
    return short_of_memory;
}

/* Whether s[at..n) is the start of a UTF-8 sequence that the end cut short. */
static bool cut_utf8(const unsigned char *s, size_t at, size_t n)
{
    if (at >= n)
        return false;
    size_t need = s[at] >= 0xf0 ? 4 : s[at] >= 0xe0 ? 3 : s[at] >= 0xc2 ? 2 : 0;
    if (need == 0 || n - at >= need)
        return false;
    for (size_t i = at + 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return false;
    return true;
}

/* Whether a line that failed to parse is what a recorder killed mid-write
 * leaves: the start of a JSON object, cut off where the parse failed. Other
 * garbage ("hello", a stray "x" run) is an error, never an empty history. */
static bool cut_object(const char *line, size_t n, const json_error_t *jerr)
{
    size_t start = 0;
    while (start < n && blank(line + start, 1))
        start++;
    if (start == n || line[start] != '{')
        return false;
    switch (json_error_code(jerr)) {
    case json_error_premature_end_of_input:
    case json_error_invalid_syntax: /* cut inside a token: tr, 1e, \u12 */
        return (size_t)jerr->position >= n;
    case json_error_invalid_utf8:
        return (size_t)jerr->position >= n ||
               cut_utf8((const unsigned char *)line, (size_t)jerr->position, n);
    default: /* a duplicate key, text after the object, ... */
        return false;
    }
}

static int drop_cut_line(history *h, const char *name, long lineno,
                         fl_error *err)
{
    char msg[FL_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg,
             "%s:%ld: dropped a truncated final line (the recorder was "
             "stopped mid-write)",
             name, lineno);
    if (history_add_warning(h, msg) != 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

static int parse_error(const char *name, long lineno, const json_error_t *jerr,
                       fl_error *err)
{
    if (json_error_code(jerr) == json_error_duplicate_key)
        return fl_error_set(err, FL_EDATA,
                            "%s:%ld: %s at column %d: each field may appear "
                            "once in an event",
                            name, lineno, jerr->text, jerr->column);
    return fl_error_set(err, FL_EDATA, "%s:%ld: malformed JSON at column %d: %s",
                        name, lineno, jerr->column, jerr->text);
}

/* The fast path takes the lines it can; the rest go through jansson. */
int history_jsonl_read_line(history *h, history_fast *fast, const char *name,
                            long lineno, const char *line, size_t n,
                            fl_error *err)
{
    bool has_newline = n > 0 && line[n - 1] == '\n';
    if (blank(line, n))
        return FL_OK;
    int rc = fast ? history_fast_line(h, fast, line, n, err)
                  : HISTORY_FAST_DECLINED;
    if (rc == HISTORY_FAST_DECLINED) {
        json_error_t jerr;
        json_t *o = json_loadb(line, n,
                               JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (o == NULL && parse_out_of_memory(&jerr, n))
            return fl_error_set(err, FL_ENOMEM, "%s:%ld: out of memory "
                                "parsing the line", name, lineno);
        /* Only the last line can lack its newline. */
        if (o == NULL && !has_newline && cut_object(line, n, &jerr))
            return drop_cut_line(h, name, lineno, err);
        if (o == NULL)
            return parse_error(name, lineno, &jerr, err);
        rc = append_object(h, o, err);
        json_decref(o);
    }
    if (rc != FL_OK)
        fl_error_wrap(err, "%s:%ld", name, lineno);
    return rc;
}

#define LINE_READER_BLOCK (1u << 20)

/* More bytes at the end of the unread ones. FL_OK (r->eof at the end of
 * the stream), FL_ENOMEM or FL_EIO. */
static int refill(history_lines *r)
{
    if (r->start > 0)
        memmove(r->buf, r->buf + r->start, r->len);
    r->start = 0;
    if (r->cap - r->len < LINE_READER_BLOCK / 2) {
        size_t ncap = r->cap ? 2 * r->cap : LINE_READER_BLOCK;
        char *buf = fl_realloc(r->buf, ncap);
        if (buf == NULL)
            return FL_ENOMEM;
        r->buf = buf;
        r->cap = ncap;
    }
    ssize_t got = r->read(r->src, r->buf + r->len, r->cap - r->len);
    if (got < 0) {
        r->error = errno;
        return FL_EIO;
    }
    r->len += (size_t)got;
    if (got == 0)
        r->eof = true;
    return FL_OK;
}

int history_lines_next(history_lines *r, const char **line, size_t *n)
{
    for (;;) {
        char *at = r->len ? r->buf + r->start : NULL;
        char *nl = at ? memchr(at, '\n', r->len) : NULL;
        if (nl != NULL || (r->eof && r->len > 0)) {
            *line = at;
            *n = nl ? (size_t)(nl - at) + 1 : r->len;
            /* Also in a line that ends: whether the check below saw the
             * NUL first depends on where a read or a chunk stopped, and
             * every reader of the same bytes must say the same. */
            if (memchr(at, '\0', *n) != NULL)
                return FL_EDATA;
            r->start += *n;
            r->len -= *n;
            return 1;
        }
        if (r->eof)
            return 0;
        /* a NUL is never in a JSON text: without this an endless binary
         * input (/dev/zero) would be read as one line until memory ran
         * out */
        if (at != NULL && memchr(at, '\0', r->len) != NULL)
            return FL_EDATA;
        int rc = refill(r);
        if (rc != FL_OK)
            return rc;
    }
}

/* A FILE's bytes: its errors are left for ferror. */
static ssize_t read_file(void *src, char *buf, size_t n)
{
    return (ssize_t)fread(buf, 1, n, src);
}

int history_read_jsonl_with(FILE *in, const char *name, bool fast,
                            history **out, fl_error *err)
{
    history *h = history_new();
    if (h == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    history_lines r = {.read = read_file, .src = in};
    history_fast scratch = {0};
    long lineno = 0, first_backwards = 0;
    int rc = FL_OK, more;
    const char *line;
    size_t n;
    while ((more = history_lines_next(&r, &line, &n)) == 1) {
        lineno++;
        rc = history_jsonl_read_line(h, fast ? &scratch : NULL, name, lineno,
                                     line, n, err);
        if (rc != FL_OK)
            break;
        if (first_backwards == 0 && history_time_backwards(h) > 0)
            first_backwards = lineno;
    }
    if (more == FL_ENOMEM)
        rc = fl_error_set(err, FL_ENOMEM, "%s:%ld: out of memory reading the "
                          "line", name, lineno + 1);
    if (more == FL_EDATA)
        rc = fl_error_set(err, FL_EDATA, "%s:%ld: a NUL byte: not a text "
                          "history", name, lineno + 1);
    if (rc == FL_OK && ferror(in))
        rc = fl_error_set(err, FL_EIO, "%s: read error: %s", name,
                          strerror(errno));
    if (rc == FL_OK)
        rc = history_warn_time_backwards(h, name, first_backwards, err);
    fl_free(r.buf);
    history_fast_free(&scratch);
    if (rc != FL_OK) {
        history_free(h);
        return rc;
    }
    *out = h;
    return FL_OK;
}

int history_read_jsonl(FILE *in, const char *name, history **out, fl_error *err)
{
    int rc = history_read_jsonl_parallel(in, name, 0, out, err);
    if (rc != HISTORY_PAR_DECLINED)
        return rc;
    return history_read_jsonl_with(in, name, true, out, err);
}

history_format history_format_of_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL)
        return HISTORY_FORMAT_UNKNOWN;
    if (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".json") == 0)
        return HISTORY_FORMAT_JSONL;
    if (strcmp(dot, ".edn") == 0)
        return HISTORY_FORMAT_EDN;
    return HISTORY_FORMAT_UNKNOWN;
}

static int next_significant(FILE *in)
{
    int c;
    while ((c = getc(in)) == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == ',')
        ;
    return c;
}

history_format history_format_sniff(FILE *in)
{
    int c = next_significant(in);
    if (c == EOF)
        return ferror(in) ? HISTORY_FORMAT_UNKNOWN : HISTORY_FORMAT_JSONL;
    if (c == '[' || c == '(' || c == ';' || c == '#')
        return HISTORY_FORMAT_EDN;
    if (c != '{')
        return HISTORY_FORMAT_JSONL;
    c = next_significant(in);
    return c == '"' || c == '}' ? HISTORY_FORMAT_JSONL : HISTORY_FORMAT_EDN;
}

static int resolve_format(const char *path, history_format *fmt, fl_error *err)
{
    if (*fmt == HISTORY_FORMAT_UNKNOWN)
        *fmt = history_format_of_path(path);
    if (*fmt == HISTORY_FORMAT_UNKNOWN)
        return fl_error_set(err, FL_EUSAGE,
                            "%s: cannot tell the format from the name; use a "
                            ".jsonl or .edn extension",
                            path);
    return FL_OK;
}

int history_read_file(const char *path, history_format fmt, history **out,
                      fl_error *err)
{
    int rc = resolve_format(path, &fmt, err);
    if (rc != FL_OK)
        return rc;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fl_error_set(err, FL_ENOINPUT, "%s: cannot open: %s", path,
                            strerror(errno));
    if (fmt == HISTORY_FORMAT_JSONL)
        rc = history_read_jsonl(f, path, out, err);
    else
        rc = history_read_edn(f, path, HISTORY_EDN_KEYS_AUTO, out, err);
    fclose(f);
    return rc;
}

/* ---- Writing -------------------------------------------------------------- */

int history_write_jsonl(const history *h, FILE *out, fl_error *err)
{
    const history_event *events = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        json_t *o = history_event_to_json(h, &events[i]);
        if (o == NULL)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
        int bad = json_dumpf(o, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF;
        json_decref(o);
        if (bad)
            return fl_error_set(err, FL_EIO, "write failed: %s",
                                strerror(errno));
    }
    return FL_OK;
}

int history_write_file(const history *h, const char *path, history_format fmt,
                       fl_error *err)
{
    int rc = resolve_format(path, &fmt, err);
    if (rc != FL_OK)
        return rc;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return fl_error_set(err, FL_EIO, "%s: cannot create: %s", path,
                            strerror(errno));
    if (fmt == HISTORY_FORMAT_JSONL)
        rc = history_write_jsonl(h, f, err);
    else
        rc = history_write_edn(h, f, err);
    if (fclose(f) != 0 && rc == FL_OK)
        rc = fl_error_set(err, FL_EIO, "write failed: %s", strerror(errno));
    if (rc != FL_OK)
        fl_error_wrap(err, "%s", path);
    return rc;
}

/* ---- Streaming recorder ----------------------------------------------------- */

struct history_writer {
    pthread_mutex_t lock;
    int fd;
    char *path;
    struct timespec start;
    int64_t next_index;
};

static int64_t ns_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - start->tv_sec) * 1000000000 +
           (now.tv_nsec - start->tv_nsec);
}

int history_writer_open(const char *path, history_writer **out, fl_error *err)
{
    history_writer *w = fl_calloc(1, sizeof *w);
    if (w == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    w->path = fl_strdup(path);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->path == NULL || w->fd < 0) {
        int saved = errno;
        if (w->fd >= 0)
            close(w->fd);
        fl_free(w->path);
        fl_free(w);
        return fl_error_set(err, FL_EIO, "%s: cannot create: %s", path,
                            strerror(saved));
    }
    pthread_mutex_init(&w->lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &w->start);
    *out = w;
    return FL_OK;
}

static json_t *record_json(int64_t index, int64_t time, int64_t process,
                           history_type type, const char *f, const json_t *key,
                           const json_t *value, const json_t *error)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "index", json_integer(index));
    json_object_set_new(o, "time", json_integer(time));
    json_object_set_new(o, "process", process == HISTORY_NEMESIS
                                          ? json_string("nemesis")
                                          : json_integer(process));
    json_object_set_new(o, "type", json_string(history_type_name(type)));
    json_object_set_new(o, "f", json_string(f));
    if (key != NULL)
        json_object_set(o, "key", (json_t *)key);
    json_object_set(o, "value", value ? (json_t *)value : json_null());
    if (error != NULL)
        json_object_set(o, "error", (json_t *)error);
    return o;
}

/* One write(2) per line: a killed recorder leaves whole lines, or at worst a
 * cut final one, which the reader drops. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, buf, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

int history_writer_record(history_writer *w, int64_t process,
                          history_type type, const char *f, const json_t *key,
                          const json_t *value, const json_t *error,
                          int64_t *index_out, fl_error *err)
{
    pthread_mutex_lock(&w->lock);
    int64_t index = w->next_index;
    json_t *o = record_json(index, ns_since(&w->start), process, type, f, key,
                            value, error);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int rc = FL_OK;
    if (text == NULL) {
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    } else {
        size_t n = strlen(text);
        text[n] = '\n'; /* the terminating NUL becomes the newline */
        if (write_all(w->fd, text, n + 1) != 0)
            rc = fl_error_set(err, FL_EIO, "%s: write failed: %s", w->path,
                              strerror(errno));
        else
            w->next_index++;
    }
    pthread_mutex_unlock(&w->lock);
    fl_free(text);
    if (rc == FL_OK && index_out != NULL)
        *index_out = index;
    return rc;
}

int history_writer_close(history_writer *w, fl_error *err)
{
    if (w == NULL)
        return FL_OK;
    int rc = FL_OK;
    int synced = fsync(w->fd);
    if (close(w->fd) != 0 || synced != 0)
        rc = fl_error_set(err, FL_EIO, "%s: %s", w->path, strerror(errno));
    pthread_mutex_destroy(&w->lock);
    fl_free(w->path);
    fl_free(w);
    return rc;
}

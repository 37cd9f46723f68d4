/*
 * edn.c — the EDN reader (recursive descent over a FILE, depth-capped) and
 * writer. See edn.h for how EDN maps onto JSON.
 */
#include "history/edn.h"
#include "base/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The collection being read, for error messages and its closing bracket.
 * close is 0 at top level, where end of input is the normal end. */
typedef struct frame {
    int close;
    long line, col;
    const char *what;
} frame;

struct edn_reader {
    FILE *in;
    char *name;
    fl_error *err;            /* of the read in progress */
    long line, col;           /* of the next character */
    long at_line, at_col;     /* of the character last consumed */
    long form_line;
    long content_line;        /* of the last character that is not a newline */
    int form_char;            /* first character of that form, or EOF */
    frame seq;                /* the sequence entered, or close == 0 */
    bool truncated;
    char *buf;                /* token or string being read; NUL-terminated */
    size_t len, cap;
    const json_t **keywords;  /* keyword strings of the last form read */
    size_t kw_len, kw_cap;
};

edn_reader *edn_reader_new(FILE *in, const char *name)
{
    edn_reader *r = fl_calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->name = fl_strdup(name);
    if (r->name == NULL) {
        fl_free(r);
        return NULL;
    }
    r->in = in;
    r->line = r->col = r->at_line = r->at_col = r->form_line = 1;
    return r;
}

void edn_reader_free(edn_reader *r)
{
    if (r == NULL)
        return;
    fl_free(r->name);
    fl_free(r->buf);
    fl_free(r->keywords);
    fl_free(r);
}

long edn_reader_line(const edn_reader *r) { return r->form_line; }
long edn_reader_last_line(const edn_reader *r) { return r->content_line; }
bool edn_reader_truncated(const edn_reader *r) { return r->truncated; }
int edn_reader_form_char(const edn_reader *r) { return r->form_char; }

bool edn_is_keyword(const edn_reader *r, const json_t *v)
{
    for (size_t i = 0; i < r->kw_len; i++)
        if (r->keywords[i] == v)
            return true;
    return false;
}

/* ---- Characters, buffers and errors ------------------------------------------ */

static int peek(edn_reader *r)
{
    int c = getc(r->in);
    if (c != EOF)
        ungetc(c, r->in);
    return c;
}

static int next(edn_reader *r)
{
    int c = getc(r->in);
    if (c == EOF)
        return c;
    r->at_line = r->line;
    r->at_col = r->col;
    if (c != '\n')
        r->content_line = r->line;
    if (c == '\n') {
        r->line++;
        r->col = 1;
    } else {
        r->col++;
    }
    return c;
}

/* FL_EDATA at the character last consumed. */
__attribute__((format(printf, 2, 3)))
static int fail(edn_reader *r, const char *fmt, ...)
{
    char msg[FL_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fl_error_set(r->err, FL_EDATA, "%s:%ld:%ld: %s", r->name,
                        r->at_line, r->at_col, msg);
}

static int nomem(edn_reader *r)
{
    return fl_error_set(r->err, FL_ENOMEM, "out of memory");
}

/* End of input where fr needed more: a stream error, or a cut form. */
static int fail_eof(edn_reader *r, const frame *fr, const char *inside)
{
    if (ferror(r->in))
        return fl_error_set(r->err, FL_EIO, "%s: read error: %s", r->name,
                            strerror(errno));
    r->truncated = true;
    r->at_line = r->line;
    r->at_col = r->col;
    if (inside != NULL)
        return fail(r, "end of input inside %s", inside);
    return fail(r, "end of input: expected %c to close the %s opened at "
                   "line %ld, column %ld",
                fr->close, fr->what, fr->line, fr->col);
}

static int buf_push(edn_reader *r, int c)
{
    if (r->len + 2 > r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        char *p = fl_realloc(r->buf, ncap);
        if (p == NULL)
            return nomem(r);
        r->buf = p;
        r->cap = ncap;
    }
    r->buf[r->len++] = (char)c;
    r->buf[r->len] = '\0';
    return FL_OK;
}

static int buf_start(edn_reader *r, int c)
{
    r->len = 0;
    return buf_push(r, c);
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v' || c == ',';
}

/* Characters that may continue a symbol, keyword, number or character. */
static bool is_token(int c)
{
    if (c == EOF || is_space(c) || (c >= 0 && c < 0x20) || c == 0x7f)
        return false;
    return strchr("()[]{}\"\\;", c) == NULL;
}

static int read_token(edn_reader *r, int first)
{
    int rc = buf_start(r, first);
    while (rc == FL_OK && is_token(peek(r)))
        rc = buf_push(r, next(r));
    return rc;
}

/* Skip whitespace and comments. */
static void skip_space(edn_reader *r)
{
    for (;;) {
        int c = peek(r);
        if (is_space(c)) {
            next(r);
        } else if (c == ';') {
            while ((c = next(r)) != EOF && c != '\n')
                ;
        } else {
            return;
        }
    }
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The number of code points in the buffer, or -1 if it is not UTF-8. */
static long buf_chars(const edn_reader *r)
{
    long count = 0;
    for (size_t i = 0; i < r->len; count++) {
        size_t k = utf8_len((const unsigned char *)r->buf + i, r->len - i);
        if (k == 0)
            return -1;
        i += k;
    }
    return count;
}

static int push_utf8(edn_reader *r, uint32_t cp)
{
    int rc = FL_OK;
    if (cp < 0x80) {
        rc = buf_push(r, (int)cp);
    } else if (cp < 0x800) {
        if ((rc = buf_push(r, (int)(0xc0 | cp >> 6))) == FL_OK)
            rc = buf_push(r, (int)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        if ((rc = buf_push(r, (int)(0xe0 | cp >> 12))) == FL_OK &&
            (rc = buf_push(r, (int)(0x80 | (cp >> 6 & 0x3f)))) == FL_OK)
            rc = buf_push(r, (int)(0x80 | (cp & 0x3f)));
    } else {
        if ((rc = buf_push(r, (int)(0xf0 | cp >> 18))) == FL_OK &&
            (rc = buf_push(r, (int)(0x80 | (cp >> 12 & 0x3f)))) == FL_OK &&
            (rc = buf_push(r, (int)(0x80 | (cp >> 6 & 0x3f)))) == FL_OK)
            rc = buf_push(r, (int)(0x80 | (cp & 0x3f)));
    }
    return rc;
}

/* The buffer as a new string, rejecting bytes that are not UTF-8. */
static int buf_string(edn_reader *r, const char *what, json_t **out)
{
    if (buf_chars(r) < 0)
        return fail(r, "%s is not valid UTF-8", what);
    /* an empty first string leaves buf unallocated */
    *out = json_stringn_nocheck(r->buf ? r->buf : "", r->len);
    return *out ? FL_OK : nomem(r);
}

/* ---- Scalars -------------------------------------------------------------- */

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* \uXXXX in a string, after the 'u'; pairs surrogates as JSON does. */
static int string_unicode(edn_reader *r)
{
    char hex[7] = {0};
    for (int i = 0; i < 4; i++) {
        int c = next(r);
        if (c == EOF)
            return fail_eof(r, NULL, "a \\u escape");
        hex[i] = (char)c;
    }
    uint32_t cp, lo;
    if (hex4(hex, &cp) != 0)
        return fail(r, "bad escape \\u%.4s in string (expected 4 hex digits)",
                    hex);
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(r, "lone surrogate \\u%.4s in string", hex);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        char tail[6] = {0};
        for (int i = 0; i < 6; i++) {
            int c = next(r);
            if (c == EOF)
                return fail_eof(r, NULL, "a \\u escape");
            tail[i] = (char)c;
        }
        if (tail[0] != '\\' || tail[1] != 'u' || hex4(tail + 2, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return fail(r, "lone surrogate \\u%.4s in string", hex);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return push_utf8(r, cp);
}

static int string_escape(edn_reader *r)
{
    int c = next(r);
    switch (c) {
    case EOF: return fail_eof(r, NULL, "a string");
    case '"': return buf_push(r, '"');
    case '\\': return buf_push(r, '\\');
    case '/': return buf_push(r, '/');
    case 'n': return buf_push(r, '\n');
    case 't': return buf_push(r, '\t');
    case 'r': return buf_push(r, '\r');
    case 'b': return buf_push(r, '\b');
    case 'f': return buf_push(r, '\f');
    case 'u': return string_unicode(r);
    }
    if (c >= 0x20 && c < 0x7f)
        return fail(r, "bad escape \\%c in string", c);
    return fail(r, "bad escape (byte 0x%02x) in string", c);
}

static int read_string(edn_reader *r, json_t **out)
{
    long line = r->at_line, col = r->at_col;
    r->len = 0;
    for (;;) {
        int c = next(r), rc = FL_OK;
        if (c == EOF) {
            char where[96];
            snprintf(where, sizeof where,
                     "the string opened at line %ld, column %ld", line, col);
            return fail_eof(r, NULL, where);
        }
        if (c == '"')
            break;
        rc = c == '\\' ? string_escape(r) : buf_push(r, c);
        if (rc != FL_OK)
            return rc;
    }
    return buf_string(r, "string", out);
}

static int read_character(edn_reader *r, json_t **out)
{
    static const struct { const char *name; char c; } named[] = {
        {"newline", '\n'}, {"space", ' '}, {"tab", '\t'},
        {"return", '\r'}, {"backspace", '\b'}, {"formfeed", '\f'},
    };
    int c = next(r);
    if (c == EOF)
        return fail_eof(r, NULL, "a character literal");
    int rc = read_token(r, c);
    if (rc != FL_OK)
        return rc;
    if (buf_chars(r) == 1)
        return buf_string(r, "character", out);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strcmp(r->buf, named[i].name) == 0) {
            *out = json_stringn(&named[i].c, 1);
            return *out ? FL_OK : nomem(r);
        }
    }
    uint32_t cp;
    if (r->len == 5 && r->buf[0] == 'u' && hex4(r->buf + 1, &cp) == 0 &&
        (cp < 0xd800 || cp > 0xdfff)) {
        r->len = 0;
        if ((rc = push_utf8(r, cp)) != FL_OK)
            return rc;
        return buf_string(r, "character", out);
    }
    return fail(r, "unknown character literal \\%.40s", r->buf);
}

/* Integer or float syntax: [+-]digits[.digits][e[+-]digits][N|M]. */
static int parse_number(edn_reader *r, json_t **out)
{
    const char *s = r->buf;
    size_t n = r->len, i = s[0] == '+' || s[0] == '-', d0 = i;
    bool is_float = false;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_digits = i - d0;
    if (i < n && s[i] == '.') {
        is_float = true;
        while (++i < n && s[i] >= '0' && s[i] <= '9')
            ;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        is_float = true;
        i += i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-');
        size_t e0 = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e0)
            return fail(r, "bad number %.60s (exponent without digits)", s);
    }
    char suffix = i < n && (s[i] == 'N' || s[i] == 'M') ? s[i++] : 0;
    if (i != n || int_digits == 0 || (suffix == 'N' && is_float))
        return fail(r, "bad number %.60s", s);
    if (int_digits > 1 && s[d0] == '0')
        return fail(r, "bad number %.60s (leading zero)", s);
    char text[512];
    if (n >= sizeof text)
        return fail(r, "number too long (%zu characters)", n);
    memcpy(text, s, n - (suffix != 0));
    text[n - (suffix != 0)] = '\0';
    errno = 0;
    if (!is_float && suffix != 'M') {
        long long v = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            return fail(r, "integer %.60s does not fit in 64 bits", s);
        *out = json_integer(v);
    } else {
        double v = strtod(text, NULL);
        if (!isfinite(v))
            return fail(r, "number %.60s is out of range", s);
        *out = json_real(v);
    }
    return *out ? FL_OK : nomem(r);
}

static int read_keyword(edn_reader *r, json_t **out)
{
    int c = peek(r);
    if (!is_token(c))
        return fail(r, "a keyword needs a name after :");
    int rc = read_token(r, next(r));
    if (rc != FL_OK)
        return rc;
    if (r->buf[0] == ':')
        return fail(r, "::%.40s: auto-resolved keywords are not EDN",
                    r->buf + 1);
    if ((rc = buf_string(r, "keyword", out)) != FL_OK)
        return rc;
    if (r->kw_len == r->kw_cap) {
        size_t ncap = r->kw_cap ? r->kw_cap * 2 : 16;
        const json_t **p = fl_realloc(r->keywords, ncap * sizeof *p);
        if (p == NULL) {
            json_decref(*out);
            *out = NULL;
            return nomem(r);
        }
        r->keywords = p;
        r->kw_cap = ncap;
    }
    r->keywords[r->kw_len++] = *out;
    return FL_OK;
}

static int read_symbol(edn_reader *r, int first, json_t **out)
{
    int rc = read_token(r, first);
    if (rc != FL_OK)
        return rc;
    if (strcmp(r->buf, "nil") == 0)
        *out = json_null();
    else if (strcmp(r->buf, "true") == 0)
        *out = json_true();
    else if (strcmp(r->buf, "false") == 0)
        *out = json_false();
    else
        return buf_string(r, "symbol", out);
    return FL_OK;
}

/* ---- Collections ------------------------------------------------------------ */

static int read_form(edn_reader *r, int depth, const frame *fr, json_t **out);

/* Whether one more level of nesting is allowed: depth counts the
 * collections, tags and discards around the form about to be read. */
static int deeper(edn_reader *r, int depth)
{
    if (depth >= EDN_MAX_DEPTH)
        return fail(r, "nested deeper than %d levels", EDN_MAX_DEPTH);
    return FL_OK;
}

/* A form that must be there (after #_ or a tag, or as a map value). */
static int read_needed(edn_reader *r, int depth, const frame *fr,
                       const char *after, json_t **out)
{
    int rc = read_form(r, depth, fr, out);
    if (rc == FL_OK && *out == NULL) {
        if (fr->close == 0)
            return fail_eof(r, fr, after);
        return fail(r, "%s must be followed by a form, got %c", after,
                    fr->close);
    }
    return rc;
}

static int read_seq(edn_reader *r, int close, const char *what, int depth,
                    json_t **out)
{
    frame fr = {close, r->at_line, r->at_col, what};
    if (deeper(r, depth) != FL_OK)
        return FL_EDATA;
    json_t *arr = json_array();
    if (arr == NULL)
        return nomem(r);
    for (;;) {
        json_t *v;
        int rc = read_form(r, depth + 1, &fr, &v);
        if (rc != FL_OK) {
            json_decref(arr);
            return rc;
        }
        if (v == NULL)
            break;
        if (json_array_append_new(arr, v) != 0) {
            json_decref(arr);
            return nomem(r);
        }
    }
    *out = arr;
    return FL_OK;
}

/* A map key's name: strings and keywords as they are, else the EDN text. */
static int key_text(edn_reader *r, const json_t *k, char **text, size_t *len)
{
    if (json_is_string(k)) {
        *text = NULL;
        *len = json_string_length(k);
        return FL_OK;
    }
    FILE *mem = open_memstream(text, len);
    if (mem == NULL)
        return nomem(r);
    int rc = edn_write(mem, k, r->err);
    if (fclose(mem) != 0 && rc == FL_OK)
        rc = nomem(r);
    if (rc != FL_OK) {
        fl_free(*text);
        *text = NULL;
    }
    return rc;
}

static int map_put(edn_reader *r, json_t *map, json_t *k, json_t *v)
{
    char *owned;
    size_t len;
    int rc = key_text(r, k, &owned, &len);
    if (rc != FL_OK) {
        json_decref(v);
        return rc;
    }
    const char *name = owned ? owned : json_string_value(k);
    if (memchr(name, '\0', len) != NULL)
        rc = fail(r, "map key contains a NUL character, which a JSON object "
                     "key cannot hold here");
    else if (json_object_getn(map, name, len) != NULL)
        rc = fail(r, "duplicate map key %.*s", (int)(len > 80 ? 80 : len),
                  name);
    else {
        /* jansson takes v, even when it fails */
        if (json_object_setn_new(map, name, len, v) != 0)
            rc = nomem(r);
        v = NULL;
    }
    json_decref(v);
    fl_free(owned);
    return rc;
}

static int read_map(edn_reader *r, int depth, json_t **out)
{
    frame fr = {'}', r->at_line, r->at_col, "map"};
    if (deeper(r, depth) != FL_OK)
        return FL_EDATA;
    json_t *map = json_object();
    if (map == NULL)
        return nomem(r);
    for (;;) {
        json_t *k, *v = NULL;
        int rc = read_form(r, depth + 1, &fr, &k);
        if (rc == FL_OK && k == NULL)
            break;
        if (rc == FL_OK)
            rc = read_form(r, depth + 1, &fr, &v);
        if (rc == FL_OK && v == NULL)
            rc = fail(r, "map has an odd number of forms: a key has no value");
        if (rc == FL_OK)
            rc = map_put(r, map, k, v);
        else
            json_decref(v);
        json_decref(k);
        if (rc != FL_OK) {
            json_decref(map);
            return rc;
        }
    }
    *out = map;
    return FL_OK;
}

/* After '#': a set, a tagged value, or an error. (#_ is handled by
 * read_form.) */
static int read_dispatch(edn_reader *r, int depth, const frame *fr,
                         json_t **out)
{
    int c = next(r);
    if (c == '{')
        return read_seq(r, '}', "set", depth, out);
    if (c == EOF)
        return fail_eof(r, fr, "a # dispatch");
    if (c == '#')
        return fail(r, "symbolic values (##Inf, ##NaN) have no JSON "
                       "equivalent");
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha)
        return fail(r, "unknown dispatch #%c (expected #{, #_ or a tag)",
                    c >= 0x20 && c < 0x7f ? c : '?');
    int rc = read_token(r, c);
    if (rc != FL_OK)
        return rc;
    char tag[64];
    snprintf(tag, sizeof tag, "#%s", r->buf);
    if (deeper(r, depth) != FL_OK)
        return FL_EDATA;
    return read_needed(r, depth + 1, fr, tag, out);
}

static int read_value(edn_reader *r, int c, int depth, const frame *fr,
                      json_t **out)
{
    switch (c) {
    case '"': return read_string(r, out);
    case '[': return read_seq(r, ']', "vector", depth, out);
    case '(': return read_seq(r, ')', "list", depth, out);
    case '{': return read_map(r, depth, out);
    case '#': return read_dispatch(r, depth, fr, out);
    case ':': return read_keyword(r, out);
    case '\\': return read_character(r, out);
    }
    int d = peek(r);
    bool sign_digit = (c == '+' || c == '-') && d >= '0' && d <= '9';
    if ((c >= '0' && c <= '9') || sign_digit) {
        int rc = read_token(r, c);
        return rc != FL_OK ? rc : parse_number(r, out);
    }
    if (is_token(c) && c != '\'' && c != '`' && c != '~' && c != '^' &&
        c != '@')
        return read_symbol(r, c, out);
    if (c >= 0x20 && c < 0x7f)
        return fail(r, "unexpected %c", c);
    return fail(r, "unexpected byte 0x%02x", c);
}

static int unexpected_close(edn_reader *r, int c, const frame *fr)
{
    if (fr->close == 0)
        return fail(r, "unexpected %c: nothing to close", c);
    return fail(r, "unexpected %c: expected %c to close the %s opened at line "
                   "%ld, column %ld",
                c, fr->close, fr->what, fr->line, fr->col);
}

/*
 * The next form inside fr, into *out; *out NULL when fr's closing bracket
 * (consumed) or, at top level, the end of input came instead.
 */
static int read_form(edn_reader *r, int depth, const frame *fr, json_t **out)
{
    *out = NULL;
    for (;;) {
        skip_space(r);
        int c = next(r);
        if (c == EOF)
            return fr->close == 0 && !ferror(r->in) ? FL_OK
                                                    : fail_eof(r, fr, NULL);
        if (c == fr->close && c != 0) /* 0: top level, a NUL is no close */
            return FL_OK;
        if (c == ')' || c == ']' || c == '}')
            return unexpected_close(r, c, fr);
        if (c != '#' || peek(r) != '_')
            return read_value(r, c, depth, fr, out);
        next(r);
        if (deeper(r, depth) != FL_OK)
            return FL_EDATA;
        json_t *dropped;
        int rc = read_needed(r, depth + 1, fr, "#_", &dropped);
        json_decref(dropped);
        if (rc != FL_OK)
            return rc;
    }
}

int edn_read(edn_reader *r, json_t **out, fl_error *err)
{
    static const frame top = {0, 0, 0, "input"};
    r->err = err;
    r->truncated = false;
    r->kw_len = 0;
    skip_space(r);
    r->form_line = r->line;
    r->form_char = peek(r);
    const frame *fr = r->seq.close ? &r->seq : &top;
    int rc = read_form(r, r->seq.close ? 1 : 0, fr, out);
    if (rc == FL_OK && *out == NULL)
        r->seq.close = 0;
    return rc;
}

int edn_reader_enter(edn_reader *r, bool *entered, fl_error *err)
{
    *entered = false;
    if (r->seq.close != 0)
        return fl_error_set(err, FL_EUSAGE,
                            "%s: edn_reader_enter: already in a sequence",
                            r->name);
    skip_space(r);
    int c = peek(r);
    if (c != '[' && c != '(')
        return FL_OK;
    next(r);
    r->seq = (frame){c == '[' ? ']' : ')', r->at_line, r->at_col,
                     c == '[' ? "vector" : "list"};
    *entered = true;
    return FL_OK;
}

int edn_parse(const char *text, size_t len, const char *name, json_t **out,
              fl_error *err)
{
    *out = NULL;
    if (len == 0)
        return fl_error_set(err, FL_EDATA,
                            "%s:1:1: expected a form, got end of input", name);
    FILE *in = fmemopen((void *)text, len, "r");
    edn_reader *r = in ? edn_reader_new(in, name) : NULL;
    int rc = r ? edn_read(r, out, err)
               : fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK && *out == NULL)
        rc = fl_error_set(err, FL_EDATA,
                          "%s:%ld:%ld: expected a form, got end of input",
                          name, r->line, r->col);
    json_t *extra = NULL;
    if (rc == FL_OK && (rc = edn_read(r, &extra, err)) == FL_OK && extra)
        rc = fl_error_set(err, FL_EDATA,
                          "%s:%ld: expected end of input after the form",
                          name, edn_reader_line(r));
    json_decref(extra);
    if (rc != FL_OK) {
        json_decref(*out);
        *out = NULL;
    }
    edn_reader_free(r);
    if (in)
        fclose(in);
    return rc;
}

/* ---- Writing ------------------------------------------------------------------ */

static bool kw_char(int c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    if (c >= '0' && c <= '9')
        return !first;
    if (c == '.')
        return !first;
    return c != 0 && strchr("*+!-_?<>=", c) != NULL;
}

/* One keyword or symbol part: a plain-ASCII name that cannot read as a
 * number. */
static bool kw_part_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!kw_char((unsigned char)s[i], i == 0))
            return false;
    bool signed_digit = (s[0] == '+' || s[0] == '-') && len > 1 &&
                        s[1] >= '0' && s[1] <= '9';
    return !signed_digit;
}

bool edn_keyword_name_ok(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    if (slash == NULL)
        return kw_part_ok(s, len);
    size_t ns = (size_t)(slash - s);
    return kw_part_ok(s, ns) && kw_part_ok(slash + 1, len - ns - 1);
}

void edn_write_string(FILE *out, const char *s, size_t n)
{
    putc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                putc(c, out);
        }
    }
    putc('"', out);
}

static void write_real(FILE *out, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.17g", v);
    /* "1" would read back as an integer */
    if (strpbrk(text, ".eEn") == NULL)
        strcat(text, ".0");
    fputs(text, out);
}

static void write_value(FILE *out, const json_t *v);

static void write_map(FILE *out, const json_t *v)
{
    putc('{', out);
    bool first = true;
    for (void *it = json_object_iter((json_t *)v); it != NULL;
         it = json_object_iter_next((json_t *)v, it)) {
        const char *k = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        fputs(first ? "" : ", ", out);
        first = false;
        if (edn_keyword_name_ok(k, klen))
            fprintf(out, ":%.*s", (int)klen, k);
        else
            edn_write_string(out, k, klen);
        putc(' ', out);
        write_value(out, json_object_iter_value(it));
    }
    putc('}', out);
}

static void write_value(FILE *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL: fputs("nil", out); break;
    case JSON_TRUE: fputs("true", out); break;
    case JSON_FALSE: fputs("false", out); break;
    case JSON_INTEGER:
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: write_real(out, json_real_value(v)); break;
    case JSON_STRING:
        edn_write_string(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        putc('[', out);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                putc(' ', out);
            write_value(out, json_array_get(v, i));
        }
        putc(']', out);
        break;
    case JSON_OBJECT: write_map(out, v); break;
    }
}

int edn_write(FILE *out, const json_t *v, fl_error *err)
{
    write_value(out, v);
    if (ferror(out))
        return fl_error_set(err, FL_EIO, "write failed: %s", strerror(errno));
    return FL_OK;
}

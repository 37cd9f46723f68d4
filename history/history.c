/*
 * history.c — the in-memory history: events, interned names and values, and
 * the pairing of invocations with completions. File formats live in
 * history_jsonl.c and history_edn.c; both build histories through
 * history_append(), so every input path gets the same validation.
 */
#include "history/history.h"
#include "base/alloc.h"
#include "history/history_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
/* FNV-1a spreads the short, similar keys of a history (numbers, "k12")
 * far better than uthash's default here: measured 3x fewer probes. */
#define HASH_FUNCTION HASH_FNV
#include <uthash.h>

/* A pooled value, found by its canonical JSON text. */
typedef struct pooled_value {
    UT_hash_handle hh;
    uint32_t id;
    char text[]; /* canonical compact JSON, sorted keys */
} pooled_value;

typedef struct pooled_name {
    UT_hash_handle hh;
    uint32_t id;
    char text[];
} pooled_name;

/* Per process: the position of its invocation in flight, or HISTORY_NONE. */
typedef struct process_slot {
    UT_hash_handle hh;
    int64_t process;
    uint32_t in_flight;
} process_slot;

struct history {
    history_event *events;
    size_t len, cap;

    json_t **values;          /* id -> value (owned reference) */
    size_t value_count, value_cap;
    pooled_value *value_index;

    char **names;             /* id -> name (points into name_index entry) */
    size_t name_count, name_cap;
    pooled_name *name_index;

    uint32_t *dense;          /* process -> in flight, below DENSE_PROCESSES */
    size_t dense_cap;
    process_slot *processes;  /* the other processes */
    size_t pending;

    char **warnings;
    size_t warning_count;

    int64_t last_time;        /* of the last timed event, or HISTORY_NO_TIME */
    size_t time_backwards;

    bool chunk;               /* history_set_chunk: appends are not paired */
};

static const char *const type_names[] = {"invoke", "ok", "fail", "info"};

const char *history_type_name(history_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "?";
}

int history_type_parse(const char *s, history_type *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (history_type)i;
            return 0;
        }
    }
    return -1;
}

history *history_new(void)
{
    history *h = fl_calloc(1, sizeof(history));
    if (h != NULL)
        h->last_time = HISTORY_NO_TIME;
    return h;
}

void history_free(history *h)
{
    if (h == NULL)
        return;
    pooled_value *v, *vtmp;
    HASH_ITER(hh, h->value_index, v, vtmp) {
        HASH_DEL(h->value_index, v);
        fl_free(v);
    }
    for (size_t i = 0; i < h->value_count; i++)
        json_decref(h->values[i]);
    pooled_name *n, *ntmp;
    HASH_ITER(hh, h->name_index, n, ntmp) {
        HASH_DEL(h->name_index, n);
        fl_free(n);
    }
    process_slot *p, *ptmp;
    HASH_ITER(hh, h->processes, p, ptmp) {
        HASH_DEL(h->processes, p);
        fl_free(p);
    }
    for (size_t i = 0; i < h->warning_count; i++)
        fl_free(h->warnings[i]);
    fl_free(h->warnings);
    fl_free(h->dense);
    fl_free(h->values);
    fl_free(h->names);
    fl_free(h->events);
    fl_free(h);
}

#define HUGE_PAGE ((uintptr_t)2 << 20)

/* Ask for huge pages under a large array: the checkers reach a long
 * history's events (100 MB for 2M) all over, a key at a time, and with
 * 4 KB pages nearly every such read was a TLB miss too. Only advice:
 * where transparent huge pages are off it does nothing. */
static void advise_huge(void *p, size_t bytes)
{
    uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* Grow *arr (of elem-sized items) so it holds at least need items. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = fl_realloc(*arr, ncap * elem);
    if (p == NULL)
        return -1;
    if (ncap * elem >= 2 * HUGE_PAGE)
        advise_huge(p, ncap * elem);
    *arr = p;
    *cap = ncap;
    return 0;
}

/* ---- Interning ------------------------------------------------------------ */

/*
 * The pool's key for a value: a type tag, then for integers and strings
 * (nearly every key and most values) their raw form, else canonical compact
 * JSON with sorted keys. The tags keep the encodings from colliding. Returns
 * the length, or 0 on failure; *text is stack unless it had to be allocated.
 * The JSONL fast path (history_jsonl_fast.c) writes these keys itself, so a
 * change here is a change there: fuzz_jsonl_diff holds the two together.
 */
static size_t pool_key(const json_t *v, char *stack, size_t cap, char **text)
{
    *text = stack;
    if (json_is_integer(v))
        return (size_t)snprintf(stack, cap, "i%lld",
                                (long long)json_integer_value(v));
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        if (n + 1 >= cap && (*text = fl_malloc(n + 2)) == NULL)
            return 0;
        (*text)[0] = 's';
        memcpy(*text + 1, json_string_value(v), n);
        (*text)[n + 1] = '\0';
        return n + 1;
    }
    size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY;
    stack[0] = 'j';
    size_t n = json_dumpb(v, stack + 1, cap - 2, flags);
    if (n == 0)
        return 0;
    if (n >= cap - 2) {
        *text = fl_malloc(n + 2);
        if (*text == NULL || json_dumpb(v, *text + 1, n, flags) != n)
            return 0;
        (*text)[0] = 'j';
    }
    (*text)[n + 1] = '\0';
    return n + 1;
}

/* Add a value not yet pooled under its key text[0..n) (NUL-terminated);
 * takes `kept` (a reference, or NULL when making it ran out of memory) in
 * every case. Its id, or HISTORY_NONE when out of memory. */
static uint32_t pool_insert(history *h, const char *text, size_t n,
                            json_t *kept)
{
    pooled_value *entry = NULL;
    if (kept == NULL || h->value_count >= HISTORY_NONE - 1 ||
        grow((void **)&h->values, &h->value_cap, h->value_count + 1,
             sizeof *h->values) != 0 ||
        (entry = fl_malloc(sizeof *entry + n + 1)) == NULL) {
        json_decref(kept);
        return HISTORY_NONE;
    }
    memcpy(entry->text, text, n + 1);
    entry->id = (uint32_t)h->value_count;
    h->values[h->value_count++] = kept;
    HASH_ADD_KEYPTR(hh, h->value_index, entry->text, n, entry);
    return entry->id;
}

size_t history_pool_key_of(const json_t *v, char *stack, size_t cap,
                           char **text)
{
    return pool_key(v, stack, cap, text);
}

/* Intern v; `share` lets the pool keep a reference to v itself rather than a
 * deep copy (only for values nobody will mutate, e.g. freshly parsed). */
static uint32_t value_intern(history *h, const json_t *value, bool share)
{
    char stack[256];
    char *text;
    size_t n = pool_key(value, stack, sizeof stack, &text);
    uint32_t id = HISTORY_NONE;
    if (n == 0)
        goto out;
    pooled_value *found;
    HASH_FIND(hh, h->value_index, text, n, found);
    if (found != NULL) {
        id = found->id;
        goto out;
    }
    id = pool_insert(h, text, n,
                     share ? json_incref((json_t *)value) : json_deep_copy(value));
out:
    if (text != stack)
        fl_free(text);
    return id;
}

uint32_t history_value_intern(history *h, const json_t *value)
{
    return value_intern(h, value, false);
}

static uint32_t name_intern(history *h, const char *name)
{
    size_t n = strlen(name);
    pooled_name *found;
    HASH_FIND(hh, h->name_index, name, n, found);
    if (found != NULL)
        return found->id;
    if (grow((void **)&h->names, &h->name_cap, h->name_count + 1,
             sizeof *h->names) != 0)
        return HISTORY_NONE;
    pooled_name *entry = fl_malloc(sizeof *entry + n + 1);
    if (entry == NULL)
        return HISTORY_NONE;
    memcpy(entry->text, name, n + 1);
    entry->id = (uint32_t)h->name_count;
    h->names[h->name_count++] = entry->text;
    HASH_ADD_KEYPTR(hh, h->name_index, entry->text, n, entry);
    return entry->id;
}

uint32_t history_name_find(const history *h, const char *name)
{
    pooled_name *found;
    HASH_FIND(hh, h->name_index, name, strlen(name), found);
    return found ? found->id : HISTORY_NONE;
}

const char *history_name(const history *h, uint32_t f)
{
    return f < h->name_count ? h->names[f] : NULL;
}

size_t history_name_count(const history *h) { return h->name_count; }

const json_t *history_value(const history *h, uint32_t id)
{
    return id < h->value_count ? h->values[id] : NULL;
}

size_t history_value_count(const history *h) { return h->value_count; }
size_t history_len(const history *h) { return h->len; }
const history_event *history_events(const history *h) { return h->events; }
size_t history_pending(const history *h) { return h->pending; }
size_t history_warning_count(const history *h) { return h->warning_count; }

const char *history_warning(const history *h, size_t i)
{
    return i < h->warning_count ? h->warnings[i] : NULL;
}

int history_add_warning(history *h, const char *msg)
{
    char **w = fl_realloc(h->warnings, (h->warning_count + 1) * sizeof *w);
    if (w == NULL)
        return -1;
    h->warnings = w;
    w[h->warning_count] = fl_strdup(msg);
    if (w[h->warning_count] == NULL)
        return -1;
    h->warning_count++;
    return 0;
}

size_t history_time_backwards(const history *h) { return h->time_backwards; }

int history_warn_time_backwards(history *h, const char *name, long first_line,
                                fl_error *err)
{
    if (h->time_backwards == 0)
        return FL_OK;
    char msg[FL_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg,
             "%s:%ld: %zu event%s with a time earlier than the event before "
             "(the first here); the line order is taken as the real-time "
             "order",
             name, first_line, h->time_backwards,
             h->time_backwards == 1 ? "" : "s");
    if (history_add_warning(h, msg) != 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

/* ---- Appending ---------------------------------------------------------- */

static int check_fields(const history_input *in, fl_error *err)
{
    if ((unsigned)in->type > HISTORY_INFO)
        return fl_error_set(err, FL_EDATA, "field \"type\": invalid type %d",
                            (int)in->type);
    if (in->process < 0 && in->process != HISTORY_NEMESIS)
        return fl_error_set(err, FL_EDATA,
                            "field \"process\": %lld is negative (expected a "
                            "client number >= 0 or \"nemesis\")",
                            (long long)in->process);
    if (in->f == NULL || in->f[0] == '\0')
        return fl_error_set(err, FL_EDATA,
                            "field \"f\": missing operation name");
    if (in->index < 0 && in->index != HISTORY_AUTO_INDEX)
        return fl_error_set(err, FL_EDATA, "field \"index\": %lld is negative",
                            (long long)in->index);
    if (in->time < 0 && in->time != HISTORY_NO_TIME)
        return fl_error_set(err, FL_EDATA, "field \"time\": %lld is negative",
                            (long long)in->time);
    if (in->key != NULL && !json_is_string(in->key) &&
        !json_is_integer(in->key))
        return fl_error_set(err, FL_EDATA,
                            "field \"key\": must be a string or an integer");
    return FL_OK;
}

/* Client numbers below this index an array (a history retires a process
 * at every info, so a long one has hundreds of thousands, and hashing them
 * was a fifth of reading one); larger ones, rare, go to a hash. */
#define DENSE_PROCESSES (INT64_C(1) << 22)

/* Where the process's in-flight position lives (valid until the next
 * call), or NULL when out of memory. */
static uint32_t *slot_for(history *h, int64_t process)
{
    if (process < DENSE_PROCESSES) {
        size_t need = (size_t)process + 1;
        if (need > h->dense_cap) {
            size_t old = h->dense_cap;
            if (grow((void **)&h->dense, &h->dense_cap, need,
                     sizeof *h->dense) != 0)
                return NULL;
            memset(h->dense + old, 0xff,
                   (h->dense_cap - old) * sizeof *h->dense); /* HISTORY_NONE */
        }
        return &h->dense[process];
    }
    process_slot *s;
    HASH_FIND(hh, h->processes, &process, sizeof process, s);
    if (s != NULL)
        return &s->in_flight;
    s = fl_malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    s->process = process;
    s->in_flight = HISTORY_NONE;
    HASH_ADD(hh, h->processes, process, sizeof s->process, s);
    return &s->in_flight;
}

/* Check a client event against its process's state; sets *pair. */
static int check_pairing(history *h, const history_event *e,
                         const uint32_t *in_flight, uint32_t *pair,
                         fl_error *err)
{
    if (e->type == HISTORY_INVOKE) {
        if (*in_flight != HISTORY_NONE) {
            const history_event *busy = &h->events[*in_flight];
            return fl_error_set(err, FL_EDATA,
                                "field \"process\": process %lld invoked \"%s\" "
                                "while its \"%s\" (index %lld) was still in "
                                "flight; a process has one operation at a time",
                                (long long)e->process, h->names[e->f],
                                h->names[busy->f], (long long)busy->index);
        }
        *pair = HISTORY_NONE;
        return FL_OK;
    }
    if (*in_flight == HISTORY_NONE)
        return fl_error_set(err, FL_EDATA,
                            "field \"type\": \"%s\" completion of \"%s\" by "
                            "process %lld, which has no invocation in flight",
                            history_type_name(e->type), h->names[e->f],
                            (long long)e->process);
    const history_event *inv = &h->events[*in_flight];
    if (inv->f != e->f)
        return fl_error_set(err, FL_EDATA,
                            "field \"f\": completion \"%s\" does not match "
                            "process %lld's invocation \"%s\" (index %lld)",
                            h->names[e->f], (long long)e->process,
                            h->names[inv->f], (long long)inv->index);
    if (inv->key != e->key)
        return fl_error_set(err, FL_EDATA,
                            "field \"key\": completion's key differs from "
                            "process %lld's invocation (index %lld)",
                            (long long)e->process, (long long)inv->index);
    *pair = *in_flight;
    return FL_OK;
}

/* check_fields() and room for one more event. */
static int begin_append(history *h, const history_input *in, fl_error *err)
{
    int rc = check_fields(in, err);
    if (rc != FL_OK)
        return rc;
    if (h->len >= HISTORY_NONE - 1)
        return fl_error_set(err, FL_ENOMEM, "history has too many events");
    if (grow((void **)&h->events, &h->cap, h->len + 1, sizeof *h->events) != 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return FL_OK;
}

/* The event's fields from in, its values not yet interned. */
static history_event event_from(history *h, const history_input *in)
{
    return (history_event){
        .index = in->index == HISTORY_AUTO_INDEX && !h->chunk ? (int64_t)h->len
                                                              : in->index,
        .time = in->time,
        .process = in->process,
        .type = in->type,
        .f = name_intern(h, in->f),
        .key = HISTORY_NONE,
        .error = HISTORY_NONE,
        .pair = HISTORY_NONE,
    };
}

/* Pair e (its names and values interned) with its process and store it. */
static int finish_append(history *h, history_event e, fl_error *err)
{
    if (e.process != HISTORY_NEMESIS && !h->chunk) {
        uint32_t *in_flight = slot_for(h, e.process);
        if (in_flight == NULL)
            return fl_error_set(err, FL_ENOMEM, "out of memory");
        int rc = check_pairing(h, &e, in_flight, &e.pair, err);
        if (rc != FL_OK)
            return rc; /* interned names/values stay pooled: harmless */
        uint32_t pos = (uint32_t)h->len;
        if (e.type == HISTORY_INVOKE) {
            *in_flight = pos;
            h->pending++;
        } else {
            h->events[e.pair].pair = pos;
            *in_flight = HISTORY_NONE;
            h->pending--;
        }
    }
    if (e.time != HISTORY_NO_TIME) {
        if (h->last_time != HISTORY_NO_TIME && e.time < h->last_time)
            h->time_backwards++;
        h->last_time = e.time;
    }
    h->events[h->len++] = e;
    return FL_OK;
}

static int append(history *h, const history_input *in, bool share,
                  fl_error *err)
{
    int rc = begin_append(h, in, err);
    if (rc != FL_OK)
        return rc;
    history_event e = event_from(h, in);
    json_t *null = json_null();
    e.value = value_intern(h, in->value ? in->value : null, share);
    if (in->key != NULL)
        e.key = value_intern(h, in->key, share);
    if (in->error != NULL)
        e.error = value_intern(h, in->error, share);
    if (e.f == HISTORY_NONE || e.value == HISTORY_NONE ||
        (in->key && e.key == HISTORY_NONE) ||
        (in->error && e.error == HISTORY_NONE))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return finish_append(h, e, err);
}

/* The value a pool key names (see pool_key()), as a new reference, or NULL
 * when out of memory. */
static json_t *value_of_pool_key(const char *text, size_t n)
{
    switch (text[0]) {
    case 'i':
        return json_integer(strtoll(text + 1, NULL, 10));
    case 's':
        return json_stringn(text + 1, n - 1);
    default:
        return json_loadb(text + 1, n - 1, JSON_DECODE_ANY, NULL);
    }
}

static uint32_t value_intern_key(history *h, const history_pool_key *k)
{
    pooled_value *found;
    HASH_FIND(hh, h->value_index, k->text, k->len, found);
    if (found != NULL)
        return found->id;
    return pool_insert(h, k->text, k->len, value_of_pool_key(k->text, k->len));
}

int history_append_keyed(history *h, const history_keyed_input *in,
                         fl_error *err)
{
    int rc = begin_append(h, &in->base, err);
    if (rc != FL_OK)
        return rc;
    history_event e = event_from(h, &in->base);
    e.value = value_intern_key(h, &in->value);
    if (in->key.text != NULL)
        e.key = value_intern_key(h, &in->key);
    if (in->error.text != NULL)
        e.error = value_intern_key(h, &in->error);
    if (e.f == HISTORY_NONE || e.value == HISTORY_NONE ||
        (in->key.text && e.key == HISTORY_NONE) ||
        (in->error.text && e.error == HISTORY_NONE))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    return finish_append(h, e, err);
}

int history_append(history *h, const history_input *in, fl_error *err)
{
    return append(h, in, false, err);
}

int history_append_shared(history *h, const history_input *in, fl_error *err)
{
    return append(h, in, true, err);
}

/* ---- Chunks of a history read in parallel ---------------------------------- */

void history_set_chunk(history *h)
{
    h->chunk = true;
}

/* c's value entries by id (c's table is emptied, the entries kept), or
 * NULL when out of memory. */
static pooled_value **take_entries(history *c)
{
    pooled_value **by_id = fl_malloc((c->value_count + 1) * sizeof *by_id);
    if (by_id == NULL)
        return NULL;
    for (pooled_value *v = c->value_index; v != NULL; v = v->hh.next)
        by_id[v->id] = v;
    HASH_CLEAR(hh, c->value_index);
    return by_id;
}

/* Pool c's values in h, in c's order: each one new to h moves, entry and
 * reference, with the hash uthash already computed. map[id in c] = id in
 * h. FL_OK or FL_ENOMEM; c keeps whatever was not moved. */
static int merge_values(history *h, history *c, uint32_t *map)
{
    pooled_value **by_id = take_entries(c);
    if (by_id == NULL)
        return FL_ENOMEM;
    int rc = FL_OK;
    size_t i = 0;
    for (; i < c->value_count; i++) {
        pooled_value *v = by_id[i], *found;
        unsigned len = v->hh.keylen, hashv = v->hh.hashv;
        HASH_FIND_BYHASHVALUE(hh, h->value_index, v->text, len, hashv, found);
        if (found != NULL) {
            map[i] = found->id;
            fl_free(v);
            continue;
        }
        if (h->value_count >= HISTORY_NONE - 1 ||
            grow((void **)&h->values, &h->value_cap, h->value_count + 1,
                 sizeof *h->values) != 0) {
            rc = FL_ENOMEM;
            break;
        }
        map[i] = v->id = (uint32_t)h->value_count;
        h->values[h->value_count++] = c->values[i];
        c->values[i] = NULL;
        HASH_ADD_KEYPTR_BYHASHVALUE(hh, h->value_index, v->text, len, hashv, v);
    }
    for (; i < c->value_count; i++) /* out of memory: c's to free */
        fl_free(by_id[i]);
    fl_free(by_id);
    return rc;
}

/* c's events [0, n) appended to h, ids mapped, paired as history_append
 * pairs them. */
static int merge_events(history *h, const history *c, size_t n,
                        const uint32_t *names, const uint32_t *values,
                        size_t *failed, size_t *first_backwards, fl_error *err)
{
    if (grow((void **)&h->events, &h->cap, h->len + n, sizeof *h->events))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        history_event e = c->events[i];
        *failed = i;
        if (h->len >= HISTORY_NONE - 1)
            return fl_error_set(err, FL_ENOMEM, "history has too many events");
        if (e.index == HISTORY_AUTO_INDEX)
            e.index = (int64_t)h->len;
        e.f = names[e.f];
        e.value = values[e.value];
        if (e.key != HISTORY_NONE)
            e.key = values[e.key];
        if (e.error != HISTORY_NONE)
            e.error = values[e.error];
        e.pair = HISTORY_NONE;
        bool forward = h->time_backwards == 0;
        int rc = finish_append(h, e, err);
        if (rc != FL_OK)
            return rc;
        if (forward && h->time_backwards > 0 && *first_backwards == SIZE_MAX)
            *first_backwards = i;
    }
    return FL_OK;
}

int history_merge_chunk(history *h, history *c, size_t n, size_t *failed,
                        size_t *first_backwards, fl_error *err)
{
    *failed = SIZE_MAX;
    uint32_t *names = fl_malloc((c->name_count + 1) * sizeof *names);
    uint32_t *values = fl_malloc((c->value_count + 1) * sizeof *values);
    int rc = names && values ? FL_OK : FL_ENOMEM;
    for (size_t i = 0; rc == FL_OK && i < c->name_count; i++)
        if ((names[i] = name_intern(h, c->names[i])) == HISTORY_NONE)
            rc = FL_ENOMEM;
    if (rc == FL_OK)
        rc = merge_values(h, c, values);
    if (rc != FL_OK)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    else
        rc = merge_events(h, c, n, names, values, failed, first_backwards,
                          err);
    fl_free(names);
    fl_free(values);
    return rc;
}

/* ---- Subsets -------------------------------------------------------------- */

static void input_from_event(const history *h, const history_event *e,
                             history_input *in)
{
    in->index = e->index;
    in->time = e->time;
    in->process = e->process;
    in->type = e->type;
    in->f = h->names[e->f];
    in->key = e->key == HISTORY_NONE ? NULL : h->values[e->key];
    in->value = h->values[e->value];
    in->error = e->error == HISTORY_NONE ? NULL : h->values[e->error];
}

int history_subset(const history *h, const bool *keep, history **out,
                   fl_error *err)
{
    history *sub = history_new();
    if (sub == NULL)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t pos = 0; pos < h->len; pos++) {
        const history_event *e = &h->events[pos];
        bool completion = e->process != HISTORY_NEMESIS &&
                          e->type != HISTORY_INVOKE;
        if (!(completion ? keep[e->pair] : keep[pos]))
            continue;
        history_input in;
        input_from_event(h, e, &in);
        int rc = history_append(sub, &in, err);
        if (rc != FL_OK) {
            history_free(sub);
            return rc;
        }
    }
    *out = sub;
    return FL_OK;
}

/* ---- JSON form of an event (shared by the writers) ---------------------- */

json_t *history_event_to_json(const history *h, const history_event *e)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "index", json_integer(e->index));
    if (e->time != HISTORY_NO_TIME)
        bad |= json_object_set_new(o, "time", json_integer(e->time));
    bad |= json_object_set_new(o, "process",
                               e->process == HISTORY_NEMESIS
                                   ? json_string("nemesis")
                                   : json_integer(e->process));
    bad |= json_object_set_new(o, "type", json_string(type_names[e->type]));
    bad |= json_object_set_new(o, "f", json_string(h->names[e->f]));
    if (e->key != HISTORY_NONE)
        bad |= json_object_set(o, "key", h->values[e->key]);
    bad |= json_object_set(o, "value", h->values[e->value]);
    if (e->error != HISTORY_NONE)
        bad |= json_object_set(o, "error", h->values[e->error]);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * file target: a database described by a JSON file. See file.h.
 */
#include "targets/clients/file.h"
#include "base/clock.h"
#include "harness/netbind.h"
#include "targets/clients/daemon.h"
#include "targets/clients/http.h"
#include "targets/clients/jsonl_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- placeholders (pure) ------------------------------------------------------------- */

char *file_expand(const char *tmpl, const char *const *vars, char *bad,
                  size_t bad_size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (bad_size)
        bad[0] = '\0';
    if (!f)
        return NULL;
    bool ok = true;
    for (const char *p = tmpl; *p && ok; p++) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        if (!end) {
            fputc(*p, f);
            continue;
        }
        size_t k = (size_t)(end - p - 1);
        const char *value = NULL;
        for (size_t i = 0; vars[i]; i += 2)
            if (strlen(vars[i]) == k && strncmp(vars[i], p + 1, k) == 0)
                value = vars[i + 1];
        if (!value) {
            snprintf(bad, bad_size, "%.*s", (int)(end - p + 1), p);
            ok = false;
            break;
        }
        fputs(value, f);
        p = end;
    }
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The placeholder names every file has. */
static const char *const builtin_names[] = {
    "node", "addr", "index", "id", "n", "port", "peers", "dir", "data_dir",
    "log", "target_dir", NULL,
};
#define N_BUILTIN (sizeof builtin_names / sizeof *builtin_names - 1)
#define MAX_IDLE 64
#define MAX_OPTIONS 16

/* The options, as target_options_parse leaves them: --file, then the
 * file's own in the order it declares them. */
typedef struct file_options {
    const char *file;
    const char *values[MAX_OPTIONS];
} file_options;

/* ---- the file, checked (pure but for reading it) ------------------------------------------ */

typedef enum { READY_TCP, READY_HTTP, READY_COMMAND } ready_kind;

/* Everything the file says, typed; strings borrowed from root. */
typedef struct file_desc {
    json_t *root;
    char *path, *dir;               /* absolute; dir: where the file is */
    const char *name;
    int client_port;
    const char *install, *start, *leader, *kill, *pause, *resume, *wipe;
    const char *peer;
    ready_kind ready;
    const char *ready_arg;
    const char **logs;              /* NULL-terminated, stdout.log first */
    const char *client_command;
    int timeout_ms;
    const json_t *client_options;
    const char **operations;        /* NULL-terminated */
    const char **crash_patterns;    /* NULL-terminated */
    /* Its own options ("options": {NAME: {"help", "default"}}), each a
     * command-line option and a placeholder {NAME}. */
    target_option *options;         /* "file" first; NULL-name ended */
    size_t n_options;
} file_desc;

static void desc_free(file_desc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    free(d->path);
    free(d->dir);
    free(d->logs);
    free(d->operations);
    free(d->crash_patterns);
    free(d->options);
    free(d);
}

/* The line (1-based) of the key at path (NULL-terminated keys, each
 * searched for as "KEY": after the previous one) in text; 1 if not found. */
static int line_of(const char *text, const char *const *path)
{
    const char *at = text;
    for (size_t i = 0; path[i]; i++) {
        char quoted[128];
        snprintf(quoted, sizeof quoted, "\"%s\"", path[i]);
        const char *p = at;
        while ((p = strstr(p, quoted))) {
            const char *q = p + strlen(quoted);
            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                q++;
            if (*q == ':')
                break;
            p++;
        }
        if (!p)
            break;
        at = p;
    }
    int line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

typedef struct checker {
    const char *path, *text;
    fl_error *err;
    int rc;
    /* Every placeholder name with a dummy value, for checking commands. */
    const char *vars[2 * (N_BUILTIN + MAX_OPTIONS) + 1];
} checker;

/* Record the first problem: "PATH:LINE: a.b: why". */
static bool problem(checker *c, const char *outer, const char *field,
                    const char *why, const char *detail)
{
    if (c->rc != FL_OK)
        return false;
    const char *keys[] = {outer ? outer : field, outer ? field : NULL, NULL};
    c->rc = fl_error_set(c->err, FL_EUSAGE, "%s:%d: %s%s%s: %s%s", c->path,
                         line_of(c->text, keys), outer ? outer : "",
                         outer ? "." : "", field, why, detail ? detail : "");
    return false;
}

/* Only the keys in known (NULL-terminated) may appear in o. */
static void known_keys(checker *c, const json_t *o, const char *outer,
                       const char *const *known)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(known[i], k) == 0;
        if (!found) {
            char list[256] = "";
            for (size_t i = 0; known[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list),
                         "%s%s", i ? ", " : "(known: ", known[i]);
            problem(c, outer, k, "unknown field ", list);
            if (c->rc != FL_OK && strlen(c->err->msg) + 2 < sizeof c->err->msg)
                strcat(c->err->msg, ")");
            return;
        }
    }
}

/* A command field: a string whose placeholders are all known. */
static const char *command(checker *c, const json_t *o, const char *outer,
                           const char *field, bool required)
{
    const json_t *v = json_object_get(o, field);
    if (!v) {
        if (required)
            problem(c, outer, field, "missing (a shell command)", NULL);
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || !*s) {
        problem(c, outer, field, "must be a non-empty string (a shell "
                "command)", NULL);
        return NULL;
    }
    char bad[64];
    char *x = file_expand(s, c->vars, bad, sizeof bad);
    if (!x)
        problem(c, outer, field, "unknown placeholder ", bad);
    free(x);
    return s;
}

/* A NULL-terminated array of the strings of a JSON array (new; the
 * strings borrowed), first + its elements; NULL after a problem. */
static const char **strings(checker *c, const json_t *a, const char *outer,
                            const char *field, const char *first)
{
    size_t n = json_array_size(a), k = 0;
    const char **out = calloc(n + 2, sizeof *out);
    if (!out) {
        c->rc = fl_error_set(c->err, FL_ENOMEM, "out of memory");
        return NULL;
    }
    if (first)
        out[k++] = first;
    if (a && !json_is_array(a)) {
        problem(c, outer, field, "must be an array of strings", NULL);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!(out[k++] = json_string_value(json_array_get(a, i)))) {
            problem(c, outer, field, "must be an array of strings", NULL);
            free(out);
            return NULL;
        }
    return out;
}

static void check_ready(checker *c, file_desc *d, const json_t *db)
{
    const json_t *r = json_object_get(db, "ready");
    d->ready = READY_TCP;
    if (!r)
        return;
    static const char *const kinds[] = {"tcp", "http", "command", NULL};
    if (!json_is_object(r) || json_object_size(r) != 1) {
        problem(c, "db", "ready", "must be {\"tcp\": true}, {\"http\": "
                "\"/path\"} or {\"command\": \"CMD\"}", NULL);
        return;
    }
    known_keys(c, r, "ready", kinds);
    if (json_object_get(r, "tcp") && !json_is_true(json_object_get(r, "tcp")))
        problem(c, "ready", "tcp", "must be true", NULL);
    const char *http = json_string_value(json_object_get(r, "http"));
    if (json_object_get(r, "http")) {
        d->ready = READY_HTTP;
        d->ready_arg = http;
        if (!http || http[0] != '/' || strpbrk(http, " \t\n"))
            problem(c, "ready", "http", "must be a path such as \"/health\"",
                    NULL);
    }
    if (json_object_get(r, "command")) {
        d->ready = READY_COMMAND;
        d->ready_arg = command(c, r, "ready", "command", true);
    }
}

static void check_db(checker *c, file_desc *d, const json_t *db)
{
    static const char *const keys[] = {"start", "install", "ready", "leader",
                                       "kill", "pause", "resume", "wipe",
                                       "logs", "peer", NULL};
    if (!json_is_object(db)) {
        problem(c, NULL, "db", db ? "must be an object" : "missing (an "
                "object with at least \"start\")", NULL);
        return;
    }
    known_keys(c, db, "db", keys);
    d->start = command(c, db, "db", "start", true);
    d->install = command(c, db, "db", "install", false);
    d->leader = command(c, db, "db", "leader", false);
    d->kill = command(c, db, "db", "kill", false);
    d->pause = command(c, db, "db", "pause", false);
    d->resume = command(c, db, "db", "resume", false);
    d->wipe = command(c, db, "db", "wipe", false);
    d->peer = json_object_get(db, "peer") ? command(c, db, "db", "peer", false)
                                          : "{addr}";
    check_ready(c, d, db);
    if (c->rc == FL_OK)
        d->logs = strings(c, json_object_get(db, "logs"), "db", "logs",
                          "stdout.log");
    for (size_t i = 0; d->logs && d->logs[i]; i++)
        if (!daemon_plain(d->logs[i], "._-/") || d->logs[i][0] == '/' ||
            strstr(d->logs[i], ".."))
            problem(c, "db", "logs", "must be file names under {dir}: ",
                    d->logs[i]);
}

static void check_client(checker *c, file_desc *d, const json_t *cl)
{
    static const char *const keys[] = {"command", "timeout_ms", "options",
                                       NULL};
    if (!json_is_object(cl)) {
        problem(c, NULL, "client", cl ? "must be an object" : "missing (an "
                "object with at least \"command\")", NULL);
        return;
    }
    known_keys(c, cl, "client", keys);
    d->client_command = command(c, cl, "client", "command", true);
    const json_t *t = json_object_get(cl, "timeout_ms");
    d->timeout_ms = t ? (int)json_integer_value(t) : 5000;
    if (t && (!json_is_integer(t) || d->timeout_ms < 100 ||
              d->timeout_ms > 600000))
        problem(c, "client", "timeout_ms", "must be an integer in "
                "100..600000", NULL);
    d->client_options = json_object_get(cl, "options");
    if (d->client_options && !json_is_object(d->client_options))
        problem(c, "client", "options", "must be an object", NULL);
}

static void check_operations(checker *c, file_desc *d)
{
    const json_t *ops = json_object_get(d->root, "operations");
    if (!ops || json_array_size(ops) == 0) {
        problem(c, NULL, "operations", "must list what the client does, of "
                "read, write, cas, add", NULL);
        return;
    }
    d->operations = strings(c, ops, NULL, "operations", NULL);
    for (size_t i = 0; d->operations && d->operations[i]; i++) {
        const char *o = d->operations[i];
        if (strcmp(o, "read") && strcmp(o, "write") && strcmp(o, "cas") &&
            strcmp(o, "add"))
            problem(c, NULL, "operations", "not one of read, write, cas, "
                    "add: ", o);
    }
}

/* Matched as the built-in targets' are: a substring of a log line. */
static void check_crash_patterns(checker *c, file_desc *d)
{
    d->crash_patterns = strings(c, json_object_get(d->root, "crash_patterns"),
                                NULL, "crash_patterns", NULL);
    for (size_t i = 0; d->crash_patterns && d->crash_patterns[i]; i++)
        if (!d->crash_patterns[i][0]) {
            problem(c, NULL, "crash_patterns", "an empty pattern would "
                    "match every line", "");
            return;
        }
}

/* "options": {NAME: {"help": "...", "default": "..."}}. */
static void check_options(checker *c, file_desc *d)
{
    const json_t *o = json_object_get(d->root, "options");
    size_t n = 0, k = 0;
    for (; builtin_names[n]; n++) {
        c->vars[2 * n] = builtin_names[n];
        c->vars[2 * n + 1] = "x";
    }
    d->options = calloc(MAX_OPTIONS + 2, sizeof *d->options);
    if (!d->options) {
        c->rc = fl_error_set(c->err, FL_ENOMEM, "out of memory");
        return;
    }
    d->options[k++] = (target_option){.name = "file", .arg = "PATH",
        .help = "the target file (given by --target-file)",
        .offset = offsetof(file_options, file)};
    if (o && (!json_is_object(o) || json_object_size(o) > MAX_OPTIONS)) {
        problem(c, NULL, "options", "must be an object of at most 16 "
                "options", NULL);
        return;
    }
    static const char *const keys[] = {"help", "default", NULL};
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)o, name, v) {
        const char *help = json_string_value(json_object_get(v, "help"));
        const json_t *def = json_object_get(v, "default");
        if (!json_is_object(v) || !help || (def && !json_is_string(def)))
            problem(c, "options", name, "must be {\"help\": \"...\", "
                    "\"default\": \"...\"} (default optional)", NULL);
        else
            known_keys(c, v, name, keys);
        if (!daemon_plain(name, "-_") || !strcmp(name, "file"))
            problem(c, "options", name, "an option's name is a word of "
                    "letters, digits, - and _ (and not \"file\")", NULL);
        for (size_t i = 0; builtin_names[i]; i++)
            if (strcmp(builtin_names[i], name) == 0)
                problem(c, "options", name, "is a built-in placeholder",
                        NULL);
        /* Inserted into shell commands as they are: words only. */
        d->options[k] = (target_option){.name = name, .arg = "VALUE",
            .help = help, .default_value = json_string_value(def),
            .chars = " -_=.,:/+", .empty_ok = true,
            .offset = offsetof(file_options, values) +
                      (k - 1) * sizeof(const char *)};
        k++;
        c->vars[2 * n] = name;
        c->vars[2 * n++ + 1] = "x";
    }
    d->n_options = k;
}

static void check_top(checker *c, file_desc *d)
{
    static const char *const keys[] = {"name", "about", "client_port", "db",
                                       "client", "operations", "options",
                                       "crash_patterns", NULL};
    known_keys(c, d->root, NULL, keys);
    d->name = json_string_value(json_object_get(d->root, "name"));
    if (!d->name || !daemon_plain(d->name, "-_"))
        problem(c, NULL, "name", "must be a word of letters, digits, - and _",
                NULL);
    const json_t *port = json_object_get(d->root, "client_port");
    d->client_port = (int)json_integer_value(port);
    if (!json_is_integer(port) || d->client_port < 1 ||
        d->client_port > 65535)
        problem(c, NULL, "client_port", "must be a port number (1..65535)",
                NULL);
    check_options(c, d);
    check_db(c, d, json_object_get(d->root, "db"));
    check_client(c, d, json_object_get(d->root, "client"));
    check_operations(c, d);
    check_crash_patterns(c, d);
}

/* Read, parse and check the file. */
static int desc_load(const char *path, file_desc **out, fl_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return fl_error_set(err, FL_EIO, "%s: %s", path, strerror(errno));
    FILE *m = open_memstream(&text, &len);
    char chunk[8192];
    size_t k;
    while (m && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, k, m);
    fclose(f);
    if (!m || fclose(m) != 0) {
        free(text);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    file_desc *d = calloc(1, sizeof *d);
    char abs[PATH_MAX];
    json_error_t je;
    if (!d || !realpath(path, abs)) {
        free(text);
        free(d);
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", path);
    }
    d->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    checker c = {.path = path, .text = text, .err = err, .rc = FL_OK};
    if (!d->root)
        c.rc = fl_error_set(err, FL_EUSAGE, "%s:%d:%d: not JSON: %s", path,
                            je.line, je.column, je.text);
    else if (!json_is_object(d->root))
        c.rc = fl_error_set(err, FL_EUSAGE, "%s:1: the file must be a JSON "
                            "object", path);
    else
        check_top(&c, d);
    free(text);
    d->path = strdup(abs);
    char *slash = strrchr(abs, '/');
    *slash = '\0';
    d->dir = strdup(abs[0] ? abs : "/");
    if (c.rc == FL_OK && (!d->path || !d->dir))
        c.rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    if (c.rc != FL_OK) {
        desc_free(d);
        return c.rc;
    }
    *out = d;
    return FL_OK;
}

/* ---- state --------------------------------------------------------------------------- */

typedef struct file_state {
    daemon_db db;            /* first: the daemon default's calls use it */
    daemon_spec spec;
    file_desc *d;
    char *peers;             /* {peers}, expanded once */
    /* The file's options, given or default ("" when neither). */
    char *option_values[MAX_OPTIONS];
    char preload[PATH_MAX];  /* faultline-bind.so; "" when not found */
    /* Client processes closed while alive, per node, for the next open of
     * the same node: the runner opens a client per final-read attempt,
     * and a process costs tens of milliseconds to start. */
    pthread_mutex_t idle_lock;
    struct idle { jsonl_client *c; size_t node; } idle[MAX_IDLE];
    size_t n_idle;
} file_state;

/* The node's placeholder values (pairs, NULL-terminated) in buffers the
 * caller gives. */
typedef struct node_vars {
    char index[24], id[24], n[24], port[16], dir[PATH_MAX],
        data_dir[PATH_MAX + 8], log[PATH_MAX + 8];
    const char *v[2 * (N_BUILTIN + MAX_OPTIONS) + 1];
} node_vars;

static void vars_of(const file_state *s, size_t node, node_vars *nv)
{
    const remote *r = s->db.remote;
    snprintf(nv->index, sizeof nv->index, "%zu", node);
    snprintf(nv->id, sizeof nv->id, "%zu", node + 1);
    snprintf(nv->n, sizeof nv->n, "%zu", remote_count(r));
    snprintf(nv->port, sizeof nv->port, "%d", s->d->client_port);
    snprintf(nv->dir, sizeof nv->dir, "%s/%s", s->db.node_dir,
             remote_name(r, node));
    snprintf(nv->data_dir, sizeof nv->data_dir, "%s/data", nv->dir);
    snprintf(nv->log, sizeof nv->log, "%s/db.log", nv->dir);
    const char *v[] = {"node", remote_name(r, node), "addr",
                       remote_address(r, node), "index", nv->index, "id",
                       nv->id, "n", nv->n, "port", nv->port, "peers",
                       s->peers ? s->peers : "", "dir", nv->dir, "data_dir",
                       nv->data_dir, "log", nv->log, "target_dir",
                       s->d->dir, NULL};
    memcpy(nv->v, v, sizeof v);
    size_t k = sizeof v / sizeof *v - 1;
    for (size_t i = 1; i < s->d->n_options; i++) {
        nv->v[k++] = s->d->options[i].name;
        nv->v[k++] = s->option_values[i - 1];
    }
    nv->v[k] = NULL;
}

static char *expand_for(const file_state *s, size_t node, const char *tmpl)
{
    node_vars nv;
    char bad[64];
    vars_of(s, node, &nv);
    return file_expand(tmpl, nv.v, bad, sizeof bad);
}

/* {peers}: each node's "peer", comma-separated. */
static char *peers_of(const file_state *s)
{
    daemon_text t;
    FILE *f = daemon_text_open(&t);
    if (!f)
        return NULL;
    for (size_t i = 0; i < remote_count(s->db.remote); i++) {
        char *p = expand_for(s, i, s->d->peer);
        fprintf(f, "%s%s", i ? "," : "", p ? p : "");
        free(p);
    }
    return daemon_text_close(&t);
}

/* faultline-bind.so next to this binary, or one level up (build/asan/
 * uses build/'s), as raftkv's build is found. */
static void find_preload(char *out, size_t size)
{
    char self[PATH_MAX / 2];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    out[0] = '\0';
    if (n <= 0)
        return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, size, "%s/faultline-bind.so", self);
    if (access(out, R_OK) == 0)
        return;
    snprintf(out, size, "%s/../faultline-bind.so", self);
    if (access(out, R_OK) != 0)
        out[0] = '\0';
}

static void file_destroy(void *st)
{
    file_state *s = st;
    if (!s)
        return;
    daemon_db_clear(&s->db);
    for (size_t i = 0; i < s->n_idle; i++)
        jsonl_client_free(s->idle[i].c);
    pthread_mutex_destroy(&s->idle_lock);
    desc_free(s->d);
    free(s->peers);
    for (size_t i = 0; i < MAX_OPTIONS; i++)
        free(s->option_values[i]);
    free(s);
    curl_global_cleanup();
}

static int file_start_parts(const void *st, size_t node, daemon_start *out)
{
    const file_state *s = st;
    out->prepare = strdup("mkdir -p data");
    out->command = expand_for(s, node, s->d->start);
    return out->prepare && out->command ? FL_OK : FL_ENOMEM;
}

static int file_create(const target_config *cfg, void **out, fl_error *err)
{
    const file_options *o = cfg->options;
    const char *path = o ? o->file : NULL;
    if (!path)
        return fl_error_set(err, FL_EUSAGE, "target file: no file given");
    file_state *s = calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "target file: out of memory");
    pthread_mutex_init(&s->idle_lock, NULL);
    int rc = desc_load(path, &s->d, err);
    if (rc != FL_OK) {
        pthread_mutex_destroy(&s->idle_lock);
        free(s);
        return rc;
    }
    static const char *const wipe[] = {"data", "db.log", "stdout.log",
                                       "db.pid", NULL};
    s->spec = (daemon_spec){.what = s->d->name, .pid_file = "db.pid",
                            .wipe = wipe, .logs = s->d->logs,
                            .install_hint = "", .by_environ = true};
    rc = daemon_db_init(&s->db, cfg, &s->spec, NULL, file_start_parts, err);
    if (rc != FL_OK) {
        desc_free(s->d);
        pthread_mutex_destroy(&s->idle_lock);
        free(s);
        return rc;
    }
    find_preload(s->preload, sizeof s->preload);
    for (size_t i = 1; i < s->d->n_options; i++) {
        const char *v = o->values[i - 1];
        if (!(s->option_values[i - 1] = strdup(v ? v : ""))) {
            file_destroy(s);
            return fl_error_set(err, FL_ENOMEM, "target file: out of memory");
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        !(s->peers = peers_of(s))) {
        file_destroy(s);
        return fl_error_set(err, FL_ENOMEM, "target file: out of memory");
    }
    if (remote_bind_address(cfg->remote) && !s->preload[0]) {
        file_destroy(s);
        return fl_error_set(err, FL_EIO, "target %s: faultline-bind.so is "
                            "not next to faultline (run `make`): without it "
                            "the client's connections could leave the test "
                            "network", s->d->name);
    }
    *out = s;
    return FL_OK;
}


/* ---- db: the daemon default, with the file's commands where it gives them ---------------- */

/* cmd (a template) run on the node in its directory. */
static int run_on(file_state *s, size_t node, const char *tmpl,
                  int timeout_ms, fl_error *err)
{
    char *x = expand_for(s, node, tmpl), *cmd = NULL;
    if (x && asprintf(&cmd, "mkdir -p %s/%s && cd %s/%s && %s",
                      s->db.node_dir, remote_name(s->db.remote, node),
                      s->db.node_dir, remote_name(s->db.remote, node), x) < 0)
        cmd = NULL;
    free(x);
    return daemon_run(s->db.remote, node, cmd, timeout_ms, s->d->name, err);
}

static int file_install(void *st, size_t node, fl_error *err)
{
    file_state *s = st;
    int rc = daemon_db_install(st, node, err);
    return rc == FL_OK && s->d->install
               ? run_on(s, node, s->d->install, 300000, err) : rc;
}

#define OVERRIDABLE(call, field)                                        \
    static int file_##call(void *st, size_t node, fl_error *err)        \
    {                                                                   \
        file_state *s = st;                                             \
        return s->d->field ? run_on(s, node, s->d->field, 15000, err)   \
                           : daemon_db_##call(st, node, err);           \
    }
OVERRIDABLE(kill, kill)
OVERRIDABLE(pause, pause)
OVERRIDABLE(resume, resume)
OVERRIDABLE(wipe, wipe)

/* A TCP connection to the node's client port, bound to the test network:
 * 1 connected, 0 not (yet), -1 the bind failed (err set). */
static int tcp_probe(const file_state *s, size_t node, fl_error *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)s->d->client_port)};
    if (inet_pton(AF_INET, remote_address(s->db.remote, node),
                  &sa.sin_addr) != 1)
        return fl_error_set(err, FL_EUSAGE, "%s: ready tcp: %s is not an "
                            "IPv4 address", s->d->name,
                            remote_address(s->db.remote, node)), -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (fl_net_bind(fd, remote_bind_address(s->db.remote), err) != FL_OK) {
        close(fd);
        return -1;
    }
    int up = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (!up && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 1;
        socklen_t sl = sizeof soerr;
        up = poll(&p, 1, 1000) == 1 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
             soerr == 0;
    }
    close(fd);
    return up;
}

static int http_probe(const file_state *s, size_t node, fl_error *err)
{
    CURL *h = curl_easy_init();
    if (!h)
        return fl_error_set(err, FL_ENOMEM, "out of memory"), -1;
    char url[512];
    snprintf(url, sizeof url, "http://%s:%d%s",
             remote_address(s->db.remote, node), s->d->client_port,
             s->d->ready_arg);
    http_call call = {.method = "GET", .url = url,
                      .bind = remote_bind_address(s->db.remote),
                      .connect_timeout_ms = 1000, .timeout_ms = 1000};
    http_answer a;
    json_t *body = NULL;
    http_request(h, &call, &a, &body);
    json_decref(body);
    curl_easy_cleanup(h);
    if (a.unbound)
        return fl_error_set(err, FL_EIO, "%s: " TARGET_ERROR_UNBOUND,
                            s->d->name), -1;
    return a.answered && a.status == 200;
}

static int ready_probe(void *st, size_t node, fl_error *err)
{
    file_state *s = st;
    fl_error e = {0};
    switch (s->d->ready) {
    case READY_HTTP: return http_probe(s, node, err);
    case READY_COMMAND: return run_on(s, node, s->d->ready_arg, 5000, &e) ==
                               FL_OK;
    default: return tcp_probe(s, node, err);
    }
}

static int file_await_ready(void *st, size_t node, int timeout_ms,
                            fl_error *err)
{
    file_state *s = st;
    const char *what = s->d->ready == READY_HTTP ? "answered GET with 200"
                     : s->d->ready == READY_COMMAND ? "passed its ready command"
                     : "accepted a connection on its client port";
    char not_ready[128];
    snprintf(not_ready, sizeof not_ready, "never %s", what);
    return daemon_db_await(&s->db, node, timeout_ms, ready_probe, st,
                           not_ready, err);
}

/* The first node whose leader command exits 0. */
static long file_leader(void *st)
{
    file_state *s = st;
    for (size_t i = 0; s->d->leader && i < remote_count(s->db.remote); i++) {
        fl_error e = {0};
        if (run_on(s, i, s->d->leader, 5000, &e) == FL_OK)
            return (long)i;
    }
    return -1;
}

/* ---- client ------------------------------------------------------------------------------ */

/* A client: its process and the node it talks to. */
typedef struct file_client {
    file_state *s;
    size_t node;
    jsonl_client *jc;
} file_client;

/* An idle process of node's, or NULL. */
static jsonl_client *take_idle(file_state *s, size_t node)
{
    jsonl_client *c = NULL;
    pthread_mutex_lock(&s->idle_lock);
    for (size_t i = s->n_idle; i-- > 0 && !c;)
        if (s->idle[i].node == node) {
            c = s->idle[i].c;
            s->idle[i] = s->idle[--s->n_idle];
        }
    pthread_mutex_unlock(&s->idle_lock);
    return c;
}

static int start_client(file_state *s, size_t node, jsonl_client **out,
                        fl_error *err)
{
    const remote *r = s->db.remote;
    json_t *nodes = json_array();
    for (size_t i = 0; nodes && i < remote_count(r); i++)
        json_array_append_new(nodes, json_pack("{s:s,s:s}", "name",
                                               remote_name(r, i), "addr",
                                               remote_address(r, i)));
    json_t *options = s->d->client_options
                          ? json_incref((json_t *)s->d->client_options)
                          : json_object();
    json_t *hello = json_pack("{s:s,s:I,s:s,s:i,s:o,s:o}", "node",
                              remote_name(r, node), "index",
                              (json_int_t)node, "addr",
                              remote_address(r, node), "port",
                              s->d->client_port, "nodes", nodes, "options",
                              options);
    char *cmd = expand_for(s, node, s->d->client_command);
    char who[128];
    snprintf(who, sizeof who, "%s client for %s", s->d->name,
             remote_name(r, node));
    int rc;
    if (!hello || !cmd) {
        rc = fl_error_set(err, FL_ENOMEM, "%s: out of memory", who);
    } else {
        jsonl_client_spec spec = {.command = cmd, .cwd = s->d->dir,
                                  .who = who,
                                  .bind_address = remote_bind_address(r),
                                  .preload = s->preload, .hello = hello,
                                  .timeout_ms = s->d->timeout_ms};
        rc = jsonl_client_start(&spec, out, err);
    }
    json_decref(hello);
    free(cmd);
    return rc;
}

static int file_client_open(void *st, size_t node, void **out, fl_error *err)
{
    file_state *s = st;
    file_client *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "%s client: out of memory",
                            s->d->name);
    *c = (file_client){.s = s, .node = node, .jc = take_idle(s, node)};
    int rc = c->jc ? FL_OK : start_client(s, node, &c->jc, err);
    if (rc != FL_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return FL_OK;
}

static void file_client_invoke(void *cl, const target_op *op,
                               target_result *out)
{
    file_client *c = cl;
    jsonl_client_invoke(c->jc, op, out);
}

/* Kept for the node's next open while it lives and there is room. */
static void file_client_close(void *cl)
{
    file_client *c = cl;
    if (!c)
        return;
    file_state *s = c->s;
    bool kept = false;
    if (jsonl_client_alive(c->jc)) {
        pthread_mutex_lock(&s->idle_lock);
        if (s->n_idle < MAX_IDLE) {
            s->idle[s->n_idle++] = (struct idle){c->jc, c->node};
            kept = true;
        }
        pthread_mutex_unlock(&s->idle_lock);
    }
    if (!kept)
        jsonl_client_free(c->jc);
    free(c);
}

/* ---- the vtable ---------------------------------------------------------------------------- */

static const target_vtable file_base = {
    .create = file_create,
    .destroy = file_destroy,
    .start = daemon_db_start,
    .collect_logs = daemon_db_collect_logs,
    .rest_cmd = daemon_db_rest_cmd,
    .install = file_install,
    .kill = file_kill,
    .pause = file_pause,
    .resume = file_resume,
    .wipe = file_wipe,
    .await_ready = file_await_ready,
    .leader = file_leader,
    .client_open = file_client_open,
    .client_invoke = file_client_invoke,
    .client_close = file_client_close,
};

/* What file_target_load hands out: the vtable first. */
typedef struct file_vtable {
    target_vtable vt;
    file_desc *d;
} file_vtable;

int file_target_load(const char *path, target_vtable **out, fl_error *err)
{
    *out = NULL;
    file_vtable *fv = calloc(1, sizeof *fv);
    if (!fv)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = desc_load(path, &fv->d, err);
    if (rc != FL_OK) {
        free(fv);
        return rc;
    }
    fv->vt = file_base;
    fv->vt.name = fv->d->name;
    fv->vt.operations = fv->d->operations;
    if (!fv->d->leader)
        fv->vt.leader = NULL;
    fv->d->options[0].default_value = fv->d->path;
    fv->vt.options = fv->d->options;
    fv->vt.options_size = sizeof(file_options);
    fv->vt.crash_patterns = (const char *const *)fv->d->crash_patterns;
    *out = &fv->vt;
    return FL_OK;
}

void file_target_free(target_vtable *vt)
{
    file_vtable *fv = (file_vtable *)vt;
    if (!fv)
        return;
    desc_free(fv->d);
    free(fv);
}

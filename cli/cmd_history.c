/*
 * faultline history convert|stats|generate — move histories between
 * faultline's JSON Lines and Jepsen's EDN, summarise them, and generate
 * linearizable ones for benchmarks (workloads/histgen.h).
 */
#include "cli/cli.h"
#include "history/history.h"
#include "workloads/histgen.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *out, int code)
{
    fprintf(out,
            "usage: faultline history convert [--keys auto|yes|no] IN OUT\n"
            "       faultline history stats [--json] FILE\n"
            "       faultline history generate [--ops N] [--keys K]\n"
            "               [--processes P] [--info-rate R] [--seed S] OUT\n"
            "\n"
            "convert  reads IN and writes OUT; the format of each comes from\n"
            "         its extension: .jsonl (faultline) or .edn (Jepsen).\n"
            "         --keys: whether EDN [k v] values are independent keys\n"
            "         (default auto: yes when every client value is a pair).\n"
            "stats    counts operations by f, type and process, and the time\n"
            "         span.\n"
            "generate writes a linearizable history of cas-registers (values\n"
            "         unique per key; an info op's process continues as a new\n"
            "         one) to OUT (.jsonl or .edn): the benchmarks' histories.\n"
            "         Defaults: 10000 ops, 1 key, 5 processes, info rate 0.15,\n"
            "         seed 1. The same options give the same history.\n");
    return code;
}

static int report(const fl_error *err)
{
    fprintf(stderr, "faultline: %s\n", err->msg);
    return err->code;
}

int cli_read_history(const char *path, history_edn_keys keys, history **out,
                     fl_error *err)
{
    history_format fmt = history_format_of_path(path);
    if (fmt == HISTORY_FORMAT_JSONL)
        return history_read_file(path, fmt, out, err);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fl_error_set(err, FL_ENOINPUT, "%s: cannot open: %s", path,
                            strerror(errno));
    int rc = FL_OK;
    if (fmt == HISTORY_FORMAT_UNKNOWN) { /* /dev/null, a device: look */
        fmt = history_format_sniff(f);
        if (fmt == HISTORY_FORMAT_UNKNOWN)
            rc = fl_error_set(err, FL_EIO, "%s: read error: %s", path,
                              strerror(errno));
        else if (fseek(f, 0, SEEK_SET) != 0)
            rc = fl_error_set(err, FL_EUSAGE, "%s: cannot tell the format "
                              "from the name, nor read it twice; use a .jsonl "
                              "or .edn extension", path);
    }
    if (rc == FL_OK)
        rc = fmt == HISTORY_FORMAT_EDN ? history_read_edn(f, path, keys, out, err)
                                       : history_read_jsonl(f, path, out, err);
    fclose(f);
    return rc;
}

void cli_print_warnings(const history *h, FILE *out)
{
    for (size_t i = 0; i < history_warning_count(h); i++)
        fprintf(out, "faultline: warning: %s\n", history_warning(h, i));
}

static int convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    history_edn_keys keys = HISTORY_EDN_KEYS_AUTO;
    int c;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout, 0);
        if (c != 'k')
            return usage(stderr, FL_EUSAGE);
        if (strcmp(optarg, "auto") == 0)
            keys = HISTORY_EDN_KEYS_AUTO;
        else if (strcmp(optarg, "yes") == 0)
            keys = HISTORY_EDN_KEYS_YES;
        else if (strcmp(optarg, "no") == 0)
            keys = HISTORY_EDN_KEYS_NO;
        else
            return usage(stderr, FL_EUSAGE);
    }
    if (argc - optind != 2)
        return usage(stderr, FL_EUSAGE);
    const char *in = argv[optind], *out = argv[optind + 1];
    fl_error err = {0};
    if (history_format_of_path(in) == HISTORY_FORMAT_UNKNOWN ||
        history_format_of_path(out) == HISTORY_FORMAT_UNKNOWN) {
        fprintf(stderr, "faultline: history convert: IN and OUT must end in "
                        ".jsonl or .edn\n");
        return FL_EUSAGE;
    }
    history *h = NULL;
    if (cli_read_history(in, keys, &h, &err) != FL_OK)
        return report(&err);
    cli_print_warnings(h, stderr);
    int rc = history_write_file(h, out, HISTORY_FORMAT_UNKNOWN, &err);
    history_free(h);
    return rc == FL_OK ? 0 : report(&err);
}

/* ---- stats ---------------------------------------------------------------- */

typedef struct counts {
    long by_type[4];
} counts;

static json_t *type_counts_json(const counts *c)
{
    json_t *o = json_object();
    for (int t = 0; t < 4; t++)
        json_object_set_new(o, history_type_name((history_type)t),
                            json_integer(c->by_type[t]));
    return o;
}

static void add_process(json_t *by_process, const history_event *e)
{
    char name[32];
    if (e->process == HISTORY_NEMESIS)
        snprintf(name, sizeof name, "nemesis");
    else
        snprintf(name, sizeof name, "%lld", (long long)e->process);
    json_t *n = json_object_get(by_process, name);
    json_object_set_new(by_process, name,
                        json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* Everything `stats` reports, as JSON (printed as text or as is). */
static json_t *stats_json(const history *h)
{
    size_t nf = history_name_count(h);
    counts *by_f = calloc(nf ? nf : 1, sizeof *by_f);
    bool *key_seen = calloc(history_value_count(h) + 1, sizeof *key_seen);
    json_t *by_process = json_object();
    long keys = 0, nemesis = 0;
    int64_t tmin = INT64_MAX, tmax = -1;
    const history_event *ev = history_events(h);
    for (size_t i = 0; i < history_len(h); i++) {
        const history_event *e = &ev[i];
        add_process(by_process, e);
        if (e->process == HISTORY_NEMESIS)
            nemesis++;
        else
            by_f[e->f].by_type[e->type]++;
        if (e->key != HISTORY_NONE && !key_seen[e->key]) {
            key_seen[e->key] = true;
            keys++;
        }
        if (e->time != HISTORY_NO_TIME) {
            tmin = e->time < tmin ? e->time : tmin;
            tmax = e->time > tmax ? e->time : tmax;
        }
    }
    json_t *fs = json_object();
    for (size_t f = 0; f < nf; f++) {
        counts *c = &by_f[f];
        if (c->by_type[0] + c->by_type[1] + c->by_type[2] + c->by_type[3])
            json_object_set_new(fs, history_name(h, (uint32_t)f),
                                type_counts_json(c));
    }
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}",
                          "events", (json_int_t)history_len(h),
                          "unfinished", (json_int_t)history_pending(h),
                          "keys", (json_int_t)keys,
                          "nemesis_events", (json_int_t)nemesis,
                          "by_f", fs, "by_process", by_process);
    if (tmax >= 0)
        json_object_set_new(o, "time_span_ns", json_integer(tmax - tmin));
    free(by_f);
    free(key_seen);
    return o;
}

static void print_stats_text(const json_t *s, const char *path)
{
    printf("%s: %lld events, %lld unfinished invocations, %lld keys, "
           "%lld nemesis events\n",
           path, (long long)json_integer_value(json_object_get(s, "events")),
           (long long)json_integer_value(json_object_get(s, "unfinished")),
           (long long)json_integer_value(json_object_get(s, "keys")),
           (long long)json_integer_value(json_object_get(s, "nemesis_events")));
    const json_t *span = json_object_get(s, "time_span_ns");
    if (span)
        printf("time span: %.3f s\n", json_integer_value(span) / 1e9);
    else
        printf("time span: unknown (no times recorded)\n");
    printf("%-16s %8s %8s %8s %8s\n", "f", "invoke", "ok", "fail", "info");
    const char *f;
    json_t *c;
    json_object_foreach((json_t *)json_object_get(s, "by_f"), f, c) {
        printf("%-16s", f);
        for (int t = 0; t < 4; t++)
            printf(" %8lld", (long long)json_integer_value(json_object_get(
                                 c, history_type_name((history_type)t))));
        printf("\n");
    }
    printf("events by process:");
    const char *p;
    json_object_foreach((json_t *)json_object_get(s, "by_process"), p, c)
        printf(" %s=%lld", p, (long long)json_integer_value(c));
    printf("\n");
}

static int stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool as_json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout, 0);
        if (c != 'j')
            return usage(stderr, FL_EUSAGE);
        as_json = true;
    }
    if (argc - optind != 1)
        return usage(stderr, FL_EUSAGE);
    fl_error err = {0};
    history *h = NULL;
    if (history_read_file(argv[optind], HISTORY_FORMAT_UNKNOWN, &h, &err) != FL_OK)
        return report(&err);
    cli_print_warnings(h, stderr);
    json_t *s = stats_json(h);
    if (as_json) {
        json_dumpf(s, stdout, JSON_INDENT(2));
        printf("\n");
    } else {
        print_stats_text(s, argv[optind]);
    }
    json_decref(s);
    history_free(h);
    return 0;
}

/* ---- generate ------------------------------------------------------------- */

/* A whole number >= min from text, or -1. */
static long long number(const char *text, long long min)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    return errno || *end || end == text || v < min ? -1 : v;
}

static int generate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ops", required_argument, NULL, 'o'},
        {"keys", required_argument, NULL, 'k'},
        {"processes", required_argument, NULL, 'p'},
        {"info-rate", required_argument, NULL, 'i'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    histgen_options g = {.ops = 10000, .keys = 1, .processes = 5,
                         .info_rate = 0.15, .seed = 1};
    int c;
    long long v;
    char *end;
    while ((c = getopt_long(argc, argv, "o:k:p:i:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': return usage(stdout, 0);
        case 'o': if ((v = number(optarg, 0)) < 0) goto bad; g.ops = (size_t)v; break;
        case 'k': if ((v = number(optarg, 1)) < 0) goto bad; g.keys = (size_t)v; break;
        case 'p': if ((v = number(optarg, 1)) < 0) goto bad; g.processes = (size_t)v; break;
        case 's': if ((v = number(optarg, 0)) < 0) goto bad; g.seed = (uint64_t)v; break;
        case 'i':
            g.info_rate = strtod(optarg, &end);
            if (*end || end == optarg || g.info_rate < 0 || g.info_rate > 1)
                goto bad;
            break;
        default: return usage(stderr, FL_EUSAGE);
        }
    }
    if (argc - optind != 1 ||
        history_format_of_path(argv[optind]) == HISTORY_FORMAT_UNKNOWN) {
        fprintf(stderr, "faultline: history generate: give one OUT ending in "
                        ".jsonl or .edn\n");
        return FL_EUSAGE;
    }
    fl_error err = {0};
    history *h = NULL;
    if (histgen_generate(&g, &h, &err) != FL_OK)
        return report(&err);
    int rc = history_write_file(h, argv[optind], HISTORY_FORMAT_UNKNOWN, &err);
    history_free(h);
    return rc == FL_OK ? 0 : report(&err);
bad:
    for (const struct option *o = opts; o->name; o++)
        if (o->val == c)
            fprintf(stderr, "faultline: history generate: bad value \"%s\" "
                            "for --%s\n", optarg, o->name);
    return FL_EUSAGE;
}

int cmd_history(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, FL_EUSAGE);
    const char *sub = argv[1];
    if (strcmp(sub, "convert") == 0)
        return convert(argc - 1, argv + 1);
    if (strcmp(sub, "stats") == 0)
        return stats(argc - 1, argv + 1);
    if (strcmp(sub, "generate") == 0)
        return generate(argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
        return usage(stdout, 0);
    fprintf(stderr, "faultline history: unknown subcommand \"%s\"\n", sub);
    return usage(stderr, FL_EUSAGE);
}

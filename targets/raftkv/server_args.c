/* server_args: raftkv's command line (see server.h, server_usage). */
#include "targets/raftkv/server.h"
#include "base/alloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char *server_usage(void)
{
    return "usage: raftkv --id N --listen ADDR:PORT "
           "--peers 1=ADDR:PORT,2=ADDR:PORT,... --data-dir DIR\n"
           "              [--client-addr ADDR] [--client-port P] [--log FILE]\n"
           "              [--bug stale-read|early-ack|volatile-vote|txn-split|\n"
           "                     lease-read|no-fsync]...\n"
           "              [--snapshot-every N] [--tick-ms MS] "
           "[--election-ticks N]\n"
           "              [--request-timeout-ms MS]\n"
           "  ADDR is an IPv4 address. The client (HTTP) API listens on\n"
           "  --client-addr (default: the --listen address) and --client-port\n"
           "  (default: listen port + 1000); every node must use the same\n"
           "  offset so leader hints point at the right port.\n";
}

static int parse_u32(const char *flag, const char *s, uint32_t lo, uint32_t hi,
                     uint32_t *out, fl_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || *s == '-' || v < lo || v > hi)
        return fl_error_set(err, FL_EUSAGE, "%s: \"%s\" is not an integer in "
                            "%u..%u", flag, s, lo, hi);
    *out = (uint32_t)v;
    return FL_OK;
}

/* "1=A:P,2=A:P,..." — ids must be exactly 1..n, each once. */
static int parse_peers(const char *s, server_config *cfg, fl_error *err)
{
    char *copy = fl_strdup(s), *save = NULL;
    bool seen[RAFT_MAX_NODES + 1] = {false};
    uint32_t max = 0, count = 0;
    int rc = copy ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !rc;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        uint32_t id;
        if (!eq)
            rc = fl_error_set(err, FL_EUSAGE, "--peers: \"%s\" is not "
                              "ID=ADDR:PORT", tok);
        else if (!(*eq = '\0') &&
                 !(rc = parse_u32("--peers id", tok, 1, RAFT_MAX_NODES, &id,
                                  err))) {
            if (seen[id])
                rc = fl_error_set(err, FL_EUSAGE, "--peers: id %u twice", id);
            else if (!(rc = transport_parse_addr(eq + 1, &cfg->peers[id], err))) {
                seen[id] = true;
                count++;
                max = id > max ? id : max;
            }
        }
    }
    fl_free(copy);
    if (!rc && (count == 0 || max != count))
        rc = fl_error_set(err, FL_EUSAGE, "--peers: ids must be 1..N with "
                          "none missing (got %u ids, highest %u)", count, max);
    if (rc)
        return fl_error_wrap(err, "--peers");
    cfg->n_nodes = count;
    return FL_OK;
}

static int parse_bug(const char *s, server_config *cfg, fl_error *err)
{
    if (!strcmp(s, "stale-read"))
        cfg->bugs |= SERVER_BUG_STALE_READ;
    else if (!strcmp(s, "early-ack"))
        cfg->bugs |= SERVER_BUG_EARLY_ACK;
    else if (!strcmp(s, "lease-read"))
        cfg->bugs |= SERVER_BUG_LEASE_READ;
    else if (!strcmp(s, "volatile-vote"))
        cfg->bugs |= SERVER_BUG_VOLATILE_VOTE;
    else if (!strcmp(s, "txn-split"))
        cfg->bugs |= SERVER_BUG_TXN_SPLIT;
    else if (!strcmp(s, "no-fsync"))
        cfg->bugs |= SERVER_BUG_NO_FSYNC;
    else
        return fl_error_set(err, FL_EUSAGE, "--bug: unknown bug \"%s\" "
                            "(stale-read, early-ack, volatile-vote, txn-split, "
                            "lease-read, no-fsync)", s);
    return FL_OK;
}

static int copy_path(const char *flag, const char *s, char *dst, fl_error *err)
{
    if (!*s || strlen(s) >= PATH_MAX)
        return fl_error_set(err, FL_EUSAGE, "%s: path empty or too long", flag);
    strcpy(dst, s);
    return FL_OK;
}

static void defaults(server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->tick_ms = 10;
    cfg->election_ticks = 30;
    cfg->heartbeat_ticks = 3;
    cfg->request_timeout_ms = 2000;
    cfg->snapshot_every = 1000;
}

/* Checks across flags once all are read. */
static int finish(server_config *cfg, const char *listen, const char *caddr,
                  uint32_t cport, fl_error *err)
{
    transport_addr l;
    int rc;
    if (!cfg->id || !listen || !cfg->n_nodes || !cfg->data_dir[0])
        return fl_error_set(err, FL_EUSAGE, "--id, --listen, --peers and "
                            "--data-dir are required");
    if ((rc = transport_parse_addr(listen, &l, err)))
        return fl_error_wrap(err, "--listen");
    if (cfg->id > cfg->n_nodes)
        return fl_error_set(err, FL_EUSAGE, "--id %u is not in --peers (1..%u)",
                            cfg->id, cfg->n_nodes);
    const transport_addr *me = &cfg->peers[cfg->id];
    if (strcmp(me->host, l.host) || me->port != l.port)
        return fl_error_set(err, FL_EUSAGE, "--listen %s:%u differs from "
                            "--peers entry %u=%s:%u", l.host, l.port, cfg->id,
                            me->host, me->port);
    if (!cport && l.port + SERVER_DEFAULT_CLIENT_OFFSET > 65535)
        return fl_error_set(err, FL_EUSAGE, "listen port %u + 1000 is not a "
                            "port: give --client-port", l.port);
    char buf[96];
    snprintf(buf, sizeof buf, "%s:%u", caddr ? caddr : l.host,
             cport ? cport : (uint32_t)l.port + SERVER_DEFAULT_CLIENT_OFFSET);
    if ((rc = transport_parse_addr(buf, &cfg->client, err)))
        return fl_error_wrap(err, "--client-addr");
    if (cfg->heartbeat_ticks >= cfg->election_ticks)
        cfg->heartbeat_ticks = cfg->election_ticks / 3 ? cfg->election_ticks / 3 : 1;
    return FL_OK;
}

int server_parse_args(int argc, char **argv, server_config *cfg,
                      fl_error *err)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"listen", required_argument, NULL, 'l'},
        {"peers", required_argument, NULL, 'p'},
        {"data-dir", required_argument, NULL, 'd'},
        {"client-port", required_argument, NULL, 'c'},
        {"client-addr", required_argument, NULL, 'a'},
        {"log", required_argument, NULL, 'L'},
        {"bug", required_argument, NULL, 'b'},
        {"snapshot-every", required_argument, NULL, 's'},
        {"tick-ms", required_argument, NULL, 't'},
        {"election-ticks", required_argument, NULL, 'e'},
        {"request-timeout-ms", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL, *caddr = NULL;
    uint32_t cport = 0;
    int c, rc = FL_OK;
    defaults(cfg);
    opterr = 0;
    optind = 0; /* glibc: full re-initialisation, so tests may call again */
    while (!rc && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'i': rc = parse_u32("--id", optarg, 1, RAFT_MAX_NODES, &cfg->id, err); break;
        case 'l': listen = optarg; break;
        case 'p': rc = parse_peers(optarg, cfg, err); break;
        case 'd': rc = copy_path("--data-dir", optarg, cfg->data_dir, err); break;
        case 'c': rc = parse_u32("--client-port", optarg, 1, 65535, &cport, err); break;
        case 'a': caddr = optarg; break;
        case 'L': rc = copy_path("--log", optarg, cfg->log_path, err); break;
        case 'b': rc = parse_bug(optarg, cfg, err); break;
        case 's': rc = parse_u32("--snapshot-every", optarg, 1, 1u << 30, &cfg->snapshot_every, err); break;
        case 't': rc = parse_u32("--tick-ms", optarg, 1, 1000, &cfg->tick_ms, err); break;
        case 'e': rc = parse_u32("--election-ticks", optarg, 2, 10000, &cfg->election_ticks, err); break;
        case 'r': rc = parse_u32("--request-timeout-ms", optarg, 1, 600000, &cfg->request_timeout_ms, err); break;
        case 'h': cfg->help = true; return FL_OK;
        case ':': rc = fl_error_set(err, FL_EUSAGE, "%s needs a value", argv[optind - 1]); break;
        default: rc = fl_error_set(err, FL_EUSAGE, "unknown option \"%s\"", argv[optind - 1]); break;
        }
    }
    if (!rc && optind < argc)
        rc = fl_error_set(err, FL_EUSAGE, "unexpected argument \"%s\"", argv[optind]);
    return rc ? rc : finish(cfg, listen, caddr, cport, err);
}

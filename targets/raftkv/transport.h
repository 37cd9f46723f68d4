/*
 * transport: raftkv's peer-to-peer links over TCP, run by one background
 * thread so the Raft thread never blocks on the network.
 *
 * Each node listens on its own peer address. Outgoing connections bind() to
 * that same address (port chosen by the kernel) before connecting, so a
 * per-address firewall rule cuts both directions of a partition. Frames are
 * raft_msg_encode() output, written back to back; the receiver needs no
 * knowledge of who is connecting (every message names its sender).
 *
 * Sending never blocks: each peer has a bounded queue and a frame that does
 * not fit is dropped (Raft tolerates loss). A lost connection drops its
 * queue and is re-established with exponential backoff (50 ms .. 1 s); a
 * connect or a write that makes no progress for TRANSPORT_STALL_MS is
 * abandoned the same way, so a healed partition recovers quickly.
 *
 * Addresses are IPv4 literals ("127.0.0.11:7000").
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/fl_error.h"
#include "targets/raftkv/raft.h"

#define TRANSPORT_QUEUE_MAX 1024   /* frames per peer */
#define TRANSPORT_STALL_MS 2000

typedef struct transport_addr {
    char host[64]; /* IPv4 literal */
    uint16_t port;
} transport_addr;

/* Parse "A.B.C.D:PORT". Errors: FL_EUSAGE with the reason. */
int transport_parse_addr(const char *s, transport_addr *out, fl_error *err);

typedef struct transport_config {
    raft_id self;
    uint32_t n_nodes;
    transport_addr addrs[RAFT_MAX_NODES + 1]; /* [1..n_nodes], incl. self */
    int notify_fd; /* borrowed eventfd: +1 written when frames arrive */
} transport_config;

/* One received frame (length prefix included), malloc'd. */
typedef struct transport_frame {
    struct transport_frame *next;
    size_t len;
    uint8_t data[];
} transport_frame;

typedef struct transport transport;

/* Bind the listening socket and start the thread. On success *out is owned
 * by the caller (transport_stop). Errors: FL_EUSAGE (bad config), FL_EIO
 * (socket/bind/listen failed, e.g. address in use), FL_ENOMEM. */
int transport_start(const transport_config *cfg, transport **out,
                    fl_error *err);

/* Queue a frame for peer `to`; takes ownership of frame (malloc'd) in every
 * case. Returns 0 if queued, -1 if dropped (unknown peer or queue full). */
int transport_send(transport *t, raft_id to, uint8_t *frame, size_t len);

/* Take every frame received so far, oldest first (NULL if none). The caller
 * frees each with free(). */
transport_frame *transport_recv(transport *t);

/* Stop the thread, close sockets, free everything. t may be NULL. */
void transport_stop(transport *t);

#endif

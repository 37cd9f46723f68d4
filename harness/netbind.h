/*
 * netbind: keep the controller's traffic on the test network. A socket
 * bound to a source address that only the test network's interface has
 * (the local cluster's bridge address) can only leave through that
 * interface, and when the interface is gone the bind fails — before
 * connect(), so not one packet goes anywhere else.
 *
 * Every connection to a local cluster's node (SSH, clients, status
 * probes) goes through fl_net_bind(); a NULL source means "no binding"
 * (remote nodes reached through the machine's normal routing).
 */
#ifndef FL_NETBIND_H
#define FL_NETBIND_H

#include <stdbool.h>

#include "base/fl_error.h"

enum {
    /* The source address is not on this machine (or the bind failed):
     * nothing was sent. */
    FL_NET_EUNBOUND = 69,
};

/* Whether `address` (an IPv4 or IPv6 literal) is assigned to an interface
 * of this machine right now (or, for IPv4 loopback, within lo's prefix:
 * 127.0.0.2 is as local as 127.0.0.1). */
bool fl_net_is_local(const char *address);

/*
 * Bind the socket fd (not yet connected) to `source`, an IP literal, port
 * 0 (any). NULL or "" source: nothing to do, FL_OK. The address must be
 * one of this machine's: checked first, so that a system with
 * ip_nonlocal_bind (which would let the bind succeed and send packets
 * with a foreign source through another interface) is refused too.
 * Errors: FL_EUSAGE (not an IP literal, or of the other family than fd),
 * FL_NET_EUNBOUND (not on this machine: the message says which address
 * and that the test network's interface seems gone; or bind
 * failed otherwise).
 */
int fl_net_bind(int fd, const char *source, fl_error *err);

#endif

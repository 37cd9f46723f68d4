/*
 * netbind: bind sockets to the test network's source address before they
 * connect. See netbind.h.
 */
#include "harness/netbind.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>


typedef union sockaddr_any {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} sockaddr_any;

static int parse(const char *address, sockaddr_any *out, socklen_t *len)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, address, &out->in.sin_addr) == 1) {
        out->in.sin_family = AF_INET;
        *len = sizeof out->in;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, address, &out->in6.sin6_addr) == 1) {
        out->in6.sin6_family = AF_INET6;
        *len = sizeof out->in6;
        return AF_INET6;
    }
    return -1;
}

static bool same_address(const struct sockaddr *a, const sockaddr_any *b)
{
    if (a == NULL || a->sa_family != b->sa.sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
                      &b->in.sin_addr, sizeof b->in.sin_addr) == 0;
    return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                  &b->in6.sin6_addr, sizeof b->in6.sin6_addr) == 0;
}

/* Linux answers the whole prefix of an IPv4 loopback address (127/8)
 * locally, not only the address itself. */
static bool in_loopback_prefix(const struct ifaddrs *i, const sockaddr_any *want)
{
    if (!(i->ifa_flags & IFF_LOOPBACK) || i->ifa_addr == NULL ||
        i->ifa_netmask == NULL || i->ifa_addr->sa_family != AF_INET ||
        want->sa.sa_family != AF_INET)
        return false;
    uint32_t a = ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr;
    uint32_t m = ((const struct sockaddr_in *)(const void *)i->ifa_netmask)->sin_addr.s_addr;
    return (a & m) == (want->in.sin_addr.s_addr & m);
}

static bool is_local(const sockaddr_any *want)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return false;
    bool found = false;
    for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next)
        found = same_address(i->ifa_addr, want) || in_loopback_prefix(i, want);
    freeifaddrs(ifs);
    return found;
}

bool fl_net_is_local(const char *address)
{
    sockaddr_any sa;
    socklen_t len;
    return address && parse(address, &sa, &len) > 0 && is_local(&sa);
}

/* netbind knows no cluster (harness/cluster.h includes it): the message
 * names the interface only by its role. */
static int not_here(const char *source, fl_error *err)
{
    return fl_error_set(err, FL_NET_EUNBOUND,
                        "source address %s is not on this machine: is the "
                        "test network's interface (a local cluster's "
                        "bridge) gone?; nothing was sent", source);
}

int fl_net_bind(int fd, const char *source, fl_error *err)
{
    if (source == NULL || *source == '\0')
        return FL_OK;
    sockaddr_any sa;
    socklen_t len;
    int family = parse(source, &sa, &len);
    if (family < 0)
        return fl_error_set(err, FL_EUSAGE, "source address \"%.64s\" is "
                            "not an IP address", source);
    int domain = 0;
    socklen_t dlen = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0)
        return fl_error_set(err, FL_NET_EUNBOUND, "source address %s: %s",
                            source, strerror(errno));
    if (domain != family)
        return fl_error_set(err, FL_EUSAGE, "source address %s is IPv%d, "
                            "the destination is not", source,
                            family == AF_INET ? 4 : 6);
    if (!is_local(&sa))
        return not_here(source, err);
    if (bind(fd, &sa.sa, len) != 0) {
        if (errno == EADDRNOTAVAIL)
            return not_here(source, err);
        return fl_error_set(err, FL_NET_EUNBOUND, "cannot bind to source "
                            "address %s: %s; nothing was sent", source,
                            strerror(errno));
    }
    return FL_OK;
}

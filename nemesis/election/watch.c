/* The election agent's pure core. See watch.h. */
#include "nemesis/election/watch.h"

#include <stdlib.h>
#include <string.h>

/* The first occurrence of needle in the len bytes at hay, or NULL. */
static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* Skip spaces and a ':' after a key, within end. */
static const char *after_colon(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != ':')
        return NULL;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p < end ? p : NULL;
}

bool watch_parse_status(const char *resp, size_t len, long long *term,
                        watch_role *role)
{
    const char *end = resp + len;
    if (len < 12 || memcmp(resp, "HTTP/1.", 7) != 0 ||
        memcmp(resp + 8, " 200", 4) != 0)
        return false;
    const char *body = find(resp, len, "\r\n\r\n");
    if (!body)
        return false;
    size_t blen = (size_t)(end - body);
    const char *t = find(body, blen, "\"term\"");
    const char *r = find(body, blen, "\"role\"");
    if (!t || !r || !(t = after_colon(t + 6, end)) ||
        !(r = after_colon(r + 6, end)) || *r != '"')
        return false;
    long long v = 0;
    const char *d = t;
    for (; d < end && *d >= '0' && *d <= '9'; d++)
        v = v * 10 + (*d - '0');
    if (d == t)
        return false;
    r++;
    size_t rl = (size_t)(end - r);
    watch_role w = WATCH_CANDIDATE;
    if (rl >= 7 && memcmp(r, "leader\"", 7) == 0)
        w = WATCH_LEADER;
    else if (rl >= 9 && memcmp(r, "follower\"", 9) == 0)
        w = WATCH_FOLLOWER;
    *term = v;
    *role = w;
    return true;
}

void watch_init(watch_state *w, double now, double period_s, double pct)
{
    w->seen = -1;
    w->period_s = period_s;
    (void)now;
    w->leader_since = -1;
    w->chance_bp = pct <= 0 ? 0 : pct >= 100 ? 10000 : (uint32_t)(pct * 100);
}

bool watch_step(watch_state *w, double now, long long term, watch_role role,
                uint32_t draw, bool *as_leader)
{
    bool voter = w->seen >= 0 && term > w->seen && role == WATCH_FOLLOWER &&
                 draw < w->chance_bp;
    if (role != WATCH_LEADER)
        w->leader_since = -1;
    else if (w->leader_since < 0 || term > w->seen)
        w->leader_since = now;
    bool leader = role == WATCH_LEADER && now - w->leader_since >= w->period_s;
    if (term > w->seen)
        w->seen = term;
    if (leader)
        w->leader_since = -1;
    *as_leader = leader;
    return voter || leader;
}

/*
 * html_internal: what report/html.c and report/html_run.c share — the
 * history as a table of operations on a tick axis.
 * Not for other layers.
 */
#ifndef FL_REPORT_HTML_INTERNAL_H
#define FL_REPORT_HTML_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "checkers/panel.h" /* the HTML escapers */
#include "history/history.h"

enum { HTML_OK, HTML_FAIL, HTML_INFO };

/* One client operation: invocation to completion, in ticks. */
typedef struct html_op {
    int64_t start, end;  /* end: -1 when it never completed */
    uint32_t f, key;     /* the history's ids */
    uint32_t lane;       /* the client thread (html_run.lanes) */
    uint8_t type;        /* HTML_OK, HTML_FAIL, HTML_INFO */
} html_op;

/* A nemesis period: from a fault's beginning to its end (or the end of
 * the history), label its f and what it did. Faults of different kinds
 * overlap (nemesis/fault.h composes them), so each kind (each beginning
 * f; every crash shares one) has a row of its own, numbered in order of
 * first appearance: the report draws a row's bands in its colour and its
 * labels on its line, so overlapping bands stay apart. */
typedef struct html_period {
    int64_t start, end;
    char label[96];
    uint32_t row;
    bool closing;        /* its end's invocation closed it: the end's
                            completion, next, moves the close */
} html_period;

/*
 * The history laid out for drawing. A tick is a microsecond since the
 * first event when every event has a time, else an event's position
 * (converted and generated histories have no times). Processes become
 * lanes: a process that ended info never issues again, so its thread's
 * next process takes the same lane and a lane is a client thread.
 * Owned by whoever called html_run_build (html_run_free).
 */
typedef struct html_run {
    const history *h;     /* borrowed */
    bool timed;           /* ticks are microseconds */
    int64_t t0;           /* ns of the first event (timed) */
    int64_t span;         /* ticks from the first event to the last */
    html_op *ops;         /* in invocation order */
    size_t n;
    uint32_t *op_at;      /* event position -> op index, or UINT32_MAX */
    size_t nlanes;
    int64_t *lane_proc;   /* each lane's first process */
    uint32_t *lane_procs; /* how many processes each lane carried */
    html_period *periods;
    size_t nperiods;
    const json_t *fault_kinds; /* test.json's, borrowed; NULL: none */
} html_run;

/* fault_kinds: the run's test.json "fault_kinds" ([{"begin_f", "end_f"}],
 * written from the fault table), which pairs the nemesis's events into
 * shaded periods; NULL pairs only start-X with stop-X. */
int html_run_build(const history *h, const json_t *fault_kinds,
                   html_run *out);
void html_run_free(html_run *r);
/* The position of the event whose "index" field is idx, SIZE_MAX if none. */
size_t html_pos_of_index(const html_run *r, int64_t idx);
/* The tick of the event whose "index" field is idx, -1 if none. */
int64_t html_tick_of_index(const html_run *r, int64_t idx);

/* A JSON value inside <script>: "<", ">", "&" as \u escapes, so no
 * string in it can close the script element. */
void html_json_script(FILE *out, const json_t *v);
#endif

/*
 * elle_panel.c — elle's part of report.html (checker.html_verdict and
 * html_panel, checkers/panel.h): the verdict with the weakest anomaly and
 * the models it rules out, then each finding kept in the result: a cycle
 * drawn as a small graph of its transactions (elle_cycle_svg, from the
 * stored txns and edges only) with its steps in words, or the words of a
 * read no execution explains.
 */
#include "checkers/elle.h"
#include "checkers/panel.h"

#include <string.h>

#define PANEL_FINDINGS_MAX 12

void elle_html_verdict(FILE *out, const char *name, const json_t *res,
                       const checker_panel_env *env)
{
    (void)env;
    panel_badge(out, name, panel_verdict_of(json_object_get(res, "valid")));
    const json_t *not = json_object_get(res, "not");
    const char *model = json_string_value(json_object_get(res, "consistency"));
    if (json_array_size(not) == 0) {
        fputs("no anomaly: consistent with ", out);
        panel_text(out, model ? model : "the model");
        fputs(" as far as the reads reveal", out);
        return;
    }
    fputs("weakest anomaly ", out);
    panel_text(out, json_string_value(json_object_get(res, "weakest_anomaly")));
    fputs("; rules out", out);
    size_t i;
    const json_t *m;
    json_array_foreach(not, i, m) {
        fputs(i ? ", " : " ", out);
        panel_text(out, json_string_value(m));
    }
}

void elle_html_panel(FILE *out, const char *name, const json_t *res,
                     const checker_panel_env *env)
{
    (void)env;
    const char *k;
    const json_t *list;
    size_t shown = 0;
    json_object_foreach((json_t *)json_object_get(res, "anomalies"), k, list) {
        size_t i;
        const json_t *f;
        json_array_foreach(list, i, f) {
            if (shown++ == PANEL_FINDINGS_MAX)
                return;
            fputs("<figure class=\"elle\"><figcaption>", out);
            panel_text(out, name);
            fputs(": ", out);
            panel_text(out, k);
            fputs("</figcaption>", out);
            elle_cycle_svg(out, json_object_get(f, "txns"),
                           json_object_get(f, "edges"));
            fputs("<pre>", out);
            panel_text(out, json_string_value(json_object_get(f,
                                                              "explanation")));
            fputs("</pre></figure>\n", out);
        }
    }
}

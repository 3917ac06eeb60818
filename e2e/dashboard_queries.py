#!/usr/bin/env python3
"""The queries of chart/files/monitoring/valkey-dashboard.json, Grafana's
variables filled in, with the modes whose installations must return data for
them (from the row each panel sits in).

  dashboard_queries.py DASHBOARD NAMESPACE NAME [MODE]
      prints one JSON object per line: {"panel", "expr", "modes"}; with MODE,
      only the queries that installation of that mode must answer

Used by chart/ci/monitoring-check.bash (every query parses) and
e2e/metrics.bash (every query returns data from the live Prometheus).
"""
import json
import sys

# Row titles of the dashboard -> modes that have those series.
ROW_MODES = {
    "All modes": {"standalone", "sentinel", "cluster"},
    "Replication (Sentinel and cluster modes)": {"sentinel", "cluster"},
    "Sentinel mode": {"sentinel"},
    "Cluster mode": {"cluster"},
}
# Grafana's built-in interval variables: windows that cover an e2e run.
INTERVALS = {"$__rate_interval": "2m", "$__interval": "30s", "$__range": "30m"}


def fill(expr, namespace, name):
    for var, value in INTERVALS.items():
        expr = expr.replace(var, value)
    return expr.replace("$namespace", namespace).replace("$name", name)


def queries(path, namespace, name):
    dashboard = json.load(open(path))
    out, modes = [], None
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            if panel["title"] not in ROW_MODES:
                raise SystemExit("row %r: add it to ROW_MODES in %s" % (panel["title"], __file__))
            modes = ROW_MODES[panel["title"]]
            continue
        if modes is None:
            raise SystemExit("panel %r sits above every row" % panel["title"])
        for target in panel.get("targets", []):
            out.append({"panel": panel["title"], "expr": fill(target["expr"], namespace, name),
                        "modes": sorted(modes)})
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            # label_values(SELECTOR, LABEL) answers what count by (LABEL) (SELECTOR) does.
            inner = var["definition"][len("label_values("):-1]
            selector, label = inner.rsplit(",", 1)
            out.append({"panel": "variable " + var["name"],
                        "expr": "count by (%s) (%s)" % (label.strip(), fill(selector, namespace, name)),
                        "modes": sorted(ROW_MODES["All modes"])})
    return out


if __name__ == "__main__":
    path, namespace, name = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) > 4 else None
    for q in queries(path, namespace, name):
        if mode is None or mode in q["modes"]:
            print(json.dumps(q))

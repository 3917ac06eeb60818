#!/usr/bin/env bash
# Offline checks of chart/files/monitoring/ with Prometheus' own promtool, 3.x
# and 2.x (scripts/tools/prometheus.bash installs both):
#   - valkey-rules.yaml is a valid rule file, and its unit tests
#     (chart/tests/monitoring/rules-test.yaml: every alert fires in its
#     situation, none in a healthy release) pass;
#   - the chart's PrometheusRule, rendered for a release, holds the same rules
#     narrowed to that release, and is a valid rule file;
#   - prometheus-scrape.yaml is a valid Prometheus configuration (3.x: Debian
#     builds 2.x without Kubernetes service discovery);
#   - every query of valkey-dashboard.json parses (it runs against a live
#     Prometheus in e2e/metrics.bash).
#
#   chart/ci/monitoring-check.bash [JUNIT_DIR]   JUnit of the 3.x rule tests goes to JUNIT_DIR
set -euo pipefail
# shellcheck source=scripts/lib/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.bash"
cd "$REPO_ROOT"

junit_dir=${1:-}
monitoring=chart/files/monitoring
promtools=(promtool promtool-2)
for p in "${promtools[@]}"; do
  command -v "$p" >/dev/null || die "$p not found: run scripts/setup (scripts/tools/prometheus.bash)"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
check() { # LABEL COMMAND...
  local label=$1; shift
  if "$@" >"$work/out" 2>&1; then echo "ok: $label"
  else echo "FAILED: $label"; sed 's/^/    /' "$work/out"; failed=$((failed + 1)); fi
}

for p in "${promtools[@]}"; do
  version=$("$p" --version 2>&1 | awk 'NR == 1 {print $3}')
  check "$monitoring/valkey-rules.yaml is a valid rule file (promtool $version)" "$p" check rules "$monitoring/valkey-rules.yaml"
  junit=()
  [[ -n "$junit_dir" && "$p" == promtool ]] && junit=(--junit="$junit_dir/promtool-rules.xml")
  check "alert rule unit tests (promtool $version test rules)" "$p" test rules "${junit[@]}" chart/tests/monitoring/rules-test.yaml
done

# The PrometheusRule of a release: the same rules, each selector narrowed.
helm template cache chart -n apps --api-versions monitoring.coreos.com/v1/PrometheusRule \
  --set metrics.enabled=true --set metrics.prometheusRule.enabled=true \
  -s templates/prometheusrule.yaml >"$work/prometheusrule.yaml"
python3 - "$work/prometheusrule.yaml" "$monitoring/valkey-rules.yaml" "$work/rendered-rules.yaml" <<'PY'
import sys, yaml
rendered = yaml.safe_load(open(sys.argv[1]))
source = yaml.safe_load(open(sys.argv[2]))
assert rendered["kind"] == "PrometheusRule", rendered["kind"]
got = rendered["spec"]["groups"]
narrow = 'namespace="apps", valkey_name="cache"'
want = [dict(g, rules=[dict(r, expr=r["expr"].replace('valkey_name!=""', narrow)) for r in g["rules"]])
        for g in source["groups"]]
assert got == want, "the PrometheusRule's rules differ from valkey-rules.yaml narrowed to apps/cache"
for g in got:
    for r in g["rules"]:
        assert 'valkey_name!=""' not in r["expr"] and narrow in r["expr"], r["alert"] + " is not narrowed to its release"
yaml.safe_dump(rendered["spec"], open(sys.argv[3], "w"))
print("%d rules, each narrowed to apps/cache" % sum(len(g["rules"]) for g in got))
PY
for p in "${promtools[@]}"; do
  check "the PrometheusRule of a release is a valid rule file ($p)" "$p" check rules "$work/rendered-rules.yaml"
done

# prometheus-scrape.yaml as the configuration of a Prometheus.
python3 - "$monitoring/prometheus-scrape.yaml" "$work/prometheus.yml" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
config["rule_files"] = ["valkey-rules.yaml"]
yaml.safe_dump(config, open(sys.argv[2], "w"))
PY
cp "$monitoring/valkey-rules.yaml" "$work/"
# 3.x only: Debian's 2.x build has no Kubernetes service discovery.
check "prometheus-scrape.yaml + valkey-rules.yaml is a valid Prometheus configuration (promtool)" \
  promtool check config --syntax-only "$work/prometheus.yml"

# Every dashboard query, Grafana's variables filled in, as a recording rule.
python3 - "$monitoring/valkey-dashboard.json" "$work/dashboard-rules.yaml" <<'PY'
import json, sys, yaml
sys.path.insert(0, "e2e")
from dashboard_queries import queries
rules = [{"record": "dashboard:query_%d" % i, "expr": q["expr"]} for i, q in enumerate(queries(sys.argv[1], "apps", "cache"))]
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"))
print("%d queries" % len(rules))
PY
for p in "${promtools[@]}"; do
  check "every query of valkey-dashboard.json parses ($p)" "$p" check rules "$work/dashboard-rules.yaml"
done

((failed == 0)) || die "$failed monitoring check(s) failed"
info "monitoring checks passed"

#!/usr/bin/env python3
"""Checks that the data pods' template does not depend on the topology.

A change of cluster.masters or cluster.replicasPerMaster must change the
StatefulSet's replica count and nothing in its pod template: a changed template
makes the StatefulSet restart every pod, which without persistence empties them.
Renders the StatefulSet with `helm template` for several topologies of each mode
(with and without persistence) and compares spec.template and
spec.volumeClaimTemplates; prints the differing lines and exits 1 when any differ.

  pod-template-stable.py [CHART_DIR]
"""
import difflib
import itertools
import pathlib
import subprocess
import sys

import yaml

CHART = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
TOPOLOGIES = {
    "sentinel": [(1, 1), (1, 2), (1, 4), (1, 6)],
    "cluster": [(3, 0), (3, 1), (5, 1), (3, 2), (6, 1), (4, 3)],
}
PERSISTENCE = ["~", "rdb,aof"]
# Options that add to the pod template (the exporter sidecar, TLS) must not follow the topology either.
OPTIONS = [[], ["--set", "metrics.enabled=true"],
           ["--set", "tls.enabled=true", "--set", "tls.existingSecret=tls", "--set", "metrics.enabled=true"]]


def pod_template(masters, replicas, persistence, options):
    out = subprocess.run(
        ["helm", "template", "cache", str(CHART), "-n", "apps", "-s", "templates/statefulset.yaml",
         "--set", f"cluster.masters={masters}", "--set", f"cluster.replicasPerMaster={replicas}",
         "--set", "persistence=" + persistence.replace(",", "\\,")] + options,
        check=True, capture_output=True, text=True).stdout
    sts = next(d for d in yaml.safe_load_all(out) if d and d.get("kind") == "StatefulSet")
    spec = sts["spec"]
    assert spec["replicas"] == masters * (1 + replicas), spec["replicas"]
    return yaml.safe_dump({"template": spec["template"],
                           "volumeClaimTemplates": spec.get("volumeClaimTemplates")}, sort_keys=True)


failed = 0
for (mode, topologies), persistence, options in itertools.product(TOPOLOGIES.items(), PERSISTENCE, OPTIONS):
    first = topologies[0]
    reference = pod_template(*first, persistence, options)
    for other in topologies[1:]:
        rendered = pod_template(*other, persistence, options)
        label = f"{mode}, persistence {persistence} {' '.join(options[1::2])}: masters/replicas {first} vs {other}"
        if rendered == reference:
            print(f"same pod template: {label}")
        else:
            failed += 1
            print(f"POD TEMPLATE DIFFERS: {label}")
            sys.stdout.writelines(difflib.unified_diff(
                reference.splitlines(True), rendered.splitlines(True), str(first), str(other), n=1))
print(f"{failed} topology pair(s) with a different pod template")
sys.exit(1 if failed else 0)

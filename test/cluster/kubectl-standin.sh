#!/usr/bin/env bash
# A scripted stand-in for kubectl and the API server behind it, for testing apply.sh's control flow where no
# Kubernetes cluster is available (the manifests themselves are checked against the real API schemas in
# k8s.test.ts). It understands exactly the calls apply.sh makes. State lives in $KUBECTL_STANDIN (a folder):
#   calls.log       every call, one line each
#   jobs/NAME       the conditions of an applied Job ("Complete " or "Failed ")
#   fail            names of Jobs that fail when applied, one a line
set -euo pipefail
s=${KUBECTL_STANDIN:?}
mkdir -p "$s/jobs"
echo "$*" >>"$s/calls.log"
name_of() { grep -m1 -o '"name": *"[^"]*"' "$1" | sed 's/.*"\([^"]*\)"$/\1/'; }
case "$1 ${2:-}" in
  "apply -f")
    n=$(name_of "$3")
    if grep -q '"kind": "Job"' "$3"; then
      if [ -f "$s/fail" ] && grep -qx "$n" "$s/fail"; then echo "Failed " >"$s/jobs/$n"; else echo "Complete " >"$s/jobs/$n"; fi
      cp "$3" "$s/jobs/$n.json"
    fi
    echo "applied $n" ;;
  "get job")
    [ -f "$s/jobs/$3" ] && tr -d '\n' <"$s/jobs/$3" || true ;;
  "delete job")
    rm -f "$s/jobs/$3" "$s/jobs/$3.json" ;;
  "diff -f")
    n=$(name_of "$3")
    cmp -s "$3" "$s/jobs/$n.json" || exit 1 ;;
  "get pods")
    job=${4#job-name=}
    echo "pod/$job-1-x7k2p" ;;
  "logs pod/"*)
    echo "error: shard 1 of ${2#pod/} could not read its input" ;;
  *)
    echo "kubectl stand-in: unexpected call: $*" >&2; exit 2 ;;
esac

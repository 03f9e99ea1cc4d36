#!/bin/bash
# tests/integration/t_limit_rate.sh: --limit-rate is one rate for all
# uploads together. Two layers of 1.5 MB pushed with --jobs 4 at 1m (1 MiB/s)
# take at least ~2.4 s (the 3 MB less one tenth of a second of burst), as
# they would one at a time: only a lower bound on time is checked (a busy
# machine is slower, never faster). The pushed image verifies with skopeo.
# A bad RATE is a usage error (exit 1).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/common.sh"
need docker-registry skopeo curl
CTD_ADAPTER="${CTD_ADAPTER:-$top_builddir/idppush-containerd}"
[ -x "$CTD_ADAPTER" ] || fail "no $CTD_ADAPTER (build first)"

start_registry plain
L="$TEST_TMP/layout"
make_oci_layout "$L" --oci 1500000 1500000 >/dev/null
T="$REG_HOST/giteaadmin/slow:v1"

now_ms() { date +%s%3N; }
t0=$(now_ms)
assert_exit 0 timeout -k 5 120 "$CTD_ADAPTER" --plain-http --jobs 4 --limit-rate 1m \
	--oci-layout "$L" "$T"
elapsed=$(($(now_ms) - t0))
log "3 MB at --limit-rate 1m took $elapsed ms"
[ "$elapsed" -ge 2400 ] || fail "--limit-rate 1m: 3 MB went up in $elapsed ms (limit not kept)"
verify_pushed "$T" "$L" --tls-verify=false

# the same push without a limit is not what took the time: quick on loopback
T2="$REG_HOST/giteaadmin/fast:v1"
assert_exit 0 timeout -k 5 120 "$CTD_ADAPTER" --plain-http --oci-layout "$L" "$T2"
verify_pushed "$T2" "$L" --tls-verify=false

assert_exit 1 "$CTD_ADAPTER" --plain-http --limit-rate 10x --oci-layout "$L" "$T"
assert_contains "$LAST_ERR" "--limit-rate"

# tests/lib/push_test.sh: everything a push test needs, after common.sh:
# registries (registry.sh), generated images (image.sh), skopeo checks
# (verify.sh) and proxies (proxy.sh). Sourcing defines functions only.
# shellcheck shell=bash
. "$TEST_LIB/registry.sh"
. "$TEST_LIB/image.sh"
. "$TEST_LIB/verify.sh"
. "$TEST_LIB/proxy.sh"

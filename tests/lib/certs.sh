# tests/lib/certs.sh: test PKI made with openssl (EC P-256, fast).
#   make_certs [DIR]   (default $TEST_TMP/pki; idempotent) creates
#     ca.crt/ca.key          CA1, trusted by the tests' clients
#     server.crt/server.key  server cert from CA1, SAN IP:127.0.0.1, DNS:localhost
#     ca2.crt/ca2.key        CA2, unrelated (for "unknown authority" tests)
#     certs.d/ca.crt         a copy of CA1 (for skopeo --cert-dir)
#   make_signing_cert [DIR] creates token-signing.{crt,key} (RSA 2048,
#     self-signed) for the token server (RS256) and the registry's
#     rootcertbundle.
#   Exports CERT_DIR, CA_CERT, CA2_CERT, SERVER_CERT, SERVER_KEY.
# shellcheck shell=bash

_make_ca() { # DIR NAME CN
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$1/$2.key" -out "$1/$2.crt" -days 3 -subj "/CN=$3" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>/dev/null
}

make_certs() {
	local d=${1:-$TEST_TMP/pki}
	mkdir -p "$d"
	if [ ! -s "$d/server.crt" ]; then
		_make_ca "$d" ca "idppush test CA1" || fail "openssl: cannot make CA1"
		_make_ca "$d" ca2 "idppush unrelated test CA2" || fail "openssl: cannot make CA2"
		openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" \
			2>/dev/null ||
			fail "openssl: cannot make server key"
		cat >"$d/server.ext" <<-'EOF'
			basicConstraints=critical,CA:FALSE
			keyUsage=critical,digitalSignature,keyEncipherment
			extendedKeyUsage=serverAuth
			subjectAltName=IP:127.0.0.1,DNS:localhost
			authorityKeyIdentifier=keyid
		EOF
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -sha256 -extfile "$d/server.ext" \
			-out "$d/server.crt" 2>/dev/null || fail "openssl: cannot sign server cert"
		mkdir -p "$d/certs.d"
		cp "$d/ca.crt" "$d/certs.d/ca.crt"
	fi
	CERT_DIR=$d
	CA_CERT=$d/ca.crt
	CA2_CERT=$d/ca2.crt
	SERVER_CERT=$d/server.crt
	SERVER_KEY=$d/server.key
	export CERT_DIR CA_CERT CA2_CERT SERVER_CERT SERVER_KEY
}

make_signing_cert() {
	local d=${1:-$TEST_TMP/pki}
	mkdir -p "$d"
	if [ ! -s "$d/token-signing.crt" ]; then
		openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 \
			-keyout "$d/token-signing.key" -out "$d/token-signing.crt" -days 3 \
			-subj "/CN=idppush test token signer" 2>/dev/null ||
			fail "openssl: cannot make token signing cert"
	fi
	SIGNING_CERT=$d/token-signing.crt
	SIGNING_KEY=$d/token-signing.key
	export SIGNING_CERT SIGNING_KEY
}

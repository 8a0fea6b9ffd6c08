#!/usr/bin/env bash
# DEVELOPMENT CERTIFICATES ONLY. Creates, when missing, a development CA and the router's server certificate for the
# local stack, in .apk/certs/ (git-ignored):
#
#   ca.crt        development CA certificate (trust it with `curl --cacert .apk/certs/ca.crt`)
#   ca.key        its private key (mode 600; never copied anywhere else, never committed)
#   gateway.crt   server certificate for the router's HTTPS listener, signed by the CA
#   gateway.key   its private key (mode 600)
#
# RSA 2048 keys, SHA-256 signatures. The server certificate is valid for 825 days and names the gateway's host
# names (subjectAltName below); the CA is valid for 10 years so that a renewed server certificate keeps working with
# a CA you already trust. A second run reuses what exists; the server certificate (and the CA, the same way) is
# re-created when it expires within 30 days, no longer matches its key or the CA, or lacks a required name.
# Prints the paths on stdout; messages go to stderr. Needs openssl (1.1.1 or later).
#
# Nothing here is fit for production: the CA is a throwaway made on this machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CERT_DIR="$ROOT/.apk/certs"
CA_DAYS=3650
SERVER_DAYS=825
RENEW_SECONDS=$((30 * 24 * 3600))
SAN_DNS=("*.gw.wso2.com" "gw.wso2.com" "*.sandbox.gw.wso2.com" "api.am.wso2.com" "idp.am.wso2.com" "localhost")
SAN_IP=("127.0.0.1")

say() { echo "dev-certs.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

command -v openssl >/dev/null 2>&1 || die "openssl is not installed"

CA_CRT="$CERT_DIR/ca.crt"
CA_KEY="$CERT_DIR/ca.key"
SERVER_CRT="$CERT_DIR/gateway.crt"
SERVER_KEY="$CERT_DIR/gateway.key"

umask 077
mkdir -p "$CERT_DIR"
chmod 700 "$CERT_DIR"
WORK="$(mktemp -d "$CERT_DIR/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# True when the certificate's public key is the one of the private key.
key_matches() {
    local cert="$1" key="$2"
    [ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]
}

# True when the certificate exists, parses, and does not expire within RENEW_SECONDS.
still_valid() {
    openssl x509 -in "$1" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1
}

ca_usable() {
    [ -s "$CA_CRT" ] && [ -s "$CA_KEY" ] && still_valid "$CA_CRT" && key_matches "$CA_CRT" "$CA_KEY"
}

server_usable() {
    [ -s "$SERVER_CRT" ] && [ -s "$SERVER_KEY" ] || return 1
    still_valid "$SERVER_CRT" && key_matches "$SERVER_CRT" "$SERVER_KEY" || return 1
    openssl verify -CAfile "$CA_CRT" "$SERVER_CRT" >/dev/null 2>&1 || return 1
    local sans name
    sans="$(openssl x509 -in "$SERVER_CRT" -noout -ext subjectAltName 2>/dev/null)" || return 1
    for name in "${SAN_DNS[@]}"; do grep -qF "DNS:$name" <<<"$sans" || return 1; done
    for name in "${SAN_IP[@]}"; do grep -qF "IP Address:$name" <<<"$sans" || return 1; done
}

new_key() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
    chmod 600 "$1"
}

# A positive random 128-bit serial number (hex).
serial() { echo "0x$(openssl rand -hex 16 | sed 's/^./1/')"; }

make_ca() {
    say "creating a development CA in $CERT_DIR"
    new_key "$WORK/ca.key"
    cat >"$WORK/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[dn]
O = APK development (not for production)
CN = APK Development CA
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    openssl req -new -x509 -config "$WORK/ca.cnf" -key "$WORK/ca.key" -sha256 -days "$CA_DAYS" \
        -set_serial "$(serial)" -out "$WORK/ca.crt"
    chmod 644 "$WORK/ca.crt"
    mv -f "$WORK/ca.key" "$CA_KEY"
    mv -f "$WORK/ca.crt" "$CA_CRT"
}

make_server() {
    say "creating the development server certificate (gateway.crt) in $CERT_DIR"
    local san="" name
    for name in "${SAN_DNS[@]}"; do san+="${san:+, }DNS:$name"; done
    for name in "${SAN_IP[@]}"; do san+="${san:+, }IP:$name"; done
    new_key "$WORK/gateway.key"
    cat >"$WORK/server.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
O = APK development (not for production)
CN = gw.wso2.com
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
    openssl req -new -config "$WORK/server.cnf" -key "$WORK/gateway.key" -sha256 -out "$WORK/gateway.csr"
    openssl x509 -req -in "$WORK/gateway.csr" -CA "$CA_CRT" -CAkey "$CA_KEY" -set_serial "$(serial)" -sha256 \
        -days "$SERVER_DAYS" -extfile "$WORK/server.cnf" -extensions server_ext -out "$WORK/gateway.crt" 2>/dev/null
    chmod 644 "$WORK/gateway.crt"
    mv -f "$WORK/gateway.key" "$SERVER_KEY"
    mv -f "$WORK/gateway.crt" "$SERVER_CRT"
}

renewed=0
if ! ca_usable; then
    make_ca
    renewed=1
fi
if [ "$renewed" = 1 ] || ! server_usable; then
    make_server
    server_usable || die "the new server certificate does not verify against the CA"
else
    say "reusing the development certificates in $CERT_DIR (server certificate valid until $(openssl x509 -in "$SERVER_CRT" -noout -enddate | cut -d= -f2))"
fi
chmod 600 "$CA_KEY" "$SERVER_KEY"

cat <<EOF
DEVELOPMENT certificates (local stack only):
  CA certificate      $CA_CRT
  CA key              $CA_KEY
  server certificate  $SERVER_CRT
  server key          $SERVER_KEY
EOF

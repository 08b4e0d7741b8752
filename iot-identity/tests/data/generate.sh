#!/usr/bin/env bash
# Generates the X.509 test certificates of iot-identity's chain-validation tests with OpenSSL
# (see README.md beside this script). Usage: generate.sh OUT_DIR [WORK_DIR]
#   OUT_DIR   receives the DER certificates (*.der)
#   WORK_DIR  keeps the private keys and the CA databases (default: a temporary folder, removed)
# OPENSSL may name the openssl binary (default: openssl). Every certificate is P-256 with
# ecdsa-with-SHA256 and fixed validity dates, so tests can validate at a fixed time (2026-01-01).
set -euo pipefail
OPENSSL=${OPENSSL:-openssl}
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ $# -ge 2 ]; then
  work=$2
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
cd "$work"

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
database = ./index.txt
new_certs_dir = ./issued
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
rand_serial = yes
[ policy_any ]
commonName = supplied
serialNumber = optional
organizationName = optional
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_inter_open ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_inter_noca ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_inter_noku ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf_wrong_ku ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf_unknown_critical ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
1.3.6.1.4.1.55555.1 = critical, DER:05:00
CNF
mkdir -p issued
: > index.txt

key() { "$OPENSSL" ecparam -name prime256v1 -genkey -noout -out "$1.key"; }
req() { "$OPENSSL" req -new -key "$1.key" -subj "$2" -out "$1.csr"; }
# sign NAME ISSUER EXTENSIONS START END: issues NAME.csr with ISSUER's key and certificate.
sign() {
  "$OPENSSL" ca -batch -config ca.cnf -notext -preserveDN -in "$1.csr" -out "$1.pem" \
    -keyfile "$2.key" -cert "$2.pem" -extensions "$3" -startdate "$4" -enddate "$5" 2>/dev/null
  "$OPENSSL" x509 -in "$1.pem" -outform DER -out "$out/$1.der"
}
selfsign() {
  "$OPENSSL" ca -batch -config ca.cnf -notext -preserveDN -selfsign -in "$1.csr" -out "$1.pem" \
    -keyfile "$1.key" -extensions v3_root -startdate "$2" -enddate "$3" 2>/dev/null
  "$OPENSSL" x509 -in "$1.pem" -outform DER -out "$out/$1.der"
}

CA_FROM=20250101000000Z
CA_TO=20491231235959Z
LEAF_FROM=20250601000000Z
LEAF_TO=20450101000000Z

for k in root other-root inter impostor-inter inter2 inter-noca inter-noku inter-open device; do key "$k"; done

req root "/CN=IoT Test Root CA"
selfsign root $CA_FROM $CA_TO
req other-root "/CN=IoT Other Root CA"
selfsign other-root $CA_FROM $CA_TO

req inter "/CN=IoT Test Intermediate CA"
sign inter root v3_inter $CA_FROM $CA_TO
# Same name as inter, another key: what it signs must fail on the signature.
req impostor-inter "/CN=IoT Test Intermediate CA"
selfsign impostor-inter $CA_FROM $CA_TO
req inter-noca "/CN=IoT Test Not-a-CA"
sign inter-noca root v3_inter_noca $CA_FROM $CA_TO
req inter-noku "/CN=IoT Test No-CertSign CA"
sign inter-noku root v3_inter_noku $CA_FROM $CA_TO
req inter-open "/CN=IoT Test Open Intermediate CA"
sign inter-open root v3_inter_open $CA_FROM $CA_TO
req inter2 "/CN=IoT Test Second-Level CA"
sign inter2 inter v3_inter_open $CA_FROM $CA_TO

DEV="/CN=IoT Test Device/serialNumber=0102030405060708090A0B0C0D0E0F1011"
req device "$DEV"
leaf() { # NAME ISSUER EXT FROM TO
  cp device.csr "$1.csr"
  sign "$1" "$2" "$3" "$4" "$5"
}
leaf leaf inter v3_leaf $LEAF_FROM $LEAF_TO
leaf leaf-expired inter v3_leaf 20200101000000Z 20210101000000Z
leaf leaf-future inter v3_leaf 20400101000000Z 20450101000000Z
leaf leaf-wrong-ku inter v3_leaf_wrong_ku $LEAF_FROM $LEAF_TO
leaf leaf-unknown-critical inter v3_leaf_unknown_critical $LEAF_FROM $LEAF_TO
leaf leaf-other-issuer other-root v3_leaf $LEAF_FROM $LEAF_TO
leaf leaf-impostor impostor-inter v3_leaf $LEAF_FROM $LEAF_TO
leaf leaf-under-noca inter-noca v3_leaf $LEAF_FROM $LEAF_TO
leaf leaf-under-noku inter-noku v3_leaf $LEAF_FROM $LEAF_TO
leaf leaf-under-inter2 inter2 v3_leaf $LEAF_FROM $LEAF_TO
leaf leaf-under-open inter-open v3_leaf $LEAF_FROM $LEAF_TO
echo "generated $(ls "$out"/*.der | wc -l) certificates in $out"

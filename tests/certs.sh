#!/usr/bin/env bash
# certs.sh - the TLS certificates of kmsd and its KMIP clients, for the
# local stack and the tests, made with the openssl command line.
#
# usage: tests/certs.sh DIR
#
# DIR gets (every key RSA-2048, unencrypted, mode 0600):
#   ca.pem ca.key               the keyflow CA that kmsd trusts
#   server.pem server.key       kmsd's certificate: CN=kmsd, SAN IP 127.0.0.1,
#                               DNS localhost (and KF_CERT_SAN's names),
#                               EKU serverAuth
#   commserve.pem commserve.key client CN=commserve (EKU clientAuth): CommServe
#   other.pem other.key         client CN=other: a second identity
#   rogue-ca.pem rogue-ca.key   a second CA that kmsd does not trust
#   rogue.pem rogue.key         client CN=commserve signed by the rogue CA
#   expired.pem expired.key     client CN=commserve from the keyflow CA,
#                               valid only in 2020
# Idempotent: when DIR already holds a complete set it is left alone (a
# partial set is made anew, and so is a set whose server certificate lacks
# a name KF_CERT_SAN asks for).  The files are written to a temporary
# directory first, so an interrupted run leaves no half-made set behind.
#
# KF_CERT_SAN (optional): extra DNS names for the server certificate,
# separated by spaces or commas, e.g. KF_CERT_SAN=kmsd for a container
# that peers reach as host "kmsd".
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
files="ca.pem ca.key server.pem server.key commserve.pem commserve.key
other.pem other.key rogue-ca.pem rogue-ca.key rogue.pem rogue.key
expired.pem expired.key"

# The extra DNS names: letters, digits, '-' and '.' only, since they go
# into an openssl extension line.
san_extra=()
IFS=$', \t\n' read -ra san_words <<<"${KF_CERT_SAN:-}"
for n in ${san_words[@]+"${san_words[@]}"}; do
	[ -n "$n" ] || continue
	if ! [[ $n =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]; then
		echo "$0: KF_CERT_SAN: '$n' is not a DNS name" >&2
		exit 2
	fi
	san_extra+=("$n")
done
san="IP:127.0.0.1,DNS:localhost"
for n in ${san_extra[@]+"${san_extra[@]}"}; do
	san="$san,DNS:$n"
done

complete() {
	local f n names
	[ -f "$dir/.complete" ] || return 1
	for f in $files; do
		[ -s "$dir/$f" ] || return 1
	done
	if [ ${#san_extra[@]} -gt 0 ]; then
		names=$(openssl x509 -in "$dir/server.pem" -noout \
		    -ext subjectAltName 2>/dev/null | tr -d ' \n') || return 1
		for n in "${san_extra[@]}"; do
			case ",$names," in
			*",DNS:$n,"*) ;;
			*) return 1 ;;
			esac
		done
	fi
	openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" \
	    "$dir/commserve.pem" >/dev/null 2>&1
}

mkdir -p "$dir"
if complete; then
	exit 0
fi

umask 077
tmp=$(mktemp -d "$dir/.certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

serial() {
	echo "0x$(openssl rand -hex 8)"
}

# ca NAME CN: a self-signed CA.
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
	    -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -subj "/O=keyflow/CN=$2" \
	    -set_serial "$(serial)" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

# leaf NAME CN CA EXTENSIONS: a key and a certificate CA signed.
leaf() {
	openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$tmp/$1.key" \
	    -out "$tmp/$1.csr" -subj "/O=keyflow/CN=$2" 2>/dev/null
	printf '%s\n' "$4" >"$tmp/$1.ext"
	openssl x509 -req -sha256 -days 825 -in "$tmp/$1.csr" \
	    -CA "$tmp/$3.pem" -CAkey "$tmp/$3.key" -set_serial "$(serial)" \
	    -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
	rm -f "$tmp/$1.csr" "$tmp/$1.ext"
}

client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

ca ca "keyflow test CA"
ca rogue-ca "rogue CA"
leaf server kmsd ca "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"
leaf commserve commserve ca "$client_ext"
leaf other other ca "$client_ext"
leaf rogue commserve rogue-ca "$client_ext"

# An expired certificate: `openssl ca` takes explicit dates in the past.
mkdir "$tmp/ca-db"
: >"$tmp/ca-db/index.txt"
openssl rand -hex 8 >"$tmp/ca-db/serial"
printf '%s\n' "$client_ext" >"$tmp/client.ext"
cat >"$tmp/ca-db/ca.cnf" <<EOF
[ca]
default_ca = kf
[kf]
database = $tmp/ca-db/index.txt
serial = $tmp/ca-db/serial
new_certs_dir = $tmp/ca-db
certificate = $tmp/ca.pem
private_key = $tmp/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
organizationName = optional
commonName = supplied
EOF
openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$tmp/expired.key" \
    -out "$tmp/expired.csr" -subj "/O=keyflow/CN=commserve" 2>/dev/null
openssl ca -batch -notext -config "$tmp/ca-db/ca.cnf" \
    -startdate 20200101000000Z -enddate 20200201000000Z \
    -extfile "$tmp/client.ext" -in "$tmp/expired.csr" \
    -out "$tmp/expired.pem" 2>/dev/null
rm -rf "$tmp/ca-db" "$tmp/client.ext" "$tmp/expired.csr"

# Check what was made before it replaces anything.
openssl verify -CAfile "$tmp/ca.pem" "$tmp/server.pem" "$tmp/commserve.pem" \
    "$tmp/other.pem" >/dev/null
openssl verify -CAfile "$tmp/rogue-ca.pem" "$tmp/rogue.pem" >/dev/null
if openssl verify -CAfile "$tmp/ca.pem" "$tmp/expired.pem" >/dev/null 2>&1
then
	echo "$0: the expired certificate verifies: openssl ca ignored" \
	    "-enddate" >&2
	exit 1
fi

rm -f "$dir/.complete"
for f in $files; do
	case "$f" in
	*.key) chmod 0600 "$tmp/$f" ;;
	*) chmod 0644 "$tmp/$f" ;;
	esac
	mv -f "$tmp/$f" "$dir/$f"
done
: >"$dir/.complete"

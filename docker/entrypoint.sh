#!/bin/sh
# keyflow-entrypoint - runs the command given to the container, after the
# setup its daemon needs:
#
#   certs       (one-shot) makes the private CA, kmsd's server certificate
#               (SAN: the kmsd service's host name, KF_CERT_SAN) and the
#               client certificate CommServe presents, into the shared
#               volume KEYFLOW_CERTS_DIR, with tests/certs.sh; idempotent.
#   kmsd        checks that the certificates are there.
#   commserved  once CommServe answers, registers kmsd as KMS
#               KEYFLOW_KMS_NAME (kms1) unless `keyflow kms list` already
#               shows it; runs in the background beside the daemon.
#   clientd     makes sure the client exists on CommServe.
#
# CURVE (every ZeroMQ link encrypted and authenticated): when
# KEYFLOW_CURVE_DIR is set, each daemon container first makes its key pair
# there (in its own volume; `keyflow keygen`, kept across restarts) and
# publishes its public key into the shared trust volume
# KEYFLOW_CURVE_PUBLISH (default /var/lib/keyflow/curve-trust) as
# NAME.pub; CommServe and the MediaAgents let in the keys of that
# directory (KEYFLOW_CURVE_TRUST), rereading it when an unknown key
# arrives.  Whoever connects to CommServe waits until CommServe's key
# (KEYFLOW_COMMSERVE_KEY, a file in that volume) is published.  The keyflow
# commands of a container use that container's key pair.
#
# A client needs a network password that CommServe knows too.  The first
# start of a client container generates one into its volume (0600, never
# printed) and registers the client with `keyflow client add`; later starts
# reuse it.  In a real deployment the operator adds the client and hands
# the password to the client host instead.
set -eu

certs=${KEYFLOW_CERTS_DIR:-/var/lib/keyflow/certs}

# need_certs FILE...: fail clearly when the certs service has not run.
need_certs() {
	for f in "$@"; do
		if [ ! -s "$certs/$f" ]; then
			echo "keyflow-entrypoint: $certs/$f is missing: run the" \
			    "certs service first" >&2
			exit 1
		fi
	done
}

# kms_register: wait for CommServe, then add kmsd as KMS $name once.
kms_register() {
	name=${KEYFLOW_KMS_NAME:-kms1}
	i=0
	while :; do
		if list=$(keyflow --timeout 5 kms list 2>&1); then
			if printf '%s\n' "$list" |
			    awk -v n="$name" '$1 == n { f = 1 } END { exit !f }'
			then
				echo "keyflow-entrypoint: KMS $name already" \
				    "registered" >&2
				return 0
			fi
			# kmsd may still be starting: kms add connects to it.
			if out=$(keyflow --timeout 10 kms add "$name" \
			    --kmip "$KEYFLOW_KMS_ADDR" --ca "$KEYFLOW_KMS_CA" \
			    --cert "$KEYFLOW_KMS_CERT" \
			    --key "$KEYFLOW_KMS_KEY" 2>&1); then
				echo "keyflow-entrypoint: $out" >&2
				return 0
			fi
			case "$out" in
			*ERR_EXISTS*) return 0 ;;
			esac
		else
			out=$list
		fi
		i=$((i + 1))
		if [ $i -ge 60 ]; then
			echo "keyflow-entrypoint: cannot register KMS $name:" \
			    "$out" >&2
			return 1
		fi
		sleep 2
	done
}

# curve_publish NAME: this container's key pair, its public key published.
curve_publish() {
	[ -n "${KEYFLOW_CURVE_DIR:-}" ] || return 0
	pub=${KEYFLOW_CURVE_PUBLISH:-/var/lib/keyflow/curve-trust}
	keyflow keygen "$KEYFLOW_CURVE_DIR" >/dev/null
	cp "$KEYFLOW_CURVE_DIR/curve.pub" "$pub/$1.pub.new"
	chmod 0644 "$pub/$1.pub.new"
	mv "$pub/$1.pub.new" "$pub/$1.pub"
	echo "keyflow-entrypoint: CURVE key published as $pub/$1.pub" >&2
}

# curve_wait_cs: until CommServe's public key file is there.
curve_wait_cs() {
	case "${KEYFLOW_CURVE_DIR:-}:${KEYFLOW_COMMSERVE_KEY:-}" in
	:*|*:) return 0 ;;
	*:/*) ;;
	*) return 0 ;;
	esac
	i=0
	until [ -s "$KEYFLOW_COMMSERVE_KEY" ]; do
		i=$((i + 1))
		if [ $i -ge 120 ]; then
			echo "keyflow-entrypoint: CommServe's CURVE key" \
			    "$KEYFLOW_COMMSERVE_KEY did not appear" >&2
			exit 1
		fi
		sleep 1
	done
}

case "${1:-}" in
kmsd) curve_publish kmsd; curve_wait_cs ;;
commserved) curve_publish commserve ;;
mediaagentd)
	curve_publish "mediaagent-${KEYFLOW_MA_NAME:-ma1}"
	curve_wait_cs
	;;
clientd)
	curve_publish "client-${KEYFLOW_CLIENT_NAME:-local}"
	curve_wait_cs
	;;
esac

case "${1:-}" in
certs)
	umask 077
	KF_CERT_SAN=${KF_CERT_SAN:-kmsd} keyflow-certs "$certs" >/dev/null
	echo "keyflow-entrypoint: certificates ready in $certs" >&2
	exit 0
	;;
kmsd)
	need_certs ca.pem server.pem server.key
	;;
commserved)
	if [ -n "${KEYFLOW_KMS_ADDR:-}" ]; then
		export KEYFLOW_KMS_CA="${KEYFLOW_KMS_CA:-$certs/ca.pem}"
		export KEYFLOW_KMS_CERT="${KEYFLOW_KMS_CERT:-$certs/commserve.pem}"
		export KEYFLOW_KMS_KEY="${KEYFLOW_KMS_KEY:-$certs/commserve.key}"
		need_certs ca.pem commserve.pem commserve.key
		# The daemon is exec'd below; the registration waits for it.
		kms_register &
	fi
	;;
clientd)
	pw=${KEYFLOW_PASSWORD_FILE:-/var/lib/keyflow/client/password}
	name=${KEYFLOW_CLIENT_NAME:-local}
	if [ ! -s "$pw" ]; then
		umask 077
		head -c 24 /dev/urandom | base64 | tr -d '\n/+=' >"$pw.new"
		mv "$pw.new" "$pw"
	fi
	# CommServe may still be starting: try for a minute.
	i=0
	until out=$(keyflow --timeout 5 client add "$name" \
	    --password-file "$pw" 2>&1); do
		case "$out" in
		*ERR_EXISTS*) break ;;
		esac
		i=$((i + 1))
		if [ $i -ge 30 ]; then
			echo "keyflow-entrypoint: cannot add client $name: $out" >&2
			exit 1
		fi
		sleep 2
	done
	export KEYFLOW_PASSWORD_FILE="$pw"
	;;
esac
exec "$@"

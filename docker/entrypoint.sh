#!/bin/sh
# keyflow-entrypoint - runs the command given to the container; for
# `clientd` first makes sure the client exists on CommServe.
#
# A client needs a network password that CommServe knows too.  The first
# start of a client container generates one into its volume (0600, never
# printed) and registers the client with `keyflow client add`; later starts
# reuse it.  In a real deployment the operator adds the client and hands
# the password to the client host instead.
set -eu

if [ "${1:-}" = clientd ]; then
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
fi
exec "$@"

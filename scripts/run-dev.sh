#!/bin/sh
# `make run`: start revokerd on its embedded broker with a demo client.
# The demo client is "demo" with password "demo-secret" and every role;
# its crypt hash is made here, so no secret is stored in the repository.
set -eu
build=${1:-build}
clients="$build/dev-clients"
if [ ! -f "$clients" ]; then
	hash=$(openssl passwd -6 demo-secret)
	umask 077
	printf '# made by make run: demo client, every role\ndemo:%s:introspect,revoke,admin\n' \
	    "$hash" > "$clients"
fi
cat >&2 <<MSG
revokerd: starting on the embedded broker (see its address below).
  HTTP API:    http://127.0.0.1:8080  (client demo, password demo-secret)
  feed events: kcat -P -b <broker address> -t token-events -l events.jsonl
  stop:        Ctrl-C
MSG
exec "$build/revokerd" --clients "$clients" --db ./data ${REVOKERD_FLAGS:-}

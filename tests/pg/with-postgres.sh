#!/usr/bin/env bash
# Runs a command beside a throw-away PostgreSQL 15: a new cluster in a temporary
# directory, listening on 127.0.0.1 only, on a free port, TLS only (a self-signed
# certificate made here), SCRAM passwords; stopped and removed when the command ends,
# whatever way it ends.
#
#   bash tests/pg/with-postgres.sh cargo nextest run ...
#
# The command sees:
#   COFFER_TEST_PG       a superuser URL (postgres://…?sslrootcert=…), for test set-up
#   COFFER_TEST_PG_CA    the certificate that signs the server's (trust it to connect)
#   COFFER_TEST_PG_SOCKET the directory of its local socket (for set-up as the DBA)
#   COFFER_TEST_PG_DATA  the data directory; COFFER_TEST_PG_CTL the pg_ctl to use on it
#   COFFER_TEST_PG_AS    the command prefix that runs as the cluster's owner ("" or
#                        "runuser -u postgres --"), for tests that stop and start it
#
# As root the cluster belongs to the `postgres` user (initdb refuses root); otherwise
# to the caller.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
[ -x "$bin/postgres" ] || { echo "error: PostgreSQL 15 is missing (bash tests/setup-machine.sh installs it)" >&2; exit 1; }
(($#)) || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }

base=$(mktemp -d /tmp/coffer-pg.XXXXXX)
as=()
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
  chown postgres: "$base"
fi
chmod 0700 "$base"
data=$base/data
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

stop() {
  "${as[@]}" "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$base"
}
trap stop EXIT
trap 'exit 130' INT TERM

# The superuser's password is given to initdb through a file only its owner reads.
printf '%s\n' "$password" > "$base/pw"
[ "${#as[@]}" = 0 ] || chown postgres: "$base/pw"
chmod 0600 "$base/pw"
"${as[@]}" "$bin/initdb" -D "$data" -U coffer_admin --pwfile="$base/pw" \
  --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
  || { cat "$base/initdb.log" >&2; exit 1; }
rm -f "$base/pw"

# A certificate authority made for this run, and the server's certificate (127.0.0.1 and
# localhost) signed by it: the clients trust the authority only.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes)
openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=Coffer test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
  -keyout "$base/ca.key" -out "$base/ca.crt" 2>/dev/null
openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$data/server.key" -out "$base/server.csr" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$base/server.ext"
openssl x509 -req -in "$base/server.csr" -CA "$base/ca.crt" -CAkey "$base/ca.key" -CAcreateserial \
  -days 2 -sha256 -extfile "$base/server.ext" -out "$data/server.crt" 2>/dev/null
rm -f "$base/ca.key" "$base/server.csr" "$base/server.ext" "$base/ca.srl"
chmod 0600 "$data/server.key"
chmod 0644 "$base/ca.crt"
[ "${#as[@]}" = 0 ] || chown postgres: "$data/server.key" "$data/server.crt"

cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.3'
password_encryption = 'scram-sha-256'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
# TLS or nothing: no plain TCP line, no local socket line for other users.
cat >"$data/pg_hba.conf" <<EOF
local   all  all                 scram-sha-256
hostssl all  all  127.0.0.1/32   scram-sha-256
EOF

"${as[@]}" "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 30 start >/dev/null \
  || { cat "$base/server.log" >&2; exit 1; }

export COFFER_TEST_PG="postgres://coffer_admin:$password@127.0.0.1:$port/postgres?sslmode=verify-full&sslrootcert=$base/ca.crt"
export COFFER_TEST_PG_CA=$base/ca.crt
export COFFER_TEST_PG_SOCKET=$base
export COFFER_TEST_PG_DATA=$data
export COFFER_TEST_PG_CTL=$bin/pg_ctl
export COFFER_TEST_PG_AS="${as[*]}"
echo "PostgreSQL 15 on 127.0.0.1:$port (TLS), data in $data"

"$@"

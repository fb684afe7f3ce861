#!/usr/bin/env bash
# Installs dependencies, builds, and runs wardenftpd in the foreground on 127.0.0.1:2121 with a
# demo user (demo / demo) serving a demo directory. Ctrl-C stops it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (the daemon starts as root and drops privileges per role)" >&2
  exit 1
fi
"$top/tools/install-deps.sh"
"$top/tools/build.sh"
build=${WFTPD_BUILD_DIR:-$top/build}
demo=/var/lib/wardenftpd-demo
uid=2121
mkdir -p "$demo/srv/demo"
chmod 0755 "$demo" "$demo/srv"
if [ ! -e "$demo/srv/demo/README.txt" ]; then
  printf 'Hello from wardenftpd.\nUpload files here; they belong to uid %s.\n' "$uid" > "$demo/srv/demo/README.txt"
fi
chown -R "$uid:$uid" "$demo/srv/demo"
# A demo CA and a server certificate for localhost / 127.0.0.1 / ::1 signed by it (EC P-256),
# made once and again when the old one is about to expire. Clients verify with $demo/tls/ca.pem.
tls=$demo/tls
mkdir -p "$tls"
chmod 0700 "$tls"
if [ ! -s "$tls/cert.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$tls/cert.pem" >/dev/null 2>&1; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=wardenftpd demo CA" -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$tls/key.pem" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' > "$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
    -CAcreateserial -days 90 -extfile "$tls/ext.cnf" -out "$tls/cert.pem" 2>/dev/null
  chmod 0600 "$tls/key.pem" "$tls/ca-key.pem"
fi
chmod 0644 "$tls/ca.pem"
rm -f "$demo/users"
echo demo | "$build/tools/wardenftpd-passwd" -f "$demo/users" add demo --uid "$uid" --gid "$uid" --root "$demo/srv/demo" >/dev/null
cat > "$demo/wardenftpd.conf" <<CONF
# Demo configuration written by tools/demo.sh
listen_address=127.0.0.1,::1
listen_port=2121
users_file=$demo/users
secure_chroot_dir=/run/wardenftpd/empty
max_clients=200
# FTPS: AUTH TLS on 2121, implicit TLS on 2990; logins and data must be encrypted (defaults).
tls_enable=yes
tls_cert_file=$tls/cert.pem
tls_key_file=$tls/key.pem
tls_implicit_port=2990
CONF
cat <<TEXT

wardenftpd demo
  server:    ftp://127.0.0.1:2121/ with AUTH TLS (also [::1]:2121); implicit FTPS on port 2990
  user:      demo   password: demo   (login and data only over TLS)
  directory: $demo/srv/demo (the user's root)
  config:    $demo/wardenftpd.conf
  TLS CA:    $tls/ca.pem (clients verify the server's certificate with it)

Try:
  curl --ssl-reqd --cacert $tls/ca.pem ftp://demo:demo@127.0.0.1:2121/
  curl --ssl-reqd --cacert $tls/ca.pem -T /etc/hostname ftp://demo:demo@127.0.0.1:2121/
  curl --cacert $tls/ca.pem ftps://demo:demo@127.0.0.1:2990/README.txt
  lftp -e "set ssl:ca-file $tls/ca.pem; set ftp:ssl-force true" -u demo,demo -p 2121 localhost

Operate it (as root, from another terminal):
  $build/tools/wardenftpd-ctl who
  $build/tools/wardenftpd-ctl metrics

Logs follow on this terminal; Ctrl-C stops the daemon.

TEXT
exec "$build/daemon/wardenftpd" -c "$demo/wardenftpd.conf" --stderr

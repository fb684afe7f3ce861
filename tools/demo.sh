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
rm -f "$demo/users"
echo demo | "$build/tools/wardenftpd-passwd" -f "$demo/users" add demo --uid "$uid" --gid "$uid" --root "$demo/srv/demo" >/dev/null
cat > "$demo/wardenftpd.conf" <<CONF
# Demo configuration written by tools/demo.sh
listen_address=127.0.0.1,::1
listen_port=2121
users_file=$demo/users
secure_chroot_dir=/run/wardenftpd/empty
max_clients=200
CONF
cat <<TEXT

wardenftpd demo
  server:    ftp://127.0.0.1:2121/ (also [::1]:2121)
  user:      demo   password: demo
  directory: $demo/srv/demo (the user's root)
  config:    $demo/wardenftpd.conf

Try:
  curl ftp://demo:demo@127.0.0.1:2121/
  curl -T /etc/hostname ftp://demo:demo@127.0.0.1:2121/
  lftp -u demo,demo -p 2121 127.0.0.1
  python3 -c "import ftplib; f=ftplib.FTP(); f.connect('127.0.0.1',2121); f.login('demo','demo'); f.dir(); f.quit()"

Logs follow on this terminal; Ctrl-C stops the daemon.

TEXT
exec "$build/daemon/wardenftpd" -c "$demo/wardenftpd.conf"

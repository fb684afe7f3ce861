#!/usr/bin/env bash
# Installs the Debian 12 packages wardenftpd needs to build and to run its test suite.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get)" >&2
  exit 1
fi
packages=(
  build-essential cmake pkg-config          # toolchain
  libseccomp-dev libcap-dev libcrypt-dev    # seccomp policy compiler, capabilities, crypt(3)
  libpam0g-dev libpam-modules               # the PAM helper (system users); pam_unix for its tests
  passwd                                    # PAM tests: useradd, chpasswd, chage, groupadd
  libssl-dev openssl                        # FTPS (OpenSSL 3) and HASH's digests (libcrypto.a); the CLI makes demo/test certificates
  libgtest-dev googletest                   # unit tests
  python3 curl lftp haproxy                 # end-to-end tests drive real clients (and a load balancer)
  rclone                                    # FTPS client on Go's crypto/tls: one TLS session cache shared by parallel FTP sessions
  wget                                      # end-to-end tests: wget -c resumes a download (REST)
  strace iproute2 procps                    # policy tracing, namespaces, process checks
  groff-base                                # the man pages are checked to render cleanly
  fail2ban logrotate systemd                # the shipped fail2ban filter, logrotate, sysusers.d and tmpfiles.d entries are checked
  python3-prometheus-client                 # wardenftpd-ctl metrics is checked with Prometheus' own parser
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

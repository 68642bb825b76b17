#!/usr/bin/env bash
# A one-host Ceph cluster with a RADOS Gateway on 127.0.0.1, for chunkvault's S3 tests and bench.
#
#   scripts/ceph-s3.sh up       install the Debian packages if missing, create or restart the cluster,
#                               wait until a signed ListBuckets succeeds, print endpoint and keys
#   scripts/ceph-s3.sh down     stop the daemons this script started (data kept)
#   scripts/ceph-s3.sh stop-gateway   stop radosgw only (fault tests; `up` starts it again)
#   scripts/ceph-s3.sh purge    down, then remove the cluster directory
#   scripts/ceph-s3.sh status   one line per daemon, then whether the gateway answers
#   scripts/ceph-s3.sh env      export lines for AWS_* (eval "$(scripts/ceph-s3.sh env)")
#
# Everything lives under $CV_CEPH_DIR (default /var/lib/chunkvault-ceph) with its own ceph.conf
# passed as -c; /etc/ceph is never read or written. Daemons bind 127.0.0.1 only. One mon, one
# BlueStore OSD on a sparse file ($CV_CEPH_OSD_SIZE, default 30G), radosgw (beast) on
# 127.0.0.1:$CV_CEPH_PORT (default 7480), no mgr unless CV_CEPH_MGR=1 (it costs ~300 MiB RSS and
# S3 does not need it). The S3 user has fixed test keys. Facts: ../shared/reference/s3-ceph-notes.md.
set -euo pipefail

DIR=${CV_CEPH_DIR:-/var/lib/chunkvault-ceph}
PORT=${CV_CEPH_PORT:-7480}
OSD_SIZE=${CV_CEPH_OSD_SIZE:-30G}
FSID=7d1c0b2e-5a3f-4c8e-9b61-2f0c7e4d9a11
ACCESS_KEY=CHUNKVAULTTESTKEY001
SECRET_KEY=chunkvault-test-secret-key-0000000000001
REGION=us-east-1
ENDPOINT=http://127.0.0.1:$PORT
CONF=$DIR/ceph.conf
C=(-c "$CONF")

log() { echo "ceph-s3: $*" >&2; }
die() { log "$*"; exit 1; }

install_packages() {
  local need=()
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do command -v "$b" >/dev/null || need=(1); done
  [ "${CV_CEPH_MGR:-0}" = 1 ] && ! command -v ceph-mgr >/dev/null && need=(1)
  [ ${#need[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "the Ceph packages are missing and installing them needs root"
  log "installing Ceph from Debian's packages"
  local pkgs=(ceph-mon ceph-osd radosgw ceph-common)
  [ "${CV_CEPH_MGR:-0}" = 1 ] && pkgs+=(ceph-mgr)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; }
}

write_conf() {
  mkdir -p "$DIR"/{run,log,mon,osd,rgw}
  cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon initial members = a
mon host = [v2:127.0.0.1:${CV_CEPH_MON_PORT:-3300}]
public network = 127.0.0.1/32
public addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/\$name.keyring
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$id
osd data = $DIR/osd/\$id
mgr data = $DIR/mgr/\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $(numfmt --from=iec "$OSD_SIZE")
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 2
mon max pg per osd = 1000
osd memory target = 1073741824
[mon]
keyring = $DIR/mon/\$id/keyring
[osd]
keyring = $DIR/osd/\$id/keyring
[client.rgw.cv]
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw data = $DIR/rgw
rgw gc obj min wait = 60
rgw gc processor period = 60
rgw dns name = 127.0.0.1
EOF
}

pid_alive() { [ -f "$DIR/run/$1.pid" ] && kill -0 "$(cat "$DIR/run/$1.pid")" 2>/dev/null; }

create_cluster() {
  log "creating a new cluster in $DIR"
  write_conf
  ceph-authtool --create-keyring "$DIR/mon..keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$DIR/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$DIR/mon..keyring" --import-keyring "$DIR/client.admin.keyring" >/dev/null
  monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:${CV_CEPH_MON_PORT:-3300}]" "$DIR/monmap" >/dev/null
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon..keyring"
  touch "$DIR/mon/a/done"
}

create_osd() {
  local uuid secret id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  secret=$(ceph-authtool --gen-print-key)
  id=$(echo "{\"cephx_secret\": \"$secret\"}" | ceph "${C[@]}" osd new "$uuid" -i -)
  [ "$id" = 0 ] || die "expected osd.0, the monitor gave osd.$id"
  mkdir -p "$DIR/osd/0"
  ceph-authtool --create-keyring "$DIR/osd.0.keyring" --name osd.0 --add-key "$secret" >/dev/null
  cp "$DIR/osd.0.keyring" "$DIR/osd/0/keyring"
  ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$uuid" >"$DIR/log/osd-mkfs.log" 2>&1 || die "osd mkfs failed: see $DIR/log/osd-mkfs.log"
  touch "$DIR/osd/0/done"
}

# A daemon keeps neither the bring-up lock (fd 9) nor the caller's stdio (a test runner's pipe).
daemon() { "$@" </dev/null >>"$DIR/log/daemons.out" 2>&1 9>&-; }

start_daemons() {
  pid_alive mon.a || daemon ceph-mon "${C[@]}" -i a
  if [ "${CV_CEPH_MGR:-0}" = 1 ] && ! pid_alive mgr.x; then
    mkdir -p "$DIR/mgr/x"
    [ -f "$DIR/mgr.x.keyring" ] || ceph "${C[@]}" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$DIR/mgr.x.keyring"
    daemon ceph-mgr "${C[@]}" -i x
  fi
  [ -f "$DIR/osd/0/done" ] || create_osd
  pid_alive osd.0 || daemon ceph-osd "${C[@]}" -i 0
  [ -f "$DIR/client.rgw.cv.keyring" ] ||
    ceph "${C[@]}" auth get-or-create client.rgw.cv mon 'allow rw' osd 'allow rwx' -o "$DIR/client.rgw.cv.keyring"
  pid_alive client.rgw.cv || daemon radosgw "${C[@]}" -n client.rgw.cv
}

# A signed ListBuckets (curl's SigV4; RGW needs the payload header).
list_buckets() {
  curl -sf -m 5 --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$ENDPOINT/" >/dev/null 2>&1
}

ensure_user() {
  [ -f "$DIR/user.done" ] && return
  local i
  for i in $(seq 1 60); do
    if radosgw-admin "${C[@]}" -n client.admin user info --uid cvtest >/dev/null 2>&1 ||
      radosgw-admin "${C[@]}" -n client.admin user create --uid cvtest --display-name 'chunkvault tests' \
        --access-key "$ACCESS_KEY" --secret "$SECRET_KEY" >/dev/null 2>&1; then
      touch "$DIR/user.done"
      return
    fi
    sleep 1
  done
  die "could not create the S3 user (see $DIR/log)"
}

print_env() {
  echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY"
  echo "export AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
  echo "export AWS_REGION=$REGION"
  echo "export AWS_ENDPOINT_URL=$ENDPOINT"
}

up() {
  # Concurrent callers (test files in parallel) wait for one bring-up instead of racing it.
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock 9
  install_packages
  local t0=$SECONDS
  if [ ! -f "$DIR/mon/a/done" ]; then
    rm -rf "$DIR"
    create_cluster
  fi
  write_conf
  start_daemons
  ensure_user
  local i
  for i in $(seq 1 120); do
    if list_buckets; then
      log "gateway ready in $((SECONDS - t0)) s"
      echo "endpoint:   $ENDPOINT"
      echo "access key: $ACCESS_KEY"
      echo "secret key: $SECRET_KEY"
      echo "region:     $REGION"
      return
    fi
    sleep 0.5
  done
  die "radosgw did not answer a signed ListBuckets on $ENDPOINT (see $DIR/log)"
}

down() {
  local d pid
  for d in ${1:-client.rgw.cv osd.0 mgr.x mon.a}; do
    [ -f "$DIR/run/$d.pid" ] || continue
    pid=$(cat "$DIR/run/$d.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$DIR/run/$d.pid"
  done
  log "stopped"
}

status() {
  local d
  for d in mon.a mgr.x osd.0 client.rgw.cv; do
    if pid_alive "$d"; then echo "$d running (pid $(cat "$DIR/run/$d.pid"))"; else echo "$d stopped"; fi
  done
  if list_buckets; then echo "gateway $ENDPOINT answers"; else echo "gateway $ENDPOINT does not answer"; return 1; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  stop-gateway) down client.rgw.cv ;;
  purge) down; rm -rf "$DIR"; log "removed $DIR" ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|stop-gateway|purge|status|env" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# S3 phases against the local Ceph gateway (scripts/ceph-s3.sh), with rclone and restic baselines
# on the same data: backup, check and restore MB/s, and CPU seconds per GiB for the client and for
# the gateway (radosgw + the OSD, read from /proc). A measuring aid, not the bench harness: the
# figures depend on what else runs on the machine (on 2 cores the gateway competes for CPU).
#
#   scripts/bench-s3.sh [size]      size of generated quotes data, default 500MB
#
# Needs root (Ceph), rclone and restic (apt-get install rclone restic), and a built dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-500MB}
WORK=$(mktemp -d /tmp/cv-bench-s3.XXXXXX)
RUN=$(date +%s)
# The run's buckets go when it ends: the OSD is a 30 GB sparse file, and a day of runs filled it
# once (the gateway then stops answering).
cleanup() {
  local b
  for b in cv rclone restic; do
    radosgw-admin -c "${CV_CEPH_DIR:-/var/lib/chunkvault-ceph}/ceph.conf" -n client.admin bucket rm --bucket "cvbench-$b-$RUN" --purge-objects >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
scripts/ceph-s3.sh up >/dev/null
eval "$(scripts/ceph-s3.sh env)"
DIR=${CV_CEPH_DIR:-/var/lib/chunkvault-ceph}
CV=(node dist/cli/main.js --home "$WORK/home")

mkbucket() {
  curl -sf -X PUT --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$AWS_ENDPOINT_URL/$1" >/dev/null
}
# CPU ticks (user + system) of the gateway's daemons.
gw_ticks() {
  local t=0 d pid
  for d in client.rgw.cv osd.0; do
    pid=$(cat "$DIR/run/$d.pid")
    t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$t"
}
HZ=$(getconf CLK_TCK)
ROWS=()
# phase NAME BYTES CMD...: wall time, client CPU (children's rusage), gateway CPU.
phase() {
  local name=$1 bytes=$2
  shift 2
  sync
  echo 3 >/proc/sys/vm/drop_caches
  local g0 c0 c1 t0 t1
  g0=$(gw_ticks)
  c0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  t0=$(date +%s.%N)
  "$@" >"$WORK/$name.out" 2>&1 || { echo "$name failed:"; cat "$WORK/$name.out"; exit 1; }
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  local g1
  g1=$(gw_ticks)
  ROWS+=("$(awk -v n="$name" -v b="$bytes" -v s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v c="$(((c1 - c0)))" -v g="$((g1 - g0))" -v hz="$HZ" \
    'BEGIN { gib = b / 2^30; printf "| %s | %.1f | %.1f | %.1f | %.1f |", n, s, b / s / 1e6, c / hz / gib, g / hz / gib }')")
}

echo "generating $SIZE of quotes data in $WORK/home"
"${CV[@]}" init >/dev/null
"${CV[@]}" generate --size "$SIZE" >/dev/null
BYTES=$(du -sb "$WORK/home/volumes" | cut -f1)
for b in cv rclone restic; do mkbucket "cvbench-$b-$RUN"; done

# Both generated databases, as rclone and restic copy every volume.
cv_all() {
  local db
  for db in testdb testdb_tsdb; do
    case $1 in
      backup) "${CV[@]}" backup-db "s3://cvbench-cv-$RUN/b" "dfs://$db" ;;
      check) "${CV[@]}" check "s3://cvbench-cv-$RUN/b" "dfs://$db" ;;
      restore) "${CV[@]}" restore-db "s3://cvbench-cv-$RUN/b" "dfs://$db" "dfs://${db}_r" ;;
    esac
  done
}
phase "chunkvault backup-db" "$BYTES" cv_all backup
phase "chunkvault check" "$BYTES" cv_all check
phase "chunkvault restore-db" "$BYTES" cv_all restore

export RCLONE_CONFIG_CEPH_TYPE=s3 RCLONE_CONFIG_CEPH_PROVIDER=Ceph RCLONE_CONFIG_CEPH_ENDPOINT=$AWS_ENDPOINT_URL \
  RCLONE_CONFIG_CEPH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_CEPH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
# rclone 1.60 fails on an AWS_CA_BUNDLE it cannot apply to its transport (LoadCustomCABundleError): plain http here.
unset AWS_CA_BUNDLE
phase "rclone copy (up)" "$BYTES" rclone copy "$WORK/home/volumes" "ceph:cvbench-rclone-$RUN/v" --transfers 8
phase "rclone copy (down)" "$BYTES" rclone copy "ceph:cvbench-rclone-$RUN/v" "$WORK/rclone-down" --transfers 8

export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="s3:$AWS_ENDPOINT_URL/cvbench-restic-$RUN"
restic init >/dev/null
phase "restic backup" "$BYTES" restic backup "$WORK/home/volumes"
phase "restic restore" "$BYTES" restic restore latest --target "$WORK/restic-down"

echo
echo "$(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), data $((BYTES / 1000000)) MB"
echo
echo "| phase | s | MB/s | client CPU-s/GiB | gateway CPU-s/GiB |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"

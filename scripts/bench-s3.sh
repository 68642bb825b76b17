#!/usr/bin/env bash
# The bench's S3 phases against the local Ceph gateway (scripts/ceph-s3.sh): brings the gateway up,
# makes a bucket for the run, runs `chunkvault bench --backup-dir s3://<bucket>/bench` (backup,
# check and restore against the bucket; rclone copy and restic s3: on the same files; client and
# gateway CPU per GiB: src/bench/phase-s3.ts), then removes the bucket.
#
#   scripts/bench-s3.sh [size] [bench flags...]      size of generated quotes data, default 500MB
#
# Needs root (Ceph), rclone and restic (apt-get install rclone restic), and a built dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-500MB}
shift || true
scripts/ceph-s3.sh up >/dev/null
eval "$(scripts/ceph-s3.sh env)"
BUCKET=cvbench-$(date +%s)
# The OSD is a 30 GB sparse file; a day of runs that left their buckets filled it once.
trap 'radosgw-admin -c "${CV_CEPH_DIR:-/var/lib/chunkvault-ceph}/ceph.conf" -n client.admin bucket rm --bucket "$BUCKET" --purge-objects >/dev/null 2>&1 || true' EXIT
curl -sf -X PUT --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$AWS_ENDPOINT_URL/$BUCKET" >/dev/null
node dist/cli/main.js bench --size "$SIZE" --backup-dir "s3://$BUCKET/bench" --label "s3-${SIZE,,}" --no-dataio "$@"

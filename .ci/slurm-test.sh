#!/usr/bin/env bash
# The Slurm test of `dltrain sweep --emit slurm`, on a real one-node cluster.
#
# It installs Debian's slurm-wlm and munge when they are missing, starts a
# private cluster in a temporary directory (munged on its own socket and
# key, slurmctld and slurmd on localhost, a slurm.conf written from this
# machine's hostname, CPUs and memory; no accounting database), then runs
# TestSweepOnSlurm (cmd/dltrain/slurm_test.go): a sweep submitted with
# sbatch as an array job, one task requeued in the middle of a trial, and
# the journal checked for every trial finished once and that trial resumed
# from its checkpoint. Whatever happens, the daemons it started are
# stopped; on a failure their logs are printed.
#
# Run as root (CI does): bash .ci/slurm-test.sh
# A cluster that cannot start is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH:/usr/sbin:/sbin"

say() { echo "slurm-test: $*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root: it starts munged, slurmctld and slurmd"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V)"

work=$(mktemp -d /tmp/dltrain-slurm.XXXXXX)
chmod 755 "$work" # munged wants every directory above its socket searchable
mkdir -p "$work/munge-key" "$work/munge-run" "$work/state" "$work/spool" "$work/log"
chmod 700 "$work/munge-key"
chmod 755 "$work/munge-run"
export SLURM_CONF="$work/slurm.conf"

# stop_daemon PIDFILE NAME: TERM, then KILL after 10 s.
stop_daemon() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  say "$2 (PID $pid) did not stop on SIGTERM; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    for f in "$work"/log/slurmctld.log "$work"/log/slurmd.log "$work"/munge-key/munged.log; do
      [ -f "$f" ] && { echo "----- last lines of $f"; tail -n 60 "$f"; }
    done
    [ -f "$SLURM_CONF" ] && { echo "----- $SLURM_CONF"; cat "$SLURM_CONF"; }
  fi
  if [ -f "$work/slurmctld.pid" ]; then # the cluster is ours alone: end whatever is left on it
    timeout 20 scancel --quiet --user=root 2>/dev/null || true
  fi
  stop_daemon "$work/slurmd.pid" slurmd
  stop_daemon "$work/slurmctld.pid" slurmctld
  stop_daemon "$work/munge-run/munged.pid" munged
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# Two free TCP ports for slurmctld and slurmd (not the defaults: a Slurm
# the machine runs already may hold them).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ctld_port=16817
while ! port_free "$ctld_port" || ! port_free "$((ctld_port + 1))"; do
  ctld_port=$((ctld_port + 2))
  [ "$ctld_port" -lt 16900 ] || die "no two free TCP ports between 16817 and 16900"
done

dd if=/dev/urandom of="$work/munge-key/munge.key" bs=1024 count=1 status=none
chmod 600 "$work/munge-key/munge.key"
munged --socket="$work/munge-run/munge.socket" --key-file="$work/munge-key/munge.key" \
  --pid-file="$work/munge-run/munged.pid" --log-file="$work/munge-key/munged.log" \
  --seed-file="$work/munge-key/munged.seed" || die "munged did not start"
munge -S "$work/munge-run/munge.socket" -n | unmunge -S "$work/munge-run/munge.socket" >/dev/null ||
  die "munge cannot encode and decode a credential"

# The node as slurmd sees this machine: NodeName=HOST CPUs=... RealMemory=...
node_line=$(slurmd -C | head -n 1)
node=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node_line")
[ -n "$node" ] || die "slurmd -C printed no NodeName: $node_line"
cat >"$SLURM_CONF" <<EOF
# A one-node cluster for dltrain's CI, written by .ci/slurm-test.sh.
ClusterName=dltrain-ci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/munge-run/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
PlugStackConfig=/dev/null
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=30
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -i || die "slurmctld did not start"
slurmd -N "$node" || die "slurmd did not start"
say "waiting for node $node to be idle"
for i in $(seq 1 150); do
  state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  [ "$i" -lt 150 ] || die "node $node is '${state:-unknown}' after 30 s, not idle"
  sleep 0.2
done
say "cluster up: $node_line, ports $ctld_port/$((ctld_port + 1))"

start=$(date +%s)
TEST_SLURM_CLUSTER=1 timeout 600 go test -count=1 -run '^TestSweepOnSlurm$' -v ./cmd/dltrain ||
  die "TestSweepOnSlurm failed (daemon logs below)"
say "passed in $(($(date +%s) - start)) s"

#!/usr/bin/env bash
# Start or stop a single-node SLURM cluster on this machine (Debian, root, no systemd, no
# cgroups), for testing the workflow's SLURM profile for real.
#   .ci/slurm-cluster.sh start   install (apt) if needed, write configs, start munged/slurmctld/slurmd
#   .ci/slurm-cluster.sh stop    stop exactly the daemons started here
# No accounting database: run Snakemake with `--slurm-status-command squeue`.
set -euo pipefail
state=/var/run/sar4tec-slurm
action=${1:-start}

if [ "$action" = stop ]; then
  [ -d "$state" ] || exit 0
  for pidfile in "$state"/*.pid; do
    [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 3
  rm -rf "$state"
  exit 0
fi

if command -v sinfo >/dev/null && sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed|allocated'; then
  echo "SLURM already up: $(sinfo -h -o '%P %D %c %m %T')"
  exit 0
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi
mkdir -p "$state" /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm \
  /run/munge /var/lib/munge /var/log/munge /etc/munge
host=$(hostname -s)
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
cpus=$(nproc)

if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0400 /etc/munge/munge.key
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge

cat > /etc/slurm/slurm.conf <<CONF
ClusterName=sar4tec-ci
SlurmctldHost=${host}(127.0.0.1)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherParams=OverMemoryKill
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=$((mem - 512)) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

su -s /bin/sh munge -c "/usr/sbin/munged --pid-file=/run/munge/munged.pid" 
cp /run/munge/munged.pid "$state/munged.pid"
slurmctld -i
slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then
    echo "SLURM up: $(sinfo -h -o '%P %D %c %m %T')"
    exit 0
  fi
  sleep 1
done
echo "SLURM did not come up; see /var/log/slurm/" >&2
exit 1

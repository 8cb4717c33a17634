# Stops a cluster for good: teardown.sh GROUP DIR [CGROUP [VETH]] (see teardown.rs).
# Runs when the harness drops a cluster, when its watchdog sees the test process gone,
# and for `cargo xtask cluster down`; every step is safe to repeat.
group=$1 dir=$2 cgroup=$3 veth=$4

# The cluster's own processes: one process group.
[ -n "$group" ] && [ "$group" != 0 ] && kill -KILL "-$group" 2>/dev/null

# What left the group (containerd's shims call setsid, and the pods' processes are
# theirs): everything in the node's cgroup subtree, until none is left.
if [ -n "$cgroup" ]; then
    rounds=0
    while :; do
        pids=$(for d in /sys/fs/cgroup/*/"$cgroup"; do
            [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} +
        done 2>/dev/null | sort -u)
        [ -z "$pids" ] && break
        rounds=$((rounds + 1))
        [ "$rounds" -gt 100 ] && break
        kill -KILL $pids 2>/dev/null
        sleep 0.1
    done
    for d in /sys/fs/cgroup/*/"$cgroup"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
fi

# The node's network namespace went with its last process, and its end of the veth pair
# with it; the host's end goes with its pair, or here.
[ -n "$veth" ] && ip link delete "$veth" 2>/dev/null

# Mounts were made in the node's private mount namespace, which is gone too: nothing
# under the directory is mounted on the host.
[ -n "$dir" ] && rm -rf -- "$dir"
exit 0

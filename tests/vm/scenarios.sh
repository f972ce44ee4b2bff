#!/bin/sh
# Where memgate runs without being root in the root cgroup, in a cgroup v2
# guest (busybox sh, as root, from /mg). Each scenario prints PASS/FAIL;
# the exit status is the number of failures.
#   runner-sudo   GitHub-hosted runner: the job's cgroup (system.slice/
#                 runner.service) holds processes and is root's; memgate runs
#                 through sudo, creates the cgroup as root under the nearest
#                 delegating ancestor and runs the fixture as the runner user.
#   laptop        an unprivileged user inside a delegated user@1001.service:
#                 memgate uses its own writable subtree, no root at all.
#   unit          an unprivileged user alone in a delegated unit whose parent
#                 it cannot write: memgate steps into a leaf of its own cgroup.
#   no-cgroup     an unprivileged user in a cgroup it cannot write: /proc
#                 only, with the reason and a one-line hint on stderr; a config
#                 that demands cgroup-v2 is then an error (exit 3).
cg=/sys/fs/cgroup
fails=0
pass() { echo "scenario $1: PASS"; }
fail() {
	echo "scenario $1: FAIL: $2"
	fails=$((fails + 1))
}
has() { grep -q "$2" "$1"; }

# Each scenario runs in a subshell that moves itself into its cgroup first
# ("0" is the writing process; $$ would be the parent shell in a subshell).
mkdir -p $cg/system.slice/runner.service
echo +memory >$cg/system.slice/cgroup.subtree_control
(
	echo 0 >$cg/system.slice/runner.service/cgroup.procs
	# what `sudo` leaves in the environment, here without sudo itself
	SUDO_UID=1001 SUDO_GID=1001 SUDO_USER=runner build/memgate measure --json /tmp/s1.json \
		-- sh -c 'id -u >/tmp/s1.uid; build/workload hold 32 100' 2>/tmp/s1.err
	echo $? >/tmp/s1.rc
	SUDO_UID=1001 SUDO_GID=1001 SUDO_USER=runner build/memgate doctor --json /tmp/d1.json >/tmp/d1.out 2>&1
	echo $? >/tmp/d1.rc
)
if [ "$(cat /tmp/s1.rc)" != 0 ]; then
	fail runner-sudo "exit $(cat /tmp/s1.rc): $(cat /tmp/s1.err)"
elif ! has /tmp/s1.json '"method": "cgroup-v2"'; then
	fail runner-sudo "not measured with cgroup-v2: $(grep -A3 '"method"' /tmp/s1.json)"
elif [ "$(cat /tmp/s1.uid)" != 1001 ]; then
	fail runner-sudo "fixture ran as uid $(cat /tmp/s1.uid), not 1001"
elif ! grep -q '"cgroup_bytes": 3[3-9][0-9]\{6\}' /tmp/s1.json; then
	fail runner-sudo "cgroup peak not ~32 MiB: $(grep cgroup_bytes /tmp/s1.json)"
elif [ "$(cat /tmp/d1.rc)" != 0 ] || ! has /tmp/d1.json '"backend": "cgroup-v2"' || ! has /tmp/d1.out 'uid 1001'; then
	fail runner-sudo "doctor disagrees (exit $(cat /tmp/d1.rc)): $(cat /tmp/d1.out)"
else
	pass runner-sudo
fi

# A delegated user@1001.service, as systemd makes it for a logged-in user.
u=$cg/user.slice/user-1001.slice/user@1001.service
mkdir -p $u/session.scope
echo +memory >$cg/user.slice/cgroup.subtree_control
echo +memory >$cg/user.slice/user-1001.slice/cgroup.subtree_control
chown 1001:1001 $u $u/cgroup.procs $u/cgroup.subtree_control $u/cgroup.threads
echo +memory >$u/cgroup.subtree_control
chown -R 1001:1001 $u/session.scope
(
	echo 0 >$u/session.scope/cgroup.procs
	su runner -s /bin/sh -c 'cd /mg && build/memgate measure --json /tmp/s2.json -- build/workload hold 32 100' \
		2>/tmp/s2.err
	echo $? >/tmp/s2.rc
	su runner -s /bin/sh -c 'cd /mg && build/memgate doctor' >/tmp/d2.out 2>&1
	echo $? >/tmp/d2.rc
)
if [ "$(cat /tmp/s2.rc)" != 0 ]; then
	fail laptop "exit $(cat /tmp/s2.rc): $(cat /tmp/s2.err)"
elif ! has /tmp/s2.json '"method": "cgroup-v2"'; then
	fail laptop "not measured with cgroup-v2: $(grep -A3 '"method"' /tmp/s2.json)"
elif [ "$(cat /tmp/d2.rc)" != 0 ] || ! has /tmp/d2.out 'exact measurement available (cgroup-v2)'; then
	fail laptop "doctor disagrees (exit $(cat /tmp/d2.rc)): $(cat /tmp/d2.out)"
else
	pass laptop
fi

# A delegated unit (systemd-run -p Delegate=yes, a rootless container) in
# which memgate is the only process, under a parent it cannot write: it
# steps into a leaf to enable the memory controller, then restores it all.
mkdir -p $cg/system.slice/app.service
a=$cg/system.slice/app.service
chown 1001:1001 $a $a/cgroup.procs $a/cgroup.subtree_control $a/cgroup.threads
(
	echo 0 >$a/cgroup.procs
	exec su runner -s /bin/sh -c 'cd /mg && exec build/memgate measure --json /tmp/s5.json -- build/workload hold 32 100' \
		2>/tmp/s5.err
)
echo $? >/tmp/s5.rc
if [ "$(cat /tmp/s5.rc)" != 0 ]; then
	fail unit "exit $(cat /tmp/s5.rc): $(cat /tmp/s5.err)"
elif ! has /tmp/s5.json '"method": "cgroup-v2"' || ! has /tmp/s5.json 'moved itself into'; then
	fail unit "not measured from a leaf: $(grep -A6 '"method"' /tmp/s5.json)"
elif [ -n "$(cat $a/cgroup.subtree_control)" ] || [ -n "$(ls -d $a/memgate-* 2>/dev/null)" ]; then
	fail unit "not restored: subtree_control '$(cat $a/cgroup.subtree_control)', $(ls -d $a/memgate-* 2>/dev/null)"
else
	pass unit
fi

# An unprivileged user in a cgroup it cannot write.
mkdir -p $cg/system.slice/locked.service
(
	echo 0 >$cg/system.slice/locked.service/cgroup.procs
	su runner -s /bin/sh -c 'cd /mg && build/memgate measure --json /tmp/s3.json -- build/workload hold 32 100' \
		2>/tmp/s3.err
	echo $? >/tmp/s3.rc
	su runner -s /bin/sh -c 'cd /mg && build/memgate measure --measurement cgroup-v2 --json /tmp/s4.json \
		-- build/workload hold 1 10' 2>/tmp/s4.err
	echo $? >/tmp/s4.rc
	su runner -s /bin/sh -c 'cd /mg && build/memgate doctor' >/tmp/d3.out 2>&1
	echo $? >/tmp/d3.rc
)
if [ "$(cat /tmp/s3.rc)" != 0 ]; then
	fail no-cgroup "exit $(cat /tmp/s3.rc): $(cat /tmp/s3.err)"
elif ! has /tmp/s3.json '"method": "proc"' || ! has /tmp/s3.json 'not writable: EACCES'; then
	fail no-cgroup "expected proc with an EACCES reason: $(grep -A3 '"method"' /tmp/s3.json)"
elif ! has /tmp/s3.err 'run through sudo, or pass --cgroup-root a writable cgroup'; then
	fail no-cgroup "no hint on stderr: $(cat /tmp/s3.err)"
elif [ "$(cat /tmp/s4.rc)" != 3 ] || ! has /tmp/s4.json 'is required by the config but unavailable'; then
	fail no-cgroup "a demanded cgroup-v2 must exit 3, got $(cat /tmp/s4.rc)"
elif [ "$(cat /tmp/d3.rc)" != 1 ] || ! has /tmp/d3.out 'only sampled measurement available (proc)' ||
	! has /tmp/d3.out 'fix: run through sudo'; then
	fail no-cgroup "doctor disagrees (exit $(cat /tmp/d3.rc)): $(cat /tmp/d3.out)"
else
	pass no-cgroup
fi

for d in system.slice/runner.service system.slice/locked.service system.slice/app.service user.slice/user-1001.slice/user@1001.service/session.scope; do
	rmdir $cg/$d 2>/dev/null
done
exit $fails

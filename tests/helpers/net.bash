# shellcheck shell=bash
# Loopback ports for the servers that tests and benchmarks start.

# free_port: a TCP port on loopback for a server a test starts. A port the
# kernel hands out for bind(0) can be handed again to another test, or taken
# as the source port of an outgoing connection, before that server binds
# it; so the port comes from below the kernel's ephemeral range, is free
# when picked, and is reserved for ten minutes (a directory made with
# mkdir(2), atomic across the tests that run in parallel), ample for the
# server to bind it.
free_port() {
    python3 - "${TMPDIR:-/tmp}/certctl-test-ports" <<'PY'
import os, random, socket, sys, time
top = sys.argv[1]
os.makedirs(top, exist_ok=True)
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    ephemeral = int(f.read().split()[0])
low, high = 10000, max(ephemeral, 10001)
for _ in range(1000):
    port = random.randrange(low, high)
    mark = os.path.join(top, str(port))
    try:
        os.mkdir(mark)
    except FileExistsError:
        try:
            if time.time() - os.stat(mark).st_mtime < 600:
                continue
            os.utime(mark)
        except OSError:
            continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("free_port: no free port below %d" % high)
PY
}

# wait_for SECONDS WHAT COMMAND...: poll COMMAND until it succeeds; give
# up after SECONDS times the slowdown ($SLOWDOWN, from CERTCTL_SLOWDOWN:
# valgrind runs are many times slower), saying what never happened. The
# bound is only there so a broken test fails instead of hanging: tests wait
# for events, never for a fixed time.
wait_for() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds * ${SLOWDOWN:-${CERTCTL_SLOWDOWN:-1}}))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "waited $((seconds * ${SLOWDOWN:-${CERTCTL_SLOWDOWN:-1}})) s for $what: it never happened" >&2
            return 1
        fi
        sleep 0.05
    done
}

# port_open PORT: something accepts on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# port_closed PORT: nothing accepts on 127.0.0.1:PORT.
port_closed() {
    ! port_open "$1"
}

# lock_held FILE: another process holds flock(2) on FILE (certdir/.lock).
lock_held() {
    ! flock -n "$1" true
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT.
wait_port() {
    wait_for 30 "a server on port $1" port_open "$1"
}

# stop_pids PID...: stop servers this shell started, and wait until each
# is gone (its port free again); pids that are gone already are fine.
stop_pids() {
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

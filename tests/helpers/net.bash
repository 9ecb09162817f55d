# shellcheck shell=bash
# Loopback ports for the servers that tests and benchmarks start.

# A free TCP port on loopback (the kernel picks it).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
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

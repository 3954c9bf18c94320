#!/usr/bin/env bash
# A private MariaDB primary + replica on this machine, for the replica tests and the hammer.
#
#   deploy/local/cluster.sh up      start both (creating them the first time), wait until the
#                                   replica replicates, print DATABASE_URL / DATABASE_REPLICA_URL
#   deploy/local/cluster.sh status  what is running and the replica's SHOW SLAVE STATUS summary
#   deploy/local/cluster.sh down    stop exactly the two mariadbd processes `up` started
#   deploy/local/cluster.sh env     print the URLs only (for `eval "$(… env)"`)
#   deploy/local/cluster.sh stop replica|primary   stop one node (tests: "the replica died");
#                                   `up` starts it again and replication resumes
#   deploy/local/cluster.sh destroy down, then delete the data folder
#
# The primary writes a binary log with GTIDs; the replica follows it with MASTER_USE_GTID and
# runs read_only. Both listen on 127.0.0.1 only, on ports of their own (CLUSTER_PRIMARY_PORT,
# default 3307; CLUSTER_REPLICA_PORT, default 3308), with their data, sockets, logs and pid
# files under CLUSTER_DIR (default var/cluster/, git-ignored). Nothing else on the machine is
# touched: the shared MariaDB on 3306 keeps running. Needs Debian's mariadb-server (installed
# when missing). As root, mariadbd runs with --user=root.
#
# Accounts (created on the primary, replicated to the replica):
#   root@127.0.0.1    no password, everything    -> DATABASE_URL and the admin URL
#   reader@127.0.0.1  no password, SELECT + SLAVE MONITOR only -> DATABASE_REPLICA_URL, so the
#                     application cannot write to the replica even by mistake
#   repl@127.0.0.1    replication only
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=${CLUSTER_DIR:-$PWD/var/cluster}
PRIMARY_PORT=${CLUSTER_PRIMARY_PORT:-3307}
REPLICA_PORT=${CLUSTER_REPLICA_PORT:-3308}
DB=${CLUSTER_DATABASE:-op_cluster}
NODES=(primary replica)

log() { printf 'cluster: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

port_of() { if [ "$1" = primary ]; then echo "$PRIMARY_PORT"; else echo "$REPLICA_PORT"; fi; }
sock_of() { echo "$DIR/$1/mysqld.sock"; }
pidfile_of() { echo "$DIR/$1.pid"; }

sql() {  # sql NODE STATEMENTS...: run as root over the node's own socket
    local node=$1; shift
    mariadb --no-defaults -uroot --socket="$(sock_of "$node")" -N -B -e "$*"
}

running_pid() {  # the recorded pid of NODE if that process is alive and is our mariadbd
    local file pid
    file=$(pidfile_of "$1")
    [ -f "$file" ] || return 1
    pid=$(cat "$file")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    # Only a process whose command line names this node's data folder is ours.
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--datadir=$DIR/$1/data" || return 1
    echo "$pid"
}

ensure_server_package() {
    if command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null; then
        return
    fi
    log "installing Debian's mariadb-server"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server
    # The package starts the system server; this script does not need it and leaves it alone.
}

server_options() {  # server_options NODE: the command line of the node's mariadbd
    local node=$1 id=1
    [ "$node" = replica ] && id=2
    local opts=(
        --no-defaults
        "--datadir=$DIR/$node/data"
        "--socket=$(sock_of "$node")"
        "--pid-file=$DIR/$node/mysqld.pid"
        "--log-error=$DIR/$node/error.log"
        --bind-address=127.0.0.1
        "--port=$(port_of "$node")"
        --skip-name-resolve
        "--server-id=$id"
        --log-bin=mysql-bin
        --binlog-format=ROW
        --log-slave-updates=1
        --gtid-strict-mode=1
        --character-set-server=utf8mb4
        --collation-server=utf8mb4_unicode_ci
        --innodb-buffer-pool-size=64M
        --innodb-log-file-size=48M
        --performance-schema=0
        --max-connections=300
        --expire-logs-days=1
    )
    if [ "$node" = replica ]; then
        opts+=(--read-only=1 --relay-log=relay-bin --slave-net-timeout=10)
    fi
    [ "$(id -u)" = 0 ] && opts+=(--user=root)
    printf '%s\n' "${opts[@]}"
}

start_node() {
    local node=$1 pid
    if pid=$(running_pid "$node"); then
        log "$node already running (pid $pid, port $(port_of "$node"))"
        return
    fi
    mkdir -p "$DIR/$node"
    if [ ! -d "$DIR/$node/data/mysql" ]; then
        log "creating the $node's data folder"
        local user_opt=()
        [ "$(id -u)" = 0 ] && user_opt=(--user=root)
        mariadb-install-db --no-defaults "--datadir=$DIR/$node/data" "${user_opt[@]}" \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$DIR/$node/install.log" 2>&1 || {
            cat "$DIR/$node/install.log" >&2
            return 1
        }
    fi
    mapfile -t opts < <(server_options "$node")
    nohup mariadbd "${opts[@]}" >"$DIR/$node/stdout.log" 2>&1 </dev/null &
    echo $! >"$(pidfile_of "$node")"
    for _ in $(seq 60); do
        if sql "$node" "SELECT 1" >/dev/null 2>&1; then
            log "$node up (pid $(cat "$(pidfile_of "$node")"), port $(port_of "$node"))"
            return
        fi
        if ! running_pid "$node" >/dev/null; then
            log "$node exited during start-up; its log:"
            tail -n 30 "$DIR/$node/error.log" >&2 || true
            return 1
        fi
        sleep 1
    done
    log "$node did not answer within 60 s"
    return 1
}

configure_primary() {
    # Idempotent; replicated to the replica through the binary log like everything else.
    sql primary "
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl';
        GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
        CREATE USER IF NOT EXISTS 'reader'@'127.0.0.1';
        GRANT SELECT, SLAVE MONITOR ON *.* TO 'reader'@'127.0.0.1';
        CREATE DATABASE IF NOT EXISTS \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    "
    # Named time zones (USE_TZ with Asia/Shanghai: the admin's date drill-down needs them);
    # loaded once on the primary, replicated like the rest.
    if [ "$(sql primary "SELECT COUNT(*) FROM mysql.time_zone_name")" = 0 ] \
        && [ -d /usr/share/zoneinfo ]; then
        log "loading time zones into the primary"
        mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null \
            | mariadb --no-defaults -uroot --socket="$(sock_of primary)" mysql
    fi
}

configure_replica() {
    local configured
    configured=$(sql replica "SHOW SLAVE STATUS" | wc -l)
    if [ "${configured:-0}" = 0 ]; then
        log "pointing the replica at the primary (GTID)"
        sql replica "
            CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$PRIMARY_PORT,
                MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos,
                MASTER_CONNECT_RETRY=1;
        "
    fi
    sql replica "START SLAVE" >/dev/null 2>&1 || true
}

slave_field() {  # slave_field NAME: one field of the replica's SHOW SLAVE STATUS
    mariadb --no-defaults -uroot --socket="$(sock_of replica)" -e "SHOW SLAVE STATUS\G" 2>/dev/null \
        | awk -v k="$1:" '$1 == k {print $2}'
}

wait_caught_up() {
    local target
    target=$(sql primary "SELECT @@gtid_binlog_pos")
    for _ in $(seq 60); do
        if [ "$(slave_field Slave_IO_Running)" = Yes ] \
            && [ "$(slave_field Slave_SQL_Running)" = Yes ] \
            && [ "$(sql replica "SELECT MASTER_GTID_WAIT('$target', 1)")" = 0 ]; then
            log "replica replicating, caught up with the primary at GTID $target"
            return
        fi
        sleep 1
    done
    log "replica did not catch up within 60 s:"
    mariadb --no-defaults -uroot --socket="$(sock_of replica)" -e "SHOW SLAVE STATUS\G" >&2 || true
    return 1
}

print_env() {
    echo "DATABASE_URL=mysql://root@127.0.0.1:$PRIMARY_PORT/$DB"
    echo "DATABASE_REPLICA_URL=mysql://reader@127.0.0.1:$REPLICA_PORT/$DB"
    echo "DATABASE_REPLICA_ADMIN_URL=mysql://root@127.0.0.1:$REPLICA_PORT/$DB"
}

stop_node() {
    local node=$1 pid
    if ! pid=$(running_pid "$node"); then
        log "$node not running"
        rm -f "$(pidfile_of "$node")"
        return
    fi
    kill -TERM "$pid"
    for _ in $(seq 60); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$node stopped (pid $pid)"
            rm -f "$(pidfile_of "$node")"
            return
        fi
        sleep 0.5
    done
    log "$node (pid $pid) ignored TERM for 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$(pidfile_of "$node")"
}

case "${1:-}" in
up)
    ensure_server_package
    start_node primary
    configure_primary
    start_node replica
    configure_replica
    wait_caught_up
    print_env
    ;;
down)
    # The replica first, so it does not log the primary going away as an error.
    stop_node replica
    stop_node primary
    ;;
stop)
    case "${2:-}" in
    primary | replica) stop_node "$2" ;;
    *)
        echo "usage: $0 stop primary|replica" >&2
        exit 2
        ;;
    esac
    ;;
destroy)
    stop_node replica
    stop_node primary
    rm -rf "$DIR"
    log "removed $DIR"
    ;;
env)
    print_env
    ;;
status)
    for node in "${NODES[@]}"; do
        if pid=$(running_pid "$node"); then
            echo "$node: running (pid $pid, 127.0.0.1:$(port_of "$node"))"
        else
            echo "$node: stopped"
        fi
    done
    if running_pid replica >/dev/null; then
        for field in Slave_IO_Running Slave_SQL_Running Seconds_Behind_Master Gtid_IO_Pos \
            Last_Error; do
            echo "replica $field: $(slave_field "$field")"
        done
    fi
    ;;
*)
    echo "usage: $0 up|down|status|env|stop NODE|destroy" >&2
    exit 2
    ;;
esac

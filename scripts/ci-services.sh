#!/usr/bin/env bash
# Installs (Debian packages) and starts the local services the tests use, on 127.0.0.1 only:
# PostgreSQL (store adapter), Redis (BullMQ sweeps), Chromium (dashboard browser tests).
# Prints `export VAR=...` lines to eval; a service that cannot start is left unset and the
# tests that need it skip and say so.
set -u
log=/tmp/volfolio-ci-services.log
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  echo "installing ${need[*]} (apt)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >>"$log" 2>&1 || echo "apt install failed, see $log" >&2
fi

# PostgreSQL: a throwaway cluster in /tmp owned by the postgres user, bound to 127.0.0.1:55432.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$pgbin" ] && id postgres >/dev/null 2>&1; then
  pgdata=/tmp/volfolio-pg
  if ! su postgres -c "$pgbin/pg_ctl -D $pgdata status" >/dev/null 2>&1; then
    rm -rf "$pgdata"
    su postgres -c "$pgbin/initdb -D $pgdata -A trust -U postgres" >>"$log" 2>&1
    su postgres -c "$pgbin/pg_ctl -D $pgdata -l $pgdata.log -o '-c listen_addresses=127.0.0.1 -p 55432 -k /tmp' -w start" >>"$log" 2>&1
  fi
  if su postgres -c "$pgbin/pg_ctl -D $pgdata status" >/dev/null 2>&1; then
    echo "export VOLFOLIO_PG_URL=postgres://postgres@127.0.0.1:55432/postgres"
  else
    echo "PostgreSQL could not start (see $log)" >&2
  fi
fi

# Redis on 127.0.0.1:56379.
if command -v redis-server >/dev/null 2>&1; then
  redis-cli -p 56379 ping >/dev/null 2>&1 || redis-server --bind 127.0.0.1 --port 56379 --daemonize yes --save "" --appendonly no >>"$log" 2>&1
  sleep 0.5
  if redis-cli -p 56379 ping >/dev/null 2>&1; then echo "export VOLFOLIO_REDIS_URL=redis://127.0.0.1:56379"; else echo "Redis could not start" >&2; fi
fi

if command -v chromium >/dev/null 2>&1; then echo "export VOLFOLIO_CHROMIUM=$(command -v chromium)"; fi

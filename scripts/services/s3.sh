#!/usr/bin/env bash
# Ephemeral S3-compatible server for tests and benchmarks: versitygw (Versity S3 Gateway, posix
# backend: buckets are folders, objects are files), on loopback, on a free port.
#   s3.sh install     -> builds versitygw into the cache when missing; prints the binary's path
#   s3.sh start DIR   -> starts a server storing under DIR with an empty bucket; prints KEY='value' lines:
#                        HANGAR_TEST_S3_URL            s3://hangar-test?endpoint=http://127.0.0.1:PORT&...
#                        HANGAR_TEST_S3_ENDPOINT       http://127.0.0.1:PORT
#                        HANGAR_TEST_S3_BUCKET         hangar-test
#                        HANGAR_TEST_S3_ACCESS_KEY_ID  / HANGAR_TEST_S3_SECRET_ACCESS_KEY (fresh per start)
#   s3.sh stop DIR
# The binary is built with `go install` from the Go module proxy at a pinned version and cached, with
# Go's module and build caches, under $HANGAR_CACHE_DIR (default ~/.cache/hangar). Needs Go >= 1.25;
# when `go` is missing it is installed with apt, and when the Go found is too old a pinned toolchain
# is fetched as the Go module golang.org/toolchain (how Go itself upgrades).
set -euo pipefail
cmd=${1:?install|start|stop}

VERSITYGW_VERSION=v1.8.0
GO_MIN_MINOR=25
GO_TOOLCHAIN=go1.26.8
BUCKET=hangar-test
cache=${HANGAR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hangar}
bin="$cache/bin/versitygw-$VERSITYGW_VERSION"

log() { echo "s3.sh: $*" >&2; }

go_minor() { # prints the minor version of the Go at $1 (go1.26.8 -> 26)
  "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'
}

find_go() {
  local go
  go=$(command -v go || true)
  [ -z "$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go
  if [ -z "$go" ]; then
    log "installing Go (apt golang-go)"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq --no-install-recommends golang-go ca-certificates >&2
    go=$(command -v go)
  fi
  local minor
  minor=$(go_minor "$go")
  if [ "${minor:-0}" -lt "$GO_MIN_MINOR" ]; then
    go=$(fetch_toolchain "$go")
  fi
  echo "$go"
}

fetch_toolchain() { # $1: an older go; prints the path of the pinned toolchain's go
  local old=$1 arch dir json src
  arch=$("$old" env GOARCH)
  dir="$cache/toolchain/$GO_TOOLCHAIN.linux-$arch"
  if [ ! -x "$dir/bin/go" ]; then
    log "Go $("$old" env GOVERSION) is older than 1.$GO_MIN_MINOR: fetching $GO_TOOLCHAIN from the module proxy"
    json=$(cd "$cache" && GOPATH="$cache/go" GOMODCACHE="$cache/go/pkg/mod" GOFLAGS=-mod=mod GO111MODULE=on \
      "$old" mod download -json "golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$arch")
    src=$(echo "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    [ -d "$src" ] || { log "toolchain download failed: $json"; exit 1; }
    rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")"
    cp -r "$src" "$dir.tmp" && chmod -R u+w "$dir.tmp"
    # Module zips carry no file modes: make the toolchain's programs executable again.
    chmod +x "$dir.tmp"/bin/* "$dir.tmp"/pkg/tool/*/*
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bin/go"
}

install() {
  [ -x "$bin" ] && return 0
  mkdir -p "$cache/bin"
  exec 9>"$cache/versitygw.lock"
  command -v flock >/dev/null && flock 9 # a parallel install waits, then finds the binary
  [ -x "$bin" ] && return 0
  local go started tmp
  go=$(find_go)
  started=$(date +%s)
  log "building versitygw $VERSITYGW_VERSION with $("$go" env GOVERSION) (cached in $cache)"
  tmp=$(mktemp -d "$cache/bin/.build-XXXXXX")
  GOPATH="$cache/go" GOMODCACHE="$cache/go/pkg/mod" GOCACHE="$cache/go-build" GOBIN="$tmp" \
    GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    "$go" install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  mv "$tmp/versitygw" "$bin"
  rmdir "$tmp"
  exec 9>&- # release the lock; the server started next must not inherit it
  log "built versitygw in $(($(date +%s) - started))s"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
install)
  install
  echo "$bin"
  ;;
start)
  dir=${2:?data directory}
  install
  mkdir -p "$dir/root/$BUCKET"
  access=hangar
  secret=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
  for attempt in 1 2 3; do
    port=$(free_port)
    # The secret goes through the environment, not argv, so `ps` does not show it.
    ROOT_ACCESS_KEY_ID=$access ROOT_SECRET_ACCESS_KEY=$secret \
      nohup "$bin" --port "127.0.0.1:$port" --quiet posix "$dir/root" >"$dir/server.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        endpoint="http://127.0.0.1:$port"
        echo "HANGAR_TEST_S3_URL='s3://$BUCKET?endpoint=$endpoint&region=us-east-1&forcePathStyle=true'"
        echo "HANGAR_TEST_S3_ENDPOINT='$endpoint'"
        echo "HANGAR_TEST_S3_BUCKET='$BUCKET'"
        echo "HANGAR_TEST_S3_ACCESS_KEY_ID='$access'"
        echo "HANGAR_TEST_S3_SECRET_ACCESS_KEY='$secret'"
        exit 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    log "versitygw did not start on port $port (attempt $attempt):"
    cat "$dir/server.log" >&2
  done
  exit 1
  ;;
stop)
  dir=${2:?data directory}
  [ -f "$dir/pid" ] || exit 0
  pid=$(cat "$dir/pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
  ;;
*) echo "usage: s3.sh install | start DIR | stop DIR" >&2; exit 2 ;;
esac

#!/bin/sh
# Starts one Dealflow component, chosen by the first argument; the rest is passed on.
# exec: the component becomes PID 1 and receives SIGTERM from the kubelet itself.
set -eu

usage() {
    cat <<'USAGE'
usage: dealflow-entrypoint COMPONENT [ARGS...]

components:
  deals | approvals | finance | notifications   gRPC service
  gateway                                       REST gateway
  worker                                        Temporal worker (workflows, activities, triggers)
  intake                                        SMTP mail intake (mail becomes leads)
  migrate                                       apply database migrations and exit
USAGE
}

component="${1:-}"
[ "$#" -gt 0 ] && shift

case "$component" in
    deals | approvals | finance | notifications | gateway)
        exec python -m "services.${component}.main" "$@" ;;
    worker)
        exec python -m workflows.worker "$@" ;;
    intake)
        exec python -m services.intake.main "$@" ;;
    migrate)
        exec python -m services.common.migrate "$@" ;;
    help | -h | --help)
        usage ;;
    *)
        echo "dealflow-entrypoint: unknown component '${component}'" >&2
        usage >&2
        exit 64 ;;
esac

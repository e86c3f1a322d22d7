#!/bin/sh
# One platform process per container: web | worker | beat | migrate | backup, or any command.
# The long-running roles start by emptying this container's metrics directory (stale files of
# an earlier start would count again), then exec the process so that it gets SIGTERM itself.
set -eu

case "${1:-web}" in
  web)
    python manage.py reset_metrics
    exec python -m uvicorn autogpt.asgi:application \
      --host 0.0.0.0 --port "${PORT:-8000}" --no-access-log --ws-per-message-deflate false \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      --timeout-graceful-shutdown "${WEB_SHUTDOWN_GRACE_SECONDS:-10}"
    ;;
  worker)
    python manage.py reset_metrics
    exec celery -A autogpt worker -l "${LOG_LEVEL:-INFO}" \
      -Q executions,default,notifications --concurrency "${WORKER_CONCURRENCY:-2}"
    ;;
  beat)
    python manage.py reset_metrics
    exec celery -A autogpt beat -l "${LOG_LEVEL:-INFO}" \
      --scheduler django_celery_beat.schedulers:DatabaseScheduler
    ;;
  migrate)
    exec python manage.py migrate --noinput
    ;;
  backup)
    exec python manage.py backup
    ;;
  *)
    exec "$@"
    ;;
esac

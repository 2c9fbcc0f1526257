#!/bin/sh
# Entrypoint of the Azure ML inference images.
#   no arguments: serve $AZUREML_ENTRY_SCRIPT with azmlinfsrv on $AZUREML_SERVING_PORT (default 5001),
#                 with nginx in front on $NGINX_PORT when that is set;
#   arguments:    run them instead (e.g. `python3 train.py`).
set -eu
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
port=${AZUREML_SERVING_PORT:-5001}
if [ -n "${NGINX_PORT:-}" ]; then
  conf=$(mktemp -d)/nginx.conf
  sed -e "s/@NGINX_PORT@/${NGINX_PORT}/g" -e "s/@SERVING_PORT@/${port}/g" \
    -e "s#@RUN_DIR@#$(dirname "$conf")#g" /etc/azureml/nginx.conf.in >"$conf"
  nginx -e stderr -c "$conf"
fi
set -- --entry_script "${AZUREML_ENTRY_SCRIPT}" --port "$port"
if [ -n "${AZUREML_MODEL_DIR:-}" ]; then
  set -- "$@" --model_dir "${AZUREML_MODEL_DIR}"
fi
exec azmlinfsrv "$@"

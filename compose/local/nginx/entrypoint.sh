#!/bin/sh
# What the official image's /docker-entrypoint.d/20-envsubst-on-templates.sh does: every
# /etc/nginx/templates/**/*.template is rendered to /etc/nginx/conf.d/ without the suffix, substituting only
# the environment variables whose names match NGINX_ENVSUBST_FILTER (all of them when it is unset).
set -eu
templates=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
if [ -d "$templates" ]; then
  names=$(env | cut -d= -f1 | grep -E "${NGINX_ENVSUBST_FILTER:-.*}" || true)
  defined=$(printf '${%s} ' $names)
  find "$templates" -follow -type f -name "*$suffix" -print | while read -r template; do
    relative=${template#"$templates/"}
    target="$out/${relative%"$suffix"}"
    mkdir -p "$(dirname "$target")"
    echo "$0: rendering $template to $target" >&2
    envsubst "$defined" < "$template" > "$target"
  done
fi
exec "$@"

#!/usr/bin/env bash
# Debian packages Chengbao needs at run time (CJK fonts for the PDFs) and in tests
# (poppler's pdffonts/pdftotext/pdfsig, qpdf). Installs what is missing when run as root
# with apt-get available; otherwise says exactly what to install.
set -u
need=()
[ -f /usr/share/fonts/truetype/arphic/uming.ttc ] || need+=(fonts-arphic-uming)
[ -f /usr/share/fonts/truetype/arphic/ukai.ttc ] || need+=(fonts-arphic-ukai)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)  # re-saves a signed PDF in the verification tests
if [ "${WITH_WRK:-0}" = 1 ]; then  # the HTTP load generator of `make bench`
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
if [ "${WITH_BROWSER:-0}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; } || {
    echo "could not install: ${need[*]} — run: sudo apt-get install ${need[*]}" >&2; exit 1; }
else
  echo "missing Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi

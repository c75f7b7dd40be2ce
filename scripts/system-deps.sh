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
# WITH_TITLE_FONT=1: the PDF's title in Noto Serif CJK SC Bold (closer to 小标宋 than the
# emboldened UMing), converted to TrueType outlines for ReportLab (≈1.5 min, ≈10 MB).
title_font=/usr/local/share/fonts/chengbao/NotoSerifCJKsc-Bold.ttf  # pdf.fonts.NOTO_TITLE
if [ "${WITH_TITLE_FONT:-0}" = 1 ] && [ ! -f "$title_font" ]; then
  [ -f /usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc ] || need+=(fonts-noto-cjk)
  python3 -c "import fontTools" >/dev/null 2>&1 || need+=(python3-fonttools)
fi
convert_title_font() {
  if [ "${WITH_TITLE_FONT:-0}" = 1 ] && [ ! -f "$title_font" ]; then
    echo "converting Noto Serif CJK SC Bold for the PDF's title → $title_font"
    python3 "$(dirname "$0")/noto_title_font.py" /usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc "$title_font" || exit 1
  fi
}
[ ${#need[@]} -eq 0 ] && { convert_title_font; exit 0; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; } || {
    echo "could not install: ${need[*]} — run: sudo apt-get install ${need[*]}" >&2; exit 1; }
  convert_title_font
else
  echo "missing Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi

#!/usr/bin/env bash
# The translations (gettext): extract the app's strings, merge them into every catalog, compile the catalogs.
#
#   scripts/i18n.sh            # extract + merge + compile: then translate the new entries in gan/locales/*/LC_MESSAGES/gan.po
#   scripts/i18n.sh compile    # compile only, after editing a .po file
#   scripts/i18n.sh pot FILE   # only write the template (tests/test_i18n.py checks the catalogs against it)
#
# Strings are marked in the code with _("...") (translated where shown), N_("...") (marked where defined,
# translated later with _) and ngettext("...", "...", n). Needs GNU gettext (Debian: apt-get install gettext).
set -euo pipefail
cd "$(dirname "$0")/.."
CATALOGS=(gan/locales/*/LC_MESSAGES/gan.po)

extract() {  # the template: every marked string of app.py, pages/ and gan/, into the file $1
    xgettext --language=Python --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=ngettext:1,2 \
        --add-location=file --sort-by-file --package-name="GAN lab" -o "$1" \
        app.py pages/*.py $(find gan -name '*.py' | sort)
}

if [[ "${1:-}" == pot ]]; then
    extract "$2"
    exit
fi
if [[ "${1:-}" != compile ]]; then
    extract gan/locales/gan.pot
    for po in "${CATALOGS[@]}"; do
        msgmerge --quiet --update --backup=none --no-fuzzy-matching --add-location=file "$po" gan/locales/gan.pot
        msgattrib --no-obsolete -o "$po" "$po"  # a string gone from the code leaves the catalog too
    done
    rm gan/locales/gan.pot
fi
for po in "${CATALOGS[@]}"; do
    msgfmt --check --statistics -o "${po%.po}.mo" "$po"
done

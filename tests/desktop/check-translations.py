#!/usr/bin/env python3
# tests/desktop/check-translations.py — every translation is complete
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: check-translations.py SOURCE-ROOT GETTEXT-PACKAGE
#
# Fails when
#  - a source file with translatable strings is missing from po/POTFILES.in
#    (or POTFILES.in names a file that does not exist, or is not sorted);
#  - a language in po/LINGUAS has untranslated or fuzzy messages, or does not
#    compile with msgfmt --check;
#  - the template extracted from the current sources has a message that the
#    translation lacks.
# When it fails after you added strings: add new files to po/POTFILES.in, run
#   meson compile -C BUILDDIR GETTEXT-PACKAGE-update-po
# and translate what is new or fuzzy in each po/LL.po.
#
# Skips (77) only when a gettext tool it needs is not installed.

import os
import re
import shutil
import subprocess
import sys
import tempfile

# xgettext arguments of Meson's 'glib' preset (mesonbuild/modules/i18n.py)
# plus those meson's pot target adds itself.
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments', '-k_',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format', '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format', '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]

# Where translatable sources live, and how to recognise them.
SCAN_DIRS = ['src', 'ui', 'data']
C_MARKER = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dngettext|g_dpgettext2|g_dcgettext)\s*\(')
UI_MARKER = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')
ALWAYS = re.compile(r'\.(?:desktop\.in(?:\.in)?|metainfo\.xml\.in(?:\.in)?|gschema\.xml)$')

ENV = dict(os.environ, LC_ALL='C', LANGUAGE='C')


def read_list(path):
    with open(path, encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith('#')]


def has_strings(path):
    if ALWAYS.search(path):
        return True
    if path.endswith(('.c', '.h')):
        marker = C_MARKER
    elif path.endswith('.ui'):
        marker = UI_MARKER
    else:
        return False
    with open(path, encoding='utf-8', errors='replace') as f:
        return marker.search(f.read()) is not None


def check_potfiles(srcroot, listed):
    errors = []
    if listed != sorted(listed):
        errors.append('po/POTFILES.in is not sorted')
    for rel in listed:
        if not os.path.isfile(os.path.join(srcroot, rel)):
            errors.append(f'po/POTFILES.in lists {rel}, which does not exist')
    found = []
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(srcroot, top)):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if has_strings(path):
                    found.append(os.path.relpath(path, srcroot))
    for rel in found:
        if rel not in listed:
            errors.append(f'{rel} has translatable strings but is not in po/POTFILES.in')
    return errors


def unquote(s):
    s = s.strip()[1:-1]
    out, i = [], 0
    while i < len(s):
        if s[i] == '\\' and i + 1 < len(s):
            out.append({'n': '\n', 't': '\t'}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def read_po(path):
    """Returns {(msgctxt, msgid): (msgstr, fuzzy, first reference)}, without
    the header and obsolete entries. Plural forms count as translated when
    every msgstr[N] is."""
    entries = {}
    entry, field = None, None

    def flush():
        if entry and entry.get('msgid'):
            strs = [v for k, v in entry.items() if k.startswith('msgstr')]
            translated = bool(strs) and all(strs)
            key = (entry.get('msgctxt'), entry['msgid'])
            entries[key] = (translated, entry['fuzzy'], entry['ref'])

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                flush()
                entry, field = None, None
                continue
            if entry is None:
                entry = {'fuzzy': False, 'ref': ''}
            if line.startswith('#~'):
                entry['obsolete'] = True
                entry['msgid'] = None
                field = None
            elif line.startswith('#,'):
                entry['fuzzy'] = entry['fuzzy'] or 'fuzzy' in line
            elif line.startswith('#:'):
                entry['ref'] = entry['ref'] or line[2:].split()[0]
            elif line.startswith('#'):
                pass
            elif line.startswith('"'):
                if field is not None and not entry.get('obsolete'):
                    entry[field] += unquote(line)
            else:
                keyword, _, rest = line.partition(' ')
                if entry.get('obsolete'):
                    continue
                field = keyword
                entry[field] = unquote(rest)
        flush()
    return entries


def run(argv):
    return subprocess.run(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def main(argv):
    if len(argv) != 3:
        print(f'usage: {argv[0]} SOURCE-ROOT GETTEXT-PACKAGE', file=sys.stderr)
        return 2
    srcroot, package = argv[1], argv[2]
    podir = os.path.join(srcroot, 'po')

    for tool in ('xgettext', 'msgfmt'):
        if shutil.which(tool) is None:
            print(f'SKIP: {tool} is not installed (Debian package gettext)')
            return 77

    errors = check_potfiles(srcroot, read_list(os.path.join(podir, 'POTFILES.in')))
    languages = read_list(os.path.join(podir, 'LINGUAS'))
    if not languages:
        errors.append('po/LINGUAS names no language')

    warnings = []
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, package + '.pot')
        r = run(['xgettext', '--package-name=' + package, '-f', os.path.join(podir, 'POTFILES.in'),
                 '-D', srcroot, '-o', pot] + XGETTEXT_ARGS)
        if r.returncode != 0:
            errors.append('xgettext failed:\n' + r.stdout)
            pot = None
        else:
            # xgettext stops a string at a macro such as G_GUINT64_FORMAT, so
            # the message looked up at run time is never the one translated.
            for (ctxt, msgid), (_, _, ref) in read_po(pot).items():
                if msgid.endswith(('%', ' ')):
                    warnings.append(f'{ref}: "{msgid}" looks cut short by a macro after the '
                                    'literal, so it is never translated: pass the value as an '
                                    'argument instead (%s, or a cast and %lu for numbers)')

        for lang in languages:
            po = os.path.join(podir, lang + '.po')
            if not os.path.isfile(po):
                errors.append(f'po/LINGUAS names {lang}, but po/{lang}.po does not exist')
                continue
            r = run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po])
            stats = r.stdout.strip()
            print(f'po/{lang}.po: {stats}')
            if r.returncode != 0:
                errors.append(f'po/{lang}.po does not pass msgfmt --check')
            elif 'untranslated' in stats or 'fuzzy' in stats:
                errors.append(f'po/{lang}.po is incomplete: {stats.splitlines()[-1]}')
            if pot is not None:
                # Every message of the current sources must be in the
                # translation, translated and not fuzzy.
                have = read_po(po)
                missing = []
                for key, (_, _, ref) in read_po(pot).items():
                    translated, fuzzy, _ = have.get(key, (False, False, ''))
                    if not translated or fuzzy:
                        ctxt, msgid = key
                        text = msgid.replace('\n', '\\n')
                        if len(text) > 70:
                            text = text[:67] + '...'
                        what = 'fuzzy' if key in have and fuzzy else \
                               'untranslated' if key in have else 'missing'
                        missing.append(f'  {ref}: {what}: '
                                       + (f'[{ctxt}] ' if ctxt else '') + f'"{text}"')
                if missing:
                    errors.append(f'po/{lang}.po lacks {len(missing)} message(s) of the current '
                                  'sources:\n' + '\n'.join(missing))

    for w in warnings:
        print('WARNING: ' + w)
    for e in errors:
        print('FAIL: ' + e)
    if errors:
        print(f'\nTo fix: list new files in po/POTFILES.in, run '
              f'"meson compile -C BUILDDIR {package}-update-po" and translate what is '
              f'new or fuzzy in each po/LL.po.')
        return 1
    print('translations complete')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

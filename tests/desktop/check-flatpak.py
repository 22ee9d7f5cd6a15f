#!/usr/bin/env python3
# tests/desktop/check-flatpak.py — sanity checks for the Flatpak manifests
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: check-flatpak.py APP-ID MANIFEST…
#
# Each manifest must be valid JSON, name APP-ID as "id" (or the older
# "app-id"), run the GNOME runtime and the iovista command, grant exactly
# the documented finish-args (the libvirt paths stay opt-in, see
# flatpak/README.md), and build a module "iovista" with Meson from this
# checkout.

import json
import sys

FINISH_ARGS = [
    '--share=ipc',
    '--socket=fallback-x11',
    '--socket=wayland',
    '--device=dri',
    '--share=network',
    '--filesystem=xdg-run/iovista:create',
]


def check(app_id, path):
    errors = []
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        return [f'not valid JSON: {e}']

    if not isinstance(manifest, dict):
        return ['the top level is not an object']

    ids = [manifest[k] for k in ('id', 'app-id') if k in manifest]
    if ids != [app_id]:
        errors.append(f'"id" (or "app-id") must be {app_id!r}, exactly once; found {ids!r}')
    if manifest.get('runtime') != 'org.gnome.Platform':
        errors.append(f'runtime is {manifest.get("runtime")!r}, not org.gnome.Platform')
    if manifest.get('sdk') != 'org.gnome.Sdk':
        errors.append(f'sdk is {manifest.get("sdk")!r}, not org.gnome.Sdk')
    if not isinstance(manifest.get('runtime-version'), str):
        errors.append('runtime-version is missing or not a string')
    if manifest.get('command') != 'iovista':
        errors.append(f'command is {manifest.get("command")!r}, not iovista')
    if manifest.get('finish-args') != FINISH_ARGS:
        errors.append(f'finish-args are {manifest.get("finish-args")!r}, expected {FINISH_ARGS!r}')

    modules = [m for m in manifest.get('modules', []) if isinstance(m, dict)]
    ours = [m for m in modules if m.get('name') == 'iovista']
    if len(ours) != 1:
        errors.append('there must be exactly one module named "iovista"')
    else:
        module = ours[0]
        if module.get('buildsystem') != 'meson':
            errors.append(f'module iovista has buildsystem {module.get("buildsystem")!r}, not meson')
        dirs = [s for s in module.get('sources', [])
                if isinstance(s, dict) and s.get('type') == 'dir' and s.get('path') == '..']
        if not dirs:
            errors.append('module iovista has no {"type": "dir", "path": ".."} source')
    return errors


def main(argv):
    if len(argv) < 3:
        print(f'usage: {argv[0]} APP-ID MANIFEST…', file=sys.stderr)
        return 2
    app_id = argv[1]
    failed = False
    for path in argv[2:]:
        errors = check(app_id, path)
        for e in errors:
            print(f'{path}: {e}')
        if errors:
            failed = True
        else:
            print(f'{path}: ok')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

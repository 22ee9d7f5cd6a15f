#!/usr/bin/env python3
# tests/desktop/check-icons.py — the app icons exist and are well-formed SVG
# Copyright 2026 The Iovista authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: check-icons.py SIZE:SVG…   (SIZE is the expected square viewBox)

import sys
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'


def check(size, path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return [f'does not parse as XML: {e}']
    errors = []
    if root.tag != SVG + 'svg':
        errors.append(f'the root element is {root.tag}, not an SVG <svg>')
    if root.get('viewBox', '').split() != ['0', '0', size, size]:
        errors.append(f'viewBox is {root.get("viewBox")!r}, expected "0 0 {size} {size}"')
    if root.find(f'.//{SVG}text') is not None:
        errors.append('contains <text>: icons must not rely on fonts or words')
    if root.find(f'.//{SVG}image') is not None:
        errors.append('embeds a bitmap <image>')
    if path.endswith('-symbolic.svg'):
        # GTK recolours symbolic icons; keep them in one neutral grey.
        colours = {el.get(a).lower() for el in root.iter() for a in ('fill', 'stroke')
                   if el.get(a) is not None} - {'none'}
        if not colours <= {'#2e3436'}:
            errors.append(f'a symbolic icon must be drawn in #2e3436 only; uses {sorted(colours)}')
    return errors


def main(argv):
    failed = False
    for arg in argv[1:]:
        size, _, path = arg.partition(':')
        errors = check(size, path)
        for e in errors:
            print(f'{path}: {e}')
        if errors:
            failed = True
        else:
            print(f'{path}: ok')
    return 1 if failed or len(argv) < 2 else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

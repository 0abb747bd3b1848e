# SPDX-License-Identifier: GPL-3.0-or-later
"""The guides' diagrams, drawn as plain SVG (no tool or font beyond the browser's): the life of a key pair, and
the make-before-break replacement. antsibull-docs carries only the .rst files of docs/docsite/rst into a docs site,
so each SVG is written into its guide, as a raw HTML block after a marker comment; a test fails when a guide's copy
differs from this script's drawing. Rerun after a change: python scripts/docsite/diagrams.py"""

import os
import re
import sys
from xml.sax.saxutils import escape

GUIDES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs",
                      "docsite", "rst")
MARKER = ".. diagram: %s (drawn by scripts/docsite/diagrams.py: change it there, then run it)"
FONT = "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\""
OLD, NEW, GREY, INK, ACCENT = "#dbe7f5", "#d9f0d9", "#f1f1f1", "#222222", "#5a5a5a"


class Svg:
    def __init__(self, width, height, title):
        self.width, self.height = width, height
        self.parts = ['<title>%s</title>' % escape(title),
                      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                      'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/>'
                      '</marker></defs>' % ACCENT,
                      '<rect width="%d" height="%d" fill="#ffffff"/>' % (width, height)]

    def box(self, x, y, w, h, fill, stroke=INK, dashed=False):
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        self.parts.append('<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="%s" stroke="%s"%s/>'
                          % (x, y, w, h, fill, stroke, dash))

    def text(self, x, y, lines, size=13, weight="normal", anchor="middle", color=INK, step=None):
        step = step or size + 4
        for i, line in enumerate(lines):
            self.parts.append('<text x="%d" y="%d" %s font-size="%d" font-weight="%s" text-anchor="%s" fill="%s">'
                              '%s</text>' % (x, y + i * step, FONT, size, weight, anchor, color, escape(line)))

    def arrow(self, x1, y1, x2, y2, label=None):
        self.parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" '
                          'marker-end="url(#arrow)"/>' % (x1, y1, x2, y2, ACCENT))
        if label:
            self.text((x1 + x2) // 2, min(y1, y2) - 6, [label], size=11, color=ACCENT)

    def render(self):
        return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" style="max-width: 100%%; '
                'height: auto">\n' % (self.width, self.height) + "\n".join(self.parts) + "\n</svg>\n")


def key_pair_life():
    """create -> bind -> rotate -> unbind -> delete, with what does each step and where the keys are."""
    steps = [
        ("1. Create", ["tencent_keypair", "CreateKeyPair"], ["private key: a 0600 file", "on the control node"]),
        ("2. Bind", ["tencent_instance_keypairs", "AssociateInstancesKeyPairs"],
         ["cloud-init writes the public", "key at the next boot"]),
        ("3. Rotate", ["role keypair_rotation", "new key pair bound too"], ["logs in with the new key", "on every instance"]),
        ("4. Unbind", ["the role (or exclusive: true)", "DisassociateInstancesKeyPairs"],
         ["old key pairs, only after", "the new key logged in"]),
        ("5. Delete", ["tencent_keypair (absent)", "DeleteKeyPairs"],
         ["waits for bindings of", "terminated instances"]),
    ]
    width, box_w, gap, top = 1040, 184, 22, 58
    svg = Svg(width, 300, "The life of a key pair: create, bind, rotate, unbind, delete")
    svg.text(width // 2, 30, ["The life of a key pair"], size=17, weight="bold")
    for i, (title, who, what) in enumerate(steps):
        x = 16 + i * (box_w + gap)
        svg.box(x, top, box_w, 118, NEW if i in (0, 2) else OLD if i in (1, 3) else GREY)
        svg.text(x + box_w // 2, top + 26, [title], size=15, weight="bold")
        svg.text(x + box_w // 2, top + 50, who, size=11.5, step=16)
        svg.text(x + box_w // 2, top + 92, what, size=11, color=ACCENT, step=15)
        if i:
            svg.arrow(x - gap + 2, top + 59, x - 3, top + 59)
    # where the keys live, under the steps
    svg.box(16, 204, 484, 80, GREY, dashed=True)
    svg.text(258, 228, ["Control node: the private key file (never sent anywhere),",
                        "<path>.pub beside it; deleting the key pair leaves both files",
                        "(the task returns their paths)"], size=12, step=17)
    svg.box(540, 204, 484, 80, GREY, dashed=True)
    svg.text(782, 228, ["Tencent Cloud: the public key only (it returns a generated",
                        "private key once, in the CreateKeyPair answer); bound",
                        "key pairs are in the login user's authorized_keys"], size=12, step=17)
    return svg.render()


def make_before_break():
    """The replacement of key pair `web` (regenerate), step by step: what exists in the cloud and on disk."""
    rows = [
        ("before", None, [("web", "old")], [("web", "old key")], None),
        ("1. create", "CreateKeyPair under the temporary name",
         [("web", "old"), ("web_rp1a2b3c4d", "new")], [("web", "old key"), ("web.new", "new key")],
         "creation fails: nothing changed. Stopped after it: the next run finishes"),
        ("2. delete", "DeleteKeyPairs of the old key pair",
         [("web_rp1a2b3c4d", "new")], [("web", "old key"), ("web.new", "new key")],
         "a failure from here on reports changed=true; the next run finishes"),
        ("3. rename", "ModifyKeyPairAttribute",
         [("web", "new")], [("web", "old key"), ("web.new", "new key")], None),
        ("4. move", "web.new onto web, web.pub written",
         [("web", "new")], [("web", "new key"), ("web.pub", "new")], "done: one key pair, its key in its file "
                                                                     "(backup: true keeps a copy of the old file)"),
    ]
    width, row_h, top = 1080, 78, 84
    svg = Svg(width, top + len(rows) * row_h + 40,
              "Make-before-break replacement of a key pair: create the new one, delete the old one, rename, move the "
              "key file")
    svg.text(width // 2, 30, ["Make-before-break: replacing key pair web (regenerate)"], size=17, weight="bold")
    for x, heading in ((20, "step"), (290, "Tencent Cloud: key pairs"), (570, "control node: files"),
                       (850, "if it fails or stops here")):
        svg.text(x, 66, [heading], size=13, weight="bold", anchor="start")
    for i, (step, action, cloud, files, note) in enumerate(rows):
        y = top + i * row_h
        svg.text(20, y + 26, [step], size=14, weight="bold", anchor="start")
        if action:
            svg.text(20, y + 46, [action], size=11, anchor="start", color=ACCENT)
        for column, items in ((290, cloud), (570, files)):
            for j, (name, kind) in enumerate(items):
                fill = NEW if kind.startswith("new") else OLD
                svg.box(column + j * 134, y + 8, 126, 46, fill)
                svg.text(column + j * 134 + 63, y + 28, [name], size=11.5, weight="bold")
                svg.text(column + j * 134 + 63, y + 45, [kind], size=10.5, color=ACCENT)
        if note:
            words, lines = note.split(" "), [""]
            for word in words:
                if len(lines[-1]) + len(word) > 30:
                    lines.append("")
                lines[-1] = (lines[-1] + " " + word).strip()
            svg.text(850, y + 22, lines, size=11, anchor="start", step=15)
        if i:
            svg.arrow(250, y - 18, 250, y + 4)
    legend = top + len(rows) * row_h + 16
    svg.box(290, legend - 12, 18, 14, OLD)
    svg.text(314, legend, ["old key pair / key"], size=11, anchor="start")
    svg.box(460, legend - 12, 18, 14, NEW)
    svg.text(484, legend, ["new key pair / key: at every instant one key pair exists with its key in a file"],
             size=11, anchor="start")
    return svg.render()


# diagram -> (guide it is drawn in, drawing)
DIAGRAMS = {"key-pair-life": ("guide_provisioning.rst", key_pair_life),
            "make-before-break": ("guide_existing_key_pairs.rst", make_before_break)}


def block(name, svg):
    """The reStructuredText that holds a drawing: the marker, then the SVG as a raw HTML block."""
    return "%s\n\n.. raw:: html\n\n%s" % (MARKER % name, "".join("   " + line + "\n" for line in svg.splitlines()))


def pattern(name):
    return re.compile(re.escape(MARKER % name) + r"\n\n\.\. raw:: html\n\n(?:   [^\n]*\n)+")


def drawn(name):
    """(path of the guide, its text, the text it should have) for one diagram."""
    guide, draw = DIAGRAMS[name]
    path = os.path.join(GUIDES, guide)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if not pattern(name).search(text):
        raise SystemExit("%s has no line %r for the diagram" % (path, MARKER % name))
    return path, text, pattern(name).sub(lambda _m: block(name, draw()), text, count=1)


def main():
    for name in DIAGRAMS:
        path, text, wanted = drawn(name)
        if text != wanted:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(wanted)
            print("drew %s in %s" % (name, path))


if __name__ == "__main__":
    sys.exit(main())

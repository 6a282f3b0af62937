#!/usr/bin/env python3
"""Generate the postdesk MIME test corpus.

Writes NAME.eml (raw RFC 5322 bytes, CRLF) + NAME.json (expectations) into
Corpus/ next to this script.  Deterministic: run it again and you get the same
bytes.  Usage:

    python3 make_corpus.py           # (re)generate
    python3 make_corpus.py --check   # generate, then sanity-check with Python's email package

Raw bytes are built by hand (not by the email package) so malformed cases are exact.
"""
import base64, io, json, os, quopri, re, sys, zipfile, zlib, struct, binascii

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "Corpus")
DESK = "help@desk.test"
DATE = "Fri, 20 Nov 2026 10:15:00 +0000"
MARKER = "##- Please type your reply above this line -##"

FIXTURES = {}     # name -> (bytes, expectation dict, options)


class Raw(bytes):
    """Bytes emitted verbatim (no LF -> CRLF conversion)."""


def crlf(b: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", b)


def eml(*parts) -> bytes:
    out = b""
    for p in parts:
        if isinstance(p, Raw):
            out += bytes(p)
        elif isinstance(p, (bytes, bytearray)):
            out += crlf(bytes(p))
        else:
            out += crlf(p.encode("utf-8"))
    return out


def add(name, data, covers, frm, summary, **exp):
    assert name not in FIXTURES, name
    assert re.match(r"^(hdr|addr|ew|te|mp|cs|ja|att|reply|auto|edge)-[a-z0-9-]+$", name), name
    assert len(data) < 20 * 1024 or exp.pop("big_ok", False), (name, len(data))
    exp.pop("big_ok", None)
    pycheck = exp.pop("pycheck", True)
    d = {"covers": covers, "from": frm}
    if "fromName" in exp:
        d["fromName"] = exp.pop("fromName")
    for k in ("to", "cc"):
        if k in exp:
            d[k] = exp.pop(k)
    d["summary"] = summary
    for k in ("text", "textContains", "textNotContains", "reply", "replyContains",
              "replyNotContains", "attachments"):
        if k in exp:
            d[k] = exp.pop(k)
    d["automatic"] = exp.pop("automatic", False)
    if "automaticHeader" in exp:
        d["automaticHeader"] = exp.pop("automaticHeader")
    assert d["automatic"] == ("automaticHeader" in d), name
    assert not exp, (name, exp)
    assert b"\n" not in data.replace(b"\r\n", b"") or pycheck == "binary", name
    FIXTURES[name] = (data, d, {"pycheck": pycheck})


# ---------------------------------------------------------------- helpers
def b64(data: bytes, width=76) -> str:
    s = base64.b64encode(data).decode()
    if not width:
        return s
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def qp(text: str, cs="utf-8") -> str:
    return quopri.encodestring(text.encode(cs).replace(b"\n", b"\r\n")).decode("ascii").replace("\r\n", "\n")


def ewb(s: str, cs="UTF-8") -> str:
    return "=?%s?B?%s?=" % (cs, base64.b64encode(s.encode(pycs(cs))).decode())


def ewq(s: str, cs="UTF-8") -> str:
    out = []
    for b in s.encode(pycs(cs)):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?%s?Q?%s?=" % (cs, "".join(out))


def pycs(cs):
    return {"iso-2022-jp": "iso2022_jp_ext"}.get(cs.lower(), cs)


def std(name, frm, subject, to=DESK, date=DATE, mid=None, extra="", mime=True):
    """Standard header block (str, LF endings, no trailing blank line)."""
    h = f"From: {frm}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
    h += f"Message-ID: <{mid or name + '.' + str(len(name)) + '@mail.example.com'}>\n"
    if mime:
        h += "MIME-Version: 1.0\n"
    return h + extra


def att(filename, ctype, data):
    return {"filename": filename, "contentType": ctype, "size": len(data)}


def png_bytes(w=1, h=1, rgb=(200, 30, 30)):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", binascii.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pdf_bytes(title="Report"):
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = b"BT /F1 12 Tf 20 50 Td (" + title.encode("latin-1") + b") Tj ET"
    objs[3] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def zip_bytes(files):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            zi = zipfile.ZipInfo(n, date_time=(2026, 11, 20, 10, 15, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, d)
    return bio.getvalue()


def sjis_to_jis(b: bytes) -> bytes:
    """Shift_JIS/CP932 double-byte sequence(s) -> JIS X 0208 7-bit row/cell bytes."""
    out = b""
    for i in range(0, len(b), 2):
        c1, c2 = b[i], b[i + 1]
        if c1 >= 0xE0:
            c1 -= 0x40
        j1 = (c1 - 0x81) * 2 + 0x21
        if c2 >= 0x9F:
            j1 += 1
            j2 = c2 - 0x7E
        elif c2 >= 0x80:
            j2 = c2 - 0x20
        else:
            j2 = c2 - 0x1F
        out += bytes([j1, j2])
    return out


PNG = png_bytes()
PNG2 = png_bytes(2, 2, (10, 120, 240))
PDF = pdf_bytes()


def plain(name, frm, subject, body, cs="utf-8", cte="8bit", extra="", to=DESK, **kw):
    """Single text/plain message; body is a str encoded in cs (or bytes)."""
    b = body.encode(pycs(cs)) if isinstance(body, str) else body
    if cte == "base64":
        payload = b64(b).encode() + b"\n"
    elif cte == "quoted-printable":
        payload = quopri.encodestring(crlf(b)).replace(b"\r\n", b"\n")
    else:
        payload = b
    hdr = std(name, frm, subject, to=to, extra=extra, **kw)
    hdr += f"Content-Type: text/plain; charset={cs}\nContent-Transfer-Encoding: {cte}\n\n"
    return eml(hdr, payload)


# =================================================================== hdr-
def gen_hdr():
    n = "hdr-folded-subject"
    add(n, eml(std(n, "Alice Example <alice@example.com>",
                   "Printer on floor 3\n is jammed again\n\tand shows error E-42"),
               "Content-Type: text/plain; charset=us-ascii\n\nThe big printer next to the kitchen is jammed.\n"),
        "Subject folded over three lines (space and tab continuations) is unfolded by removing only the CRLFs.",
        "alice@example.com", "Printer on floor 3 is jammed again\tand shows error E-42",
        fromName="Alice Example", to=[DESK],
        text="The big printer next to the kitchen is jammed.")

    n = "hdr-folded-encoded-subject"
    subj = ewq("Réunion annulée", "UTF-8") + "\n " + ewq(" – salle B", "UTF-8") + "\n " + "demain"
    add(n, eml(std(n, "Chloé Martin <chloe.martin@example.fr>", subj),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nLa réunion de demain est annulée.\n"),
        "Folded Subject mixing encoded words on continuation lines: whitespace between adjacent encoded words is dropped, before plain text kept.",
        "chloe.martin@example.fr", "Réunion annulée – salle B demain", fromName="Chloé Martin",
        text="La réunion de demain est annulée.")

    n = "hdr-duplicate-subject-from"
    data = eml("From: First Sender <first@example.com>\nTo: help@desk.test\nSubject: VPN drops every 10 minutes\n"
               "From: Second Sender <second@example.com>\nDate: " + DATE + "\nSubject: Second subject must be ignored\n"
               "Message-ID: <dup.1@example.com>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
               "Since this morning the VPN disconnects.\n")
    add(n, data, "Duplicate Subject and From headers: the first occurrence wins.",
        "first@example.com", "VPN drops every 10 minutes", fromName="First Sender",
        text="Since this morning the VPN disconnects.", pycheck="nofrom")

    n = "hdr-raw-utf8-headers"
    add(n, eml(std(n, "Zoë Šťastná <zoe@example.cz>", "Přístup do systému – nefunguje přihlášení ✓",
                   to="Služba <help@desk.test>"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nNemohu se přihlásit.\n"),
        "RFC 6532: raw UTF-8 bytes (not encoded words) in Subject, From and To display names.",
        "zoe@example.cz", "Přístup do systému – nefunguje přihlášení ✓", fromName="Zoë Šťastná", to=[DESK],
        text="Nemohu se přihlásit.")

    n = "hdr-malformed-no-colon-line"
    data = eml("Return-Path: <bob@example.com>\nFrom: Bob <bob@example.com>\nTo: help@desk.test\n"
               "This line has no colon and is garbage from a broken gateway\n"
               "Subject: Cannot open shared mailbox\nDate: " + DATE + "\nMessage-ID: <nocolon.1@example.com>\n"
               "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nOutlook says access denied.\n")
    add(n, data, "A header line without a colon in the middle of the header block is skipped; the following headers still count.",
        "bob@example.com", "Cannot open shared mailbox", fromName="Bob",
        text="Outlook says access denied.", pycheck=False)

    n = "hdr-mbox-from-line"
    data = eml("From bob@example.com  Fri Nov 20 10:15:00 2026\nReturn-Path: <bob@example.com>\n"
               "From: Bob Builder <bob@example.com>\nTo: help@desk.test\nSubject: Keyboard missing keys\n"
               "Date: " + DATE + "\nMessage-ID: <mbox.1@example.com>\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=us-ascii\n\nThe Q and W keys fell off.\n")
    add(n, data, "Leading garbage: an mbox 'From ' envelope line before the first header is tolerated.",
        "bob@example.com", "Keyboard missing keys", fromName="Bob Builder",
        text="The Q and W keys fell off.")

    n = "hdr-lowercase-header-names"
    data = eml("from: Carol <carol@example.com>\nto: help@desk.test\nSUBJECT: Monitor flickers\ndate: " + DATE +
               "\nmessage-id: <lc.1@example.com>\nmime-version: 1.0\ncontent-type: TEXT/PLAIN; CHARSET=US-ASCII\n"
               "content-transfer-encoding: 7BIT\n\nThe second monitor flickers.\n")
    add(n, data, "Header names and MIME type/parameter names in unusual case are matched case-insensitively.",
        "carol@example.com", "Monitor flickers", fromName="Carol", text="The second monitor flickers.")

    n = "hdr-space-before-colon"
    data = eml("From : Dave <dave@example.com>\nTo: help@desk.test\nSubject : Phone has no dial tone\nDate: " + DATE +
               "\nMessage-ID: <obs.1@example.com>\n\nDesk phone 4711 has no dial tone.\n")
    add(n, data, "Obsolete syntax (RFC 5322 4.5): whitespace between header name and colon; no MIME-Version or Content-Type at all.",
        "dave@example.com", "Phone has no dial tone", fromName="Dave", text="Desk phone 4711 has no dial tone.",
        pycheck=False)

    n = "hdr-missing-subject"
    data = eml("From: erin@example.com\nTo: help@desk.test\nDate: " + DATE + "\nMessage-ID: <nosubj.1@example.com>\n\n"
               "I forgot the subject, but the scanner is broken.\n")
    add(n, data, "No Subject header at all -> '(no subject)'; bare address without display name.",
        "erin@example.com", "(no subject)", fromName=None, text="I forgot the subject, but the scanner is broken.")

    n = "hdr-empty-subject"
    data = eml("From: Frank <frank@example.com>\nTo: help@desk.test\nSubject:    \nDate: " + DATE +
               "\nMessage-ID: <emptysubj.1@example.com>\n\nPlease reset my password.\n")
    add(n, data, "Subject header present but only whitespace -> '(no subject)'.",
        "frank@example.com", "(no subject)", fromName="Frank", text="Please reset my password.")

    n = "hdr-subject-prefix-chain"
    subj = "RE: AW: Fwd: Re[2]: " + ewb("返信：Hello", "UTF-8")
    add(n, plain(n, "Grace <grace@example.com>", subj, "Hello again.\n"),
        "Reply/forward prefix chain incl. bracketed count and full-width colon inside an encoded word: all removed.",
        "grace@example.com", "Hello", fromName="Grace", text="Hello again.")

    n = "hdr-subject-prefix-keeps-tags"
    add(n, plain(n, "Heidi <heidi@example.com>", "Re: RE: [SD-12] [EXT] VPN down in Berlin office", "Still down.\n"),
        "Prefixes removed, but bracketed tags like [SD-12] and [EXT] are kept.",
        "heidi@example.com", "[SD-12] [EXT] VPN down in Berlin office", fromName="Heidi", text="Still down.")

    n = "hdr-subject-prefix-languages"
    subj = "SV: VS: Antw: " + ewq("Réf:", "ISO-8859-1") + " TR: RV: Odp: Ynt: WG: Fw: FW: Ref: re: Status of order 5521"
    add(n, plain(n, "Ivan <ivan@example.com>", subj, "Any news?\n"),
        "Prefixes from many languages (SV, VS, Antw, Réf, TR, RV, Odp, Ynt, WG, Fw, Ref, lower-case re) removed repeatedly.",
        "ivan@example.com", "Status of order 5521", fromName="Ivan", text="Any news?")

    n = "hdr-subject-prefix-cjk"
    subj = ewb("回复：答复: 转发：転送: 返信: 打印机坏了", "UTF-8")
    add(n, plain(n, "Li Wei <liwei@example.cn>", subj, "打印机还是坏的。\n"),
        "CJK reply/forward prefixes (回复, 答复, 转发, 転送, 返信) with ASCII and full-width colons.",
        "liwei@example.cn", "打印机坏了", fromName="Li Wei", text="打印机还是坏的。")

    n = "hdr-subject-prefix-not-word-start"
    add(n, plain(n, "Judy <judy@example.com>", "Request for new laptop: Retina display", "Please order one.\n"),
        "Words that merely start like a prefix ('Request', 'Retina') are not stripped; only 'Re:'-style prefixes are.",
        "judy@example.com", "Request for new laptop: Retina display", fromName="Judy", text="Please order one.")


# =================================================================== addr-
def gen_addr():
    n = "addr-quoted-display-comma"
    add(n, eml(std(n, '"Doe, John" <john.doe@example.com>', "Badge not working",
                   to='"Help, Desk" <help@desk.test>, "Smith, Anna (IT)" <anna.smith@example.com>',
                   extra='Cc: "O\'Brien, Pat" <pat.obrien@example.com>, "Lee \\"The Boss\\", Sam" <sam.lee@example.com>\n'),
               "Content-Type: text/plain; charset=us-ascii\n\nMy badge does not open door 2.\n"),
        "Quoted display names containing commas, parentheses and escaped quotes in From/To/Cc.",
        "john.doe@example.com", "Badge not working", fromName="Doe, John",
        to=[DESK, "anna.smith@example.com"], cc=["pat.obrien@example.com", "sam.lee@example.com"],
        text="My badge does not open door 2.")

    n = "addr-encoded-display-name"
    frm = ewb("Müller, Jürgen", "UTF-8") + " <j.mueller@example.de>"
    cc = ewq("Björk Guðmundsdóttir", "ISO-8859-1") + " <bjork@example.is>, " + ewq("Søren Ø", "UTF-8") + " <soren@example.dk>"
    add(n, eml(std(n, frm, "Drucker druckt nicht", extra="Cc: " + cc + "\n"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nDer Drucker im 2. OG druckt nicht.\n"),
        "RFC 2047 encoded display names (B with a comma inside, Q in ISO-8859-1 and UTF-8) in From and Cc.",
        "j.mueller@example.de", "Drucker druckt nicht", fromName="Müller, Jürgen",
        cc=["bjork@example.is", "soren@example.dk"], text="Der Drucker im 2. OG druckt nicht.")

    n = "addr-group-undisclosed"
    add(n, eml(std(n, "Karl <karl@example.com>", "Wifi password for guests", to="undisclosed-recipients:;"),
               "Content-Type: text/plain; charset=us-ascii\n\nWhat is the guest wifi password?\n"),
        "To is an empty group 'undisclosed-recipients:;' (desk was Bcc'd): no To addresses.",
        "karl@example.com", "Wifi password for guests", fromName="Karl", to=[],
        text="What is the guest wifi password?")

    n = "addr-group-team"
    add(n, eml(std(n, "Laura <laura@example.com>", "Onboarding for new hires",
                   to="Team: anne@x.example, Ben <ben@y.example>;, help@desk.test",
                   extra="Cc: Managers:;, Ops: ops@example.com;\n"),
               "Content-Type: text/plain; charset=us-ascii\n\nThree new hires start Monday.\n"),
        "Named groups with members, an empty group and a plain address in To/Cc are flattened to member addresses.",
        "laura@example.com", "Onboarding for new hires", fromName="Laura",
        to=["anne@x.example", "ben@y.example", DESK], cc=["ops@example.com"],
        text="Three new hires start Monday.")

    n = "addr-comment-name"
    add(n, eml(std(n, "alice@example.com (Alice Example)", "Excel crashes on start",
                   to="help@desk.test (Service Desk)", extra="Cc: Bob (Team Lead) <bob@example.com>\n"),
               "Content-Type: text/plain; charset=us-ascii\n\nExcel crashes right after the splash screen.\n"),
        "Addresses with RFC 5322 comments: 'addr (Name)' and 'Name (comment) <addr>'; comments never leak into the address.",
        "alice@example.com", "Excel crashes on start", to=[DESK], cc=["bob@example.com"],
        text="Excel crashes right after the splash screen.")

    n = "addr-idn-utf8"
    add(n, eml(std(n, "José Núñez <jose@bücher.example>", "Pedido de portátil", to="help@desk.test",
                   extra="Cc: maria@ñandú.example\n"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nNecesito un portátil nuevo.\n"),
        "IDN domains written in raw UTF-8 (RFC 6532) in From and Cc; addresses are expected exactly as written.",
        "jose@bücher.example", "Pedido de portátil", fromName="José Núñez", cc=["maria@ñandú.example"],
        text="Necesito un portátil nuevo.", pycheck=False)

    n = "addr-idn-punycode"
    add(n, eml(std(n, "=?UTF-8?Q?Jos=C3=A9?= <jose@xn--bcher-kva.example>", "Pedido de monitor"),
               "Content-Type: text/plain; charset=us-ascii\n\nNecesito un monitor.\n"),
        "IDN domain in punycode (xn--) form is kept as written; encoded display name.",
        "jose@xn--bcher-kva.example", "Pedido de monitor", fromName="José", text="Necesito un monitor.")

    n = "addr-multiple-from"
    data = eml("From: Mia <mia@example.com>, Noah <noah@example.com>\nSender: Mia <mia@example.com>\n"
               "To: help@desk.test, Olga <olga@example.com>\nCc: pete@example.com,\n quinn@example.com,\n"
               " \"Rita R.\" <rita@example.com>\nSubject: Shared calendar broken\nDate: " + DATE +
               "\nMessage-ID: <multi.1@example.com>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
               "Our team calendar does not sync.\n")
    add(n, data, "From with two mailboxes (plus Sender): the first mailbox is the requester; folded multi-address Cc list.",
        "mia@example.com", "Shared calendar broken", fromName="Mia",
        to=[DESK, "olga@example.com"], cc=["pete@example.com", "quinn@example.com", "rita@example.com"],
        text="Our team calendar does not sync.")

    n = "addr-angle-only"
    add(n, eml(std(n, "<sam@example.com>", "Need VPN token", to="<help@desk.test>"),
               "Content-Type: text/plain; charset=us-ascii\n\nMy token expired.\n"),
        "Angle-addr without display name: fromName is null.",
        "sam@example.com", "Need VPN token", fromName=None, to=[DESK], text="My token expired.")

    n = "addr-unquoted-dotted-name"
    add(n, eml(std(n, "Tina T. Turner <tina@example.com>", "Headset broken",
                   extra="Reply-To: Tina Private <tina.private@example.net>\n"),
               "Content-Type: text/plain; charset=us-ascii\n\nLeft ear is silent.\n"),
        "Unquoted display name with a period (obs-phrase) and a Reply-To that must not replace From.",
        "tina@example.com", "Headset broken", fromName="Tina T. Turner", text="Left ear is silent.")


# =================================================================== ew-
def gen_ew():
    n = "ew-b-utf8"
    add(n, plain(n, ewb("Ünal Yıldız") + " <unal@example.com.tr>", ewb("Şifre sıfırlama talebi – acil"),
                 "Şifremi unuttum.\n"),
        "Base64 (B) encoded words in UTF-8 for Subject and From display name.",
        "unal@example.com.tr", "Şifre sıfırlama talebi – acil", fromName="Ünal Yıldız", text="Şifremi unuttum.")

    n = "ew-q-latin1-underscore"
    add(n, plain(n, "Ana <ana@example.pt>", ewq("Configuração do e-mail no telemóvel", "ISO-8859-1"),
                 "Não consigo configurar.\n", cs="iso-8859-1", cte="quoted-printable"),
        "Q encoded word in ISO-8859-1 with underscores for spaces; QP ISO-8859-1 body.",
        "ana@example.pt", "Configuração do e-mail no telemóvel", fromName="Ana", text="Não consigo configurar.")

    n = "ew-adjacent-joined"
    subj = "=?UTF-8?Q?Caf=C3=A9?= =?UTF-8?Q?_machine?=\n =?UTF-8?B?IGlzIGJyb2tlbg==?= today"
    add(n, plain(n, "Ben <ben@example.com>", subj, "No coffee.\n"),
        "Adjacent encoded words separated by whitespace/folding are joined without that whitespace; trailing plain word keeps its space.",
        "ben@example.com", "Café machine is broken today", fromName="Ben", text="No coffee.")

    n = "ew-split-utf8-multibyte"
    raw = "日本語のテスト件名".encode("utf-8")
    w1 = "=?UTF-8?B?%s?=" % base64.b64encode(raw[:10]).decode()   # cuts inside 4th char
    w2 = "=?UTF-8?B?%s?=" % base64.b64encode(raw[10:]).decode()
    add(n, plain(n, "Taro <taro@example.jp>", w1 + "\n " + w2, "本文です。\n"),
        "A multi-byte UTF-8 character split across two adjacent B encoded words: bytes are concatenated before decoding.",
        "taro@example.jp", "日本語のテスト件名", fromName="Taro", text="本文です。", pycheck=False)

    n = "ew-split-iso2022jp"
    raw = "会議室の予約について".encode("iso2022_jp")   # ESC $ B ... ESC ( B
    # first word ends still in JIS X 0208 mode; second word has no leading escape
    cut = 3 + 2 * 4
    w1 = "=?ISO-2022-JP?B?%s?=" % base64.b64encode(raw[:cut]).decode()
    w2 = "=?ISO-2022-JP?B?%s?=" % base64.b64encode(raw[cut:]).decode()
    add(n, plain(n, "Hanako <hanako@example.jp>", w1 + "\n " + w2, "会議室を予約したいです。\n", cs="iso-2022-jp", cte="7bit"),
        "ISO-2022-JP subject split across two encoded words mid-sequence (second word continues in JIS X 0208 mode without an escape).",
        "hanako@example.jp", "会議室の予約について", fromName="Hanako", text="会議室を予約したいです。", pycheck=False)

    n = "ew-malformed-bad-base64"
    add(n, plain(n, "Carl <carl@example.com>", "Invoice =?UTF-8?B?#$%&*?= question", "See subject.\n"),
        "An encoded word whose base64 text is invalid is kept literally as text.",
        "carl@example.com", "Invoice =?UTF-8?B?#$%&*?= question", fromName="Carl", text="See subject.", pycheck=False)

    n = "ew-unknown-charset"
    add(n, plain(n, "=?x-unknown-42?Q?Mystery_Person?= <mystery@example.com>", "=?x-unknown-42?Q?Hello_World?= from the lab",
                 "Unknown charset in the headers.\n"),
        "Encoded words with an unknown charset are kept as the literal encoded-word text.",
        "mystery@example.com", "=?x-unknown-42?Q?Hello_World?= from the lab", text="Unknown charset in the headers.",
        pycheck=False)

    n = "ew-lowercase-q"
    add(n, plain(n, "=?utf-8?q?Ren=c3=a9e_Dupont?= <renee@example.fr>", "=?utf-8?q?Mon_r=c3=a9sum=c3=a9_est_perdu?=",
                 "Merci.\n"),
        "Lower-case charset, lower-case 'q' and lower-case hex digits in Q encoded words.",
        "renee@example.fr", "Mon résumé est perdu", fromName="Renée Dupont", text="Merci.")

    n = "ew-mixed-charsets"
    subj = ewq("Grüße", "ISO-8859-1") + " " + ewb(" из Москвы", "KOI8-R") + " " + ewb(" και Αθήνα", "ISO-8859-7")
    add(n, plain(n, "Dmitri <dmitri@example.ru>", subj, "Hello from everywhere.\n"),
        "Adjacent encoded words in three different charsets (ISO-8859-1 Q, KOI8-R B, ISO-8859-7 B) joined.",
        "dmitri@example.ru", "Grüße из Москвы και Αθήνα", fromName="Dmitri", text="Hello from everywhere.")

    n = "ew-embedded-in-text"
    subj = "Laptop for " + ewq("Zoë", "UTF-8") + " and " + ewb("Łukasz", "UTF-8") + " (new hires)"
    add(n, plain(n, "HR <hr@example.com>", subj, "Two laptops please.\n"),
        "Encoded words mixed with plain text: spaces between an encoded word and plain text are preserved.",
        "hr@example.com", "Laptop for Zoë and Łukasz (new hires)", fromName="HR", text="Two laptops please.")

    n = "ew-q-special-chars"
    subj = "=?UTF-8?Q?100=25_CPU_=3D_slow=3F_=5Furgent=5F?="
    add(n, plain(n, "Ops <ops@example.com>", subj, "Server at 100% CPU.\n"),
        "Q encoding of '%', '=', '?', and '_' via =XX escapes (a literal underscore must not become a space).",
        "ops@example.com", "100% CPU = slow? _urgent_", fromName="Ops", text="Server at 100% CPU.")


# =================================================================== te-
def gen_te():
    body = "Hello team,\n\nthe backup job failed three nights in a row. Log excerpt:\nERROR 0x80070005 access denied\n\nRegards, Uma"
    n = "te-base64-missing-padding"
    enc = base64.b64encode(body.encode()).decode().rstrip("=")
    assert len(body.encode()) % 3 != 0
    add(n, eml(std(n, "Uma <uma@example.com>", "Backup job failed"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n", b64_lines(enc) + "\n"),
        "Base64 body whose final quantum lacks the '=' padding.",
        "uma@example.com", "Backup job failed", fromName="Uma", text=body)

    n = "te-base64-stray-chars"
    enc = b64(body.encode(), 60).split("\n")
    enc[0] = enc[0][:20] + " " + enc[0][20:40] + "\t" + enc[0][40:]
    enc[1] = enc[1] + "!"
    enc.insert(2, "   ")
    add(n, eml(std(n, "Uma <uma@example.com>", "Backup job failed (again)"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n", "\n".join(enc) + "\n"),
        "Base64 body with stray characters (spaces, tab, '!', whitespace-only line) that a decoder must skip.",
        "uma@example.com", "Backup job failed (again)", fromName="Uma", text=body, pycheck=False)

    n = "te-base64-long-lines"
    long_body = ("Line %02d of the diagnostic output, nothing to see here but it is long enough.\n" * 12) % tuple(range(12))
    add(n, eml(std(n, "Victor <victor@example.com>", "Diagnostics attached inline"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n",
               b64(long_body.encode(), 0) + "\n"),
        "Base64 body as one single line far longer than 76 characters.",
        "victor@example.com", "Diagnostics attached inline", fromName="Victor", text=long_body.strip())

    n = "te-qp-soft-breaks"
    qbody = ("Sehr geehrte Damen und Herren,=0A=0Aich m=C3=B6chte melden, dass der Beamer im Konferenzraum \"Z=\n"
             "ugspitze\" seit gestern nicht mehr funktioniert. Das Bild flackert st=C3=\n"
             "=A4ndig.\n\nMit freundlichen Gr=C3=BC=C3=9Fen\nWalter\n")
    add(n, eml(std(n, "Walter <walter@example.de>", "Beamer defekt"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n", qbody),
        "Quoted-printable with soft line breaks, including one that splits a word and one between the two bytes of a UTF-8 character; encoded =0A newlines.",
        "walter@example.de", "Beamer defekt", fromName="Walter",
        text="Sehr geehrte Damen und Herren,\n\nich möchte melden, dass der Beamer im Konferenzraum \"Zugspitze\" seit gestern "
             "nicht mehr funktioniert. Das Bild flackert ständig.\n\nMit freundlichen Grüßen\nWalter")

    n = "te-qp-bad-escapes"
    qbody = "Discount code =ZZ applied, total =3D 40 EUR.\nFormula: a=b+c and 50= off\nPrice =E2=82=AC 12\n"
    add(n, eml(std(n, "Xena <xena@example.com>", "Invoice question"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n", qbody),
        "Quoted-printable with invalid escapes ('=ZZ', '=b+', '= ') kept literally while valid ones decode.",
        "xena@example.com", "Invoice question", fromName="Xena",
        text="Discount code =ZZ applied, total = 40 EUR.\nFormula: a=b+c and 50= off\nPrice € 12")

    n = "te-qp-lowercase-trailing-ws"
    qbody = "Caf=c3=a9 machine broken.   \nSecond line with soft break =\nand lower-case hex.\n"
    add(n, eml(std(n, "Yuri <yuri@example.com>", "Kitchen"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: Quoted-Printable\n\n", qbody),
        "Quoted-printable with lower-case hex digits, trailing whitespace on a line, mixed-case CTE value.",
        "yuri@example.com", "Kitchen", fromName="Yuri",
        textContains=["Café machine broken.", "Second line with soft break and lower-case hex."], pycheck=False)

    n = "te-7bit-ascii"
    add(n, plain(n, "Zack <zack@example.com>", "Mouse not working",
                 "My mouse stopped working.\nI already changed the battery.\n", cs="us-ascii", cte="7bit"),
        "Plain 7bit US-ASCII single part.",
        "zack@example.com", "Mouse not working", fromName="Zack",
        text="My mouse stopped working.\nI already changed the battery.")

    n = "te-8bit-utf8"
    add(n, plain(n, "Åsa <asa@example.se>", "Skrivaren på plan två", "Skrivaren på plan två är trasig. Ärligt talat – igen!\n"),
        "8bit transfer encoding with raw UTF-8 body bytes.",
        "asa@example.se", "Skrivaren på plan två", fromName="Åsa",
        text="Skrivaren på plan två är trasig. Ärligt talat – igen!")

    n = "te-binary"
    blob = bytes((i * 37 + 11) % 256 for i in range(600))
    blob = bytes(b for b in blob if b not in (0x0A, 0x0D))
    data = eml(std(n, "Bea <bea@example.com>", "Firmware dump",
                   extra="Content-Type: multipart/mixed; boundary=\"bin-b\"\n"),
               "\n--bin-b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: binary\n\n"
               "Firmware dump attached – binary transfer encoding.\n"
               "--bin-b\nContent-Type: application/octet-stream; name=\"dump.bin\"\n"
               "Content-Disposition: attachment; filename=\"dump.bin\"\nContent-Transfer-Encoding: binary\n\n") \
        + Raw(blob) + eml("\n--bin-b--\n")
    add(n, data, "'binary' transfer encoding: raw bytes (no CR/LF inside) in an attachment and UTF-8 text.",
        "bea@example.com", "Firmware dump", fromName="Bea",
        text="Firmware dump attached – binary transfer encoding.",
        attachments=[att("dump.bin", "application/octet-stream", blob)], pycheck="binary")

    n = "te-uppercase-base64-attachment"
    data = eml(std(n, "Cleo <cleo@example.com>", "Screenshot of the error",
                   extra="Content-Type: Multipart/Mixed; Boundary=\"UP\"\n"),
               "\n--UP\nContent-Type: Text/Plain; Charset=\"UTF-8\"\nContent-Transfer-Encoding: QUOTED-PRINTABLE\n\n"
               "See screenshot =E2=80=93 error 42.\n--UP\nContent-Type: IMAGE/PNG; NAME=\"error.png\"\n"
               "Content-Transfer-Encoding: BASE64\nContent-Disposition: ATTACHMENT; FILENAME=\"error.png\"\n\n",
               b64(PNG) + "\n--UP--\n")
    add(n, data, "Upper/mixed-case media types, parameter names and transfer-encoding values.",
        "cleo@example.com", "Screenshot of the error", fromName="Cleo", text="See screenshot – error 42.",
        attachments=[att("error.png", "image/png", PNG)])


def b64_lines(s, width=76):
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


# =================================================================== main / check
GENERATORS = []


def strip_prefixes(s):
    pat = re.compile(r"^\s*(?:antw|fwd|réf|ref|re|fw|aw|wg|sv|vs|tr|rv|odp|ynt|返信|転送|回复|答复|转发)\s*(?:\[\d+\])?\s*[:：]\s*", re.I)
    s = s.strip()
    while True:
        t = pat.sub("", s, count=1)
        if t == s:
            break
        s = t
    return s.strip() or "(no subject)"


def write_all():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".eml") or f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    for name, (data, d, _) in sorted(FIXTURES.items()):
        with open(os.path.join(OUT, name + ".eml"), "wb") as fh:
            fh.write(data)
        with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as fh:
            json.dump(d, fh, ensure_ascii=False, indent=2)
            fh.write("\n")


def fix_sur(s):
    if s is None:
        return s
    try:
        return s.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return s


ATTRIB = re.compile(r"^(On .* wrote:|Am .* schrieb .*:|Le .* a écrit ?:|El .* escribió:|.*さんは書きました[:：]|"
                    r"\d{4}年\d{1,2}月\d{1,2}日.*[:：]|\d{4}/\d{2}/\d{2} \d{2}:\d{2}, .* wrote:)\s*$")
SIGNOFF = ("Sent from my iPhone", "iPhoneから送信", "Sent from Outlook for Android", "Sent from my Galaxy")


def naive_reply(text):
    """A deliberately simple reference implementation of the reply rules (used only by --check)."""
    lines = text.replace("\r\n", "\n").split("\n")
    out = []
    for i, l in enumerate(lines):
        rest = [x for x in lines[i + 1:] if x.strip()]
        if MARKER in l or l == "-- " or l.startswith(SIGNOFF) or l.strip() == "-----Original Message-----":
            break
        if re.match(r"^(From|Von|De ?|差出人) ?:", l) and any(
                re.match(r"^(Sent|Gesendet|Envoyé ?|送信日時) ?:", x) for x in lines[i + 1:i + 4]):
            break
        if ATTRIB.match(l.strip()) and all(x.startswith(">") for x in rest):
            break
        if i + 1 < len(lines) and ATTRIB.match(l.strip() + " " + lines[i + 1].strip()) and all(
                x.startswith(">") for x in rest[1:]):
            break  # attribution wrapped over two lines (Gmail)
        if l.startswith(">"):
            continue
        out.append(l)
    return "\n".join(out).strip()


def check():
    import email
    from email import policy
    problems = []
    for name, (data, d, opt) in sorted(FIXTURES.items()):
        json.loads(open(os.path.join(OUT, name + ".json"), encoding="utf-8").read())
        if opt["pycheck"] is False:
            continue
        m = email.message_from_bytes(data, policy=policy.default)
        try:
            if opt["pycheck"] != "nofrom":
                addrs = m["From"].addresses if m["From"] else ()
                if not addrs or addrs[0].addr_spec != d["from"]:
                    problems.append((name, "from", addrs and addrs[0].addr_spec, d["from"]))
                elif "fromName" in d and fix_sur(addrs[0].display_name or None) != d["fromName"]:
                    problems.append((name, "fromName", addrs[0].display_name, d["fromName"]))
            subj = str(m["Subject"]) if m["Subject"] is not None else ""
            subj = fix_sur(re.sub(r"\r?\n", "", subj))
            if strip_prefixes(subj) != d["summary"]:
                problems.append((name, "summary", strip_prefixes(subj), d["summary"]))
            for k in ("to", "cc"):
                if k in d:
                    h = m[k]
                    got = [a.addr_spec for a in h.addresses] if h else []
                    if got != d[k]:
                        problems.append((name, k, got, d[k]))
            if "text" in d or "textContains" in d:
                part = m.get_body(("plain",))
                if part is not None:
                    t = part.get_content().replace("\r\n", "\n").strip()
                    if "text" in d and t != d["text"]:
                        problems.append((name, "text", t[:200], d["text"][:200]))
                    for c in d.get("textContains", []):
                        if c not in t:
                            problems.append((name, "textContains", c, t[:200]))
            if "attachments" in d:
                got = []
                def leaves(x):
                    if x.get_content_type() == "message/rfc822" or not x.is_multipart():
                        yield x
                    else:
                        for sp in x.get_payload():
                            yield from leaves(sp)
                for p in leaves(m):
                    fn = p.get_filename()
                    if p is m.get_body(("plain", "html")) and not fn:
                        continue
                    if p.get_content_maintype() == "text" and not fn and p.get_content_disposition() != "attachment":
                        continue
                    if p.get_content_type() == "message/rfc822":
                        got.append((fn, p.get_content_type(), None))
                        continue
                    got.append((fn, p.get_content_type(), len(p.get_payload(decode=True) or b"")))
                exp = [(a["filename"], a["contentType"], a["size"]) for a in d["attachments"]]
                if [(g[1]) for g in got] != [e[1] for e in exp] or any(
                        g[2] is not None and g[2] != e[2] for g, e in zip(got, exp)):
                    problems.append((name, "attachments", got, exp))
        except Exception as e:  # noqa
            problems.append((name, "exception", repr(e), ""))
    for name, (data, d, opt) in sorted(FIXTURES.items()):
        if "reply" not in d and "replyContains" not in d:
            continue
        m = email.message_from_bytes(data, policy=policy.default)
        part = m.get_body(("plain",))
        if part is None:
            continue
        r = naive_reply(fix_sur(part.get_content()))
        if "reply" in d and r != d["reply"]:
            problems.append((name, "reply", r, d["reply"]))
        for c in d.get("replyContains", []):
            if c not in r:
                problems.append((name, "replyContains", c, r))
        for c in d.get("replyNotContains", []):
            if c in r:
                problems.append((name, "replyNotContains", c, r))
    for p in problems:
        print("CHECK", *p, sep=" | ")
    print(f"checked; {len(problems)} differences (review; Python is a reference, not the judge)")


def main():
    for g in [gen_hdr, gen_addr, gen_ew, gen_te] + GENERATORS:
        g()
    write_all()
    counts = {}
    for n in FIXTURES:
        counts[n.split("-")[0]] = counts.get(n.split("-")[0], 0) + 1
    print(len(FIXTURES), "fixtures", counts)
    if "--check" in sys.argv:
        check()



# =================================================================== mp-
def gen_mp():
    n = "mp-mixed-text-pdf"
    data = eml(std(n, "Anna <anna@example.com>", "Expense report rejected",
                   extra='Content-Type: multipart/mixed; boundary="==mix1=="\n'),
               "\n--==mix1==\nContent-Type: text/plain; charset=utf-8\n\nThe expense tool rejects my report, PDF attached.\n"
               "--==mix1==\nContent-Type: application/pdf; name=\"expenses.pdf\"\nContent-Transfer-Encoding: base64\n"
               "Content-Disposition: attachment; filename=\"expenses.pdf\"\n\n", b64(PDF), "\n--==mix1==--\n")
    add(n, data, "multipart/mixed with a text/plain body and a base64 PDF attachment.",
        "anna@example.com", "Expense report rejected", fromName="Anna",
        text="The expense tool rejects my report, PDF attached.",
        attachments=[att("expenses.pdf", "application/pdf", PDF)])

    n = "mp-alternative-plain-html"
    data = eml(std(n, "Bert <bert@example.com>", "Teams audio issue",
                   extra='Content-Type: multipart/alternative; boundary="alt-42"\n'),
               "\n--alt-42\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n",
               qp("Hi,\n\nin Teams calls nobody hears me.\n\nThanks\nBert\n"),
               "--alt-42\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n",
               qp("<html><body><p>Hi,</p><p>in <b>Teams</b> calls nobody hears me.</p><p>Thanks<br>Bert</p></body></html>\n"),
               "--alt-42--\n")
    add(n, data, "multipart/alternative: the text/plain alternative is used, not the HTML.",
        "bert@example.com", "Teams audio issue", fromName="Bert",
        text="Hi,\n\nin Teams calls nobody hears me.\n\nThanks\nBert", attachments=[])

    n = "mp-alternative-html-first"
    data = eml(std(n, "Cora <cora@example.com>", "Docking station",
                   extra='Content-Type: multipart/alternative; boundary="a2"\n'),
               "\n--a2\nContent-Type: text/html; charset=utf-8\n\n<div>HTML version: <i>dock</i> is dead</div>\n"
               "--a2\nContent-Type: text/plain; charset=utf-8\n\nPlain version: dock is dead\n--a2--\n")
    add(n, data, "multipart/alternative with HTML first and plain second: text/plain is still preferred.",
        "cora@example.com", "Docking station", fromName="Cora", text="Plain version: dock is dead")

    n = "mp-html-only-conversion"
    html = ("<!DOCTYPE html><html><head><style>p { color: red; } .x::after { content: 'STYLE-LEAK'; }</style>"
            "<script>var leak = 'SCRIPT-LEAK';</script><title>t</title></head><body>"
            "<p>Hello&nbsp;team &amp; friends,</p><p>Steps to reproduce:</p><ul><li>Open Outlook</li>"
            "<li>Click &quot;Send&quot;</li><li>See error &lt;0x800CCC0E&gt;</li></ul>"
            "<p>Details: <a href=\"https://status.example.com/incidents/7\">status page</a><br>Line two&#33; &euro;5 &#x2713;</p>"
            "</body></html>\n")
    data = eml(std(n, "Dina <dina@example.com>", "Outlook cannot send"),
               "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n", qp(html))
    add(n, data, "HTML-only body converted to text: entities, list items on own lines, link as 'text <url>', script/style dropped.",
        "dina@example.com", "Outlook cannot send", fromName="Dina",
        textContains=["Hello", "team & friends,", "Open Outlook\n", "Click \"Send\"", "See error <0x800CCC0E>",
                      "status page <https://status.example.com/incidents/7>", "Line two! €5 ✓"],
        textNotContains=["SCRIPT-LEAK", "STYLE-LEAK", "<p>", "&amp;", "<li>"], pycheck=False)

    n = "mp-related-inline-image"
    data = eml(std(n, "Emil <emil@example.com>", "Error dialog",
                   extra='Content-Type: multipart/related; boundary="rel-1"; type="text/html"\n'),
               "\n--rel-1\nContent-Type: text/html; charset=utf-8\n\n"
               "<html><body><p>This dialog appears at login:</p><p><img src=\"cid:img001@example.com\" alt=\"screenshot\"></p></body></html>\n"
               "--rel-1\nContent-Type: image/png; name=\"image001.png\"\nContent-Transfer-Encoding: base64\n"
               "Content-ID: <img001@example.com>\nContent-Disposition: inline; filename=\"image001.png\"\n\n",
               b64(PNG), "\n--rel-1--\n")
    add(n, data, "multipart/related: HTML body with an inline PNG referenced by Content-ID (listed as an attachment).",
        "emil@example.com", "Error dialog", fromName="Emil",
        textContains=["This dialog appears at login:"], textNotContains=["<img", "cid:"],
        attachments=[att("image001.png", "image/png", PNG)], pycheck=False)

    n = "mp-nested-four-levels"
    inner_html = "<html><body><p>Nested <b>HTML</b> with logo</p><img src=\"cid:logo@x\"></body></html>\n"
    data = eml(std(n, "Fritz <fritz@example.com>", "Contract renewal",
                   extra='Content-Type: multipart/mixed; boundary="L1"\n'),
               "\nThis is a multi-part message in MIME format.\n"
               "--L1\nContent-Type: multipart/alternative; boundary=\"L2\"\n\n"
               "--L2\nContent-Type: text/plain; charset=utf-8\n\nPlease renew the contract, details attached.\n"
               "--L2\nContent-Type: multipart/related; boundary=\"L3\"\n\n"
               "--L3\nContent-Type: multipart/alternative; boundary=\"L4\"\n\n"
               "--L4\nContent-Type: text/html; charset=utf-8\n\n" + inner_html +
               "--L4--\n"
               "--L3\nContent-Type: image/png; name=\"logo.png\"\nContent-Transfer-Encoding: base64\nContent-ID: <logo@x>\n\n", b64(PNG2), "\n"
               "--L3--\n"
               "--L2--\n"
               "--L1\nContent-Type: application/pdf; name=\"contract.pdf\"\nContent-Transfer-Encoding: base64\n"
               "Content-Disposition: attachment; filename=\"contract.pdf\"\n\n", b64(PDF), "\n--L1--\n")
    add(n, data, "Four levels of nesting: mixed > alternative > related > alternative; plain text found at level 2, inline image and PDF as attachments.",
        "fritz@example.com", "Contract renewal", fromName="Fritz",
        text="Please renew the contract, details attached.", textNotContains=["Nested"],
        attachments=[att("logo.png", "image/png", PNG2), att("contract.pdf", "application/pdf", PDF)], pycheck=False)

    n = "mp-forwarded-rfc822-attachment"
    inner = eml("From: Vendor Billing <billing@vendor.example>\nTo: gina@example.com\nSubject: Your invoice 2026-118\n"
                "Date: Thu, 19 Nov 2026 08:00:00 +0000\nMessage-ID: <inv118@vendor.example>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\n\nPlease find invoice 2026-118 for 1.200,00 EUR.\n")
    data = eml(std(n, "Gina <gina@example.com>", "Fwd: Your invoice 2026-118",
                   extra='Content-Type: multipart/mixed; boundary="fwd-b"\n'),
               "\n--fwd-b\nContent-Type: text/plain; charset=utf-8\n\nCan someone check whether this invoice is legit?\n"
               "--fwd-b\nContent-Type: message/rfc822; name=\"Your invoice 2026-118.eml\"\n"
               "Content-Disposition: attachment; filename=\"Your invoice 2026-118.eml\"\n\n") + inner + eml("\n--fwd-b--\n")
    add(n, data, "Forwarded mail attached as message/rfc822 (.eml attachment); summary strips 'Fwd:'; inner text is not the body.",
        "gina@example.com", "Your invoice 2026-118", fromName="Gina",
        text="Can someone check whether this invoice is legit?", textNotContains=["1.200,00 EUR"],
        attachments=[att("Your invoice 2026-118.eml", "message/rfc822", inner)])

    n = "mp-forwarded-inline-text"
    body = ("FYI, see below - can you whitelist this sender?\n\n---------- Forwarded message ---------\n"
            "From: Newsletter <news@vendor.example>\nDate: Thu, Nov 19, 2026 at 9:00 AM\nSubject: Product update\n"
            "To: <hugo@example.com>\n\nOur product update for November.\n")
    add(n, plain(n, "Hugo <hugo@example.com>", "Fwd: Product update", body),
        "Forward as inline text (Gmail style '---------- Forwarded message ---------'): the whole text including the forwarded part is the description.",
        "hugo@example.com", "Product update", fromName="Hugo",
        textContains=["FYI, see below", "---------- Forwarded message ---------", "Our product update for November."])

    n = "mp-forwarded-rfc822-inline"
    inner = eml("From: Kim <kim@partner.example>\nTo: ines@example.com\nSubject: Access to SharePoint\n"
                "Date: Thu, 19 Nov 2026 08:00:00 +0000\nMessage-ID: <sp1@partner.example>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                "I cannot open the partner site =E2=80=93 error 403.\n")
    data = eml(std(n, "Ines <ines@example.com>", "WG: Access to SharePoint",
                   extra='Content-Type: multipart/mixed; boundary="fw2"\n'),
               "\n--fw2\nContent-Type: text/plain; charset=utf-8\n\nForwarding Kim's problem, please give her access.\n"
               "--fw2\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n") + inner + eml("--fw2--\n")
    add(n, data, "Forwarded message/rfc822 part with inline disposition (Outlook 'forward as attachment' variant) after the sender's own text.",
        "ines@example.com", "Access to SharePoint", fromName="Ines",
        textContains=["Forwarding Kim's problem, please give her access."], pycheck=False)

    n = "mp-missing-final-boundary"
    logb = b"2026-11-20 10:00 ERROR disk full\r\n2026-11-20 10:01 WARN retrying\r\n"
    data = eml(std(n, "Jonas <jonas@example.com>", "Log file for ticket",
                   extra='Content-Type: multipart/mixed; boundary="nofinal"\n'),
               "\n--nofinal\nContent-Type: text/plain; charset=utf-8\n\nLog attached.\n"
               "--nofinal\nContent-Type: text/plain; charset=utf-8; name=\"app.log\"\n"
               "Content-Disposition: attachment; filename=\"app.log\"\nContent-Transfer-Encoding: base64\n\n",
               b64(logb) + "\n")
    add(n, data, "Truncated multipart: the closing boundary is missing; both parts are still delivered (the attachment is base64, so its size is unambiguous).",
        "jonas@example.com", "Log file for ticket", fromName="Jonas", text="Log attached.",
        attachments=[att("app.log", "text/plain", logb)], pycheck=False)

    n = "mp-preamble-epilogue"
    data = eml(std(n, "Karin <karin@example.com>", "Scanner driver",
                   extra='Content-Type: multipart/mixed;\n boundary="----=_NextPart_000_0001_01DB3A2F.12345678"\n'),
               "This is a multi-part message in MIME format. PREAMBLE-TEXT\n\n"
               "------=_NextPart_000_0001_01DB3A2F.12345678\nContent-Type: text/plain;\n\tcharset=\"us-ascii\"\n"
               "Content-Transfer-Encoding: 7bit\n\nWhich scanner driver should I install?\n\n"
               "------=_NextPart_000_0001_01DB3A2F.12345678--\n\nEPILOGUE-TEXT that should be ignored.\n")
    add(n, data, "Preamble and epilogue around the parts are ignored; Outlook-style boundary with '=' and folded parameters.",
        "karin@example.com", "Scanner driver", fromName="Karin", text="Which scanner driver should I install?",
        textNotContains=["PREAMBLE-TEXT", "EPILOGUE-TEXT"])

    n = "mp-no-content-type"
    data = eml("Received: from mx.example.com by mail.desk.test; " + DATE + "\nFrom: Lars <lars@example.com>\n"
               "To: help@desk.test\nSubject: Old mailer\nDate: " + DATE + "\nMessage-ID: <old.1@example.com>\n\n"
               "Sent from a very old mail program.\nNo MIME headers at all.\n")
    add(n, data, "Single-part text with no MIME-Version and no Content-Type: defaults to text/plain us-ascii.",
        "lars@example.com", "Old mailer", fromName="Lars", text="Sent from a very old mail program.\nNo MIME headers at all.")

    n = "mp-boundary-prefix"
    data = eml(std(n, "Maja <maja@example.com>", "Two attachments",
                   extra='Content-Type: multipart/mixed; boundary="b1"\n'),
               "\n--b1\nContent-Type: multipart/alternative; boundary=\"b1_alt\"\n\n"
               "--b1_alt\nContent-Type: text/plain; charset=utf-8\n\nOuter boundary is a prefix of the inner one.\n"
               "--b1_alt\nContent-Type: text/html; charset=utf-8\n\n<p>Outer boundary is a prefix of the inner one.</p>\n"
               "--b1_alt--\n--b1\nContent-Type: image/png; name=\"a.png\"\nContent-Transfer-Encoding: base64\n\n", b64(PNG),
               "\n--b1--\n")
    add(n, data, "The outer boundary 'b1' is a prefix of the inner boundary 'b1_alt': only exact delimiter lines split parts.",
        "maja@example.com", "Two attachments", fromName="Maja", text="Outer boundary is a prefix of the inner one.",
        attachments=[att("a.png", "image/png", PNG)])

    n = "mp-boundary-trailing-space"
    data = eml(std(n, "Nils <nils@example.com>", "Boundary whitespace",
                   extra="Content-Type: multipart/mixed; boundary=simple\n"),
               "\n--simple   \nContent-Type: text/plain\n\nDelimiter lines have trailing whitespace.\n--simple\t\n"
               "Content-Type: application/zip; name=\"logs.zip\"\nContent-Transfer-Encoding: base64\n\n")
    z = zip_bytes([("logs/app.log", b"ok\n" * 20)])
    data += eml(b64(z), "\n--simple-- \n")
    add(n, data, "Unquoted boundary parameter; delimiter lines carry trailing spaces/tabs (allowed transport padding).",
        "nils@example.com", "Boundary whitespace", fromName="Nils", text="Delimiter lines have trailing whitespace.",
        attachments=[att("logs.zip", "application/zip", z)])


GENERATORS.append(gen_mp)



# =================================================================== cs-
def cs_fix(name, label, codec, frm_name, frm_addr, subject, body, cte="8bit", sub="B", covers=None, **kw):
    b = body.encode(codec)
    sw = ("=?%s?B?%s?=" % (label, base64.b64encode(subject.encode(codec)).decode())) if sub == "B" else None
    if sub == "Q":
        sw = "=?%s?Q?%s?=" % (label, "".join(
            "_" if c == 0x20 else (chr(c) if chr(c).isalnum() and c < 128 else "=%02X" % c) for c in subject.encode(codec)))
    fw = "=?%s?B?%s?=" % (label, base64.b64encode(frm_name.encode(codec)).decode())
    if cte == "base64":
        payload = b64(crlf(b)).encode() + b"\n"
    elif cte == "quoted-printable":
        payload = quopri.encodestring(crlf(b)).replace(b"\r\n", b"\n")
    else:
        payload = b
    data = eml(std(name, f"{fw} <{frm_addr}>", sw),
               f"Content-Type: text/plain; charset=\"{label}\"\nContent-Transfer-Encoding: {cte}\n\n", payload)
    add(name, data, covers or f"{label} body ({cte}) and {label} {sub}-encoded Subject and display name.",
        frm_addr, subject, fromName=frm_name, text=body.strip(), **kw)


def gen_cs():
    cs_fix("cs-utf8-emoji-base64", "UTF-8", "utf-8", "Ola Nordmann 😀", "ola@example.no",
           "Laptop battery 🔋 dies after 20 min", "The battery 🔋 drains fast.\nSee 👉 attached nothing. Ünïcödé ✓\n",
           cte="base64", covers="UTF-8 base64 body and B-encoded subject with 4-byte characters (emoji).")
    cs_fix("cs-us-ascii", "us-ascii", "ascii", "Pat Plain", "pat@example.com", "Plain old ASCII",
           "Nothing special here.\nJust ASCII.\n", cte="7bit", sub="Q")
    cs_fix("cs-iso-8859-1", "ISO-8859-1", "iso8859_1", "Hélène Dubois", "helene@example.fr",
           "Problème d'accès à la messagerie", "Bonjour,\n\nje n'arrive plus à accéder à ma boîte aux lettres. Merci !\n",
           cte="quoted-printable", sub="Q")
    cs_fix("cs-iso-8859-2", "ISO-8859-2", "iso8859_2", "Paweł Żółć", "pawel@example.pl",
           "Błąd logowania - pilne", "Dzień dobry,\nnie mogę się zalogować. Zażółć gęślą jaźń.\n", cte="8bit", sub="Q")
    cs_fix("cs-iso-8859-5", "ISO-8859-5", "iso8859_5", "Иван Петров", "ivan.petrov@example.ru",
           "Не работает принтер", "Здравствуйте!\nПринтер на третьем этаже не печатает.\n", cte="8bit")
    cs_fix("cs-iso-8859-7", "ISO-8859-7", "iso8859_7", "Γιώργος Παπαδόπουλος", "giorgos@example.gr",
           "Πρόβλημα με τον υπολογιστή", "Καλημέρα,\nο υπολογιστής μου δεν ξεκινά.\n", cte="quoted-printable")
    cs_fix("cs-iso-8859-15", "ISO-8859-15", "iso8859_15", "Chloé Œuvrard", "chloe.oe@example.fr",
           "Facture de 250 € - cœur du problème", "La facture indique 250 € au lieu de 200 €. Œuvre, cœur, Ÿ.\n",
           cte="quoted-printable", sub="Q", covers="ISO-8859-15 specific characters (€ Œ œ Ÿ) in QP body and Q subject.")
    cs_fix("cs-windows-1250", "windows-1250", "cp1250", "Tomáš Dvořák", "tomas@example.cz",
           "Nefunguje tiskárna – „naléhavé“", "Dobrý den,\ntiskárna hlásí „chyba 5“ — prosím o pomoc.\nŠťastný Tomáš\n",
           cte="8bit")
    cs_fix("cs-windows-1251", "windows-1251", "cp1251", "Ольга Смирнова", "olga@example.ru",
           "Сброс пароля «срочно»", "Добрый день!\nПрошу сбросить пароль — «срочно».\n", cte="base64")
    cs_fix("cs-windows-1252", "windows-1252", "cp1252", "Seán O’Neill", "sean@example.ie",
           "“Smart quotes” – and €uro signs…", "It’s broken — “again”… costs €12 ™.\n", cte="quoted-printable", sub="Q",
           covers="windows-1252 specific 0x80–0x9F characters (curly quotes, dashes, ellipsis, €, ™).")
    cs_fix("cs-windows-1253", "windows-1253", "cp1253", "Ελένη Νικολάου", "eleni@example.gr",
           "Αίτημα για νέο ποντίκι", "Γεια σας,\nχρειάζομαι νέο ποντίκι — το παλιό χάλασε.\n", cte="8bit")
    cs_fix("cs-windows-1256", "windows-1256", "cp1256", "أحمد علي", "ahmed@example.sa",
           "مشكلة في البريد الإلكتروني", "مرحبا،\nلا أستطيع إرسال البريد الإلكتروني.\n", cte="base64")
    cs_fix("cs-koi8-r", "KOI8-R", "koi8_r", "Сергей Иванов", "sergey@example.ru",
           "Вопрос по доступу к VPN", "Привет!\nНе могу подключиться к VPN из дома.\n", cte="8bit")
    cs_fix("cs-koi8-u", "KOI8-U", "koi8_u", "Олена Ґудзь", "olena@example.ua",
           "Їжак і ґанок: є проблема", "Добрий день!\nЇхати не можу, є проблема з ґанком і її ноутбуком.\n", cte="8bit",
           covers="KOI8-U specific letters (Ї Є І Ґ ї є і ґ) in 8bit body and B subject.")
    cs_fix("cs-shift-jis", "Shift_JIS", "shift_jis", "鈴木一郎", "suzuki@example.jp",
           "パスワードの再設定", "お疲れ様です。\nパスワードを再設定してください。\n", cte="8bit")
    cs_fix("cs-cp932-extras-labelled-sjis", "Shift_JIS", "cp932", "髙橋次郎", "takahashi@example.jp",
           "①会議室の件（髙橋）", "お世話になります。\n①会議室Ⅲの予約\n②髙橋の席替え\n㈱サンプル\n", cte="8bit", pycheck=False,
           covers="Mail labelled Shift_JIS containing CP932 extensions (①②, Ⅲ, ㈱, 髙): decode as Windows-31J.")
    cs_fix("cs-euc-jp", "EUC-JP", "euc_jp", "佐藤花子", "sato@example.jp",
           "ネットワークが遅い", "こんにちは。\n社内ネットワークがとても遅いです。\n", cte="8bit")
    cs_fix("cs-gb2312", "GB2312", "gb2312", "王小明", "wang@example.cn",
           "无法连接打印机", "你好，\n我的电脑无法连接打印机。\n", cte="base64")
    cs_fix("cs-gbk", "GBK", "gbk", "张镕", "zhang@example.cn",
           "账户被锁（镕、堃）", "您好，\n我的账户被锁了。姓名里有生僻字：镕、堃、喆。\n", cte="8bit",
           covers="GBK body/subject with characters outside GB2312 (镕 堃 喆).")
    cs_fix("cs-gb2312-label-gbk-bytes", "gb2312", "gbk", "朱镕", "zhu@example.cn",
           "关于朱镕的权限", "请给朱镕开通权限。\n", cte="8bit", pycheck=False,
           covers="Labelled gb2312 but containing GBK-only characters (common in Chinese mail): decode as GBK superset.")
    cs_fix("cs-gb18030", "GB18030", "gb18030", "李𠀀", "li@example.cn",
           "GB18030 四字节字符 𠀀 € 测试", "四字节字符：𠀀，欧元符号：€，表情：😀。\n", cte="base64",
           covers="GB18030 with four-byte sequences (CJK Ext B, emoji) and €.")
    cs_fix("cs-big5", "Big5", "big5", "陳大文", "chan@example.tw",
           "電腦無法開機", "您好，\n我的電腦無法開機，請協助處理。\n", cte="8bit")
    cs_fix("cs-euc-kr", "EUC-KR", "euc_kr", "김민수", "kim@example.kr",
           "비밀번호 재설정 요청", "안녕하세요.\n비밀번호를 재설정해 주세요.\n", cte="base64")

    n = "cs-utf16-bom"
    body = "UTF-16 body with BOM: Größe 10 – 日本 ✓\r\nSecond line.\r\n"
    b = b"\xff\xfe" + body.encode("utf-16-le")
    data = eml(std(n, "Udo <udo@example.com>", ewb("UTF-16 Nachricht – Größe")),
               "Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n", b64(b), "\n")
    add(n, data, "UTF-16 (little-endian, with BOM) body in base64, labelled utf-16.",
        "udo@example.com", "UTF-16 Nachricht – Größe", fromName="Udo",
        text="UTF-16 body with BOM: Größe 10 – 日本 ✓\nSecond line.")

    n = "cs-iso2022jp-no-charset"
    b = "お世話になっております。\nVPNに接続できません。\n".encode("iso2022_jp")
    data = eml(std(n, "Kenji <kenji@example.jp>", ewb("VPN接続不可", "ISO-2022-JP")),
               "Content-Type: text/plain\nContent-Transfer-Encoding: 7bit\n\n", b)
    add(n, data, "ISO-2022-JP body bytes in a text/plain part with no charset parameter: detected by its escape sequences.",
        "kenji@example.jp", "VPN接続不可", fromName="Kenji", textContains=["お世話になっております。", "VPNに接続できません。"],
        pycheck=False)

    n = "cs-iso2022jp-labelled-us-ascii"
    b = "ご確認ください。\nサーバー名：srv-01\n".encode("iso2022_jp")
    data = eml(std(n, "Mika <mika@example.jp>", "Server check"),
               "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n", b)
    add(n, data, "ISO-2022-JP body mislabelled charset=us-ascii (7-bit escape sequences): detected as ISO-2022-JP.",
        "mika@example.jp", "Server check", fromName="Mika", textContains=["ご確認ください。", "srv-01"], pycheck=False)

    n = "cs-invalid-utf8"
    b = "Valid part before. ".encode() + b"\xc3\x28 bad \xff\xfe \xe2\x82 broken" + "\nValid line after: café ✓\n".encode()
    data = eml(std(n, "Nora <nora@example.com>", "Broken encoding"),
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n", b)
    add(n, data, "Body labelled utf-8 containing invalid UTF-8 sequences: must not fail; the valid parts survive.",
        "nora@example.com", "Broken encoding", fromName="Nora",
        textContains=["Valid part before.", "Valid line after:"], pycheck=False)

    n = "cs-unknown-charset-label"
    b = b"Plain ASCII text survives.\nSecond line \xe9\xe8.\n"
    data = eml(std(n, "Omar <omar@example.com>", "Unknown charset"),
               "Content-Type: text/plain; charset=\"x-unknown-42\"\nContent-Transfer-Encoding: 8bit\n\n", b)
    add(n, data, "Body with an unknown charset label 'x-unknown-42': decoded with a fallback; the ASCII part survives.",
        "omar@example.com", "Unknown charset", fromName="Omar",
        textContains=["Plain ASCII text survives.", "Second line"], pycheck=False)

    n = "cs-charset-aliases"
    data = eml(std(n, "Paula <paula@example.com>", "=?latin1?Q?Caf=E9?= and =?utf8?Q?na=C3=AFve?= labels",
                   extra='Content-Type: multipart/mixed; boundary="al"\n'),
               "\n--al\nContent-Type: text/plain; charset=\" UTF8 \"\nContent-Transfer-Encoding: 8bit\n\n",
               "Alias 'UTF8' with spaces: naïve café.\n".encode("utf-8"),
               "--al\nContent-Type: text/plain; charset=cp1252; name=\"note.txt\"\n"
               "Content-Disposition: attachment; filename=\"note.txt\"\n\n", "Note – cp1252.".encode("cp1252"), "\n--al--\n")
    add(n, data, "Charset aliases: 'latin1' and 'utf8' in encoded words, ' UTF8 ' (quoted with spaces) in a body part.",
        "paula@example.com", "Café and naïve labels", fromName="Paula", text="Alias 'UTF8' with spaces: naïve café.",
        attachments=[att("note.txt", "text/plain", "Note – cp1252.".encode("cp1252"))], pycheck=False)

    n = "cs-iso2022jp-halfwidth-kana"
    part1 = "半角カナのテスト：".encode("iso2022_jp")[:-3]        # stay in JIS X 0208 mode
    kana = "ｶﾀｶﾅ ｱｲｳ".encode("iso2022_jp_ext")                    # ESC ( I ... ESC ( B
    b = part1 + kana + "\n了解です。\n".encode("iso2022_jp")
    assert b"\x1b(I" in b
    data = eml(std(n, "Yoko <yoko@example.jp>", "=?ISO-2022-JP?B?%s?=" % base64.b64encode(
        "件名".encode("iso2022_jp")[:-3] + "ｶﾅ".encode("iso2022_jp_ext")).decode()),
               "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n", b)
    add(n, data, "ISO-2022-JP with half-width katakana via 'ESC ( I' (JIS X 0201 kana, CP50220 style) in body and subject.",
        "yoko@example.jp", "件名ｶﾅ", fromName="Yoko",
        textContains=["半角カナのテスト：", "ｶﾀｶﾅ ｱｲｳ", "了解です。"], pycheck=False)

    n = "cs-iso2022jp-nec-specials"
    def jis(s):
        return b"\x1b$B" + b"".join(sjis_to_jis(ch.encode("cp932")) for ch in s) + b"\x1b(B"
    b = jis("丸数字") + b": " + jis("①②③") + b"\n" + jis("ローマ数字") + b": " + jis("ⅠⅡⅢ") + b"\n" + jis("単位") + b": " + jis("㌔㎝") + b"\n"
    subj = "=?ISO-2022-JP?B?%s?=" % base64.b64encode(jis("手順①") + b" OK").decode()
    data = eml(std(n, "Goro <goro@example.jp>", subj),
               "Content-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: 7bit\n\n", b)
    add(n, data, "ISO-2022-JP containing NEC special characters (row 13: ①②③ ⅠⅡⅢ ㌔㎝) as Outlook/CP50220 emits them.",
        "goro@example.jp", "手順① OK", fromName="Goro",
        textContains=["丸数字: ①②③", "ローマ数字: ⅠⅡⅢ", "単位: ㌔㎝"], pycheck=False)


GENERATORS.append(gen_cs)



# =================================================================== ja-
NOTIF_JA = ("##- Please type your reply above this line -##\n\n"
            "リクエスト SD-101 が更新されました。\n担当者: トナーを交換しました。ご確認ください。\n")


def reply_hdrs(sd="SD-101"):
    tag = sd.lower().replace("-", "")
    return f"In-Reply-To: <postdesk.{tag}.1@desk.test>\nReferences: <postdesk.{tag}.1@desk.test>\n"


def gen_ja():
    n = "ja-outlook-iso2022jp-reply"
    body = ("ご対応ありがとうございます。\n再起動したら直りました。\n\n"
            "差出人: Postdesk <help@desk.test>\n送信日時: 2026年11月20日 金曜日 10:15\n"
            "宛先: 山田 太郎 <taro@example.jp>\n件名: [SD-101] プリンターが動かない\n\n" + NOTIF_JA)
    data = eml(std(n, ewb("山田 太郎", "ISO-2022-JP") + " <taro@example.jp>",
                   ewb("RE: [SD-101] プリンターが動かない", "ISO-2022-JP"),
                   extra=reply_hdrs() + "X-Mailer: Microsoft Outlook 16.0\nThread-Index: AdtbA1b2c3d4e5f6\n"
                         "Content-Language: ja\n"),
               "Content-Type: text/plain; charset=\"iso-2022-jp\"\nContent-Transfer-Encoding: 7bit\n\n",
               body.encode("iso2022_jp"))
    add(n, data, "Japanese Outlook reply: ISO-2022-JP 7bit, 'RE:' inside the encoded subject, '差出人:/送信日時:/宛先:/件名:' quote block.",
        "taro@example.jp", "[SD-101] プリンターが動かない", fromName="山田 太郎",
        textContains=["再起動したら直りました。", "差出人: Postdesk"],
        reply="ご対応ありがとうございます。\n再起動したら直りました。")

    n = "ja-thunderbird-en-attribution"
    body = ("確認しました。問題ありません。\n\n2026/11/20 10:15, 山田 太郎 wrote:\n> "
            + NOTIF_JA.replace("\n", "\n> ").rstrip("> ") + "\n")
    data = eml(std(n, "鈴木 花子 <hanako@example.jp>", ewb("Re: [SD-101] プリンターが動かない"),
                   extra=reply_hdrs() + "User-Agent: Mozilla Thunderbird\n"),
               "Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n", body)
    add(n, data, "Thunderbird (English UI) reply from a Japanese user: '2026/11/20 10:15, 山田 太郎 wrote:' attribution, format=flowed UTF-8.",
        "hanako@example.jp", "[SD-101] プリンターが動かない", fromName="鈴木 花子",
        reply="確認しました。問題ありません。", replyNotContains=["wrote:", "トナー"])

    n = "ja-thunderbird-ja-attribution"
    body = ("承知しました。明日また確認します。\n\n2026/11/20 10:15 に Postdesk さんは書きました:\n> "
            + NOTIF_JA.replace("\n", "\n> ").rstrip("> ") + "\n")
    data = eml(std(n, "高橋 健 <ken@example.jp>", ewb("Re: [SD-101] プリンターが動かない", "ISO-2022-JP"),
                   extra=reply_hdrs() + "User-Agent: Mozilla Thunderbird\n"),
               "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n",
               body.encode("iso2022_jp"))
    add(n, data, "Thunderbird (Japanese UI) reply: '… さんは書きました:' attribution followed by quotes, ISO-2022-JP.",
        "ken@example.jp", "[SD-101] プリンターが動かない", fromName="高橋 健",
        reply="承知しました。明日また確認します。", replyNotContains=["さんは書きました", "トナー"])

    n = "ja-gmail-utf8-base64"
    plain_t = ("直りました。ありがとうございました。\n\n2026年11月20日(金) 10:15 Postdesk <help@desk.test>:\n\n> "
               + NOTIF_JA.replace("\n", "\n> ").rstrip("> ") + "\n")
    html = ('<div dir="ltr">直りました。ありがとうございました。</div><br><div class="gmail_quote"><div dir="ltr" '
            'class="gmail_attr">2026年11月20日(金) 10:15 Postdesk &lt;<a href="mailto:help@desk.test">help@desk.test</a>&gt;:<br></div>'
            '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
            '##- Please type your reply above this line -##<br><br>リクエスト SD-101 が更新されました。<br>担当者: トナーを交換しました。'
            '</blockquote></div>\n')
    data = eml(std(n, ewb("山田太郎") + " <taro@example.jp>", ewb("Re: [SD-101] プリンターが動かない"),
                   extra=reply_hdrs() + 'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6"\n'),
               "\n--000000000000a1b2c3d4e5f6\nContent-Type: text/plain; charset=\"UTF-8\"\nContent-Transfer-Encoding: base64\n\n",
               b64(crlf(plain_t.encode())), "\n\n--000000000000a1b2c3d4e5f6\nContent-Type: text/html; charset=\"UTF-8\"\n"
               "Content-Transfer-Encoding: base64\n\n", b64(html.encode()), "\n\n--000000000000a1b2c3d4e5f6--\n")
    add(n, data, "Gmail Japanese reply: UTF-8 base64 alternative parts, '2026年11月20日(金) 10:15 Postdesk <help@desk.test>:' attribution, gmail_quote HTML.",
        "taro@example.jp", "[SD-101] プリンターが動かない", fromName="山田太郎",
        reply="直りました。ありがとうございました。", replyNotContains=["2026年11月20日", "トナー"])

    n = "ja-iphone-utf8-qp"
    body = ("了解です。よろしくお願いします。\n\niPhoneから送信\n\n> 2026/11/20 10:15、Postdesk <help@desk.test>のメール:\n>\n> "
            + NOTIF_JA.replace("\n", "\n> ").rstrip("> ") + "\n")
    data = eml(std(n, ewb("伊藤 さくら") + " <sakura@example.jp>", ewb("Re: [SD-101] プリンターが動かない"),
                   extra=reply_hdrs() + "X-Mailer: iPhone Mail (22B91)\n"),
               "Content-Type: text/plain;\n\tcharset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n", qp(body))
    add(n, data, "iPhone Mail Japanese reply: UTF-8 quoted-printable, 'iPhoneから送信' sign-off, quoted attribution '…のメール:'.",
        "sakura@example.jp", "[SD-101] プリンターが動かない", fromName="伊藤 さくら",
        reply="了解です。よろしくお願いします。", replyNotContains=["iPhoneから送信", "のメール"])

    n = "ja-docomo-shiftjis"
    body = "お疲れ様です。\n外出先からメールが受信できません。\n至急確認お願いします。\n"
    data = eml(std(n, "kazu.0123@docomo.ne.jp", "=?Shift_JIS?B?%s?=" % base64.b64encode("メール受信できない".encode("shift_jis")).decode(),
                   mime=True, extra="X-Mailer: docomo sp-mode mail\n"),
               "Content-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: base64\n\n",
               b64(crlf(body.encode("shift_jis"))), "\n")
    add(n, data, "Japanese mobile carrier (docomo sp-mode) new request: Shift_JIS base64 body, Shift_JIS B subject, bare address.",
        "kazu.0123@docomo.ne.jp", "メール受信できない", fromName=None,
        text="お疲れ様です。\n外出先からメールが受信できません。\n至急確認お願いします。")

    n = "ja-au-iso2022jp-halfwidth"
    b = "ﾊﾟｿｺﾝ".encode("iso2022_jp_ext") + "が起動しません。\n".encode("iso2022_jp") + "電源ランプは点灯しています。\n".encode("iso2022_jp")
    data = eml(std(n, "=?ISO-2022-JP?B?%s?= <yuki-h@ezweb.ne.jp>" % base64.b64encode("ゆき".encode("iso2022_jp")).decode(),
                   "=?ISO-2022-JP?B?%s?=" % base64.b64encode("ﾊﾟｿｺﾝ".encode("iso2022_jp_ext") + "故障".encode("iso2022_jp")).decode()),
               "Content-Type: text/plain; charset=\"ISO-2022-JP\"\nContent-Transfer-Encoding: 7bit\n\n", b)
    add(n, data, "au (ezweb) style ISO-2022-JP mail with half-width katakana (ESC ( I) in subject and body.",
        "yuki-h@ezweb.ne.jp", "ﾊﾟｿｺﾝ故障", fromName="ゆき",
        textContains=["ﾊﾟｿｺﾝが起動しません。", "電源ランプは点灯しています。"], pycheck=False)


# =================================================================== att-
def mixed(name, frm, subject, text, parts, boundary="att-bnd", extra=""):
    """parts: list of (header-lines str, payload bytes/str)."""
    out = [std(name, frm, subject, extra=extra + f'Content-Type: multipart/mixed; boundary="{boundary}"\n'),
           f"\n--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n"]
    for h, p in parts:
        out += [f"--{boundary}\n{h}\n", p, "\n"]
    out.append(f"--{boundary}--\n")
    return eml(*out)


def gen_att():
    n = "att-png-attached"
    data = mixed(n, "Quentin <quentin@example.com>", "Screenshot", "Screenshot attached.",
                 [("Content-Type: image/png; name=\"screen shot 1.png\"\nContent-Disposition: attachment; filename=\"screen shot 1.png\"\n"
                   "Content-Transfer-Encoding: base64\n", b64(PNG2))])
    add(n, data, "PNG sent as a regular attachment (Content-Disposition: attachment) with a space in the filename.",
        "quentin@example.com", "Screenshot", fromName="Quentin", text="Screenshot attached.",
        attachments=[att("screen shot 1.png", "image/png", PNG2)])

    n = "att-zip-and-pdf"
    z = zip_bytes([("report.txt", b"Quarterly numbers\n" * 10), ("data.csv", b"a,b,c\n1,2,3\n")])
    data = mixed(n, "Rosa <rosa@example.com>", "Quarterly files", "Zip and PDF attached.",
                 [("Content-Type: application/zip; name=\"files.zip\"\nContent-Disposition: attachment; filename=\"files.zip\"\n"
                   "Content-Transfer-Encoding: base64\n", b64(z)),
                  ("Content-Type: application/pdf; name=\"summary.pdf\"\nContent-Disposition: attachment; filename=\"summary.pdf\"; size=%d\n"
                   "Content-Transfer-Encoding: base64\n" % len(PDF), b64(PDF))])
    add(n, data, "A ZIP and a PDF attachment; sizes are decoded byte counts.",
        "rosa@example.com", "Quarterly files", fromName="Rosa", text="Zip and PDF attached.",
        attachments=[att("files.zip", "application/zip", z), att("summary.pdf", "application/pdf", PDF)])

    n = "att-path-traversal"
    pw = b"root:x:0:0:root:/root:/bin/bash\n"
    data = mixed(n, "Mallory <mallory@example.com>", "Config file", "Here is the file you asked for.",
                 [("Content-Type: text/plain; name=\"../../etc/passwd\"\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\n"
                   "Content-Transfer-Encoding: base64\n", b64(pw)),
                  ("Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"/var/tmp/../../evil.sh\"\n"
                   "Content-Transfer-Encoding: base64\n", b64(b"#!/bin/sh\necho hi\n"))])
    add(n, data, "Filenames with Unix path parts and '..' are reduced to the last component ('passwd', 'evil.sh').",
        "mallory@example.com", "Config file", fromName="Mallory", text="Here is the file you asked for.",
        attachments=[att("passwd", "text/plain", pw), att("evil.sh", "application/octet-stream", b"#!/bin/sh\necho hi\n")],
        pycheck=False)

    n = "att-windows-path"
    xl = b"PK\x03\x04fake-xlsx-bytes" * 4
    data = mixed(n, "Walter <walter.w@example.com>", "Reports from my PC", "Two files from my desktop.",
                 [("Content-Type: application/pdf; name=\"C:\\\\Users\\\\x\\\\report.pdf\"\n"
                   "Content-Disposition: attachment; filename=\"C:\\\\Users\\\\x\\\\report.pdf\"\nContent-Transfer-Encoding: base64\n", b64(PDF)),
                  ("Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n"
                   "Content-Disposition: attachment; filename*=utf-8''C%3A%5CUsers%5Cx%5CDesktop%5Cbudget%202027.xlsx\n"
                   "Content-Transfer-Encoding: base64\n", b64(xl))])
    add(n, data, "Windows paths in filenames (backslash-escaped quoted-string, and RFC 2231 %5C): only the last component is kept.",
        "walter.w@example.com", "Reports from my PC", fromName="Walter", text="Two files from my desktop.",
        attachments=[att("report.pdf", "application/pdf", PDF),
                     att("budget 2027.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xl)],
        pycheck=False)

    n = "att-control-chars"
    t1 = b"invoice bytes"
    t2 = b"tab name"
    data = mixed(n, "Eve <eve@example.com>", "Weird filenames", "Filenames with control characters.",
                 [("Content-Type: application/pdf\nContent-Disposition: attachment; filename*=utf-8''in%0D%0Avoice%07.pdf\n"
                   "Content-Transfer-Encoding: base64\n", b64(t1)),
                  ("Content-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; filename=\"=?UTF-8?Q?tab=09na=00me=1B.txt?=\"\n"
                   "Content-Transfer-Encoding: 7bit\n", t2.decode())])
    add(n, data, "Control characters (CR, LF, BEL, TAB, NUL, ESC) in RFC 2231 and RFC 2047 filenames are removed.",
        "eve@example.com", "Weird filenames", fromName="Eve", text="Filenames with control characters.",
        attachments=[att("invoice.pdf", "application/pdf", t1), att("tabname.txt", "text/plain", t2)], pycheck=False)

    n = "att-rfc2231-continuations"
    fname = "日本語の資料_2026年度版_最終.pdf"
    enc = "".join("%%%02X" % c for c in fname.encode("utf-8")[:-4])
    # re-split on escape boundaries
    toks = re.findall(r"%[0-9A-F]{2}", enc)
    chunks = ["".join(toks[i:i + 15]) for i in range(0, len(toks), 15)]
    params = "".join(f";\n filename*{i}*={'utf-8' + chr(39) + 'ja' + chr(39) if i == 0 else ''}{c}" for i, c in enumerate(chunks))
    params += f';\n filename*{len(chunks)}=".pdf"'
    data = mixed(n, "Sato <sato.k@example.jp>", "資料送付", "資料を添付します。",
                 [("Content-Type: application/pdf\nContent-Disposition: attachment" + params + "\nContent-Transfer-Encoding: base64\n", b64(PDF))])
    add(n, data, "RFC 2231 filename with charset+language and continuations (filename*0*, filename*1*, …, a final unencoded filename*N).",
        "sato.k@example.jp", "資料送付", fromName="Sato", text="資料を添付します。",
        attachments=[att(fname, "application/pdf", PDF)])

    n = "att-rfc2231-latin1"
    xl = b"fake spreadsheet bytes" * 3
    data = mixed(n, "Jörg <joerg@example.de>", "Übersicht", "Anbei die Übersicht.",
                 [("Content-Type: application/vnd.ms-excel;\n name*=iso-8859-1'de'%DCbersicht%20%E4%F6%FC.xls\n"
                   "Content-Disposition: attachment;\n filename*=iso-8859-1'de'%DCbersicht%20%E4%F6%FC.xls\n"
                   "Content-Transfer-Encoding: base64\n", b64(xl))])
    add(n, data, "RFC 2231 single-segment filename in ISO-8859-1 with a language tag.",
        "joerg@example.de", "Übersicht", fromName="Jörg", text="Anbei die Übersicht.",
        attachments=[att("Übersicht äöü.xls", "application/vnd.ms-excel", xl)])

    n = "att-rfc2047-filename-outlook"
    docx = b"PK\x03\x04fake-docx" * 5
    jn = "会議議事録.docx"
    data = mixed(n, "Ono <ono@example.jp>", "議事録", "議事録を送ります。",
                 [("Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\n"
                   "\tname=\"%s\"\nContent-Description: %s\nContent-Disposition: attachment;\n\tfilename=\"%s\"; size=%d;\n"
                   "\tcreation-date=\"Fri, 20 Nov 2026 01:15:00 GMT\"\nContent-Transfer-Encoding: base64\n"
                   % (ewb(jn, "iso-2022-jp"), ewb(jn, "iso-2022-jp"), ewb(jn, "iso-2022-jp"), len(docx)), b64(docx)),
                  ("Content-Type: application/pdf; name=\"=?utf-8?B?%s?=\"\nContent-Disposition: attachment; filename=\"=?utf-8?B?%s?=\"\n"
                   "Content-Transfer-Encoding: base64\n" % (base64.b64encode("Präsentation_v2.pdf".encode()).decode(),
                                                           base64.b64encode("Präsentation_v2.pdf".encode()).decode()), b64(PDF))])
    add(n, data, "Outlook-style RFC 2047 encoded words inside quoted filename/name parameters (ISO-2022-JP and UTF-8).",
        "ono@example.jp", "議事録", fromName="Ono", text="議事録を送ります。",
        attachments=[att(jn, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx),
                     att("Präsentation_v2.pdf", "application/pdf", PDF)])

    n = "att-name-on-content-type-only"
    csv = b"id;name\n1;Alice\n2;Bob\n"
    data = mixed(n, "Ron <ron@example.com>", "User list", "User list attached.",
                 [("Content-Type: text/csv; charset=utf-8; name=\"users.csv\"\nContent-Transfer-Encoding: base64\n", b64(csv)),
                  ("Content-Type: image/png; name=logo.png\nContent-Transfer-Encoding: base64\n", b64(PNG))])
    add(n, data, "Attachments named only via 'name=' on Content-Type (quoted and unquoted), no Content-Disposition.",
        "ron@example.com", "User list", fromName="Ron", text="User list attached.",
        attachments=[att("users.csv", "text/csv", csv), att("logo.png", "image/png", PNG)])

    n = "att-filename-star-wins"
    data = mixed(n, "Sue <sue@example.com>", "Euro report", "Report attached.",
                 [("Content-Type: application/pdf; name=\"fallback-name.pdf\"\n"
                   "Content-Disposition: attachment; filename=\"EUR-report.pdf\"; filename*=UTF-8''%E2%82%AC-report.pdf\n"
                   "Content-Transfer-Encoding: base64\n", b64(PDF))])
    add(n, data, "Both filename and filename* present: filename* (RFC 2231/6266) wins over filename and name=.",
        "sue@example.com", "Euro report", fromName="Sue", text="Report attached.",
        attachments=[att("€-report.pdf", "application/pdf", PDF)])

    n = "att-inline-png-in-mixed"
    data = mixed(n, "Tom <tom@example.com>", "Photo of the broken screen", "Photo below.",
                 [("Content-Type: image/png;\n\tname=IMG_0042.png\nContent-Disposition: inline;\n\tfilename=IMG_0042.png\n"
                   "Content-Transfer-Encoding: base64\nContent-Id: <8F2E1C3A-0042@example.com>\n", b64(PNG2))],
                 boundary="Apple-Mail=_4B1C2D3E-0000-1111-2222-333344445555")
    add(n, data, "Apple Mail style: PNG with Content-Disposition inline inside multipart/mixed (still an attachment).",
        "tom@example.com", "Photo of the broken screen", fromName="Tom", text="Photo below.",
        attachments=[att("IMG_0042.png", "image/png", PNG2)])

    n = "att-base64-sloppy"
    scan = pdf_bytes("Scan")
    scan += b"%" * ((1 - len(scan)) % 3)
    s = b64(scan, 64).split("\n")
    assert len(scan) % 3 == 1 and s[-1].endswith("==")
    s[-1] = s[-1].rstrip("=")
    s = [x + "  " if i % 3 == 0 else x for i, x in enumerate(s)]
    pdf_b64 = "\n".join(s)
    data = mixed(n, "Uli <uli@example.com>", "Scan", "Scan attached.",
                 [("Content-Type: application/pdf; name=\"scan.pdf\"\nContent-Disposition: attachment; filename=\"scan.pdf\"\n"
                   "Content-Transfer-Encoding: base64\n", pdf_b64)])
    add(n, data, "Base64 attachment with 64-char lines, trailing spaces on lines and stripped '=' padding: decoded size must still match.",
        "uli@example.com", "Scan", fromName="Uli", text="Scan attached.",
        attachments=[att("scan.pdf", "application/pdf", scan)], pycheck=False)


GENERATORS += [gen_ja, gen_att]



# =================================================================== reply-
NOTIF = ("##- Please type your reply above this line -##\n\nYour request SD-42 \"Printer jammed\" has been updated.\n\n"
         "Agent (Service Desk): We have ordered new toner, it should arrive tomorrow.\n\n"
         "View the request: https://desk.test/requests/SD-42\n")
SUBJ42 = "[SD-42] Printer jammed"


def quote(text, prefix="> "):
    return "".join((prefix + l).rstrip() + "\n" for l in text.rstrip("\n").split("\n"))


def reply_plain(name, frm, subject, body, cs="utf-8", cte="8bit", extra="", **kw):
    return plain(name, frm, subject, body, cs=cs, cte=cte, extra=reply_hdrs("SD-42") + extra, **kw)


def gen_reply():
    n = "reply-gmail-on-wrote"
    body = ("Thanks, the toner arrived and the printer works again.\n\n"
            "On Fri, Nov 20, 2026 at 10:15 AM Postdesk <help@desk.test> wrote:\n\n" + quote(NOTIF))
    add(n, reply_plain(n, "Alice Example <alice@example.com>", "Re: " + SUBJ42, body),
        "Plain-text reply with English 'On … wrote:' attribution followed only by quoted lines.",
        "alice@example.com", SUBJ42, fromName="Alice Example",
        textContains=["Thanks, the toner arrived", "> Agent (Service Desk)"],
        reply="Thanks, the toner arrived and the printer works again.")

    n = "reply-gmail-wrapped-attribution"
    body = ("Great, closing from my side.\n\nOn Fri, Nov 20, 2026 at 10:15 AM Postdesk Service Desk for Example Corp <\n"
            "help@desk.test> wrote:\n\n" + quote(NOTIF))
    add(n, reply_plain(n, "Bob <bob@example.com>", "Re: " + SUBJ42, body),
        "Gmail wraps a long 'On … <' / 'address> wrote:' attribution over two lines before the quotes.",
        "bob@example.com", SUBJ42, fromName="Bob",
        replyContains=["Great, closing from my side."], replyNotContains=["wrote:", "On Fri", "toner"])

    n = "reply-outlook-original-message"
    body = ("Hi,\n\nthe issue is solved.\n\nBest regards\nPaul\n\n-----Original Message-----\n"
            "From: Postdesk <help@desk.test>\nSent: Friday, November 20, 2026 10:15 AM\nTo: Paul <paul@example.com>\n"
            "Subject: " + SUBJ42 + "\n\n" + NOTIF)
    add(n, reply_plain(n, "Paul <paul@example.com>", "RE: " + SUBJ42, body, cs="us-ascii", cte="7bit",
                       extra="X-Mailer: Microsoft Outlook 14.0\n"),
        "Classic Outlook '-----Original Message-----' block (unquoted original) and everything after it removed.",
        "paul@example.com", SUBJ42, fromName="Paul", reply="Hi,\n\nthe issue is solved.\n\nBest regards\nPaul")

    n = "reply-outlook-from-sent-block"
    body = ("Please keep the ticket open until Monday.\n\nRegards,\nRita\n\n________________________________\n"
            "From: Postdesk <help@desk.test>\nSent: Friday, November 20, 2026 10:15\nTo: Rita <rita@example.com>\n"
            "Cc: Team <team@example.com>\nSubject: " + SUBJ42 + "\n\n" + NOTIF)
    add(n, reply_plain(n, "Rita <rita@example.com>", "RE: " + SUBJ42, body, cte="quoted-printable"),
        "Modern Outlook header block 'From:/Sent:/To:/Cc:/Subject:' below an underscore separator.",
        "rita@example.com", SUBJ42, fromName="Rita",
        replyContains=["Please keep the ticket open until Monday.\n\nRegards,\nRita"],
        replyNotContains=["From: Postdesk", "Sent:", "toner"])

    n = "reply-outlook-de"
    body = ("Hallo,\n\nder Drucker funktioniert wieder. Danke!\n\nGrüße\nJürgen\n\n"
            "Von: Postdesk <help@desk.test>\nGesendet: Freitag, 20. November 2026 10:15\nAn: Jürgen Müller <j.mueller@example.de>\n"
            "Betreff: " + SUBJ42 + "\n\n" + NOTIF)
    add(n, reply_plain(n, ewq("Jürgen Müller", "ISO-8859-1") + " <j.mueller@example.de>", "AW: " + SUBJ42, body,
                       cs="iso-8859-1", cte="quoted-printable"),
        "German Outlook 'Von:/Gesendet:/An:/Betreff:' block; ISO-8859-1 QP body; 'AW:' prefix.",
        "j.mueller@example.de", SUBJ42, fromName="Jürgen Müller",
        reply="Hallo,\n\nder Drucker funktioniert wieder. Danke!\n\nGrüße\nJürgen")

    n = "reply-outlook-fr"
    body = ("Bonjour,\n\nc'est réglé, merci.\n\nCordialement,\nÉlodie\n\n"
            "De : Postdesk <help@desk.test>\nEnvoyé : vendredi 20 novembre 2026 10:15\nÀ : Élodie Bernard <elodie@example.fr>\n"
            "Objet : " + SUBJ42 + "\n\n" + NOTIF)
    add(n, reply_plain(n, ewq("Élodie Bernard", "windows-1252") + " <elodie@example.fr>", "RE : " + SUBJ42, body,
                       cs="windows-1252", cte="quoted-printable"),
        "French Outlook 'De :/Envoyé :/À :/Objet :' block (space before colon); windows-1252 QP; 'RE :' prefix with space.",
        "elodie@example.fr", SUBJ42, fromName="Élodie Bernard",
        reply="Bonjour,\n\nc'est réglé, merci.\n\nCordialement,\nÉlodie")

    n = "reply-de-am-schrieb"
    body = ("Vielen Dank, alles klar.\n\nAm 20.11.2026 um 10:15 schrieb Postdesk <help@desk.test>:\n" + quote(NOTIF))
    add(n, reply_plain(n, "Klaus <klaus@example.de>", "Re: " + SUBJ42, body, extra="User-Agent: Mozilla Thunderbird\n"),
        "German attribution 'Am … um … schrieb …:' (Thunderbird/Apple) followed by quotes.",
        "klaus@example.de", SUBJ42, fromName="Klaus", reply="Vielen Dank, alles klar.")

    n = "reply-fr-le-a-ecrit"
    body = ("Merci, tout fonctionne.\n\nLe ven. 20 nov. 2026 à 10:15, Postdesk <help@desk.test> a écrit :\n\n" + quote(NOTIF))
    add(n, reply_plain(n, "Luc <luc@example.fr>", "Re: " + SUBJ42, body, cs="iso-8859-1", cte="quoted-printable"),
        "French Gmail attribution 'Le … a écrit :' (ISO-8859-1 QP) followed by quotes.",
        "luc@example.fr", SUBJ42, fromName="Luc", reply="Merci, tout fonctionne.")

    n = "reply-es-el-escribio"
    body = ("Gracias, ya funciona.\n\nEl vie, 20 nov 2026 a las 10:15, Postdesk (<help@desk.test>) escribió:\n\n" + quote(NOTIF))
    add(n, reply_plain(n, "Lucía <lucia@example.es>", "RE: " + SUBJ42, body, cte="quoted-printable"),
        "Spanish Gmail attribution 'El … escribió:' followed by quotes.",
        "lucia@example.es", SUBJ42, fromName="Lucía", reply="Gracias, ya funciona.")

    n = "reply-inline-answers"
    body = ("On Fri, Nov 20, 2026 at 10:15 AM Postdesk <help@desk.test> wrote:\n"
            "> Agent (Service Desk): Which floor are you on?\n\nThird floor, room 3.12.\n\n"
            "> Which printer model is it?\n\nHP LaserJet 4050, asset tag 7781.\n\n"
            "> Kind regards, Service Desk\n")
    add(n, reply_plain(n, "Mona <mona@example.com>", "Re: " + SUBJ42, body),
        "Inline answers between quoted blocks: answers kept, quoted lines removed (attribution not followed only by quotes).",
        "mona@example.com", SUBJ42, fromName="Mona",
        replyContains=["Third floor, room 3.12.", "HP LaserJet 4050, asset tag 7781."],
        replyNotContains=["Which floor are you on?", "Which printer model", "Kind regards, Service Desk"])

    n = "reply-top-posting-bare-quotes"
    body = "Yes, Tuesday 9:00 works for me.\n\n" + quote(NOTIF, ">")
    add(n, reply_plain(n, "Nina <nina@example.com>", "Re: " + SUBJ42, body),
        "Top-posted answer above a quote without attribution line ('>' without space).",
        "nina@example.com", SUBJ42, fromName="Nina", reply="Yes, Tuesday 9:00 works for me.")

    n = "reply-marker-unquoted"
    body = "Yes please close it.\n\n" + NOTIF
    add(n, reply_plain(n, "Oscar <oscar@example.com>", "Re: " + SUBJ42, body),
        "Client did not quote: our marker line appears bare; it and everything after it are removed.",
        "oscar@example.com", SUBJ42, fromName="Oscar", reply="Yes please close it.")

    n = "reply-marker-outlook-html"
    html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>"
            "<div style=\"font-family:Calibri\">Here is the serial number: <b>CN-0X1234</b></div><div><br></div>"
            "<div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">"
            "<div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri\" style=\"font-size:11pt\" color=\"#000000\">"
            "<b>From:</b> Postdesk &lt;help@desk.test&gt;<br><b>Sent:</b> Friday, November 20, 2026 10:15<br>"
            "<b>To:</b> Paula &lt;paula.o@example.com&gt;<br><b>Subject:</b> " + SUBJ42 + "</font><div>&nbsp;</div></div>"
            "<div><p>##- Please type your reply above this line -##</p><p>Agent (Service Desk): We have ordered new toner.</p></div>"
            "</body></html>\n")
    data = eml(std(n, "Paula <paula.o@example.com>", "RE: " + SUBJ42, extra=reply_hdrs("SD-42")),
               "Content-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n", qp(html))
    add(n, data, "HTML-only Outlook reply: the converted text is cut at the 'From:/Sent:' block and our marker.",
        "paula.o@example.com", SUBJ42, fromName="Paula",
        replyContains=["Here is the serial number: CN-0X1234"], replyNotContains=["toner", "Please type your reply", "Sent:"],
        pycheck=False)

    n = "reply-signature-dashdash"
    body = ("Done, thanks!\n\n-- \nUrsula Example\nIT Department | Example Corp\n+49 30 1234567\n\n"
            "On Fri, Nov 20, 2026 at 10:15 AM Postdesk <help@desk.test> wrote:\n" + quote(NOTIF))
    add(n, reply_plain(n, "Ursula <ursula@example.com>", "Re: " + SUBJ42, body),
        "'-- ' signature separator: signature and everything after it removed.",
        "ursula@example.com", SUBJ42, fromName="Ursula", reply="Done, thanks!")

    n = "reply-sent-from-iphone"
    body = ("Works now.\n\nSent from my iPhone\n\n> On Nov 20, 2026, at 10:15, Postdesk <help@desk.test> wrote:\n>\n"
            + quote(NOTIF))
    add(n, reply_plain(n, "Vera <vera@example.com>", "Re: " + SUBJ42, body, cte="quoted-printable",
                       extra="X-Mailer: iPhone Mail (22B91)\n"),
        "iPhone reply: 'Sent from my iPhone' sign-off, attribution itself quoted.",
        "vera@example.com", SUBJ42, fromName="Vera", reply="Works now.")

    n = "reply-sent-from-outlook-android"
    body = ("Still broken, see photo.\n\nSent from Outlook for Android<https://aka.ms/AAb9ysg>\n"
            "________________________________\nFrom: Postdesk <help@desk.test>\nSent: Friday, November 20, 2026 10:15:00 AM\n"
            "To: Wim <wim@example.com>\nSubject: " + SUBJ42 + "\n\n" + NOTIF)
    add(n, reply_plain(n, "Wim <wim@example.com>", "Re: " + SUBJ42, body),
        "Outlook for Android: 'Sent from Outlook for Android<link>' sign-off followed by a From/Sent block.",
        "wim@example.com", SUBJ42, fromName="Wim", reply="Still broken, see photo.")

    n = "reply-sent-from-galaxy"
    body = ("Ok thanks\n\n\n\nSent from my Galaxy\n\n\n-------- Original message --------\nFrom: Postdesk <help@desk.test> \n"
            "Date: 11/20/26 10:15 (GMT+01:00) \nTo: Xaver <xaver@example.com> \nSubject: " + SUBJ42 + " \n\n" + NOTIF)
    add(n, reply_plain(n, "Xaver <xaver@example.com>", "RE: " + SUBJ42, body),
        "Samsung mail: 'Sent from my Galaxy' sign-off and '-------- Original message --------' block.",
        "xaver@example.com", SUBJ42, fromName="Xaver", reply="Ok thanks")

    n = "reply-gmail-html-only"
    html = ('<div dir="ltr">Thanks, fixed!<div>Regards, Yara</div></div><br><div class="gmail_quote">'
            '<div dir="ltr" class="gmail_attr">On Fri, Nov 20, 2026 at 10:15 AM Postdesk &lt;<a href="mailto:help@desk.test">'
            'help@desk.test</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
            'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div>##- Please type your reply above this line -##</div>'
            '<div>Agent (Service Desk): We have ordered new toner.</div></blockquote></div>\n')
    data = eml(std(n, "Yara <yara@example.com>", "Re: " + SUBJ42, extra=reply_hdrs("SD-42")),
               "Content-Type: text/html; charset=\"UTF-8\"\nContent-Transfer-Encoding: quoted-printable\n\n", qp(html))
    add(n, data, "HTML-only Gmail reply: <div class=\"gmail_quote\"> and its content removed.",
        "yara@example.com", SUBJ42, fromName="Yara", replyContains=["Thanks, fixed!", "Regards, Yara"],
        replyNotContains=["wrote:", "toner", "Please type your reply"], pycheck=False)

    n = "reply-apple-html-blockquote"
    html = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">'
            '<div dir="ltr">Printer is fine now.</div><div dir="ltr"><br><blockquote type="cite">On 20. Nov 2026, at 10:15, '
            'Postdesk &lt;help@desk.test&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">'
            '##- Please type your reply above this line -##<br><br>Agent (Service Desk): We have ordered new toner.</div>'
            '</blockquote></body></html>\n')
    data = eml(std(n, "Zoe <zoe@example.com>", "Re: " + SUBJ42, extra=reply_hdrs("SD-42") +
                   'Content-Type: multipart/alternative; boundary="Apple-Mail-9C1D2E3F"\n'),
               "\n--Apple-Mail-9C1D2E3F\nContent-Type: text/html;\n\tcharset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
               qp(html), "--Apple-Mail-9C1D2E3F--\n")
    add(n, data, "Apple Mail HTML reply (alternative with only an HTML part): <blockquote type=\"cite\"> removed.",
        "zoe@example.com", SUBJ42, fromName="Zoe", replyContains=["Printer is fine now."],
        replyNotContains=["wrote:", "toner", "Please type your reply"], pycheck=False)

    n = "reply-gmail-alternative"
    p_t = "Confirmed, thank you.\n\nOn Fri, Nov 20, 2026 at 10:15 AM Postdesk <help@desk.test> wrote:\n\n" + quote(NOTIF)
    h_t = ('<div dir="ltr">Confirmed, thank you.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Fri, '
           'Nov 20, 2026 at 10:15 AM Postdesk &lt;help@desk.test&gt; wrote:<br></div><blockquote class="gmail_quote">toner'
           '</blockquote></div>\n')
    data = eml(std(n, "Adam <adam@example.com>", "Re: " + SUBJ42, extra=reply_hdrs("SD-42") +
                   'Content-Type: multipart/alternative; boundary="00000000000055aa66bb"\n'),
               "\n--00000000000055aa66bb\nContent-Type: text/plain; charset=\"UTF-8\"\n\n", p_t,
               "\n--00000000000055aa66bb\nContent-Type: text/html; charset=\"UTF-8\"\n\n", h_t, "\n--00000000000055aa66bb--\n")
    add(n, data, "Gmail multipart/alternative reply: the text/plain part is used for quote stripping.",
        "adam@example.com", SUBJ42, fromName="Adam", reply="Confirmed, thank you.")

    n = "reply-attribution-not-followed-by-quotes"
    body = ("The printer worked on Monday.\nOn Tuesday Bob wrote:\nthe fix is deployed, but it is not.\n"
            "Please check again.\n")
    add(n, reply_plain(n, "Carla <carla@example.com>", "Re: " + SUBJ42, body),
        "A line looking like an attribution ('On … wrote:') not followed by quotes must not cut the reply.",
        "carla@example.com", SUBJ42, fromName="Carla",
        reply="The printer worked on Monday.\nOn Tuesday Bob wrote:\nthe fix is deployed, but it is not.\nPlease check again.")

    n = "reply-quoted-marker-only"
    body = "Thanks!\n\n> " + MARKER + "\n> Agent (Service Desk): We have ordered new toner.\n"
    add(n, reply_plain(n, "Dora <dora@example.com>", "Re: Re: Re: " + SUBJ42, body),
        "Very short reply with a quoted marker and no attribution; repeated 'Re:' prefixes.",
        "dora@example.com", SUBJ42, fromName="Dora", reply="Thanks!")


# =================================================================== auto-
def gen_auto():
    def auto(name, frm, subject, hdrs, body, covers, frm_addr, header, summary=None, fromName=None, automatic=True,
             ctype="Content-Type: text/plain; charset=utf-8\n", mid=None, **kw):
        data = eml(std(name, frm, subject, mid=mid, extra=hdrs) + ctype + "\n", body)
        extra = {"automaticHeader": header} if automatic else {}
        add(name, data, covers, frm_addr, summary or strip_prefixes(subject), fromName=fromName,
            automatic=automatic, **extra, **kw)

    auto("auto-exchange-oof", "Max Mustermann <max@example.de>", "Automatische Antwort: " + SUBJ42,
         "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: max@example.de\n"
         "Thread-Topic: " + SUBJ42 + "\n",
         "Ich bin bis 30.11. nicht im Büro.\n", "Exchange out-of-office: Auto-Submitted (decides) plus X-Auto-Response-Suppress.",
         "max@example.de", "Auto-Submitted", summary="Automatische Antwort: " + SUBJ42, fromName="Max Mustermann")
    auto("auto-gmail-vacation", "Ella <ella@example.com>", "Vacation: back on Monday",
         "Auto-Submitted: auto-replied\nReferences: <postdesk.sd42.1@desk.test>\n", "I'm on vacation until Monday.\n",
         "Gmail vacation responder: 'Auto-Submitted: auto-replied'.", "ella@example.com", "Auto-Submitted", fromName="Ella")

    n = "auto-dsn-mailer-daemon"
    orig = ("Return-Path: <help@desk.test>\nFrom: Postdesk <help@desk.test>\nTo: gone@example.org\nSubject: " + SUBJ42 +
            "\nMessage-ID: <postdesk.sd42.2@desk.test>\n")
    data = eml("Return-Path: <>\nFrom: MAILER-DAEMON@mx.desk.test (Mail Delivery System)\nTo: help@desk.test\n"
               "Subject: Undelivered Mail Returned to Sender\nDate: " + DATE + "\nMessage-ID: <dsn.1@mx.desk.test>\n"
               "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n boundary=\"DSN.1\"\n\n"
               "This is a MIME-encapsulated message.\n\n--DSN.1\nContent-Description: Notification\n"
               "Content-Type: text/plain; charset=us-ascii\n\nI'm sorry to have to inform you that your message could not\n"
               "be delivered to one or more recipients.\n\n<gone@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n\n"
               "--DSN.1\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
               "Reporting-MTA: dns; mx.desk.test\n\nFinal-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n\n"
               "--DSN.1\nContent-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n" + orig +
               "\n--DSN.1--\n")
    add(n, data, "Postfix DSN: multipart/report from MAILER-DAEMON with Return-Path <> and no Auto-Submitted: Content-Type decides.",
        "MAILER-DAEMON@mx.desk.test", "Undelivered Mail Returned to Sender", automatic=True, automaticHeader="Content-Type")

    auto("auto-postmaster-bounce-return-path", "postmaster@example.org", "failure notice",
         "Return-Path: <>\n", "Hi. This is the qmail-send program at example.org.\nI'm afraid I wasn't able to deliver your message.\n",
         "Plain-text (qmail style) bounce: no Auto-Submitted, not multipart/report, Return-Path <> decides.",
         "postmaster@example.org", "Return-Path", fromName=None)
    auto("auto-postmaster-from-only", "Postmaster <Postmaster@Example.NET>", "Delivery failure",
         "", "Your message to nobody@example.net could not be delivered.\n",
         "Bounce recognised only by the From local part 'Postmaster' (case-insensitive).",
         "Postmaster@Example.NET", "From", fromName="Postmaster", pycheck=False)
    auto("auto-mailer-daemon-lowercase", "mailer-daemon@googlemail.com", "Delivery Status Notification (Failure)",
         "", "Address not found.\n", "From local part 'mailer-daemon' in lower case without other markers.",
         "mailer-daemon@googlemail.com", "From")
    auto("auto-precedence-bulk-newsletter", "Example News <news@news.example.com>", "Your November newsletter",
         "Precedence: bulk\nList-Unsubscribe: <mailto:unsub@news.example.com>\n", "Top stories this month...\n",
         "Newsletter with 'Precedence: bulk'.", "news@news.example.com", "Precedence", fromName="Example News")
    auto("auto-precedence-list", "Dev List <dev@lists.example.org>", "[dev] Release 2.0 planning",
         "Precedence: list\nList-Id: <dev.lists.example.org>\nList-Post: <mailto:dev@lists.example.org>\n",
         "Let's plan the release.\n", "Mailing-list mail with 'Precedence: list'; the list tag is kept in the summary.",
         "dev@lists.example.org", "Precedence", fromName="Dev List")
    auto("auto-precedence-junk", "Robot <robot@example.com>", "Cron <root@host> backup", "Precedence: junk\n",
         "backup ok\n", "Cron output with 'Precedence: junk'.", "robot@example.com", "Precedence", fromName="Robot")
    auto("auto-x-autoreply", "Finn <finn@example.com>", "Re: " + SUBJ42, "X-Autoreply: yes\n",
         "Thank you for your mail. I will answer as soon as possible.\n", "Auto-reply marked only by 'X-Autoreply: yes'.",
         "finn@example.com", "X-Autoreply", fromName="Finn")
    auto("auto-x-autorespond", "Gus <gus@example.com>", "Autoresponse", "X-Autorespond: " + SUBJ42 + "\n",
         "I am away.\n", "Auto-reply marked only by 'X-Autorespond'.", "gus@example.com", "X-Autorespond", fromName="Gus")
    auto("auto-x-auto-response-suppress", "Hal <hal@example.com>", "Out of Office", "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\n",
         "I'm out of the office.\n", "Only 'X-Auto-Response-Suppress' present (last rule in the order).",
         "hal@example.com", "X-Auto-Response-Suppress", fromName="Hal")
    auto("auto-loop-message-id", "Postdesk <help@desk.test>", "Re: " + SUBJ42, "", NOTIF,
         "Our own notification looping back: Message-ID local part starts with 'postdesk.'.",
         DESK, "Message-ID", fromName="Postdesk", mid="postdesk.abc123@desk.test")
    auto("auto-loop-header", "Forwarder <fwd@example.com>", "Fwd: " + SUBJ42,
         "X-Postdesk-Loop: desk.test\nAuto-Submitted: auto-generated\n", NOTIF,
         "Loop header 'X-Postdesk-Loop' wins over Auto-Submitted (first in the order).",
         "fwd@example.com", "X-Postdesk-Loop", fromName="Forwarder")
    auto("auto-order-auto-submitted-before-precedence", "Shop <noreply@shop.example>", "Your order has shipped",
         "Precedence: bulk\nAuto-Submitted: auto-generated\nX-Autoreply: yes\n", "Order 9912 shipped.\n",
         "Several markers: Auto-Submitted is checked before Precedence and X-Autoreply.",
         "noreply@shop.example", "Auto-Submitted", fromName="Shop")
    auto("auto-submitted-no", "Ian <ian@example.com>", "Monitor arm request", "Auto-Submitted: no\n",
         "Please order a monitor arm.\n", "'Auto-Submitted: no' is NOT automatic: becomes a normal request.",
         "ian@example.com", None, fromName="Ian", automatic=False, text="Please order a monitor arm.")
    auto("auto-precedence-first-class", "Jay <jay@example.com>", "Urgent: server down", "Precedence: first-class\nImportance: high\n",
         "Prod server is down.\n", "'Precedence: first-class' is not bulk/junk/list: normal request.",
         "jay@example.com", None, fromName="Jay", automatic=False, text="Prod server is down.")
    auto("auto-in-reply-to-postdesk-not-loop", "Kai <kai@example.com>", "Re: " + SUBJ42, reply_hdrs("SD-42"),
         "Thanks for the update.\n", "A normal reply referencing our postdesk.* Message-ID in In-Reply-To/References is NOT a loop.",
         "kai@example.com", None, fromName="Kai", automatic=False, reply="Thanks for the update.")


# =================================================================== edge-
def gen_edge():
    n = "edge-empty-body"
    add(n, eml(std(n, "Lea <lea@example.com>", "Call me please"), "Content-Type: text/plain; charset=utf-8\n\n"),
        "Header block, blank line, and a completely empty body.", "lea@example.com", "Call me please", fromName="Lea", text="")

    n = "edge-subject-only-no-separator"
    data = eml("From: Moe <moe@example.com>\nTo: help@desk.test\nSubject: Please call me back at 4711\nDate: " + DATE +
               "\nMessage-ID: <sonly.1@example.com>\n")
    add(n, data, "Subject-only message: headers end at EOF without a blank line or body.",
        "moe@example.com", "Please call me back at 4711", fromName="Moe", text="")

    n = "edge-whitespace-body"
    add(n, eml(std(n, "Ned <ned@example.com>", "Blank"), "Content-Type: text/plain; charset=utf-8\n\n   \n\t\n\n"),
        "Body consisting only of whitespace lines -> empty text after trimming.", "ned@example.com", "Blank",
        fromName="Ned", text="")

    n = "edge-long-subject"
    long_s = "Very long subject " + " ".join("word%03d" % i for i in range(180)) + " end"
    assert len("Subject: " + long_s) > 998
    add(n, eml(std(n, "Olaf <olaf@example.com>", "Re: " + long_s), "Content-Type: text/plain\n\nSee subject.\n"),
        "Extremely long unfolded Subject line (> 998 octets) must be read completely.",
        "olaf@example.com", long_s, fromName="Olaf", text="See subject.")

    n = "edge-long-subject-folded-encoded"
    s = "Überlange Betreffzeile – " + "Störung im Netzwerk Ä Ö Ü ß " * 12
    words = []
    raw = s.encode()
    i = 0
    while i < len(raw):
        j = min(i + 30, len(raw))
        while j < len(raw) and (raw[j] & 0xC0) == 0x80:
            j -= 1
        words.append("=?UTF-8?B?%s?=" % base64.b64encode(raw[i:j]).decode())
        i = j
    add(n, eml(std(n, "Paul <paul.l@example.de>", "\n ".join(words)), "Content-Type: text/plain\n\nSiehe Betreff.\n"),
        "Long subject as many folded B encoded words (each on its own continuation line), split at character boundaries.",
        "paul.l@example.de", s.strip(), fromName="Paul", text="Siehe Betreff.")

    n = "edge-long-body-line"
    line = "".join("segment-%04d;" % i for i in range(900))
    add(n, eml(std(n, "Quinn <quinn@example.com>", "CSV export in one line"),
               "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 8bit\n\n", line + "\n"),
        "A single body line of ~12,000 characters (exceeds the 998 limit) is kept intact.",
        "quinn@example.com", "CSV export in one line", fromName="Quinn", text=line)

    n = "edge-attachment-only"
    data = eml(std(n, "Rolf <rolf@example.com>", "Scan",
                   extra='Content-Type: multipart/mixed; boundary="only"\n'),
               "\n--only\nContent-Type: application/pdf; name=\"scan0001.pdf\"\nContent-Disposition: attachment; filename=\"scan0001.pdf\"\n"
               "Content-Transfer-Encoding: base64\n\n", b64(PDF), "\n--only--\n")
    add(n, data, "Body consisting only of an attachment (scanner mail): empty text, one attachment.",
        "rolf@example.com", "Scan", fromName="Rolf", text="", attachments=[att("scan0001.pdf", "application/pdf", PDF)])

    n = "edge-single-part-attachment"
    data = eml(std(n, "Scanner <scanner@example.com>", "Scanned document"),
               "Content-Type: application/pdf; name=\"doc.pdf\"\nContent-Disposition: attachment; filename=\"doc.pdf\"\n"
               "Content-Transfer-Encoding: base64\n\n", b64(PDF), "\n")
    add(n, data, "Non-multipart message whose only part is a PDF attachment.",
        "scanner@example.com", "Scanned document", fromName="Scanner", text="",
        attachments=[att("doc.pdf", "application/pdf", PDF)], pycheck=False)

    n = "edge-subject-only-prefixes"
    add(n, plain(n, "Sven <sven@example.com>", "Re: Fwd: ", "See attachment, sorry no subject.\n"),
        "Subject consisting only of prefixes -> nothing left -> '(no subject)'.",
        "sven@example.com", "(no subject)", fromName="Sven", text="See attachment, sorry no subject.")

    n = "edge-empty-multipart"
    data = eml(std(n, "Tess <tess@example.com>", "Empty multipart",
                   extra='Content-Type: multipart/alternative; boundary="e1"\n'),
               "\n--e1\nContent-Type: text/plain; charset=utf-8\n\n\n--e1\nContent-Type: text/html; charset=utf-8\n\n"
               "<html><body></body></html>\n--e1--\n")
    add(n, data, "multipart/alternative whose plain and HTML parts are both empty: empty text, no attachments.",
        "tess@example.com", "Empty multipart", fromName="Tess", text="", attachments=[])


GENERATORS += [gen_reply, gen_auto, gen_edge]


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# mkseeds.py: write the hand-made seed inputs of tests/fuzz/corpus/*/.
#
#	usage: tests/fuzz/mkseeds.py	(from the top of the tree)
#
# Seeds are named seed-*; this script rewrites only those, so inputs kept
# from fuzzing runs (findings, named after what they found) stay. Run it
# after changing an input format, then commit the corpus. Input layouts
# are described at the top of each tests/fuzz/fuzz_NAME.c.
import glob
import os
import struct
import sys
import zlib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, "tests", "fuzz", "corpus")


def put(name, seeds):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "seed-*")):
        os.remove(old)
    for key, data in seeds.items():
        with open(os.path.join(d, "seed-" + key), "wb") as f:
            f.write(data)


def crlf(*lines):
    return b"".join(l + b"\r\n" for l in lines)


def smtp():
    grey = crlf(b"HELO client.example", b"MAIL FROM:<a@example.org>",
                b"RCPT TO:<b@example.com>", b"RCPT TO:<c@example.com>",
                b"DATA", b"QUIT")
    black = crlf(b"EHLO spammer.example", b"MAIL FROM:<s@example.net>",
                 b"RCPT TO:<v@example.com>", b"DATA", b"Subject: hi",
                 b"From: x", b"To: y", b"", b"body 1", b"body 2", b".",
                 b"QUIT")
    s = {
        "grey": b"\x00" + grey,
        "black": b"\x01" + black,
        "black-quit-in-data": b"\x01" + crlf(b"MAIL FROM:<a@b>",
                                               b"RCPT TO:<c@d>", b"DATA",
                                               b"QUIT"),
        "black-10-lines": b"\x01" + crlf(b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>",
                                         b"DATA", b"") +
        crlf(*[b"line %d" % i for i in range(12)]),
        "lf-only": b"\x00" + grey.replace(b"\r\n", b"\n"),
        "many-cr": b"\x00HELO x\r\r\r\nMAIL FROM:<a@b>\r\r\nRCPT TO:<c@d>\r\n",
        "rset": b"\x00" + crlf(b"HELO a", b"MAIL FROM:<x@y>", b"RSET",
                               b"MAIL FROM:<z@y>", b"RCPT TO:<q@r>",
                               b"RSET", b"RSET", b"NOOP", b"QUIT"),
        "order": b"\x00" + crlf(b"RCPT TO:<early@x>", b"DATA", b"RSET",
                                b"HELO", b"HELO a b", b"HELO again",
                                b"MAIL FROM:", b"MAIL FROM:<>",
                                b"RCPT TO:<x@y>", b"MAIL FROM:<b@c>",
                                b"DATA now", b"DATA"),
        "case-blanks": b"\x00" + crlf(b"helo\tmixed.Case", b"mail from: <a@b> SIZE=10",
                                      b"rcpt  TO:<c@d>  ", b"data \t"),
        "verbs": b"\x00" + crlf(b"MAILX FROM:<a@b>", b"HELOx", b"VRFY x",
                                b"EXPN y", b"STARTTLS", b"AUTH LOGIN",
                                b"BDAT 10", b"NOOP arg", b"QUIT"),
        "nul": b"\x00NOOP\x00junk\r\nHELO a\x00b\r\nMAIL FROM:<\x00>\r\nQUIT\r\n",
        "binary": b"\x00\xff\xfe\x01\x02\x80\r\n\x1b[31m\r\n\x7f\r\nNOOP\r\n",
        "bad21": b"\x00" + crlf(*[b"BAD %d" % i for i in range(22)]),
        "overlong": b"\x00" + b"A" * 9000 + b"\r\nNOOP\r\nQUIT\r\n",
        "overlong-data": b"\x01" + crlf(b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>",
                                        b"DATA") + b"B" * 8300 + b"\r\n.\r\n",
        "line-8191": b"\x00NOOP " + b"x" * 8186 + b"\nNOOP\r\n",
        "line-8192": b"\x00NOOP " + b"x" * 8187 + b"\nNOOP\r\n",
        "long-values": b"\x00" + crlf(b"HELO " + b"h" * 1500,
                                      b"MAIL FROM:" + b"f" * 1500,
                                      b"RCPT TO:" + b"t" * 1500),
        "cap": b"\x00" + crlf(b"MAIL FROM:<a@b>") +
        crlf(*[b"RCPT TO:<u%d@x>" % i for i in range(105)]) + crlf(b"QUIT"),
        "pipelined": b"\x00" + crlf(b"HELO p") + crlf(b"NOOP") * 300,
        "partial": b"\x00HELO a\r\nMAIL FROM:<a@b>",
        "colon-cases": b"\x00" + crlf(b"MAIL FROM<a@b>", b"MAIL FROM::<a@b>",
                                      b"RCPT TO:", b"RCPT TO:   ",
                                      b"RCPT TO:<a@b>:<c@d>", b"RCPT :x"),
        "cr-in-value": b"\x00MAIL FROM:<a\rb@c>\r\nRCPT TO:<d\r@e>\r\n",
        # Byte 0 bit 1: STARTTLS may be offered (con.c, -C/-K).
        "tls": b"\x02" + crlf(b"EHLO a.example", b"STARTTLS",
                              b"EHLO b.example", b"STARTTLS",
                              b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA"),
        "tls-not-next": b"\x02" + crlf(b"EHLO a.example", b"NOOP",
                                       b"STARTTLS", b"MAIL FROM:<a@b>",
                                       b"RCPT TO:<c@d>", b"QUIT"),
        "tls-inject": b"\x02" + crlf(b"EHLO a", b"STARTTLS",
                                     b"MAIL FROM:<evil@x>", b"RCPT TO:<v@y>",
                                     b"EHLO a", b"DATA"),
        "tls-black": b"\x03" + crlf(b"EHLO a", b"STARTTLS", b"EHLO b",
                                    b"MAIL FROM:<a@b>", b"DATA", b"."),
        "tls-args": b"\x02" + crlf(b"EHLO a", b"STARTTLS x", b"starttls",
                                   b"HELO b", b"STARTTLS"),
    }
    put("smtp", s)


def cfg():
    one = {
        "v4": b"spews1;\"Listed: see http://example.org/%A\";inet;2;192.0.2.0/24;198.51.100.0/25",
        "v6": b"six;\"msg\";inet6;2;2001:db8::/32;2001:db8:1::/48",
        "both": b"both;\"a\\\"b\\\\c\\nline 2 %A %%\";inet6;1;2001:db8::/33;inet;1;203.0.113.0/24",
        "clear": b"gone;",
        "host-bits": b"hb;\"m\";inet;1;192.0.2.77/24",
        "mask0": b"z;\"m\";inet;1;0.0.0.0/0",
        "mapped": b"m;\"m\";inet6;1;::ffff:192.0.2.1/128",
        "count": b"c;\"m\";inet;3;192.0.2.0/24",
        "reserved": b"spamd-greytrap;\"m\";inet;1;192.0.2.0/24",
        "twice": b"t;\"m\";inet;1;192.0.2.0/24;inet;1;198.51.100.0/24",
        "ctl": b"c;\"a\x01b\";inet;1;192.0.2.0/24",
        "nul": b"n;\"m\x00\";inet;1;192.0.2.0/24",
        "noclose": b"n;\"never closed",
        "bigcount": b"n;\"m\";inet;99999999999999999999",
        "trailing": b"n;\"m\";inet;1;192.0.2.0/24;junk",
    }
    s = {"line-" + k: b"\x00" + v for k, v in one.items()}
    s["conn"] = b"\x01" + b"\n".join(one.values()) + b"\n"
    s["conn-crlf"] = b"\x01" + b"\r\n".join(one.values()) + b"\r\n\r\n"
    s["conn-replace"] = (b"\x01a;\"one %A\";inet;1;192.0.2.0/24\n"
                         b"b;\"two\\nthree\";inet;1;192.0.2.0/25\n"
                         b"a;\"again\";inet;1;192.0.2.0/26\n"
                         b"b;\n"
                         b"c;\"" + b"x" * 600 + b"\\n" + b"y" * 2000 +
                         b"\";inet6;1;2001:db8::/40;inet;1;192.0.2.0/27\n")
    s["conn-empty-msg"] = b"\x01e;\"\";inet;1;198.51.100.0/24\ne2;\"\\n\\n\";inet;1;198.51.100.0/24\n"
    put("cfg", s)


def conf():
    ex = open(os.path.join(TOP, "etc", "spamd.conf.example"), "rb").read()
    msg = open(os.path.join(TOP, "tests", "data", "lists", "msg.txt"), "rb").read()
    s = {
        "example": bytes([len(msg)]) + ex + msg,
        "minimal": b"\x00all:\\\n\t:a:b:\na:black:msg=\"hi %A\":file=/x:\nb:white:file=/y:\n",
        "methods": b"\x00all:a:b:c:d:\na:black:msg=\"m\":method=http:file=http\\://x/y:\n"
                   b"b:black:msg=\"m\":method=https:file=\"https://x/y\":\n"
                   b"c:black:msg=\"m\":method=exec:file=/bin/true -x:\n"
                   b"d:black:msg=\"m\":method=ftp:file=//x:\n",
        "errors": b"\x00all:nope:all:x#12:y@:\n|bad:\n:x:\nq:tc=x:\nw:black:white:file=:\n"
                  b"v:msg=\"unterminated\n",
        "escapes": b"\x00all:e:\ne:black:msg=\"\\t\\r\\n\\^\\:\\\\\\\"\\q\":file=a\\\n",
        "continue": b"\x00all:\\\n  # comment\\\n  :x:\\\n\nx:black:msg=\"a\"\\\n:file=/f:\n",
        "dup": b"\x00all:a:\na|b:black:msg=\"x\":file=/f:\nb:white:file=/g:\n",
        "msgfile": b"\x0d" + b"all:m:\nm:black:msg=/some/file:file=/f:\n" + b"line1\r\nline\t2\n",
        "msgfile-ctl": b"\x05" + b"all:m:\nm:black:msg=/file:file=/f:\n" + b"a\x01b\x00c",
        "crlf": b"\x00all:a:\r\na:black:msg=\"x\":file=/f:\r\n",
    }
    put("conf", s)


def iprange():
    lists = os.path.join(TOP, "tests", "data", "lists")
    b4 = open(os.path.join(lists, "black-v4.txt"), "rb").read()
    b6 = open(os.path.join(lists, "black-v6.txt"), "rb").read()
    wh = open(os.path.join(lists, "white.txt"), "rb").read()

    def split(black, white):
        data = black + white
        share = min(255, (len(black) * 256 + len(data) - 1) // max(len(data), 1))
        # the harness cuts at len * share / 256: make that exactly len(black)
        while share > 0 and len(data) * share // 256 > len(black):
            share -= 1
        while share < 255 and len(data) * share // 256 < len(black):
            share += 1
        return bytes([share]) + data

    s = {
        "files": split(b4 + b6, wh),
        "ranges": split(b"192.0.2.0 - 192.0.2.255\n10.0.0.1-10.0.0.1\n"
                        b"0.0.0.0 - 255.255.255.255\n:: - ffff::\n",
                        b"192.0.2.128/25\n::/1\n"),
        "bad": split(b"300.1.1.1\n1.2.3.4 - 1.2.3.3\n1.2.3.4 - ::1\n"
                     b"1.2.3.0/24 - 1.2.4.0\n\x00\n" + b"9" * 2000 + b"\n"
                     b"2001:db8::/129\n  \t# c\n;c\n\r\n",
                     b"nonsense\n"),
        "adjacent": split(b"192.0.2.0/25\n192.0.2.128/25\n198.51.100.1\n"
                          b"198.51.100.2\n2001:db8::/127\n2001:db8::2/127\n",
                          b"192.0.2.64\n198.51.100.2\n"),
        "whole": split(b"0.0.0.0/1\n128.0.0.0/1\n::/1\n8000::/1\n", b""),
        "white-all": split(b"203.0.113.0/24\n", b"0.0.0.0 - 255.255.255.255\n"),
        "mapped": split(b"::ffff:192.0.2.1\n::ffff:192.0.2.0/120\n", b"192.0.2.1\n"),
    }
    put("iprange", s)


def nflog():
    s = {}
    for f in sorted(glob.glob(os.path.join(TOP, "tests", "data", "nflog", "*.pcap"))):
        d = open(f, "rb").read()
        magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", d[:24])
        if magic != 0xA1B2C3D4 or linktype != 239:
            sys.exit("%s: not a little-endian DLT_NFLOG pcap" % f)
        off, n = 24, 0
        while off + 16 <= len(d):
            _, _, incl, _ = struct.unpack("<IIII", d[off:off + 16])
            rec = d[off + 16:off + 16 + incl]
            off += 16 + incl
            n += 1
            base = os.path.basename(f)[:-5]
            s["%s-%d" % (base, n)] = rec
    # a record cut short, and one with a TLV claiming too much
    first = s[sorted(s)[0]]
    s["cut"] = first[:len(first) // 2]
    s["huge-tlv"] = first[:4] + struct.pack("<HH", 0xFFFF, 9) + first[8:]
    put("nflog", s)


def rec(kind, bcount, pcount, first, pss, expire):
    b = struct.pack(">BBHIIqqq", 1, kind, 0, bcount, pcount, first, pss, expire)
    return b + struct.pack(">I", zlib.crc32(b) & 0xFFFFFFFF)


def gdata():
    t = 1700000000
    grey = rec(1, 1, 0, t, t + 1500, t + 14400)
    white = rec(2, 3, 1, t, t + 1500, t + 36 * 86400)
    trapped = rec(3, 1, 0, 0, 0, t + 86400)
    spamtrap = rec(4, 1, 0, 0, 0, 0)
    bad_crc = bytearray(white)
    bad_crc[20] ^= 1
    s = {
        "grey": bytes([40]) + grey + b"192.0.2.1\nhelo.example\n<a@example.org>\n<b@example.com>",
        "grey3": bytes([40]) + grey + b"2001:db8::1\n<a@example.org>\n<b@example.com>",
        "white": bytes([40]) + white + b"192.0.2.1",
        "white6": bytes([40]) + white + b"2001:db8::25",
        "trapped": bytes([40]) + trapped + b"198.51.100.7",
        "spamtrap": bytes([40]) + spamtrap + b"trap@example.com",
        "bad-crc": bytes([40]) + bytes(bad_crc) + b"192.0.2.1",
        "short": bytes([39]) + white[:39] + b"192.0.2.1",
        "shape": bytes([40]) + white + b"192.0.2.1\nh\nf\nt",
        "two-lf": bytes([40]) + grey + b"a\nb",
        "five": bytes([40]) + grey + b"1.2.3.4\nh\nf\nt\nx",
        "nul-key": bytes([40]) + white + b"192.0.2.1\x00junk",
        "long-key": bytes([40]) + grey + b"192.0.2.1\n" + b"h" * 1100 + b"\nf\nt",
    }
    put("gdata", s)


def proto():
    def hdr(t, n):
        return struct.pack("<B3xI", t, n)

    def a4(ip):
        return bytes([2]) + bytes(ip) + bytes(12)

    def a6(ip):
        return bytes([10]) + bytes(ip)

    def sstr(b):
        return struct.pack("<H", len(b)) + b

    tup = hdr(1, 0) + a4([192, 0, 2, 1]) + b"\x00" + sstr(b"helo") + \
        sstr(b"<a@example.org>") + sstr(b"<b@example.com>")
    tup6 = hdr(1, 0) + a6([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]) + b"\x01" + \
        sstr(b"") + sstr(b"f") + sstr(b"t")

    def ent(t, addrs):
        out = hdr(t, len(addrs))
        for a in addrs:
            out += a + struct.pack("<q", 1700000000) + b"\x00"
        return out

    s = {
        "tuple": b"\xff" + tup,
        "tuple-netlisted": b"\xff" + tup[:25] + b"\x02" + tup[26:],
        "tuple6-lowmx": b"\xff" + tup6,
        "tuple-trailing": b"\xff" + tup + b"x",
        "tuple-long": b"\xff" + hdr(1, 0) + a4([1, 2, 3, 4]) + b"\x00" +
        sstr(b"h" * 1024) + sstr(b"f") + sstr(b"t"),
        "tuple-nul": b"\xff" + hdr(1, 0) + a4([1, 2, 3, 4]) + b"\x00" +
        sstr(b"h\x00") + sstr(b"f") + sstr(b"t"),
        "white": b"\xff" + ent(3, [a4([192, 0, 2, i]) for i in range(1, 5)]),
        "trap": b"\x03" + ent(2, [a4([192, 0, 2, 9]), a6([0x20, 0x01] + [0] * 14)]),
        # A network (spamd -g): the entry's last byte is its prefix length.
        "white-net": b"\xff" + hdr(3, 2) + a4([192, 0, 2, 0]) +
        struct.pack("<q", 1700000000) + b"\x18" + a6([0x20, 0x01, 0x0d, 0xb8] + [0] * 12) +
        struct.pack("<q", 1700000000) + b"\x40",
        "white-net-bad": b"\xff" + hdr(3, 1) + a4([192, 0, 2, 0]) +
        struct.pack("<q", 1700000000) + b"\x20",
        "replace": b"\xff" + ent(5, [a4([10, 0, 0, i]) for i in range(50)]),
        "blcheck": b"\xff" + ent(8, [a4([10, 0, 0, 1])]),
        "bllisted-max": b"\x01" + ent(10, [a4([10, 0, 0, 1]), a4([10, 0, 0, 2])]),
        "bad-af": b"\xff" + ent(3, [bytes([7]) + bytes(16)]),
        "count-lies": b"\xff" + hdr(3, 1000) + a4([1, 1, 1, 1]) + bytes(8),
        "bare": b"\xff" + hdr(7, 0),
        "bad-hdr": b"\xff" + b"\x01\x01\x00\x00\x00\x00\x00\x00",
    }
    put("proto", s)


def sync():
    # Input: flags (0x01 sign, 0x02 empty key), max entries, datagram.
    import hashlib
    import hmac

    key = hashlib.sha1(b"sharedsecret\n").hexdigest().encode()

    def v2(tlvs, counter=0, k=key):
        body = b"".join(tlvs) + struct.pack(">HH", 0, 4)
        hdr = struct.pack(">BBHI", 2, 2, 32 + len(body), counter)
        d = hdr + bytes(24) + body
        mac = hmac.new(k, d, "sha1").digest()
        return d[:8] + mac + d[28:]

    def pad16(b):
        return b + bytes(-len(b) % 16)

    def grey(ip, helo, frm, to, ts=1700000000):
        f, t, h = frm + b"\0", to + b"\0", helo + b"\0"
        body = struct.pack(">I", ts) + bytes(ip) + \
            struct.pack(">HHH", len(f), len(t), len(h)) + f + t + h
        body = pad16(struct.pack(">HH", 1, 0) + body)
        return struct.pack(">HH", 1, len(body)) + body[4:]

    def addr(typ, ip, ts, ex, length=16):
        return struct.pack(">HHII", typ, length, ts, ex) + bytes(ip)

    def ext(tlvs, node=1, boot=2, seq=3, k=key):
        body = b"".join(tlvs) + struct.pack(">HH", 0, 4)
        d = struct.pack(">BBH4xQQQ", 0x83, 6, 64 + len(body), node, boot,
                        seq) + bytes(32) + body
        mac = hmac.new(k, d, "sha256").digest()
        return d[:32] + mac + d[64:]

    def xaddr(ip):
        if len(ip) == 4:
            return 4, bytes(ip) + bytes(12)
        return 6, bytes(ip)

    def xgrey(ip, helo, frm, to, ts=1700000000):
        fam, a = xaddr(ip)
        f, t, h = frm + b"\0", to + b"\0", helo + b"\0"
        body = pad16(struct.pack(">HHBBHHH4xq", 1, 0, fam, 0, len(f), len(t),
                                 len(h), ts) + a + f + t + h)
        return body[:2] + struct.pack(">H", len(body)) + body[4:]

    def xentry(typ, ip, ts, ex):
        fam, a = xaddr(ip)
        return struct.pack(">HHB3xqq", typ, 40, fam, ts, ex) + a

    ip6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [0x25]
    g1 = grey([192, 0, 2, 10], b"mx.example.org", b"<a@example.org>",
              b"<b@example.net>")
    w = addr(2, [192, 0, 2, 20], 1700000000, 1703110400)
    t = addr(3, [192, 0, 2, 30], 1700000000, 1700086400)
    vec1 = v2([g1])
    s = {
        "vector1": b"\x00\xff" + vec1,
        "vector2": b"\x00\xff" + v2([w], 1),
        "vector3-empty-key": b"\x02\xff" + v2([t], 2, b""),
        "vector1-trailing": b"\x00\xff" + vec1 + b"junk",
        "vector1-flipped": b"\x00\xff" + vec1[:60] + bytes([vec1[60] ^ 4]) +
        vec1[61:],
        "vector1-cut": b"\x00\xff" + vec1[:35],
        "version1": b"\x01\xff" + b"\x01" + vec1[1:],
        "family10": b"\x01\xff" + vec1[:1] + b"\x0a" + vec1[2:],
        "family24": b"\x01\xff" + vec1[:1] + b"\x18" + vec1[2:],
        "length-over": b"\x01\xff" + vec1[:2] + struct.pack(">H", 117) +
        vec1[4:],
        "from-no-nul": b"\x01\xff" + vec1[:45] + b"\x0f" + vec1[46:],
        "helo-lf": b"\x01\xff" + vec1[:84] + b"\n" + vec1[85:],
        "helo-bar": b"\x01\xff" + vec1[:84] + b"|" + vec1[85:],
        "type4": b"\x00\xff" + v2([addr(4, [192, 0, 2, 20], 1, 2), w]),
        "type5-then-6": b"\x00\xff" + v2([w, addr(5, [192, 0, 2, 20], 1, 2),
                                          addr(6, [192, 0, 2, 20], 1, 2)]),
        "white12": b"\x00\xff" + v2([addr(2, [192, 0, 2, 20], 1, 2, 12)]),
        "tlv0": b"\x00\xff" + v2([struct.pack(">HH", 2, 0) + bytes(12)]),
        "tlv-past": b"\x00\xff" + v2([addr(2, [192, 0, 2, 20], 1, 2, 64)]),
        "broadcast": b"\x00\xff" + v2([grey([255] * 4, b"h", b"<a@b>",
                                            b"<c@d>")]),
        "greyd-bare": b"\x00\xff" + v2([grey([198, 51, 100, 1], b"greyd.test",
                                             b"alice@sender.test",
                                             b"bob@example.org")]),
        "long-from": b"\x00\xff" + v2([grey([192, 0, 2, 1], b"h",
                                            b"f" * 1023, b"t")]),
        "too-long-from": b"\x00\xff" + v2([grey([192, 0, 2, 1], b"h",
                                                b"f" * 1024, b"t")]),
        "many": b"\x00\x03" + v2([w, t, g1, w, t]),
        "max85": b"\x00\xff" + v2([w] * 85),
        "no-end": b"\x01\xff" + v2([w])[:2] + struct.pack(">H", 48) +
        v2([w])[4:-4],
        "ext": b"\x00\xff" + ext([xgrey(ip6, b"mx6.example.org",
                                        b"<a@example.org>", b"<b@example.net>"),
                                  xentry(2, ip6, 1700000000, 1 << 40),
                                  xentry(3, [192, 0, 2, 30], 1700000000,
                                         1700086400),
                                  xgrey([192, 0, 2, 10], b"", b"<>", b"<b@c>")]),
        "ext-empty-key": b"\x02\xff" + ext([xentry(2, ip6, 1, 2)], 7, 8, 9,
                                           b""),
        "ext-wrong-key": b"\x02\xff" + ext([xentry(2, ip6, 1, 2)]),
        "ext-as-v2": b"\x01\xff" + b"\x02\x02" +
        ext([xentry(2, ip6, 1, 2)])[2:],
        "ext-negative-time": b"\x00\xff" + ext([xentry(2, ip6, -1, 2)]),
        "ext-mapped": b"\x00\xff" + ext([xentry(2, [0] * 10 + [255, 255, 192,
                                                               0, 2, 1], 1, 2)]),
        "ext-type4": b"\x00\xff" + ext([struct.pack(">HH", 4, 16) + bytes(12)]),
    }
    put("sync", s)


for f in (smtp, cfg, conf, iprange, nflog, gdata, proto, sync):
    f()

// Hostile mail shapes shared by the benchmarks and HostileProfile: inputs that made a parser routine superlinear.

/// Raw hostile messages by name; each is built once.
public enum HostileInput {
    /// `text` repeated `count` times.
    static func repeated(_ text: String, _ count: Int) -> String {
        String(repeating: text, count: count)
    }

    /// A text/html mail of `count` nested anchors around one word (the shape of issue 8: 64 KB took 11 s).
    public static func nestedAnchors(count: Int) -> [UInt8] {
        Array(
            ("From: a@x.test\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                + repeated("<a href=\"https://x.test/\">", count) + "t" + repeated("</a>", count)).utf8)
    }

    /// 2,130 nested anchors: 64 KB of HTML.
    public static let nestedAnchors64K = nestedAnchors(count: 2_130)
    /// 35,000 nested anchors: 1 MB of HTML.
    public static let nestedAnchors1M = nestedAnchors(count: 35_000)

    /// A text/html body of `<a href="x` × 20,000 (no tag ever ends).
    public static let unclosedTags = Array(
        ("Content-Type: text/html\r\n\r\n" + repeated("<a href=\"x", 20_000)).utf8)

    /// `<pre>` and 100,000 `<br>` each followed by a line end: every break used to count the line ends already written.
    public static let preBreaks = Array(
        ("Content-Type: text/html\r\n\r\n<pre>" + repeated("<br>\n", 100_000) + "x").utf8)

    /// 100,000 character references in one text run (appending to a String.UnicodeScalarView copied it).
    public static let entities = Array(
        ("Content-Type: text/html\r\n\r\n" + repeated("&amp;&#233;&bogus", 100_000)).utf8)

    /// A Subject of 20,000 encoded words.
    public static let encodedWords = Array(
        ("Subject: " + repeated("=?utf-8?q?a=C3=A4?= ", 20_000) + "\r\n\r\nbody").utf8)

    /// A multipart/mixed body with 20,000 parts (the parse budget reads the first 1,000).
    public static let mimeParts = Array(
        ("Content-Type: multipart/mixed; boundary=b\r\n\r\n" + repeated("--b\r\n\r\nx\r\n", 20_000) + "--b--\r\n").utf8)

    /// A format=flowed paragraph of 200,000 soft-broken lines (it was copied once per line).
    public static let flowedParagraph = Array(
        ("Content-Type: text/plain; format=flowed\r\n\r\n" + repeated("ab \r\n", 200_000) + "end").utf8)

    /// 30 nested inline forwarded messages around 1 MB of text (each level was parsed, cleaned and stripped again).
    public static let forwardedNesting: [UInt8] = {
        var raw = "From: a@x.test\r\n"
        for level in 0..<30 { raw += "Content-Type: message/rfc822\r\n\r\nFrom: f\(level)@x.test\r\n" }
        return Array((raw + "\r\n" + repeated("x", 1_000_000) + "\r\n").utf8)
    }()

    /// Every input by name, for HostileProfile.
    public static let all: [(name: String, raw: [UInt8])] = [
        ("nested-anchors-64k", nestedAnchors64K), ("nested-anchors-1m", nestedAnchors1M),
        ("unclosed-tags", unclosedTags), ("pre-breaks", preBreaks), ("entities", entities),
        ("encoded-words", encodedWords), ("mime-parts", mimeParts), ("flowed-paragraph", flowedParagraph),
        ("forwarded-nesting", forwardedNesting),
    ]
}

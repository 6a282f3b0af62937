import Testing

@testable import MailMessage

@Suite("HTML to text")
struct HTMLTextTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var html: String
        var expected: String
        var testDescription: String { html }
    }

    static let fixtures: [Fixture] = [
        Fixture(html: "<p>One</p><p>Two</p>", expected: "One\n\nTwo"),
        Fixture(html: "a<br>b<br/><br>c", expected: "a\nb\n\nc"),
        Fixture(html: "<div>a</div><div>b</div><div><br></div><div>c</div>", expected: "a\nb\n\nc"),
        Fixture(html: "<ol><li>x</li><li>y</li></ol>", expected: "1. x\n2. y"),
        Fixture(html: "<a href=\"https://a.test/\">site</a>", expected: "site <https://a.test/>"),
        Fixture(html: "<a href=\"https://a.test/\">https://a.test/</a>", expected: "https://a.test/"),
        Fixture(html: "<a href=\"mailto:x@y.test\">x@y.test</a>", expected: "x@y.test"),
        Fixture(
            html: "&lt;tag&gt; &amp; &quot;q&quot; &#233; &#x1F600; &nbsp;x &bogus; &#150;",
            expected: "<tag> & \"q\" é 😀  x &bogus; –"),
        Fixture(html: "<script>alert(1)</script><style>.a{}</style>ok<!-- hidden -->", expected: "ok"),
        Fixture(html: "  lots   of\n\n  space  ", expected: "lots of space"),
        Fixture(html: "<pre>  keep\n    this</pre>", expected: "keep\n    this"),
        Fixture(html: "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", expected: "a b\nc"),
        Fixture(html: "unclosed <b", expected: "unclosed <b"),
        Fixture(
            html:
                "<p class=MsoNormal>Hi,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Line<o:p></o:p></p>",
            expected: "Hi,\n\nLine"),
        Fixture(html: "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", expected: "- a\n  - b\n- c"),
        Fixture(html: "<img src=x alt=\"logo\"> text", expected: "logo text"),
        // HTML 5 §13.2.5.6: "<" before anything but a letter, "!", "/" or "?" is text.
        Fixture(html: "a <3 b, x<-y, <2.1@desk.test>, <日本>", expected: "a <3 b, x<-y, <2.1@desk.test>, <日本>"),
        // §13.2.5.7: "</" before anything but a letter is a bogus comment up to ">".
        Fixture(html: "Fine.</= div>Thanks</>", expected: "Fine.Thanks"),
        // §13.2.6.4.7: an <a> start tag closes the open link, so links never nest.
        Fixture(
            html: "<a href=\"https://one.test/\">one<a href=\"https://two.test/\">two</a></a>",
            expected: "one <https://one.test/>two <https://two.test/>"),
        Fixture(html: "Visit<a href=\"https://x.test/\"></a>now", expected: "Visit https://x.test/ now"),
        Fixture(html: "<a HREF=\"https://x.test/\" Class=x>site</A>", expected: "site <https://x.test/>"),
        Fixture(html: "<a href=\"javascript:x()\">do</a> <a href=\"#top\">top</a>", expected: "do top"),
    ]

    @Test("HTML becomes readable text", arguments: fixtures)
    func converts(_ fixture: Fixture) {
        #expect(HTMLText.text(from: fixture.html) == fixture.expected)
    }

    static let quoted: [Fixture] = [
        Fixture(
            html:
                "<div>Thanks!</div><div class=\"gmail_quote\"><div>On Mon wrote:</div><blockquote class=\"gmail_quote\">old</blockquote></div>",
            expected: "Thanks!\n>"),
        Fixture(
            html:
                "<div>Yes</div><blockquote type=\"cite\"><div>old <blockquote type=\"cite\">older</blockquote></div></blockquote><div>after</div>",
            expected: "Yes\n>\nafter"),
        Fixture(html: "<p>Fine</p><div id=\"divRplyFwdMsg\"><b>From:</b> x</div><div>old</div>", expected: "Fine"),
    ]

    @Test("reply quote containers of Gmail, Apple Mail and Outlook are replaced by one quote line", arguments: quoted)
    func removesQuotes(_ fixture: Fixture) {
        #expect(HTMLText.text(from: fixture.html, removeQuotes: true) == fixture.expected)
    }

    /// A hostile shape of HTML, large enough that a pass quadratic in it would not finish, and its exact text.
    struct HostileFixture: CustomTestStringConvertible, Sendable {
        var name: String
        var html: String
        var expected: String
        var removeQuotes = false
        var testDescription: String { name }
    }

    static func repeated(_ text: String, _ count: Int) -> String {
        String(repeating: text, count: count)
    }

    static let url = "https://x.test/"

    static let hostile: [HostileFixture] = [
        // The shape of the issue (64 KB took 11 s): every link but the innermost is empty and shows its address.
        HostileFixture(
            name: "1.2 MB of nested anchors",
            html: repeated("<a href=\"\(url)\">", 40_000) + "t" + repeated("</a>", 40_000),
            expected: Array(repeating: url, count: 39_999).joined(separator: " ") + " t <\(url)>"),
        HostileFixture(
            name: "40,000 anchors with text, none closed", html: repeated("<a href=\"\(url)\">w", 40_000),
            expected: repeated("w <\(url)>", 39_999) + "w"),
        HostileFixture(
            name: "100,000 unclosed tags", html: repeated("<a href=\"x", 100_000),
            expected: repeated("<a href=\"x", 100_000)),
        HostileFixture(
            name: "100,000 unclosed blocks", html: repeated("<div>x", 100_000),
            expected: Array(repeating: "x", count: 100_000).joined(separator: "\n")),
        HostileFixture(
            name: "100,000 nested blocks", html: repeated("<div>", 100_000) + "t" + repeated("</div>", 100_000),
            expected: "t"),
        HostileFixture(
            name: "50,000 nested lists: indentation stops at maxListIndent levels",
            html: repeated("<ul>", 50_000) + repeated("<li>x", 50_000),
            expected: "- x" + repeated("\n" + repeated("  ", HTMLText.maxListIndent) + "- x", 49_999)),
        HostileFixture(
            name: "100,000 line breaks in <pre>", html: "<pre>" + repeated("<br>\n", 100_000) + "x", expected: "x"),
        HostileFixture(
            name: "100,000 line breaks in <pre> between words", html: "<pre>" + repeated("<br>\nx", 100_000),
            expected: Array(repeating: "x", count: 100_000).joined(separator: "\n\n")),
        HostileFixture(
            name: "a tag with 100,000 attributes is longer than 8 KiB: text",
            html: "<p " + repeated("a=b ", 100_000) + ">x", expected: "<p " + repeated("a=b ", 100_000) + ">x"),
        HostileFixture(
            name: "500 tags of 500 attributes each",
            html: repeated("<img alt=\"y\" " + repeated("a=b ", 500) + ">", 500),
            expected: repeated("y", 500)),
        HostileFixture(
            name: "100,000 character references", html: repeated("&amp;&#233;&bogus", 100_000),
            expected: repeated("&é&bogus", 100_000)),
        HostileFixture(
            name: "a 1 MB line without spaces", html: repeated("x", 1_000_000), expected: repeated("x", 1_000_000)),
        HostileFixture(
            name: "100,000 unclosed comments", html: "before" + repeated("<!--", 100_000), expected: "before"),
        HostileFixture(
            name: "100,000 unclosed scripts", html: "before" + repeated("<script>", 100_000) + "x", expected: "before"),
        HostileFixture(
            name: "100,000 nested Gmail quotes", html: "Hi" + repeated("<div class=gmail_quote>", 100_000) + "x",
            expected: "Hi\n>", removeQuotes: true),
    ]

    @Test("hostile HTML shapes convert to the right text", arguments: hostile)
    func hostileShapes(_ fixture: HostileFixture) {
        let text = HTMLText.text(from: fixture.html, removeQuotes: fixture.removeQuotes)
        #expect(text == fixture.expected, "\(text.prefix(200))")
    }
}

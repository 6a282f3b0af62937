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
}

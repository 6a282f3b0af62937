import Testing

@testable import MailMessage

@Suite("RFC 2047 encoded-words")
struct EncodedWordTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var input: String
        var expected: String
        var testDescription: String { input }
    }

    static let fixtures: [Fixture] = [
        Fixture(input: "=?UTF-8?B?44GT44KT44Gr44Gh44Gv?=", expected: "こんにちは"),
        Fixture(input: "=?iso-8859-1?q?caf=E9_cr=E8me?=", expected: "café crème"),
        Fixture(input: "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", expected: "ab"),
        Fixture(input: "=?UTF-8?Q?a?=\t =?UTF-8?Q?b?=", expected: "ab"),
        Fixture(input: "=?UTF-8?Q?a?==?UTF-8?Q?b?=", expected: "ab"),
        Fixture(input: "=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", expected: "a b c"),
        // "あ" (E3 81 82) split across two words.
        Fixture(input: "=?UTF-8?Q?=E3=81?= =?UTF-8?Q?=82?=", expected: "あ"),
        Fixture(input: "=?UTF-8?B?44E=?= =?UTF-8?B?gg==?=", expected: "あ"),
        Fixture(input: "=?ISO-2022-JP?B?GyRCJCIkJBsoQg==?=", expected: "あい"),
        Fixture(input: "=?shift_jis?B?gqCCog==?=", expected: "あい"),
        Fixture(input: "=?utf-8*en?Q?hi?=", expected: "hi"),
        Fixture(input: "=?x-unknown?Q?hi?= there", expected: "=?x-unknown?Q?hi?= there"),
        Fixture(input: "=?UTF-8?X?hi?=", expected: "=?UTF-8?X?hi?="),
        Fixture(input: "=?UTF-8?Q?unterminated", expected: "=?UTF-8?Q?unterminated"),
        Fixture(input: "=?UTF-8?B?/w==?=", expected: "=?UTF-8?B?/w==?="),
        Fixture(input: "plain text", expected: "plain text"),
        Fixture(input: "=?UTF-8?Q?line=0Abreak?=", expected: "line break"),
    ]

    @Test("encoded-words decode, join and fall back to literal text", arguments: fixtures)
    func decodes(_ fixture: Fixture) {
        var notes: [String] = []
        #expect(EncodedWord.decode(fixture.input, notes: &notes) == fixture.expected)
    }

    static let roundTrips = [
        "Grüße aus München", "こんにちは、世界。お問い合わせの件について", "😀 emoji 🎉 party", "a_b=c?d",
        String(repeating: "長い件名", count: 40), "Ünïcödé with \"quotes\" and (parens)",
    ]

    @Test("encoded text decodes back, every word at most 75 characters", arguments: roundTrips)
    func roundTrip(_ text: String) {
        let words = EncodedWord.encode(text)
        #expect(words.allSatisfy { $0.count <= 75 })
        var notes: [String] = []
        #expect(EncodedWord.decode(words.joined(separator: "\r\n "), notes: &notes) == text)
    }
}

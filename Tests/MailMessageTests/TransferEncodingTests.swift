import Foundation
import Testing

@testable import MailMessage

@Suite("Content-Transfer-Encoding")
struct TransferEncodingTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var input: String
        var expected: [UInt8]
        var testDescription: String { input }
    }

    static let base64: [Fixture] = [
        Fixture(input: "aGVsbG8=", expected: Array("hello".utf8)),
        Fixture(input: "aGVsbG8", expected: Array("hello".utf8)),
        Fixture(input: "aGVs\r\nbG8=\r\n", expected: Array("hello".utf8)),
        Fixture(input: "aGVs bG8*=", expected: Array("hello".utf8)),
        Fixture(input: "aGk=aGk=", expected: Array("hihi".utf8)),
        Fixture(input: "", expected: []),
    ]

    @Test("base64 decodes leniently", arguments: base64)
    func decodesBase64(_ fixture: Fixture) {
        #expect(TransferEncoding.decodeBase64(Array(fixture.input.utf8)).bytes == fixture.expected)
    }

    static let quotedPrintable: [Fixture] = [
        Fixture(input: "caf=C3=A9", expected: Array("café".utf8)),
        Fixture(input: "caf=c3=a9", expected: Array("café".utf8)),
        Fixture(input: "soft=\r\nbreak", expected: Array("softbreak".utf8)),
        Fixture(input: "soft= \t\r\nbreak", expected: Array("softbreak".utf8)),
        Fixture(input: "soft=\nbreak", expected: Array("softbreak".utf8)),
        Fixture(input: "trailing   \r\nnext", expected: Array("trailing\r\nnext".utf8)),
        Fixture(input: "bad=ZZescape", expected: Array("bad=ZZescape".utf8)),
        Fixture(input: "end=", expected: Array("end".utf8)),
        Fixture(input: "50% = half", expected: Array("50% = half".utf8)),
    ]

    @Test("quoted-printable decodes soft breaks and keeps bad escapes", arguments: quotedPrintable)
    func decodesQuotedPrintable(_ fixture: Fixture) {
        #expect(TransferEncoding.decodeQuotedPrintable(Array(fixture.input.utf8)).bytes == fixture.expected)
    }

    static let texts = [
        "plain", "caf\u{E9} = 100%", String(repeating: "long line with words ", count: 20), "trailing space ",
        "From the start", "tab\tand\ttrailing tab\t", "日本語のテキスト" + String(repeating: "あ", count: 60),
        "line one\nline two\n\nline four", String(repeating: "x", count: 74) + " " + String(repeating: "y", count: 10),
    ]

    @Test("quoted-printable encoding round-trips and keeps lines at 76 characters", arguments: texts)
    func roundTripsQuotedPrintable(_ text: String) {
        let encoded = TransferEncoding.encodeQuotedPrintable(text)
        #expect(encoded.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(!encoded.components(separatedBy: "\r\n").contains { $0.hasSuffix(" ") || $0.hasSuffix("\t") })
        let decoded = TransferEncoding.decodeQuotedPrintable(Array(encoded.utf8)).bytes
        #expect(String(decoding: decoded, as: UTF8.self) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }
}

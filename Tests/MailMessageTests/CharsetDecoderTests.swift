import Testing

@testable import MailMessage

@Suite("charsets")
struct CharsetDecoderTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var label: String?
        var bytes: [UInt8]
        var expected: String
        var noted: Bool
        var testDescription: String { "\(label ?? "none"): \(expected)" }
    }

    static let fixtures: [Fixture] = [
        Fixture(label: "utf-8", bytes: Array("héllo".utf8), expected: "héllo", noted: false),
        Fixture(label: "US-ASCII", bytes: Array("plain".utf8), expected: "plain", noted: false),
        Fixture(label: "iso-8859-1", bytes: [0x63, 0x61, 0x66, 0xE9], expected: "café", noted: false),
        Fixture(label: "ISO-8859-1", bytes: [0x80, 0x35], expected: "€5", noted: true),
        Fixture(label: "iso-8859-15", bytes: [0xA4], expected: "€", noted: false),
        Fixture(label: "iso-8859-1", bytes: Array("café".utf8), expected: "café", noted: true),
        Fixture(label: "iso-8859-2", bytes: [0xB1], expected: "ą", noted: false),
        Fixture(label: "windows-1252", bytes: [0x93, 0x68, 0x69, 0x94], expected: "“hi”", noted: false),
        Fixture(label: "windows-1251", bytes: [0xCF, 0xF0, 0xE8], expected: "При", noted: false),
        Fixture(label: "koi8-r", bytes: [0xF0, 0xD2, 0xC9], expected: "При", noted: false),
        Fixture(label: "Shift_JIS", bytes: [0x87, 0x40, 0xFB, 0xFC], expected: "①髙", noted: false),
        Fixture(label: "euc-jp", bytes: [0xA4, 0xA2, 0xA4, 0xA4], expected: "あい", noted: false),
        Fixture(
            label: "ISO-2022-JP", bytes: [0x1B, 0x24, 0x42, 0x24, 0x22, 0x1B, 0x28, 0x49, 0x31, 0x1B, 0x28, 0x42],
            expected: "あｱ", noted: false),
        Fixture(
            label: "ISO-2022-JP", bytes: [0x1B, 0x24, 0x42, 0x2D, 0x21, 0x1B, 0x28, 0x42], expected: "①", noted: false),
        Fixture(label: nil, bytes: [0x1B, 0x24, 0x42, 0x24, 0x22, 0x1B, 0x28, 0x42], expected: "あ", noted: true),
        Fixture(
            label: "us-ascii", bytes: [0x1B, 0x24, 0x42, 0x24, 0x22, 0x1B, 0x28, 0x42], expected: "あ", noted: true),
        Fixture(label: "gb2312", bytes: [0xC4, 0xE3, 0xBA, 0xC3], expected: "你好", noted: false),
        Fixture(label: "big5", bytes: [0xA7, 0x41, 0xA6, 0x6E], expected: "你好", noted: false),
        Fixture(label: "euc-kr", bytes: [0xBE, 0xC8, 0xB3, 0xE7], expected: "안녕", noted: false),
        Fixture(label: "utf-16", bytes: [0xFF, 0xFE, 0x68, 0x00, 0x69, 0x00], expected: "hi", noted: false),
        Fixture(label: "UTF-8", bytes: [0x63, 0x61, 0x66, 0xE9], expected: "café", noted: true),
        Fixture(label: "utf-8", bytes: [0x82, 0xA0, 0x82, 0xA2, 0x82, 0xA4], expected: "あいう", noted: true),
        Fixture(label: "x-klingon", bytes: Array("abc".utf8), expected: "abc", noted: false),
        Fixture(label: "x-klingon", bytes: [0x61, 0xFF], expected: "a\u{FFFD}", noted: true),
        Fixture(label: "utf-8", bytes: [0xEF, 0xBB, 0xBF, 0x61], expected: "a", noted: false),
        Fixture(label: "utf-16", bytes: [0x68, 0x00, 0x69, 0x00], expected: "hi", noted: false),
        Fixture(label: "utf-16", bytes: [0x00, 0x68, 0x00, 0x69], expected: "hi", noted: false),
        Fixture(label: "unknown-8bit", bytes: [0x63, 0x61, 0x66, 0xE9], expected: "café", noted: true),
        Fixture(label: "windows-1258", bytes: [0xCC], expected: "\u{0300}", noted: false),
        Fixture(label: "koi8-u", bytes: [0xA4], expected: "є", noted: false),
        Fixture(label: "\"ISO_8859-7\"", bytes: [0xE1], expected: "α", noted: false),
    ]

    @Test("labelled, mislabelled and unlabelled bytes decode through iconv", arguments: fixtures)
    func decodes(_ fixture: Fixture) {
        let decoded = CharsetDecoder.decode(fixture.bytes, label: fixture.label)
        #expect(decoded.text == fixture.expected)
        #expect((decoded.note != nil) == fixture.noted)
    }

    @Test("truncated multi-byte input ends in U+FFFD instead of failing")
    func truncated() {
        let decoded = CharsetDecoder.convert([0x82], from: "CP932")
        #expect(decoded.text == "\u{FFFD}")
        #expect(decoded.errors == 1)
    }

    @Test("a reused iconv descriptor starts in its initial shift state")
    func reusedDescriptorIsReset() {
        // ISO-2022-JP-2 left in JIS X 0208 mode (no ESC ( B at the end), then plain ASCII on the same charset.
        let unterminated = CharsetDecoder.convert([0x1B, 0x24, 0x42, 0x24, 0x22], from: "ISO-2022-JP-2")
        #expect(unterminated.text == "あ")
        for _ in 0..<3 {
            let plain = CharsetDecoder.convert(Array("$\"ok".utf8), from: "ISO-2022-JP-2")
            #expect(plain.text == "$\"ok")
            #expect(plain.errors == 0)
        }
    }

    @Test("conversions running at once each get their own descriptor")
    func concurrentConversions() async {
        let inputs: [(bytes: [UInt8], charset: String, text: String)] = [
            ([0xCF, 0xF0, 0xE8], "CP1251", "При"), ([0xA4, 0xA2, 0xA4, 0xA4], "EUC-JP-MS", "あい"),
            ([0x87, 0x40], "CP932", "①"), ([0xE9], "ISO-8859-1", "é"),
        ]
        let results = await withTaskGroup(of: Bool.self) { group in
            for round in 0..<200 {
                let input = inputs[round % inputs.count]
                group.addTask { CharsetDecoder.convert(input.bytes, from: input.charset).text == input.text }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0 })
    }
}

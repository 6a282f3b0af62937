import Testing

@testable import ServiceDesk

@Suite("Address normalising: the ASCII fast path answers as the Unicode path does")
struct AddressNormalizerTests {
    static let fixtures: [(String, String?)] = [
        ("Alice@Customer.Test", "alice@customer.test"),
        ("  <bob@x.test>\r\n", "bob@x.test"),
        ("<>", nil),
        ("<a@b", nil),
        ("a@b>", nil),
        ("@x.test", nil),
        ("a@", nil),
        ("a@b@c", nil),
        ("a b@c", nil),
        ("a@b,c@d", nil),
        ("\u{0B}a@b\u{0C}", "a@b"),
        ("\u{3000}山田@例え.jp\u{3000}", "山田@例え.jp"),
        ("a@b\u{00A0}", "a@b"),
        ("ÄNNE@x.test", "änne@x.test"),
        ("", nil),
    ]

    @Test(arguments: fixtures)
    func normalize(_ fixture: (String, String?)) {
        #expect(AddressNormalizer.normalize(fixture.0) == fixture.1)
    }

    @Test("20,000 generated ASCII strings: the fast path and the Unicode path agree on every one")
    func fastPathAgrees() {
        let alphabet = Array("aZ09.-_+@@<>,; \t\r\n\u{0B}\u{0C}\u{00}\u{7F}\"()[]".unicodeScalars)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            // SplitMix64: a fixed, reproducible sequence.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var disagreements: [String] = []
        for _ in 0..<20_000 {
            let length = Int(next() % 12)
            var text = ""
            for _ in 0..<length { text.unicodeScalars.append(alphabet[Int(next() % UInt64(alphabet.count))]) }
            if AddressNormalizer.normalize(text) != AddressNormalizer.normalizeUnicode(text) {
                disagreements.append(text.debugDescription)
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }
}

import Foundation
import Testing

@testable import MailMessage

/// A small seeded generator (SplitMix64) so that property runs are reproducible without another package.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Random text mixing ASCII, punctuation that matters to encoders, Latin, CJK, emoji and whitespace.
    mutating func text(maxLength: Int, lineBreaks: Bool = false) -> String {
        let pools: [[Unicode.Scalar]] = [
            Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".unicodeScalars),
            Array(" =?_\"\\()<>,;:@.!*+-/\t".unicodeScalars),
            Array("äöüßéèçñøåÆŒ€".unicodeScalars),
            Array("日本語のテキスト漢字ｶﾀｶﾅ你好안녕".unicodeScalars),
            Array("😀🎉👍🏽".unicodeScalars),
        ]
        var result = String.UnicodeScalarView()
        let length = Int.random(in: 0...maxLength, using: &self)
        for _ in 0..<length {
            if lineBreaks, Int.random(in: 0..<20, using: &self) == 0 {
                result.append("\n")
                continue
            }
            let pool = pools[Int.random(in: 0..<pools.count, using: &self)]
            result.append(pool[Int.random(in: 0..<pool.count, using: &self)])
        }
        return String(result)
    }
}

@Suite("round-trip properties")
struct RoundTripPropertyTests {
    @Test("encoded-words decode to the text they encode, each at most 75 characters", arguments: 0..<4)
    func encodedWords(seed: Int) {
        var generator = SeededGenerator(state: UInt64(seed) &* 7919)
        for _ in 0..<100 {
            let text = generator.text(maxLength: 120)
            let words = EncodedWord.encode(text)
            #expect(words.allSatisfy { $0.count <= 75 })
            var notes: [String] = []
            let decoded = EncodedWord.decode(words.joined(separator: "\r\n "), keepControls: true, notes: &notes)
            #expect(decoded == text, "\(text.debugDescription)")
        }
    }

    @Test("quoted-printable and base64 decode what they encode", arguments: 0..<4)
    func transferEncodings(seed: Int) {
        var generator = SeededGenerator(state: UInt64(seed) &+ 1)
        for _ in 0..<100 {
            let text = generator.text(maxLength: 400, lineBreaks: true)
            let qp = TransferEncoding.encodeQuotedPrintable(text)
            #expect(qp.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
            let decoded = String(decoding: TransferEncoding.decodeQuotedPrintable(Array(qp.utf8)).bytes, as: UTF8.self)
            let crlf = String(
                String.UnicodeScalarView(text.unicodeScalars.flatMap { $0 == "\n" ? ["\r", "\n"] : [$0] }))
            #expect(decoded.unicodeScalars.elementsEqual(crlf.unicodeScalars))
            let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let base64 = TransferEncoding.encodeBase64Lines(bytes)
            #expect(TransferEncoding.decodeBase64(Array(base64.utf8)).bytes == bytes)
        }
    }

    @Test("composed notifications parse back to their subject, names, text and threading", arguments: 0..<4)
    func composedNotifications(seed: Int) {
        var generator = SeededGenerator(state: UInt64(seed) &* 104_729 &+ 3)
        for _ in 0..<50 {
            let subject = generator.text(maxLength: 150)
            let name = generator.text(maxLength: 40)
            let body = generator.text(maxLength: 600, lineBreaks: true)
            let outgoing = OutgoingMail(
                from: MailAddress(name: name, address: "help@desk.test"), to: [MailAddress(address: "a@x.test")],
                subject: subject, text: body, messageID: MailComposer.makeMessageID(domain: "desk.test"),
                inReplyTo: "orig@x.test", references: ["first@x.test", "orig@x.test"],
                extraHeaders: [("Auto-Submitted", "auto-generated")])
            let raw = MailComposer.compose(outgoing)
            let headerLines = String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
                .components(separatedBy: "\r\n")
            #expect(headerLines.allSatisfy { $0.utf8.count <= 78 || !$0.dropFirst().contains(" ") })
            let mail = MailParser.parse(raw)
            // Control characters (tab included) become spaces; the ends may be trimmed.
            #expect(
                mail.subject?.trimmingCharacters(in: .whitespaces)
                    == MailComposer.singleLine(subject).trimmingCharacters(in: .whitespaces),
                "\(subject.debugDescription)")
            let expectedName = SubjectNormalizer.collapseWhitespace(name)
            #expect(mail.from.first?.name == (expectedName.isEmpty ? nil : expectedName), "\(name.debugDescription)")
            #expect(mail.text == MIMEWalker.cleanText(body), "\(body.debugDescription)")
            #expect(mail.messageID == outgoing.messageID)
            #expect(mail.inReplyTo == ["orig@x.test"])
            #expect(mail.references == ["first@x.test", "orig@x.test"])
            #expect(AutoReplyClassifier.classify(mail).isAutomatic)
        }
    }

    @Test("random bytes never trap the parser", arguments: 0..<4)
    func randomBytes(seed: Int) {
        var generator = SeededGenerator(state: UInt64(seed) &+ 99)
        let fragments = [
            "Content-Type: multipart/mixed; boundary=b\r\n", "--b\r\n", "--b--\r\n", "\r\n", "=?utf-8?B?", "?=",
            "Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: quoted-printable\r\n", "=\r\n", "=4",
            "Content-Type: message/rfc822\r\n", "<p>", "<a href=\"", "&#x", "\u{1B}$B", "Subject: ", "From: <a@b>\r\n",
            "Content-Type: text/html; charset=iso-2022-jp\r\n", "filename*0*=utf-8''%E3", "\r\n\r\n",
        ]
        for _ in 0..<200 {
            var raw: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                if Bool.random(using: &generator) {
                    raw += Array(fragments[Int.random(in: 0..<fragments.count, using: &generator)].utf8)
                } else {
                    raw.append(UInt8.random(in: 0...255, using: &generator))
                }
            }
            let mail = MailParser.parse(raw)
            _ = AutoReplyClassifier.classify(mail)
            _ = SubjectNormalizer.summary(from: mail.subject)
        }
    }

    // How fast these parse is measured in Benchmarks/, not asserted here.
    @Test("hostile sizes parse to a result: unclosed tags, endless headers, many boundaries")
    func hostileSizes() {
        let html = "Content-Type: text/html\r\n\r\n" + String(repeating: "<a href=\"x", count: 20_000)
        _ = MailParser.parse(Array(html.utf8))
        let header = "Subject: " + String(repeating: "=?utf-8?q?a?= ", count: 20_000) + "\r\n\r\nbody"
        // Adjacent encoded words join without the space between them (RFC 2047 §6.2).
        #expect(MailParser.parse(Array(header.utf8)).subject == String(repeating: "a", count: 20_000))
        let parts =
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + String(repeating: "--b\r\n\r\nx\r\n", count: 20_000)
        #expect(MailParser.parse(Array(parts.utf8)).text.contains("x"))
        let quotes = "Content-Type: text/plain\r\n\r\n" + String(repeating: "From: x\r\n> q\r\n", count: 20_000)
        #expect(MailParser.parse(Array(quotes.utf8)).text.hasPrefix("From: x"))
    }
}

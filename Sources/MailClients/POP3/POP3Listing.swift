/// Parsers for the numbers and listings in POP3 answers (RFC 1939 §5, §7).
enum POP3Listing {
    /// The lines of a multi-line body, without their CRLF.
    static func lines(of body: [UInt8]) -> [String] {
        var result: [String] = []
        var start = body.startIndex
        var index = body.startIndex
        while index + 1 < body.endIndex {
            if body[index] == UInt8(ascii: "\r") && body[index + 1] == UInt8(ascii: "\n") {
                result.append(String(decoding: body[start..<index], as: UTF8.self))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        if start < body.endIndex { result.append(String(decoding: body[start...], as: UTF8.self)) }
        return result
    }

    // drop-listing = "+OK" SP number SP size [SP info]    (RFC 1939 §5, STAT)
    // scan-listing = number SP size [SP info]              (RFC 1939 §5, LIST)
    /// Reads "n size" (any further words ignored); throws `.protocolViolation` otherwise.
    static func parseNumberAndSize(_ text: String, what: String) throws -> (Int, Int) {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 2, let first = Int(words[0]), let second = Int(words[1]), first >= 0, second >= 0 else {
            throw MailClientError(.protocolViolation, "malformed \(what) answer", serverText: String(text.prefix(200)))
        }
        return (first, second)
    }

    // unique-id-listing = msg-number SP unique-id       (RFC 1939 §7, UIDL)
    // unique-id         = 1*70 %x21-7E
    /// Reads "n uid"; longer uids than 70 are accepted (some servers send them), empty or non-printable ones not.
    static func parseUniqueID(_ text: String) throws -> (number: Int, uid: String) {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 2, let number = Int(words[0]), number > 0,
            words[1].utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }), words[1].utf8.count <= 512
        else {
            throw MailClientError(.protocolViolation, "malformed UIDL answer", serverText: String(text.prefix(200)))
        }
        return (number, String(words[1]))
    }
}

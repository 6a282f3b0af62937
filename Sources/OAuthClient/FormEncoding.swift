import Foundation

/// RFC 6749 Appendix B: `application/x-www-form-urlencoded` as the W3C form encoding defines it — UTF-8, every
/// byte but ALPHA / DIGIT / "-" / "." / "_" / "*" percent-encoded, space as "+".
enum FormEncoding {
    /// `name=value&…`, each part encoded.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    /// One name or value, encoded; linear in its length.
    static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5a, 0x61...0x7a, 0x2d, 0x2e, 0x5f, 0x2a:
                out.append(byte)
            case 0x20:
                out.append(0x2b)
            default:
                out.append(0x25)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The pairs of a query or form body (`+` is a space, `%XX` a byte); invalid escapes are kept as they are.
    /// One pass over the text.
    static func decode(_ text: Substring) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.map(unescape), !name.isEmpty else { return nil }
            return (name, parts.count > 1 ? unescape(parts[1]) : "")
        }
    }

    /// `+` to space and `%XX` to its byte, then UTF-8 (invalid sequences become U+FFFD).
    static func unescape(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x2b {
                out.append(0x20)
            } else if byte == 0x25, index + 2 < bytes.count, let high = hexValue(bytes[index + 1]),
                let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

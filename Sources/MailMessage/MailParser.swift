import Foundation

/// Parses raw RFC 5322 / MIME messages (RFC 2045–2049) into `ParsedMail`; never throws, never traps.
public enum MailParser {
    /// Limits for parsing: a deterministic budget per message, so that no mail, however it is built, costs more than
    /// a bounded amount of work and memory. The defaults are far above real mail.
    ///
    /// A mail over a limit is still parsed to what fits, and `ParsedMail.notes` says which limit it met (each note
    /// starts with "parse budget:"), so that it is stored and processed with the note, never dropped.
    public struct Options: Sendable {
        /// The most attachment bytes (decoded) kept per message; an attachment that does not fit is dropped with a
        /// note. Default 25 MB.
        public var maxAttachmentBytes: Int
        /// The deepest MIME nesting followed (multipart and message/rfc822); deeper parts are kept undecoded as an
        /// attachment. Default 32.
        public var maxDepth: Int
        /// The most MIME entities read per message, counting the message itself, every multipart and every part,
        /// also inside forwarded messages; the parts after them are skipped. Default 1,000.
        public var maxParts: Int
        /// The most header lines (fields and their continuation lines, every header section of the message
        /// together) kept per message; later fields are skipped, and the body is still found. Default 50,000.
        public var maxHeaderLines: Int
        /// The most HTML (decoded, in UTF-8 bytes) converted to text per message; HTML past it is not read.
        /// Default 8 MiB.
        public var maxHTMLBytes: Int

        /// Makes options; the defaults suit a service desk.
        public init(
            maxAttachmentBytes: Int = 25 * 1024 * 1024, maxDepth: Int = 32, maxParts: Int = 1_000,
            maxHeaderLines: Int = 50_000, maxHTMLBytes: Int = 8 * 1024 * 1024
        ) {
            self.maxAttachmentBytes = maxAttachmentBytes
            self.maxDepth = maxDepth
            self.maxParts = maxParts
            self.maxHeaderLines = maxHeaderLines
            self.maxHTMLBytes = maxHTMLBytes
        }
    }

    /// Parses a message with the default options.
    public static func parse(_ raw: [UInt8]) -> ParsedMail {
        parse(raw, options: Options())
    }

    /// Parses a message; problems are described in `ParsedMail.notes`.
    public static func parse(_ raw: [UInt8], options: Options) -> ParsedMail {
        var walker = MIMEWalker(options: options)
        // Old Mac mail with bare CR line ends only: read CR as the line end (RFC 5322 §2.1 wants CRLF).
        if !raw.contains(0x0A), raw.contains(0x0D) {
            walker.notes.append("line ends are bare CR; read as CRLF")
            return walker.parseMessage(raw.map { $0 == 0x0D ? 0x0A : $0 }[...], depth: 0)
        }
        return walker.parseMessage(raw[...], depth: 0)
    }

    /// The msg-ids in a Message-ID, In-Reply-To or References value, without angle brackets (RFC 5322 §3.6.4).
    /// Values without brackets are split on whitespace and commas, keeping tokens that contain "@".
    public static func messageIDs(in value: String) -> [String] {
        // Scalar by scalar: every delimiter is ASCII; whitespace is any White_Space scalar, as Character.isWhitespace.
        var ids: [String] = []
        var current: [UInt8]?
        var depth = 0
        for scalar in value.unicodeScalars {
            if current == nil {
                if scalar == "(" {
                    depth += 1
                    continue
                }
                if scalar == ")" {
                    depth = max(0, depth - 1)
                    continue
                }
            }
            if depth > 0 { continue }
            if scalar == "<" {
                current = []
            } else if scalar == ">" {
                if let bytes = current, !bytes.isEmpty { ids.append(String(decoding: bytes, as: UTF8.self)) }
                current = nil
            } else if current != nil, !isWhitespace(scalar) {
                UTF8.encode(scalar) { current?.append($0) }
            }
        }
        if ids.isEmpty {
            ids = value.unicodeScalars.split(whereSeparator: { isWhitespace($0) || $0 == "," || $0 == "<" || $0 == ">" }
            )
            .filter { $0.contains("@") }.map { String($0) }
        }
        return ids
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar.isASCIIWhitespace : scalar.properties.isWhitespace
    }
}

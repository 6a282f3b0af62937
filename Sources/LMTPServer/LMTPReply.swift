// LMTPServer owns the server side of LMTP (RFC 2033): framing, the session state machine, the NIO handler and the
// listener. It knows nothing of channels, stores or requests: the owner decides each recipient and each delivery.

import NIOCore

/// One reply the server sends: a code, an enhanced status code (RFC 2034, RFC 3463) and text lines.
public struct LMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The three-digit reply code (RFC 5321 §4.2).
    public var code: Int
    /// The enhanced status code (`2.1.5`), sent at the start of every line; nil only for the greeting.
    public var enhancedCode: String?
    /// The text lines; a reply has at least one.
    public var lines: [String]

    /// A reply of one or more lines.
    public init(code: Int, enhancedCode: String?, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// A one-line reply.
    public init(_ code: Int, _ enhancedCode: String?, _ text: String) {
        self.init(code: code, enhancedCode: enhancedCode, lines: [text])
    }

    /// The reply as sent, lines joined by CRLF, without the last CRLF.
    public var description: String {
        lines.enumerated().map { index, line in
            let separator = index == lines.count - 1 ? " " : "-"
            let text = enhancedCode.map { "\($0) \(line)" } ?? line
            return "\(code)\(separator)\(text)"
        }.joined(separator: "\r\n")
    }

    // Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF   (RFC 5321 §4.2)
    /// Writes the reply with its CRLFs.
    func encode(into buffer: inout ByteBuffer) {
        for (index, line) in lines.enumerated() {
            buffer.writeString(String(code))
            buffer.writeString(index == lines.count - 1 ? " " : "-")
            if let enhancedCode {
                buffer.writeString(enhancedCode)
                buffer.writeString(" ")
            }
            // A line break in the text would end the reply early: text is one line per element.
            buffer.writeString(String(line.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
            buffer.writeString("\r\n")
        }
    }
}

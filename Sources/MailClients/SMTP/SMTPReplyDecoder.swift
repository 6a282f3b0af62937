import MailWire
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Frames the server's byte stream into complete, possibly multi-line SMTP replies (RFC 5321 §4.2).
///
/// Lines end in CRLF only; a bare CR or LF is a protocol violation. Hard limits bound the length of
/// one line and the number of lines in one reply, so a hostile server cannot grow memory without bound.
struct SMTPReplyDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// Longest accepted line including CRLF. RFC 5321 §4.5.3.1.5 sets 512; real servers send more.
    let maximumLineLength: Int
    /// Most lines accepted in one reply (a long EHLO list has about 20).
    let maximumLineCount: Int

    private var pendingCode: Int?
    private var pendingLines: [String] = []
    private var lines: CRLFLineReader

    /// Creates a decoder with the given hard limits.
    init(maximumLineLength: Int = 4096, maximumLineCount: Int = 200) {
        self.maximumLineLength = maximumLineLength
        self.maximumLineCount = maximumLineCount
        self.lines = CRLFLineReader(maximumLength: maximumLineLength)
    }

    // Reply-line  = *( Reply-code "-" [ textstring ] CRLF )
    //               Reply-code [ SP textstring ] CRLF
    // Reply-code  = %x32-35 %x30-35 %x30-39
    // textstring  = 1*(%d09 / %d32-126) ; HT, SP, Printable US-ASCII (UTF-8 with SMTPUTF8, RFC 6531)
    mutating func decode(buffer: inout ByteBuffer) throws -> SMTPReply? {
        while let line = try lines.serverLine(from: &buffer) {
            let parsed = try Self.parseReplyLine(line)
            if let pendingCode, pendingCode != parsed.code {
                throw MailClientError(
                    .protocolViolation,
                    "SMTP multi-line reply changed its code from \(pendingCode) to \(parsed.code)",
                    serverText: String(decoding: line, as: UTF8.self)
                )
            }
            pendingLines.append(parsed.text)
            guard pendingLines.count <= maximumLineCount else {
                throw MailClientError(.responseTooLarge, "SMTP reply has more than \(maximumLineCount) lines")
            }
            if parsed.isLast {
                let reply = SMTPReply(code: parsed.code, lines: pendingLines)
                pendingCode = nil
                pendingLines = []
                return reply
            }
            pendingCode = parsed.code
        }
        return nil
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> SMTPReply? {
        if let reply = try decode(buffer: &buffer) { return reply }
        if buffer.readableBytes > 0 || !pendingLines.isEmpty {
            throw MailClientError(.connectionClosed, "the server closed the connection in the middle of a reply")
        }
        return nil
    }

    /// Splits one reply line into code, continuation flag and text.
    static func parseReplyLine(_ line: ArraySlice<UInt8>) throws -> (code: Int, isLast: Bool, text: String) {
        let bytes = Array(line)
        func violation() -> MailClientError {
            MailClientError(
                .protocolViolation,
                "not an SMTP reply line",
                serverText: String(decoding: bytes.prefix(200), as: UTF8.self)
            )
        }
        guard bytes.count >= 3,
            (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(bytes[0]),
            (UInt8(ascii: "0")...UInt8(ascii: "5")).contains(bytes[1]),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[2])
        else { throw violation() }
        let code = bytes[0..<3].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        if bytes.count == 3 { return (code, true, "") }
        switch bytes[3] {
        case UInt8(ascii: " "): return (code, true, String(decoding: bytes[4...], as: UTF8.self))
        case UInt8(ascii: "-"): return (code, false, String(decoding: bytes[4...], as: UTF8.self))
        default: throw violation()
        }
    }
}

import NIOCore

/// One complete IMAP server response line, including the bytes of every `{n}` literal it announces.
///
/// `bytes` is exactly what the server sent, from the first byte of the line to the final CRLF.
struct IMAPFrame: Sendable, Hashable {
    /// The raw bytes of the response: line, literals and continuation lines, ending in CRLF.
    var bytes: [UInt8]

    /// Wraps raw response bytes.
    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Wraps the UTF-8 bytes of `text` (for tests).
    init(_ text: String) {
        self.bytes = Array(text.utf8)
    }
}

/// Hard limits of the IMAP framing layer; a server exceeding them gets `MailClientError(.responseTooLarge)`.
public struct IMAPFrameLimits: Sendable, Hashable {
    /// Longest line (between CRLFs, literals excluded) we accept; a long `* SEARCH` line needs room.
    public var maxLineLength: Int
    /// Largest single literal we accept.
    public var maxLiteralSize: Int
    /// Most literals one response may carry.
    public var maxLiteralsPerFrame: Int
    /// Largest whole response (lines plus literals).
    public var maxFrameSize: Int

    /// Default limits: 1 MiB lines, 64 MiB literals, 64 literals and 80 MiB per response.
    public init(
        maxLineLength: Int = 1 << 20,
        maxLiteralSize: Int = 64 << 20,
        maxLiteralsPerFrame: Int = 64,
        maxFrameSize: Int = 80 << 20
    ) {
        self.maxLineLength = maxLineLength
        self.maxLiteralSize = maxLiteralSize
        self.maxLiteralsPerFrame = maxLiteralsPerFrame
        self.maxFrameSize = maxFrameSize
    }
}

/// Splits the server's byte stream into `IMAPFrame`s: a line ending in CRLF, and when that line ends with a
/// literal announcement `{n}`, the next n bytes and the rest of the response, again and again (RFC 3501 §4.3,
/// RFC 9051 §4.3). Splits on CRLF only. "Need more bytes" returns `nil`; a limit exceeded throws
/// `MailClientError(.responseTooLarge)`.
///
/// It remembers how far it has scanned, so a 64 MiB literal arriving in small reads is not rescanned.
struct IMAPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// The frame type produced.
    typealias InboundOut = IMAPFrame

    private enum Position: Hashable {
        /// Scanning a line that starts `lineStart` bytes into the frame; CRLF not yet found before `scanned`.
        case line(lineStart: Int, scanned: Int)
        /// Waiting for the literal that ends `literalEnd` bytes into the frame.
        case literal(literalEnd: Int)
    }

    /// The limits this decoder enforces.
    let limits: IMAPFrameLimits
    private var position = Position.line(lineStart: 0, scanned: 0)
    private var literalCount = 0

    /// A decoder with the given hard limits.
    init(limits: IMAPFrameLimits = IMAPFrameLimits()) {
        self.limits = limits
    }

    /// Returns the next complete frame, or `nil` when more bytes are needed.
    mutating func decode(buffer: inout ByteBuffer) throws -> IMAPFrame? {
        let available = buffer.readableBytes
        while true {
            switch self.position {
            case .literal(let literalEnd):
                guard available >= literalEnd else { return nil }
                self.position = .line(lineStart: literalEnd, scanned: literalEnd)
            case .line(let lineStart, let scanned):
                guard let lineEnd = self.findCRLF(in: buffer, from: scanned, lineStart: lineStart) else {
                    // Keep the last byte unscanned: it may be the CR of a CRLF split across reads.
                    self.position = .line(lineStart: lineStart, scanned: max(lineStart, available - 1))
                    // The same measure as for a complete line: CRLF excluded. A trailing CR may be the terminator's,
                    // so it does not count yet; counting it refused a line of exactly the limit when its CR and LF
                    // arrived in different reads (found by the IMAP fuzzer).
                    let trailingCR =
                        available > lineStart
                        && buffer.getInteger(at: buffer.readerIndex + available - 1, as: UInt8.self)
                            == UInt8(ascii: "\r")
                    if available - lineStart - (trailingCR ? 1 : 0) > self.limits.maxLineLength {
                        throw MailClientError(
                            .responseTooLarge,
                            "server line longer than \(self.limits.maxLineLength) bytes without CRLF"
                        )
                    }
                    return nil
                }
                if lineEnd - lineStart > self.limits.maxLineLength || lineEnd + 2 > self.limits.maxFrameSize {
                    throw MailClientError(
                        .responseTooLarge, "server line longer than \(self.limits.maxLineLength) bytes")
                }
                if let literalSize = try self.literalAnnouncement(in: buffer, lineStart: lineStart, lineEnd: lineEnd) {
                    self.literalCount += 1
                    if self.literalCount > self.limits.maxLiteralsPerFrame {
                        throw MailClientError(
                            .responseTooLarge,
                            "server response with more than \(self.limits.maxLiteralsPerFrame) literals"
                        )
                    }
                    let literalEnd = lineEnd + 2 + literalSize
                    if literalEnd > self.limits.maxFrameSize {
                        throw MailClientError(
                            .responseTooLarge,
                            "server response larger than \(self.limits.maxFrameSize) bytes"
                        )
                    }
                    self.position = .literal(literalEnd: literalEnd)
                    continue
                }
                let frameLength = lineEnd + 2
                guard let bytes = buffer.readBytes(length: frameLength) else { return nil }
                self.position = .line(lineStart: 0, scanned: 0)
                self.literalCount = 0
                return IMAPFrame(bytes: bytes)
            }
        }
    }

    /// At EOF, a partial frame is simply left over; the handler reports the closed connection.
    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> IMAPFrame? {
        try self.decode(buffer: &buffer)
    }

    /// Offset (relative to the reader index) of the CR of the first CRLF at or after `from`, or nil.
    private func findCRLF(in buffer: ByteBuffer, from: Int, lineStart: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = from
            while index + 1 < bytes.count {
                if bytes[index] == UInt8(ascii: "\r") && bytes[index + 1] == UInt8(ascii: "\n") {
                    return index
                }
                index += 1
            }
            return nil
        }
    }

    // literal         = "{" number64 ["+"] "}" CRLF *CHAR8     (RFC 9051 §9; servers never send "+")
    /// The size announced by a `{n}` at the very end of the line, if any.
    private func literalAnnouncement(in buffer: ByteBuffer, lineStart: Int, lineEnd: Int) throws -> Int? {
        try buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "}") else { return nil }
            var index = lineEnd - 2
            var digitsEnd = lineEnd - 1
            if index >= lineStart, bytes[index] == UInt8(ascii: "+") {
                digitsEnd = index
                index -= 1
            }
            while index >= lineStart, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index -= 1
            }
            guard index >= lineStart, bytes[index] == UInt8(ascii: "{"), index + 1 < digitsEnd else { return nil }
            let digitCount = digitsEnd - (index + 1)
            if digitCount > 18 {
                throw MailClientError(
                    .responseTooLarge, "server literal larger than \(self.limits.maxLiteralSize) bytes")
            }
            var size = 0
            for position in (index + 1)..<digitsEnd {
                size = size * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            }
            if size > self.limits.maxLiteralSize {
                throw MailClientError(
                    .responseTooLarge,
                    "server literal of \(size) bytes is over the \(self.limits.maxLiteralSize)-byte limit"
                )
            }
            return size
        }
    }
}

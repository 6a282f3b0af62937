import MailWire
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Frames POP3 responses: a status line, and — when the command expects it and the status is `+OK` — the
/// dot-terminated, byte-stuffed body that follows (RFC 1939 §3).
///
/// Whether a body follows cannot be told from the bytes, only from the command, so whoever sends a command
/// first announces the shape of its answer with `expect(_:)` (the handler does this in `write`). Answers arrive
/// in command order, so the expectations form a queue. The greeting is expected from the start.
/// CRLF only; hard limits bound the status line and the body.
struct POP3ResponseDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = POP3Response

    /// Whether an answer may carry a multi-line body.
    enum Shape: Sendable, Equatable {
        /// Status line only (USER, PASS, STAT, LIST n, DELE, …).
        case singleLine
        /// Status line, then on `+OK` a dot-terminated body (CAPA, LIST, UIDL, RETR, TOP).
        case multiLine
    }

    /// Longest status line including CRLF. RFC 2449 §4 sets 512 octets; we allow more.
    let maximumStatusLineLength: Int
    /// Largest body, dot-unstuffed, in bytes (a RETR of a big message).
    let maximumBodySize: Int

    private(set) var expected: [Shape]
    private var bodyStatus: POP3Response?
    private var body: [UInt8] = []
    /// How far into the readable bytes we already looked for CRLF without finding it (avoids rescanning).
    private var scannedBodyBytes = 0
    /// Frames status lines.
    private var statusLines: CRLFLineReader

    /// Creates a decoder that first expects `expected` (by default: the greeting, one line).
    init(
        expecting expected: [Shape] = [.singleLine], maximumStatusLineLength: Int = 4096,
        maximumBodySize: Int = 64 << 20
    ) {
        self.expected = expected
        self.maximumStatusLineLength = maximumStatusLineLength
        self.statusLines = CRLFLineReader(maximumLength: maximumStatusLineLength)
        self.maximumBodySize = maximumBodySize
    }

    /// Announces the shape of the answer to a command about to be sent.
    mutating func expect(_ shape: Shape) {
        expected.append(shape)
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> POP3Response? {
        if bodyStatus == nil {
            guard buffer.readableBytes > 0 else { return nil }
            guard let shape = expected.first else {
                throw MailClientError(
                    .protocolViolation,
                    "the POP3 server sent data nobody asked for",
                    serverText: String(decoding: buffer.readableBytesView.prefix(200), as: UTF8.self)
                )
            }
            guard
                let line = try statusLines.serverLine(from: &buffer)
            else { return nil }
            let status = try Self.parseStatusLine(line)
            expected.removeFirst()
            guard shape == .multiLine, status.status == .ok else { return status }
            bodyStatus = status
            body = []
            scannedBodyBytes = 0
        }
        return try decodeBody(buffer: &buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> POP3Response? {
        if let response = try decode(buffer: &buffer) { return response }
        if buffer.readableBytes > 0 || bodyStatus != nil {
            throw MailClientError(.connectionClosed, "the server closed the connection in the middle of a response")
        }
        return nil
    }

    // multi-line  = single-line *dot-stuffed "." CRLF      (RFC 2449 §9)
    // dot-stuffed = *CHAR CRLF  ; a line starting with "." gets one more "." (RFC 1939 §3)
    // A bare CR or LF inside a body line is kept as data: message content is not ours to police.
    private mutating func decodeBody(buffer: inout ByteBuffer) throws -> POP3Response? {
        guard let status = bodyStatus else { return nil }
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        var finished = false
        let consumed: Int = try buffer.withUnsafeReadableBytes { raw in
            var lineStart = 0
            var search = scannedBodyBytes
            while search < raw.count, let base = raw.baseAddress,
                let found = memchr(base + search, Int32(lf), raw.count - search)
            {
                let lineEnd = base.distance(to: UnsafeRawPointer(found))
                guard lineEnd > lineStart, raw[lineEnd - 1] == cr else {
                    search = lineEnd + 1  // a bare LF is data
                    continue
                }
                let contentEnd = lineEnd - 1
                if contentEnd - lineStart == 1 && raw[lineStart] == dot {
                    finished = true
                    return lineEnd + 1
                }
                let contentStart = contentEnd > lineStart && raw[lineStart] == dot ? lineStart + 1 : lineStart
                guard body.count + (contentEnd - contentStart) + 2 <= maximumBodySize else {
                    throw MailClientError(.responseTooLarge, "a POP3 response body exceeds \(maximumBodySize) bytes")
                }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[contentStart..<contentEnd]))
                body.append(cr)
                body.append(lf)
                lineStart = lineEnd + 1
                search = lineStart
            }
            return lineStart
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        if finished {
            let response = POP3Response(status: status.status, text: status.text, body: body)
            bodyStatus = nil
            body = []
            scannedBodyBytes = 0
            return response
        }
        // Everything left is one incomplete line; keep its last byte back, it may be the CR of a split CRLF.
        let pending = buffer.readableBytes
        scannedBodyBytes = max(0, pending - 1)
        if body.count + pending > maximumBodySize + 3 {
            throw MailClientError(.responseTooLarge, "a POP3 response body exceeds \(maximumBodySize) bytes")
        }
        return nil
    }

    // single-line = status [SP text] CRLF      (RFC 2449 §9)
    // status      = "+OK" / "-ERR"
    // continue-req = "+" SP [base64] CRLF      (RFC 5034 §4)
    /// Parses a status line (without CRLF). Status indicators are upper case (RFC 1939 §3); we accept any case.
    static func parseStatusLine(_ line: ArraySlice<UInt8>) throws -> POP3Response {
        let text = String(decoding: line, as: UTF8.self)
        func rest(after count: Int) -> String? {
            let remainder = line.dropFirst(count)
            if remainder.isEmpty { return "" }
            guard remainder.first == UInt8(ascii: " ") else { return nil }
            return String(decoding: remainder.dropFirst(), as: UTF8.self)
        }
        let upper = text.prefix(4).uppercased()
        if upper.hasPrefix("+OK"), let rest = rest(after: 3) { return POP3Response(status: .ok, text: rest) }
        if upper.hasPrefix("-ERR"), let rest = rest(after: 4) { return POP3Response(status: .err, text: rest) }
        if line.first == UInt8(ascii: "+"), let rest = rest(after: 1) {
            return POP3Response(status: .continuation, text: rest)
        }
        throw MailClientError(.protocolViolation, "not a POP3 status line", serverText: String(text.prefix(200)))
    }
}

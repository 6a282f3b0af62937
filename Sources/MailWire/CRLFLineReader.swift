import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// MailWire: the framing the mail protocols share, for the clients (SMTP, POP3) and the LMTP listener alike.

/// Frames CRLF-terminated lines (RFC 5321 §2.3.8, RFC 1939 §3, RFC 2033 §4.1: CRLF only) with a hard length limit,
/// so that a peer that never sends a line end cannot grow the buffer: past `maximumLength` bytes without LF the
/// line is refused.
public struct CRLFLineReader: Sendable {
    /// Why a line cannot be read; the session cannot go on after either.
    public enum Failure: Error, Equatable, Sendable {
        /// More than the limit without a line end (RFC 5321 §4.5.3.1.4).
        case tooLong
        /// An LF without CR before it: RFC 5321 §2.3.8 allows CRLF only, and accepting a bare LF is what makes
        /// SMTP smuggling possible.
        case bareLineFeed
    }

    /// Longest accepted command line including CRLF.
    public let maximumLength: Int
    /// How many readable bytes were already searched for LF in vain: a line dribbled in one byte per read is
    /// searched once, not from its start on every read (which was quadratic; the SMTP fuzzer timed out on it).
    private var scanned = 0

    /// A reader with the given limit.
    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    /// Reads one line ending in CRLF and returns it without the CRLF; nil when the line is not complete yet (the
    /// buffer is left as it was). Linear in the bytes received: only the first `maximumLength` bytes are ever
    /// searched, since an LF after them makes the line too long anyway.
    public mutating func read(from buffer: inout ByteBuffer) throws(Failure) -> [UInt8]? {
        let readable = buffer.readableBytes
        let searchEnd = min(readable, maximumLength)
        let start = min(scanned, searchEnd)
        let lf: Int? = buffer.withUnsafeReadableBytes { raw in
            guard start < searchEnd, let base = raw.baseAddress,
                let found = memchr(base + start, Int32(UInt8(ascii: "\n")), searchEnd - start)
            else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
        guard let lf else {
            scanned = searchEnd
            if readable >= maximumLength { throw .tooLong }
            return nil
        }
        scanned = 0
        let view = buffer.readableBytesView
        guard lf > 0, view[view.startIndex + lf - 1] == UInt8(ascii: "\r") else { throw .bareLineFeed }
        let line = Array(view[view.startIndex..<(view.startIndex + lf - 1)])
        buffer.moveReaderIndex(forwardBy: lf + 1)
        return line
    }
}

import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the content after DATA up to the line holding only "." (RFC 5321 §4.1.1.4), removes dot-stuffing
/// (§4.5.2: a leading "." of any other line is dropped) and keeps at most `maximumSize` bytes: past the limit it
/// reads on to the end without keeping anything, so an oversized message costs no memory.
///
/// Only CRLF ends a line: "\n.\n" or "\r\n.\n" do not end the content (the SMTP smuggling confusion).
struct LMTPDataReader {
    /// Largest message kept, after unstuffing, in bytes.
    let maximumSize: Int
    /// The unstuffed content so far (emptied once the message is over the limit).
    private(set) var content = ByteBuffer()
    /// Bytes of content seen, kept or not.
    private(set) var size = 0
    /// Whether the content went past `maximumSize`.
    var isOversized: Bool { size > maximumSize }

    /// Where in a line the reader stands.
    private enum Position {
        /// At the start of a line (the content starts at one).
        case lineStart
        /// After a "." that starts a line.
        case leadingDot
        /// After "." and CR at the start of a line: an LF now ends the content.
        case leadingDotCR
        /// Inside a line.
        case inLine
        /// After a CR inside a line.
        case afterCR
    }
    private var position = Position.lineStart

    /// A reader for one message.
    init(maximumSize: Int) {
        self.maximumSize = maximumSize
    }

    /// Consumes bytes from `buffer`; true once the terminating ".CRLF" line was read (the bytes after it stay in the
    /// buffer: a pipelined command). Linear in the bytes consumed.
    mutating func consume(_ buffer: inout ByteBuffer) -> Bool {
        while buffer.readableBytes > 0 {
            switch position {
            case .inLine:
                // The common case: copy up to the next CR in one go.
                let run: Int = buffer.withUnsafeReadableBytes { raw in
                    guard let base = raw.baseAddress,
                        let found = memchr(base, Int32(UInt8(ascii: "\r")), raw.count)
                    else { return raw.count }
                    return base.distance(to: UnsafeRawPointer(found))
                }
                if run > 0 {
                    keep(buffer.readSlice(length: run) ?? ByteBuffer())
                } else {
                    buffer.moveReaderIndex(forwardBy: 1)
                    keep(UInt8(ascii: "\r"))
                    position = .afterCR
                }
            case .afterCR:
                guard let byte = buffer.readInteger(as: UInt8.self) else { return false }
                keep(byte)
                position = byte == UInt8(ascii: "\n") ? .lineStart : byte == UInt8(ascii: "\r") ? .afterCR : .inLine
            case .lineStart:
                guard let byte = buffer.readInteger(as: UInt8.self) else { return false }
                if byte == UInt8(ascii: ".") {
                    position = .leadingDot
                } else {
                    keep(byte)
                    position = byte == UInt8(ascii: "\r") ? .afterCR : .inLine
                }
            case .leadingDot:
                guard let byte = buffer.readInteger(as: UInt8.self) else { return false }
                if byte == UInt8(ascii: "\r") {
                    position = .leadingDotCR
                } else {
                    // RFC 5321 §4.5.2: the first "." of a line with more on it is deleted.
                    keep(byte)
                    position = .inLine
                }
            case .leadingDotCR:
                guard let byte = buffer.readInteger(as: UInt8.self) else { return false }
                if byte == UInt8(ascii: "\n") { return true }
                // ".\r" then something else: an ordinary line whose leading dot is dropped.
                keep(UInt8(ascii: "\r"))
                keep(byte)
                position = byte == UInt8(ascii: "\r") ? .afterCR : .inLine
            }
        }
        return false
    }

    private mutating func keep(_ byte: UInt8) {
        size += 1
        guard size <= maximumSize else { return discardContent() }
        content.writeInteger(byte)
    }

    private mutating func keep(_ slice: ByteBuffer) {
        size += slice.readableBytes
        guard size <= maximumSize else { return discardContent() }
        var slice = slice
        content.writeBuffer(&slice)
    }

    private mutating func discardContent() {
        if content.capacity > 0 { content = ByteBuffer() }
    }
}

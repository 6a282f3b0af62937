import NIOCore

/// Turns a message into the bytes that follow DATA's 354 reply.
enum SMTPMessageContent {
    /// Writes `message` with every bare LF or bare CR made CRLF (RFC 5321 §2.3.8), every line that starts
    /// with "." given one more "." (transparency, RFC 5321 §4.5.2), a final CRLF if missing, then ".CRLF".
    static func encode(_ message: [UInt8], into buffer: inout ByteBuffer) {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        buffer.reserveCapacity(minimumWritableBytes: message.count + message.count / 50 + 5)
        var atLineStart = true
        message.withUnsafeBufferPointer { bytes in
            var index = 0
            while index < bytes.count {
                if atLineStart && bytes[index] == dot { buffer.writeInteger(dot) }
                var end = index
                while end < bytes.count && bytes[end] != cr && bytes[end] != lf { end += 1 }
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[index..<end]))
                guard end < bytes.count else {
                    atLineStart = false
                    break
                }
                // CRLF is one line break; a lone CR or lone LF is one too.
                buffer.writeBytes([cr, lf])
                if bytes[end] == cr, end + 1 < bytes.count, bytes[end + 1] == lf { end += 1 }
                index = end + 1
                atLineStart = true
            }
        }
        if !atLineStart { buffer.writeBytes([cr, lf]) }
        buffer.writeBytes([dot, cr, lf])
    }

    /// Whether the message has any byte above 127, which needs BODY=8BITMIME (RFC 6152 §3).
    static func has8BitBytes(_ message: [UInt8]) -> Bool {
        message.contains { $0 >= 0x80 }
    }
}

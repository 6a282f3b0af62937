/// Pure encoding of `IMAPCommand`s into the bytes to send.
///
/// The result is a list of chunks: the first is sent at once; every later chunk starts with the data of a
/// synchronizing literal and may only be sent after the server's `+` continuation request (RFC 3501 §7.5).
/// With LITERAL+ (RFC 7888) literals are non-synchronizing and everything is one chunk.
enum IMAPCommandEncoder {
    /// Encodes `command`; throws `MailClientError(.commandRejected)` for text that cannot be sent safely
    /// (CR, LF or NUL in a raw part, NUL in a string).
    static func encode(_ command: IMAPCommand, literalPlus: Bool) throws -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var current = Array(command.tag.utf8)
        try checkRaw(command.tag, what: "tag")
        for part in command.parts {
            current.append(UInt8(ascii: " "))
            switch part {
            case .raw(let text):
                try checkRaw(text, what: "command text")
                current += Array(text.utf8)
            case .string(let bytes):
                try appendAString(bytes, to: &current, chunks: &chunks, literalPlus: literalPlus)
            case .secret(let secret):
                if secret.asString {
                    try appendAString(secret.bytes, to: &current, chunks: &chunks, literalPlus: literalPlus)
                } else {
                    guard !secret.bytes.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) else {
                        throw MailClientError(.commandRejected, "a SASL payload may not contain CR, LF or NUL")
                    }
                    current += secret.bytes
                }
            }
        }
        current += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        chunks.append(current)
        return chunks
    }

    // astring         = 1*ASTRING-CHAR / string
    // string          = quoted / literal
    // quoted          = DQUOTE *QUOTED-CHAR DQUOTE
    // literal         = "{" number64 ["+"] "}" CRLF *CHAR8      (RFC 9051 §9, "+" from RFC 7888)
    /// Appends `bytes` as a quoted string when every byte is printable ASCII other than `"` and `\`,
    /// else as a literal (synchronizing unless `literalPlus`), so any password gets through unchanged.
    static func appendAString(
        _ bytes: [UInt8],
        to current: inout [UInt8],
        chunks: inout [[UInt8]],
        literalPlus: Bool
    ) throws {
        if isQuotable(bytes) {
            current.append(UInt8(ascii: "\""))
            current += bytes
            current.append(UInt8(ascii: "\""))
            return
        }
        // CHAR8 = %x01-ff: NUL cannot be sent in a literal (it would need literal8, RFC 3516).
        guard !bytes.contains(0) else {
            throw MailClientError(.commandRejected, "a string sent to the server may not contain NUL")
        }
        current += Array("{\(bytes.count)\(literalPlus ? "+" : "")}\r\n".utf8)
        if !literalPlus {
            chunks.append(current)
            current = []
        }
        current += bytes
    }

    /// Printable ASCII (0x20–0x7E) without the quoted-specials `"` and `\`.
    static func isQuotable(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    private static func checkRaw(_ text: String, what: String) throws {
        guard !text.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) else {
            throw MailClientError(.commandRejected, "\(what) may not contain CR, LF or NUL")
        }
    }

    // sequence-set    = (seq-number / seq-range) ["," sequence-set]
    // seq-range       = seq-number ":" seq-number
    /// Compresses UIDs into a sorted, de-duplicated sequence set: `[1, 2, 3, 4, 5, 9]` → `1:5,9`.
    static func sequenceSet(_ uids: [UInt32]) -> String {
        let sorted = Set(uids).sorted()
        var ranges: [String] = []
        var index = 0
        while index < sorted.count {
            let start = sorted[index]
            var end = start
            while index + 1 < sorted.count, sorted[index + 1] == end + 1 {
                index += 1
                end = sorted[index]
            }
            ranges.append(start == end ? "\(start)" : "\(start):\(end)")
            index += 1
        }
        return ranges.joined(separator: ",")
    }

    // mailbox         = "INBOX" / astring   ; non-ASCII names in modified UTF-7 (RFC 3501 §5.1.3)
    /// The mailbox name as sent: ASCII names unchanged (`&` becomes `&-`), others in modified UTF-7.
    static func mailboxName(_ name: String) -> [UInt8] {
        var output: [UInt8] = []
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            var bytes: [UInt8] = []
            for unit in pending {
                bytes.append(UInt8(unit >> 8))
                bytes.append(UInt8(unit & 0xFF))
            }
            output.append(UInt8(ascii: "&"))
            output += modifiedBase64(bytes)
            output.append(UInt8(ascii: "-"))
            pending = []
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value < 0x7F {
                flush()
                output.append(UInt8(scalar.value))
                if scalar == "&" { output.append(UInt8(ascii: "-")) }
            } else {
                pending += Array(String(scalar).utf16)
            }
        }
        flush()
        return output
    }

    /// Base64 with `,` for `/` and no padding (RFC 3501 §5.1.3).
    private static func modifiedBase64(_ bytes: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let first = UInt32(bytes[index])
            let second = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let third = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let triple = first << 16 | second << 8 | third
            output.append(alphabet[Int(triple >> 18 & 63)])
            output.append(alphabet[Int(triple >> 12 & 63)])
            if remaining > 1 { output.append(alphabet[Int(triple >> 6 & 63)]) }
            if remaining > 2 { output.append(alphabet[Int(triple & 63)]) }
            index += 3
        }
        return output
    }
}

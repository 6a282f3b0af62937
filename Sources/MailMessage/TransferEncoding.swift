import Foundation

/// Content-Transfer-Encoding codecs (RFC 2045 §6): lenient decoders for what arrives, strict encoders for what we send.
enum TransferEncoding {
    /// Decodes base64 (RFC 2045 §6.8) leniently: characters outside the alphabet are skipped, padding may be
    /// missing or wrong, and concatenated padded chunks are decoded one after another. `problems` counts oddities.
    static func decodeBase64<C: Collection>(_ input: C) -> (bytes: [UInt8], problems: Int) where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var quantum: UInt32 = 0
        var count = 0
        var problems = 0
        func flushPartial() {
            switch count {
            case 2: output.append(UInt8(truncatingIfNeeded: quantum >> 4))
            case 3:
                output.append(UInt8(truncatingIfNeeded: quantum >> 10))
                output.append(UInt8(truncatingIfNeeded: quantum >> 2))
            case 1: problems += 1
            default: break
            }
            quantum = 0
            count = 0
        }
        for byte in input {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="):
                if count != 0 { flushPartial() }
                continue
            case 0x20, 0x09, 0x0D, 0x0A: continue
            default:
                problems += 1
                continue
            }
            quantum = (quantum << 6) | value
            count += 1
            if count == 4 {
                output.append(UInt8(truncatingIfNeeded: quantum >> 16))
                output.append(UInt8(truncatingIfNeeded: quantum >> 8))
                output.append(UInt8(truncatingIfNeeded: quantum))
                quantum = 0
                count = 0
            }
        }
        if count != 0 { flushPartial() }
        return (output, problems)
    }

    /// Decodes quoted-printable (RFC 2045 §6.7): `=XX` escapes (either case), soft line breaks `=` CRLF (also with
    /// trailing whitespace after `=`, and bare LF), trailing whitespace on lines removed (rule 3). A bad escape is
    /// kept as literal text and counted in `problems`.
    static func decodeQuotedPrintable<C: Collection>(_ input: C) -> (bytes: [UInt8], problems: Int)
    where C.Element == UInt8 {
        let bytes = Array(input)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var problems = 0
        var index = 0
        var pendingWhitespace: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 {
                pendingWhitespace.append(byte)
                index += 1
                continue
            }
            if byte == 0x0D || byte == 0x0A {
                // Rule 3: whitespace at the end of an encoded line is not part of the data.
                pendingWhitespace.removeAll()
                output.append(byte)
                index += 1
                continue
            }
            output.append(contentsOf: pendingWhitespace)
            pendingWhitespace.removeAll()
            if byte == UInt8(ascii: "=") {
                // Soft line break, possibly with transport whitespace between "=" and the line end.
                var look = index + 1
                while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                if look == bytes.count {
                    index = look
                    continue
                }
                if bytes[look] == 0x0D || bytes[look] == 0x0A {
                    if bytes[look] == 0x0D, look + 1 < bytes.count, bytes[look + 1] == 0x0A { look += 1 }
                    index = look + 1
                    continue
                }
                if index + 2 < bytes.count,
                    let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
                {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                problems += 1
                output.append(byte)
                index += 1
                continue
            }
            output.append(byte)
            index += 1
        }
        return (output, problems)
    }

    /// The value of an ASCII hex digit.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let fromSpace: [UInt8] = Array("From ".utf8)

    /// Encodes text as quoted-printable (RFC 2045 §6.7) with CRLF line ends and encoded lines of at most 76
    /// characters. Line ends in `text` (LF, CRLF or CR) become hard line breaks; "From " at a line start is
    /// escaped so that mbox tools do not mangle it.
    static func encodeQuotedPrintable(_ text: String) -> String {
        var output = ""
        // Split at the byte level: CRLF, CR and LF each end a line (String's "\r\n" is one Character).
        var lines: [[UInt8]] = [[]]
        let utf8 = Array(text.utf8)
        var position = 0
        while position < utf8.count {
            let byte = utf8[position]
            if byte == 0x0D || byte == 0x0A {
                if byte == 0x0D, position + 1 < utf8.count, utf8[position + 1] == 0x0A { position += 1 }
                lines.append([])
            } else {
                lines[lines.count - 1].append(byte)
            }
            position += 1
        }
        for (lineNumber, line) in lines.enumerated() {
            if lineNumber > 0 { output += "\r\n" }
            let bytes = line
            var current = ""
            for (position, byte) in bytes.enumerated() {
                let isLast = position == bytes.count - 1
                var token: String
                let fromAtStart = position == 0 && bytes.starts(with: fromSpace)
                if fromAtStart || byte == UInt8(ascii: "=") || byte < 0x20 && byte != 0x09 || byte > 0x7E
                    || (isLast && (byte == 0x20 || byte == 0x09))
                {
                    token =
                        "=" + String(UnicodeScalar(hexDigits[Int(byte >> 4)]))
                        + String(UnicodeScalar(hexDigits[Int(byte & 0x0F)]))
                } else {
                    token = String(UnicodeScalar(byte))
                }
                // Keep room for the soft-break "=" (76 including it).
                if current.utf8.count + token.utf8.count > 75 {
                    // Whitespace before a soft break would be stripped by the decoder (rule 3): carry it over encoded.
                    var carried = ""
                    if let last = current.last, last == " " || last == "\t" {
                        current.removeLast()
                        carried = last == " " ? "=20" : "=09"
                    }
                    output += current + "=\r\n"
                    current = carried
                    // A soft break can also put "From " at the start of an encoded line.
                    let fromAfterBreak = byte == UInt8(ascii: "F") && bytes[position...].starts(with: fromSpace)
                    if current.isEmpty && fromAfterBreak { token = "=46" }
                }
                current += token
            }
            output += current
        }
        return output
    }

    /// Encodes bytes as base64 (RFC 2045 §6.8) in lines of 76 characters with CRLF.
    static func encodeBase64Lines(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
    }
}

/// A parsed Content-Type or Content-Disposition value: the main value and its parameters.
///
/// RFC 2045 §5.1 syntax with RFC 2231 extensions: continuations (`name*0=`, `name*1=`), charset and language
/// (`name*=utf-8'en'%E2%82%AC`), and, leniently, RFC 2047 encoded-words inside quoted values (Outlook, Gmail).
struct MIMEHeaderValue {
    /// The value before the first ";", lowercased and trimmed ("text/plain", "attachment").
    var value: String
    /// Parameters by lowercased name, fully decoded.
    var parameters: [String: String]

    /// Parses a header value; never fails (a broken parameter is skipped).
    ///
    /// Works on UTF-8 bytes: every delimiter is ASCII and no byte of a multi-byte scalar is, so non-ASCII text
    /// (RFC 6532 raw UTF-8 filenames) passes through whole.
    init(_ raw: String, notes: inout [String]) {
        let bytes = Array(raw.utf8)
        let count = bytes.count
        var index = 0
        var main: [UInt8] = []
        while index < count, bytes[index] != UInt8(ascii: ";") {
            if bytes[index] == UInt8(ascii: "(") {
                index = MIMEHeaderValue.skipComment(bytes, from: index)
                continue
            }
            if bytes[index] != UInt8(ascii: "\""), !bytes[index].isASCIIWhitespace { main.append(bytes[index]) }
            index += 1
        }
        // RFC 2045 §5.1: type and subtype are case-insensitive; whitespace inside is dropped.
        value = String(decoding: main.mailLowercasedUTF8(), as: UTF8.self)
        var raws: [(name: String, value: String, quoted: Bool)] = []
        while index < count {
            // Skip ";" and whitespace.
            while index < count, bytes[index] == UInt8(ascii: ";") || bytes[index].isASCIIWhitespace { index += 1 }
            var name: [UInt8] = []
            while index < count, bytes[index] != UInt8(ascii: "="), bytes[index] != UInt8(ascii: ";") {
                if bytes[index] == UInt8(ascii: "(") {
                    index = MIMEHeaderValue.skipComment(bytes, from: index)
                    continue
                }
                if !bytes[index].isASCIIWhitespace { name.append(bytes[index]) }
                index += 1
            }
            guard index < count, bytes[index] == UInt8(ascii: "=") else { continue }
            index += 1
            while index < count, bytes[index].isASCIIWhitespace { index += 1 }
            var parameterValue: [UInt8] = []
            var quoted = false
            if index < count, bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < count, bytes[index] != UInt8(ascii: "\"") {
                    // Backslash escapes a character (RFC 5322 quoted-pair), but Windows paths arrive with bare
                    // backslashes: keep a backslash that does not precede a quote or backslash.
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < count,
                        bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\")
                    {
                        index += 1
                    }
                    parameterValue.append(bytes[index])
                    index += 1
                }
                index += 1
            } else {
                while index < count, bytes[index] != UInt8(ascii: ";") {
                    parameterValue.append(bytes[index])
                    index += 1
                }
            }
            if !name.isEmpty {
                let key = String(decoding: name.mailLowercasedUTF8(), as: UTF8.self)
                let text = String(decoding: parameterValue, as: UTF8.self)
                raws.append((key, quoted ? text : text.trimmingASCIIWhitespace(), quoted))
            }
        }
        parameters = MIMEHeaderValue.combine(raws, notes: &notes)
    }

    private static func skipComment(_ bytes: [UInt8], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "(") { depth += 1 }
            if bytes[index] == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return min(index, bytes.count)
    }

    /// Joins RFC 2231 §3 continuations and decodes §4 charset/percent-encoding; plain values get RFC 2047 decoding.
    private static func combine(_ raws: [(name: String, value: String, quoted: Bool)], notes: inout [String])
        -> [String: String]
    {
        if !raws.contains(where: { $0.name.utf8.contains(UInt8(ascii: "*")) }) {
            // No RFC 2231 parameters (the usual case): the first value of each name, RFC 2047 decoded.
            var result: [String: String] = [:]
            for raw in raws where result[raw.name] == nil {
                result[raw.name] = EncodedWord.decode(raw.value, keepControls: true, notes: &notes)
            }
            return result
        }
        // Names in order of first appearance, so that notes come out in the order of the header.
        var plain: [String: String] = [:]
        var plainOrder: [String] = []
        // name -> [(section, value, extended)]
        var sections: [String: [(Int, String, Bool)]] = [:]
        var sectionOrder: [String] = []
        var singleExtended: [String: String] = [:]
        var singleOrder: [String] = []
        for raw in raws {
            let parts = raw.name.split(separator: "*", omittingEmptySubsequences: false)
            if parts.count == 1 {
                if plain[raw.name] == nil {
                    plain[raw.name] = raw.value
                    plainOrder.append(raw.name)
                }
            } else if parts.count == 2, parts[1].isEmpty {
                let name = String(parts[0])
                if singleExtended.updateValue(raw.value, forKey: name) == nil { singleOrder.append(name) }
            } else if let section = Int(parts[1]) {
                let extended = parts.count == 3 && parts[2].isEmpty
                let name = String(parts[0])
                if sections[name] == nil { sectionOrder.append(name) }
                sections[name, default: []].append((section, raw.value, extended))
            }
        }
        var result: [String: String] = [:]
        for name in plainOrder {
            result[name] = EncodedWord.decode(plain[name] ?? "", keepControls: true, notes: &notes)
        }
        for name in singleOrder {
            result[name] = decodeExtended(singleExtended[name] ?? "", charset: nil, notes: &notes).text
        }
        for name in sectionOrder {
            let ordered = (sections[name] ?? []).sorted { $0.0 < $1.0 }
            var charset: String?
            var bytes: [UInt8] = []
            for (position, part) in ordered.enumerated() {
                if part.2 {
                    if position == 0 {
                        let decoded = percentDecodeWithCharset(part.1)
                        charset = decoded.charset
                        bytes += decoded.bytes
                    } else {
                        bytes += percentDecode(part.1)
                    }
                } else {
                    bytes += Array(part.1.utf8)
                }
            }
            let decoded = CharsetDecoder.decode(bytes, label: charset)
            if let note = decoded.note { notes.append("parameter \(name): \(note)") }
            result[name] = decoded.text
        }
        return result
    }

    private static func decodeExtended(_ value: String, charset: String?, notes: inout [String]) -> (
        text: String, charset: String?
    ) {
        let decoded = percentDecodeWithCharset(value)
        let text = CharsetDecoder.decode(decoded.bytes, label: decoded.charset)
        if let note = text.note { notes.append("parameter: \(note)") }
        return (text.text, decoded.charset)
    }

    /// `charset'language'percent-encoded` (RFC 2231 §4); a value without the two quotes is percent-decoded only.
    private static func percentDecodeWithCharset(_ value: String) -> (charset: String?, bytes: [UInt8]) {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3 {
            let charset = String(parts[0])
            return (charset.isEmpty ? nil : charset, percentDecode(String(parts[2])))
        }
        return (nil, percentDecode(value))
    }

    private static func percentDecode(_ value: String) -> [UInt8] {
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = TransferEncoding.hexValue(bytes[index + 1]),
                let low = TransferEncoding.hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }
}

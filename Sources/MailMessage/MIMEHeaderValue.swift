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
    init(_ raw: String, notes: inout [String]) {
        let scalars = Array(raw.unicodeScalars)
        var index = 0
        var main = String.UnicodeScalarView()
        while index < scalars.count, scalars[index] != ";" {
            if scalars[index] == "(" {
                index = MIMEHeaderValue.skipComment(scalars, from: index)
                continue
            }
            if scalars[index] == "\"" {
                index += 1
                continue
            }
            main.append(scalars[index])
            index += 1
        }
        value = String(main).trimmingASCIIWhitespace().lowercased()
        value = String(String.UnicodeScalarView(value.unicodeScalars.filter { !$0.isASCIIWhitespace }))
        var raws: [(name: String, value: String, quoted: Bool)] = []
        while index < scalars.count {
            // Skip ";" and whitespace.
            while index < scalars.count, scalars[index] == ";" || scalars[index].isASCIIWhitespace { index += 1 }
            var name = String.UnicodeScalarView()
            while index < scalars.count, scalars[index] != "=", scalars[index] != ";" {
                if scalars[index] == "(" {
                    index = MIMEHeaderValue.skipComment(scalars, from: index)
                    continue
                }
                if !scalars[index].isASCIIWhitespace { name.append(scalars[index]) }
                index += 1
            }
            guard index < scalars.count, scalars[index] == "=" else { continue }
            index += 1
            while index < scalars.count, scalars[index].isASCIIWhitespace { index += 1 }
            var parameterValue = String.UnicodeScalarView()
            var quoted = false
            if index < scalars.count, scalars[index] == "\"" {
                quoted = true
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    // Backslash escapes a character (RFC 5322 quoted-pair), but Windows paths arrive with bare
                    // backslashes: keep a backslash that does not precede a quote or backslash.
                    if scalars[index] == "\\", index + 1 < scalars.count,
                        scalars[index + 1] == "\"" || scalars[index + 1] == "\\"
                    {
                        index += 1
                    }
                    parameterValue.append(scalars[index])
                    index += 1
                }
                index += 1
            } else {
                while index < scalars.count, scalars[index] != ";" {
                    parameterValue.append(scalars[index])
                    index += 1
                }
            }
            let key = String(name).lowercased()
            if !key.isEmpty {
                let text = quoted ? String(parameterValue) : String(parameterValue).trimmingASCIIWhitespace()
                raws.append((key, text, quoted))
            }
        }
        parameters = MIMEHeaderValue.combine(raws, notes: &notes)
    }

    private static func skipComment(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < scalars.count {
            if scalars[index] == "\\" {
                index += 2
                continue
            }
            if scalars[index] == "(" { depth += 1 }
            if scalars[index] == ")" {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return index
    }

    /// Joins RFC 2231 §3 continuations and decodes §4 charset/percent-encoding; plain values get RFC 2047 decoding.
    private static func combine(_ raws: [(name: String, value: String, quoted: Bool)], notes: inout [String])
        -> [String: String]
    {
        var plain: [String: String] = [:]
        // name -> [(section, value, extended)]
        var sections: [String: [(Int, String, Bool)]] = [:]
        var singleExtended: [String: String] = [:]
        for raw in raws {
            let parts = raw.name.split(separator: "*", omittingEmptySubsequences: false)
            if parts.count == 1 {
                if plain[raw.name] == nil { plain[raw.name] = raw.value }
            } else if parts.count == 2, parts[1].isEmpty {
                singleExtended[String(parts[0])] = raw.value
            } else if let section = Int(parts[1]) {
                let extended = parts.count == 3 && parts[2].isEmpty
                sections[String(parts[0]), default: []].append((section, raw.value, extended))
            }
        }
        var result: [String: String] = [:]
        for (name, value) in plain {
            result[name] = EncodedWord.decode(value, keepControls: true, notes: &notes)
        }
        for (name, value) in singleExtended {
            result[name] = decodeExtended(value, charset: nil, notes: &notes).text
        }
        for (name, list) in sections {
            let ordered = list.sorted { $0.0 < $1.0 }
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

/// The header section of a message or MIME part: ordered fields, unfolded, values raw (not RFC 2047 decoded).
///
/// Field names compare case-insensitively (RFC 5322 §1.2.2). Values keep raw 8-bit text as UTF-8 when it is valid
/// UTF-8 (RFC 6532 §3.2), else as the best guess of the charset decoder.
public struct MailHeaders: Sendable {
    /// Every field in message order, names as written, values unfolded (RFC 5322 §2.2.3) and trimmed.
    public var fields: [(name: String, value: String)]

    /// Makes headers from fields in order.
    public init(fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// The value of the first field called `name` (case-insensitive), unfolded and raw, or nil.
    public subscript(_ name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// The values of every field called `name` (case-insensitive), in order.
    public func all(_ name: String) -> [String] {
        fields.compactMap { Self.sameName($0.name, name) ? $0.value : nil }
    }

    /// Whether two field names are equal ignoring case: ASCII bytes compared directly (field names are printable
    /// US-ASCII, RFC 5322 §3.6.8), anything else through `lowercased()`.
    static func sameName(_ left: String, _ right: String) -> Bool {
        var decided: Bool?
        _ = left.utf8.withContiguousStorageIfAvailable { a in
            right.utf8.withContiguousStorageIfAvailable { b in decided = asciiSameName(a, b) }
        }
        return decided ?? (left.lowercased() == right.lowercased())
    }

    /// Compares ASCII names ignoring case; nil when a non-ASCII byte makes `lowercased()` the judge.
    private static func asciiSameName(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool? {
        if a.count != b.count {
            // Only a non-ASCII scalar can lower-case to a different length.
            return a.contains { $0 >= 0x80 } || b.contains { $0 >= 0x80 } ? nil : false
        }
        for index in 0..<a.count {
            let x = a[index]
            let y = b[index]
            if x >= 0x80 || y >= 0x80 { return nil }
            // ASCII bytes that differ other than in case make the lower-cased names differ at this byte too.
            if x != y && (x | 0x20 != y | 0x20 || !(0x61...0x7A).contains(x | 0x20)) { return false }
        }
        return true
    }

    /// Whether a field called `name` is present.
    public func contains(_ name: String) -> Bool {
        self[name] != nil
    }
}

extension MailHeaders {
    /// Splits raw message bytes into a header section and the offset where the body starts.
    ///
    /// RFC 5322 §2.1: the header section ends at the first empty line. Lines may end in CRLF or bare LF. A line that
    /// is not a field is skipped (noted) when a field follows it, else it starts the body (noted) so no text is
    /// lost; a leading mbox "From " line is dropped silently.
    static func parse(_ raw: ArraySlice<UInt8>, notes: inout [String]) -> (headers: MailHeaders, bodyStart: Int) {
        var fields: [(name: String, value: String)] = []
        var index = raw.startIndex
        var currentName: String?
        var currentValue: [UInt8] = []
        var malformed = 0
        var firstLine = true

        // A line that is not a header field ends the header section even without the empty line (RFC 5322 §2.1
        // requires one; senders forget it): the rest is body, so no text is lost.
        // Whether the line starting at `start` is "name: value" with a valid field name.
        func isFieldLine(_ start: Int) -> Bool {
            var position = start
            while position < raw.endIndex, raw[position] != 0x0A {
                let byte = raw[position]
                if byte == UInt8(ascii: ":") { return position > start }
                if byte <= 0x20 || byte >= 0x7F { return false }
                position += 1
            }
            return false
        }

        func endWithoutBlankLine(at lineStart: Int) -> (headers: MailHeaders, bodyStart: Int) {
            finish()
            if malformed > 0 { notes.append("\(malformed) malformed header line(s) ignored") }
            notes.append(
                fields.isEmpty
                    ? "no header section; everything is read as body"
                    : "header section ended without an empty line; the rest is read as body")
            return (MailHeaders(fields: fields), lineStart)
        }

        func finish() {
            if let name = currentName {
                fields.append((name, headerText(currentValue)))
            }
            currentName = nil
            currentValue = []
        }

        while index < raw.endIndex {
            // Find the end of this line.
            var lineEnd = index
            while lineEnd < raw.endIndex, raw[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > index, raw[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let next = lineEnd < raw.endIndex ? lineEnd + 1 : lineEnd
            let line = raw[index..<contentEnd]
            if line.isEmpty {
                finish()
                return (MailHeaders(fields: fields), next)
            }
            defer { firstLine = false }
            if let first = line.first, first == 0x20 || first == 0x09 {
                // RFC 5322 §2.2.3: unfolding removes the CRLF, keeping the whitespace.
                if currentName != nil {
                    currentValue.append(contentsOf: line)
                } else {
                    malformed += 1
                }
                index = next
                continue
            }
            finish()
            if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                let nameBytes = raw[index..<colon]
                let name = String(decoding: nameBytes, as: UTF8.self).trimmingASCIIWhitespace()
                // RFC 5322 §3.6.8: ftext is printable US-ASCII except colon; obs-syntax allows WSP before the colon.
                if !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                    currentName = name
                    var valueStart = colon + 1
                    while valueStart < contentEnd, raw[valueStart] == 0x20 || raw[valueStart] == 0x09 {
                        valueStart += 1
                    }
                    currentValue = Array(raw[valueStart..<contentEnd])
                } else if firstLine && line.starts(with: Array("From ".utf8)) {
                    // An mbox separator line.
                } else if next < raw.endIndex, isFieldLine(next) {
                    malformed += 1
                } else {
                    return endWithoutBlankLine(at: index)
                }
            } else if firstLine && line.starts(with: Array("From ".utf8)) {
                // An mbox separator line.
            } else if next < raw.endIndex, isFieldLine(next) {
                // A stray line between fields (a broken gateway): skipped, the fields after it still count.
                malformed += 1
            } else {
                return endWithoutBlankLine(at: index)
            }
            index = next
        }
        finish()
        if malformed > 0 { notes.append("\(malformed) malformed header line(s) ignored") }
        return (MailHeaders(fields: fields), raw.endIndex)
    }

    /// A header value's bytes as text: unfolded (line breaks removed), trimmed, raw 8-bit as UTF-8 (RFC 6532) or guessed.
    static func headerText(_ bytes: [UInt8]) -> String {
        var cleaned = bytes.filter { $0 != 0x0D && $0 != 0x0A }
        while let last = cleaned.last, last == 0x20 || last == 0x09 { cleaned.removeLast() }
        if !cleaned.contains(where: { $0 >= 0x80 || $0 == 0x1B }) {
            return String(decoding: cleaned, as: UTF8.self)
        }
        return CharsetDecoder.decode(cleaned, label: nil).text
    }
}

/// The header section of a message or MIME part: ordered fields, unfolded, values raw (not RFC 2047 decoded).
///
/// Field names compare case-insensitively (RFC 5322 §1.2.2). Values keep raw 8-bit text as UTF-8 when it is valid
/// UTF-8 (RFC 6532 §3.2), else as the best guess of the charset decoder.
public struct MailHeaders: Sendable {
    /// Every field in message order, names as written, values unfolded (RFC 5322 §2.2.3) and trimmed.
    public var fields: [(name: String, value: String)] {
        didSet { keys = fields.map { $0.name.mailLowercased() } }
    }

    /// The lower-cased name of each field, worked out once: lookups compare these instead of lower-casing every
    /// name on every lookup.
    private var keys: [String]

    /// Makes headers from fields in order.
    public init(fields: [(name: String, value: String)] = []) {
        self.fields = fields
        keys = fields.map { $0.name.mailLowercased() }
    }

    /// Makes headers from fields whose lower-cased names the caller already has.
    init(fields: [(name: String, value: String)], keys: [String]) {
        self.fields = fields
        self.keys = keys
    }

    /// The value of the first field called `name` (case-insensitive), unfolded and raw, or nil.
    public subscript(_ name: String) -> String? {
        let key = name.mailLowercased()
        return keys.firstIndex(of: key).map { fields[$0].value }
    }

    /// The values of every field called `name` (case-insensitive), in order.
    public func all(_ name: String) -> [String] {
        let key = name.mailLowercased()
        return keys.indices.compactMap { keys[$0] == key ? fields[$0].value : nil }
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
    ///
    /// Each line of the section spends one of `lineBudget`; once it is spent, the lines after are still read to
    /// find where the body starts, but their fields are not kept, and `overBudget` is true.
    static func parse(_ raw: ArraySlice<UInt8>, notes: inout [String], lineBudget: inout Int) -> (
        headers: MailHeaders, bodyStart: Int, overBudget: Bool
    ) {
        let base = raw.startIndex
        var reader = SectionReader(lineBudget: lineBudget)
        let bodyStart = raw.withUnsafeBufferPointer { reader.read($0) }
        lineBudget = reader.lineBudget
        if reader.malformed > 0 { notes.append("\(reader.malformed) malformed header line(s) ignored") }
        if reader.endedWithoutBlankLine {
            notes.append(
                reader.fields.isEmpty
                    ? "no header section; everything is read as body"
                    : "header section ended without an empty line; the rest is read as body")
        }
        return (MailHeaders(fields: reader.fields, keys: reader.keys), base + bodyStart, reader.overBudget)
    }

    /// Reads one header section from a buffer; positions are offsets into it.
    private struct SectionReader {
        var fields: [(name: String, value: String)] = []
        var keys: [String] = []
        var malformed = 0
        var endedWithoutBlankLine = false
        /// Lines that may still be kept, and whether a line came after they were spent.
        var lineBudget: Int
        var overBudget = false

        /// The field being read: its name, lower-cased name, the value's first line and, once folded, the value.
        private var name: String?
        private var key = ""
        private var valueLine = 0..<0
        private var foldedValue: [UInt8]?

        init(lineBudget: Int) {
            self.lineBudget = lineBudget
        }

        /// Reads fields up to the end of the section; returns the offset where the body starts.
        mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            let count = bytes.count
            var index = 0
            var firstLine = true
            while index < count {
                var lineEnd = index
                while lineEnd < count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > index, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                let next = lineEnd < count ? lineEnd + 1 : lineEnd
                if contentEnd == index {
                    finish(bytes)
                    return next
                }
                defer { firstLine = false }
                let spent = lineBudget <= 0
                if spent { overBudget = true } else { lineBudget -= 1 }
                let first = bytes[index]
                if first == 0x20 || first == 0x09 {
                    // RFC 5322 §2.2.3: unfolding removes the CRLF, keeping the whitespace.
                    if spent {
                        // Over the budget: not kept.
                    } else if name != nil {
                        if foldedValue == nil { foldedValue = Array(bytes[valueLine]) }
                        foldedValue?.append(contentsOf: bytes[index..<contentEnd])
                    } else {
                        malformed += 1
                    }
                    index = next
                    continue
                }
                finish(bytes)
                var colon = index
                while colon < contentEnd, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                if colon < contentEnd {
                    var nameStart = index
                    var nameEnd = colon
                    while nameStart < nameEnd, bytes[nameStart].isASCIIWhitespace { nameStart += 1 }
                    while nameEnd > nameStart, bytes[nameEnd - 1].isASCIIWhitespace { nameEnd -= 1 }
                    let nameBytes = UnsafeBufferPointer(rebasing: bytes[nameStart..<nameEnd])
                    // RFC 5322 §3.6.8: ftext is printable US-ASCII except colon; obs-syntax allows WSP before the
                    // colon.
                    if !nameBytes.isEmpty, nameBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                        if spent {
                            // Over the budget: a field, but not kept.
                            index = next
                            continue
                        }
                        name = String(decoding: nameBytes, as: UTF8.self)
                        key = String(
                            decoding: nameBytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
                        var valueStart = colon + 1
                        while valueStart < contentEnd, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 {
                            valueStart += 1
                        }
                        valueLine = valueStart..<contentEnd
                        index = next
                        continue
                    }
                }
                if firstLine && bytes[index..<contentEnd].starts(with: Self.mboxFrom) {
                    // An mbox separator line.
                } else if next < count, Self.isFieldLine(bytes, at: next) {
                    // A stray line between fields (a broken gateway): skipped, the fields after it still count.
                    malformed += 1
                } else {
                    // A line that is not a header field ends the section even without the empty line (RFC 5322
                    // §2.1 requires one; senders forget it): the rest is body, so no text is lost.
                    endedWithoutBlankLine = true
                    return index
                }
                index = next
            }
            finish(bytes)
            return count
        }

        static let mboxFrom = Array("From ".utf8)

        /// Whether the line starting at `start` is "name: value" with a valid field name.
        static func isFieldLine(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
            var position = start
            while position < bytes.count, bytes[position] != 0x0A {
                let byte = bytes[position]
                if byte == UInt8(ascii: ":") { return position > start }
                if byte <= 0x20 || byte >= 0x7F { return false }
                position += 1
            }
            return false
        }

        private mutating func finish(_ bytes: UnsafeBufferPointer<UInt8>) {
            if let name {
                let value =
                    foldedValue.map(MailHeaders.headerText)
                    ?? MailHeaders.headerText(UnsafeBufferPointer(rebasing: bytes[valueLine]))
                fields.append((name, value))
                keys.append(key)
            }
            name = nil
            foldedValue = nil
        }
    }

    /// A header value's bytes as text: unfolded (line breaks removed), trimmed, raw 8-bit as UTF-8 (RFC 6532) or guessed.
    static func headerText<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> String {
        if bytes.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
            return headerText(bytes.filter { $0 != 0x0D && $0 != 0x0A })
        }
        let end = bytes.lastIndex { $0 != 0x20 && $0 != 0x09 }.map(bytes.index(after:)) ?? bytes.startIndex
        let trimmed = bytes[..<end]
        if !trimmed.contains(where: { $0 >= 0x80 || $0 == 0x1B }) {
            return String(decoding: trimmed, as: UTF8.self)
        }
        return CharsetDecoder.decode(Array(trimmed), label: nil).text
    }
}

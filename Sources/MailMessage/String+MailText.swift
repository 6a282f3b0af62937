extension String {
    /// The string without leading and trailing spaces, tabs, CR, LF, VT and FF.
    ///
    /// Works on UTF-8 bytes (every character trimmed is ASCII, and no other scalar's encoding holds an ASCII byte)
    /// and returns the string itself, without copying, when there is nothing to trim.
    func trimmingASCIIWhitespace() -> String {
        let bytes = utf8
        guard let start = bytes.firstIndex(where: { !$0.isASCIIWhitespace }) else { return "" }
        guard let last = bytes.lastIndex(where: { !$0.isASCIIWhitespace }) else { return "" }
        let end = bytes.index(after: last)
        if start == bytes.startIndex && end == bytes.endIndex { return self }
        // Scalar-aligned (both ends are ASCII bytes); slicing `self` would round to Character boundaries instead.
        return String(unicodeScalars[start..<end])
    }

    /// The string without leading and trailing characters from `set`.
    func trimming(charactersIn set: String) -> String {
        let scalars = unicodeScalars
        // The sets are a few characters: a linear search beats building a Set on every call.
        let members = set.unicodeScalars
        guard let start = scalars.firstIndex(where: { !members.contains($0) }) else { return "" }
        guard let end = scalars.lastIndex(where: { !members.contains($0) }) else { return "" }
        return String(scalars[start...end])
    }

    /// The string lowercased, as `lowercased()` gives it (see `Array.mailLowercasedUTF8`).
    func mailLowercased() -> String {
        // Nothing to do for text without "A"…"Z" and without non-ASCII scalars (most lines of most mail).
        if !utf8.contains(where: { (0x41...0x5A).contains($0) || $0 >= 0x80 }) { return self }
        if !utf8.contains(where: { $0 >= 0x80 }) { return lowercased() }
        return String(decoding: Array(utf8).mailLowercasedUTF8(), as: UTF8.self)
    }
}

extension UInt8 {
    /// Space, tab, CR, LF, VT or FF.
    var isASCIIWhitespace: Bool {
        self == 0x20 || (0x09...0x0D).contains(self)
    }
}

extension Unicode.Scalar {
    /// Space, tab, CR, LF, VT or FF.
    var isASCIIWhitespace: Bool {
        value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D || value == 0x0B || value == 0x0C
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether `needle` occurs in these bytes (an empty needle always does).
    func contains(bytes needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first else { return true }
        guard needle.count <= count else { return false }
        var index = 0
        let lastStart = count - needle.count
        while index <= lastStart {
            if self[index] == first {
                var matched = 1
                while matched < needle.count, self[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            index += 1
        }
        return false
    }
}

extension [UInt8] {
    /// Valid UTF-8 lowercased exactly as `String.lowercased()` does it (each scalar's lowercase mapping on its own),
    /// without its cost: ASCII is mapped byte by byte and the caseless CJK, kana and Hangul blocks are copied, so
    /// only other scalars are looked up. Bytes that are not valid UTF-8 are copied as they are.
    func mailLowercasedUTF8() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(count)
        var index = 0
        while index < count {
            let lead = self[index]
            if lead < 0x80 {
                output.append((0x41...0x5A).contains(lead) ? lead | 0x20 : lead)
                index += 1
                continue
            }
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            guard lead >= 0xC2, index + length <= count else {
                output.append(lead)
                index += 1
                continue
            }
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length { value = value << 6 | UInt32(self[index + offset] & 0x3F) }
            switch value {
            case 0x3000...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFF61...0xFF9F:
                // Caseless blocks: CJK symbols, kana, ideographs, Hangul syllables, half-width katakana.
                output.append(contentsOf: self[index..<(index + length)])
            default:
                if let scalar = Unicode.Scalar(value), scalar.properties.changesWhenLowercased {
                    output.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
                } else {
                    output.append(contentsOf: self[index..<(index + length)])
                }
            }
            index += length
        }
        return output
    }
}

extension ArraySlice<UInt8> {
    /// Whether the bytes end with `suffix`.
    func hasSuffix(_ suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(endIndex - suffix.count)...].elementsEqual(suffix)
    }

    /// Whether `needle` occurs in the bytes.
    func contains(_ needle: [UInt8]) -> Bool {
        withUnsafeBufferPointer { hay in needle.withUnsafeBufferPointer { hay.contains(bytes: $0) } }
    }
}

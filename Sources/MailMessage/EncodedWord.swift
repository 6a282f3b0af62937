/// RFC 2047 encoded-words ("=?charset?B|Q?text?="): lenient decoding of what arrives, strict encoding of what we send.
enum EncodedWord {
    private enum Segment {
        case text(String)
        case word(charset: String, bytes: [UInt8], raw: String)
        /// A well-formed word we cannot decode (unknown charset, bad base64): kept as written (RFC 2047 §6.3).
        case literal(String)
    }

    /// Decodes every encoded-word in a header value (unstructured text or phrase).
    ///
    /// - Whitespace between adjacent encoded-words is dropped (RFC 2047 §6.2), also when they are written with no
    ///   space between them.
    /// - Adjacent words in the same charset are decoded together, so a multi-byte character split over two words
    ///   (which §5 forbids but senders do) survives.
    /// - A malformed word (unknown encoding, missing "?=") stays as text.
    ///
    /// Linear in the value: a run of words grows in place (merging by concatenation copied the run once per word),
    /// and an encoded text that reaches whitespace or the end without "?=" rules out every "=?" before that point.
    static func decode(_ value: String, keepControls: Bool = false, notes: inout [String]) -> String {
        // A byte search: Foundation's `contains` is far slower, and a word can only start at the bytes "=?".
        let bytes = Array(value.utf8)
        guard
            bytes.indices.contains(where: {
                bytes[$0] == UInt8(ascii: "=") && $0 + 1 < bytes.count && bytes[$0 + 1] == UInt8(ascii: "?")
            })
        else { return value }
        var segments: [Segment] = []
        var literalStart = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "?") {
                switch parseWord(bytes, at: index) {
                case .word(let word, let end):
                    if literalStart < index {
                        segments.append(.text(String(decoding: bytes[literalStart..<index], as: UTF8.self)))
                    }
                    segments.append(word)
                    index = end
                    literalStart = end
                    continue
                case .noWordBefore(let stop):
                    // No "=?" before `stop` can start a word either: its encoded text would run into the same
                    // whitespace or end without "?=".
                    index = max(index + 1, stop)
                    continue
                case .notAWord:
                    break
                }
            }
            index += 1
        }
        if literalStart < bytes.count {
            segments.append(.text(String(decoding: bytes[literalStart..<bytes.count], as: UTF8.self)))
        }
        var result = ""
        // The run of adjacent words in one charset being gathered: their bytes and their text as written.
        var run: (charset: String, label: String, bytes: [UInt8], raw: [String])?
        func finishRun() {
            guard let words = run else { return }
            run = nil
            guard let text = CharsetDecoder.decodeStrictly(words.bytes, label: words.charset) else {
                // Bytes that are not valid in the declared charset: keep the words as written (RFC 2047 §6.3).
                notes.append("encoded-word: bytes invalid for charset \(words.label); kept as written")
                result += words.raw.joined(separator: " ")
                return
            }
            if keepControls || !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                result += text
            } else {
                // Control characters in a decoded header would let a sender forge line structure downstream.
                // They are ASCII bytes, never part of a multi-byte scalar.
                result += String(decoding: text.utf8.map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 }, as: UTF8.self)
            }
        }
        for (position, segment) in segments.enumerated() {
            switch segment {
            case .text(let text):
                // Whitespace-only text between two words is dropped (§6.2).
                if text.unicodeScalars.allSatisfy(\.isASCIIWhitespace), position > 0, position + 1 < segments.count,
                    case .word = segments[position - 1], case .word = segments[position + 1]
                {
                    continue
                }
                finishRun()
                result += text
            case .literal(let text):
                finishRun()
                result += text
            case .word(let charset, let wordBytes, let raw):
                let label = CharsetDecoder.normalizedLabel(charset)
                if run?.label == label {
                    run?.bytes.append(contentsOf: wordBytes)
                    run?.raw.append(raw)
                } else {
                    finishRun()
                    run = (charset, label, wordBytes, [raw])
                }
            }
        }
        finishRun()
        return result
    }

    /// What `parseWord` found at a "=?".
    private enum ParsedWord {
        /// A word, and the index after its "?=".
        case word(Segment, end: Int)
        /// Not a word, because its encoded text reached whitespace or the end at `stop` without "?=".
        case noWordBefore(stop: Int)
        /// Not a word for another reason (charset, encoding).
        case notAWord
    }

    /// Parses one encoded-word at `start` ("=?").
    private static func parseWord(_ bytes: [UInt8], at start: Int) -> ParsedWord {
        // encoded-word = "=?" charset "?" encoding "?" encoded-text "?="   (RFC 2047 §2)
        var index = start + 2
        let charsetStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
            let byte = bytes[index]
            if byte <= 0x20 || byte >= 0x7F || index - charsetStart > 40 { return .notAWord }
            index += 1
        }
        guard index + 2 < bytes.count, index > charsetStart, bytes[index + 2] == UInt8(ascii: "?") else {
            return .notAWord
        }
        let charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return .notAWord }
        index += 3
        let textStart = index
        while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "=")) {
            // Encoded text never holds whitespace (§5); a space means this "=?" was not a word.
            if bytes[index] == 0x20 || bytes[index] == 0x09 { return .noWordBefore(stop: index) }
            index += 1
        }
        guard index + 1 < bytes.count else { return .noWordBefore(stop: bytes.count) }
        let text = bytes[textStart..<index]
        let raw = String(decoding: bytes[start..<(index + 2)], as: UTF8.self)
        guard CharsetDecoder.iconvName(for: charset) != nil else { return .word(.literal(raw), end: index + 2) }
        let decoded: [UInt8]
        if encoding == UInt8(ascii: "b") {
            let result = TransferEncoding.decodeBase64(text)
            if result.problems > 0 { return .word(.literal(raw), end: index + 2) }
            decoded = result.bytes
        } else {
            decoded = decodeQ(text)
        }
        return .word(.word(charset: charset, bytes: decoded, raw: raw), end: index + 2)
    }

    /// The "Q" encoding (RFC 2047 §4.2): "_" is space, "=XX" a byte, anything else itself.
    private static func decodeQ(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "="), index + 2 < text.endIndex,
                let high = TransferEncoding.hexValue(text[index + 1]),
                let low = TransferEncoding.hexValue(text[index + 2])
            {
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    /// Characters allowed unencoded in a "Q" word in a phrase (RFC 2047 §5 (3)); we use this set everywhere.
    private static func isQSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    /// Encodes text as UTF-8 encoded-words, each at most 75 characters (RFC 2047 §2) and each holding whole
    /// characters (§5 (3): never part of a multi-byte character; whole grapheme clusters where they fit). Chooses
    /// "Q" when most bytes are safe, else "B". The first word is at most `firstWordLimit` characters.
    static func encode(_ text: String, firstWordLimit: Int = 75) -> [String] {
        let bytes = Array(text.utf8)
        let unsafeCount = bytes.filter { !isQSafe($0) && $0 != 0x20 }.count
        let useQ = unsafeCount * 3 < bytes.count
        let prefix = useQ ? "=?UTF-8?Q?" : "=?UTF-8?B?"
        var budget = max(8, min(75, firstWordLimit) - prefix.count - 2)
        var words: [String] = []
        var pending: [UInt8] = []
        func encodedLength(_ chunk: [UInt8]) -> Int {
            if useQ { return chunk.reduce(0) { $0 + (isQSafe($1) || $1 == 0x20 ? 1 : 3) } }
            return (chunk.count + 2) / 3 * 4
        }
        func render(_ chunk: [UInt8]) -> String {
            if useQ {
                var out = ""
                for byte in chunk {
                    if byte == 0x20 {
                        out += "_"
                    } else if isQSafe(byte) {
                        out.unicodeScalars.append(UnicodeScalar(byte))
                    } else {
                        let digits = Array("0123456789ABCDEF")
                        out += "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
                    }
                }
                return prefix + out + "?="
            }
            return prefix + TransferEncoding.encodeBase64Lines(chunk) + "?="
        }
        func add(_ piece: [UInt8]) {
            if !pending.isEmpty, encodedLength(pending + piece) > budget {
                words.append(render(pending))
                pending = []
                budget = 75 - prefix.count - 2
            }
            pending += piece
        }
        for character in text {
            let characterBytes = Array(String(character).utf8)
            if encodedLength(characterBytes) <= budget {
                // A whole character (grapheme cluster) per word where it fits, so that no word ends inside an
                // accent or an emoji sequence even for a decoder that shows words one by one.
                add(characterBytes)
            } else {
                // A cluster longer than this word may be: split between its scalars, never inside one's bytes
                // (§5 (3)).
                for scalar in character.unicodeScalars { add(Array(String(scalar).utf8)) }
            }
        }
        if !pending.isEmpty || words.isEmpty { words.append(render(pending)) }
        return words
    }
}

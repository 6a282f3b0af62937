import Foundation
import Glibc

/// Turns bytes in a labelled (or unlabelled) charset into a `String` through one iconv code path.
///
/// Labels are mapped to iconv names with our own alias table (RFC 2978 registry names and the aliases
/// mail clients actually send). Decoding never fails: invalid sequences become U+FFFD and a note.
enum CharsetDecoder {
    /// The result of decoding: the text and, when a decision was made that the processing log should show, a note.
    struct Decoded {
        var text: String
        var note: String?
    }

    /// Normalises a charset label: lowercased, trimmed, without quotes and without an RFC 2231 language suffix.
    static func normalizedLabel(_ label: String) -> String {
        if label.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII (every real label): one pass over the bytes, and none at all when it is already normal.
            let bytes = label.utf8
            let isNormal = bytes.allSatisfy {
                $0 > 0x20 && $0 < 0x7F && !(0x41...0x5A).contains($0) && $0 != UInt8(ascii: "\"")
                    && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "*")
            }
            if isNormal { return label }
            var output: [UInt8] = []
            let trimmed = label.trimmingASCIIWhitespace().utf8
            for byte in trimmed where byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") {
                if byte == UInt8(ascii: "*") { break }
                output.append((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
            }
            return String(decoding: output, as: UTF8.self)
        }
        var trimmed = label.trimmingASCIIWhitespace().lowercased()
        trimmed.removeAll { $0 == "\"" || $0 == "'" }
        // RFC 2231 §5: "charset*language" in encoded words.
        if let star = trimmed.firstIndex(of: "*") { trimmed = String(trimmed[..<star]) }
        return trimmed
    }

    /// The iconv name for a charset label, or nil when the label is unknown.
    static func iconvName(for label: String) -> String? {
        let key = normalizedLabel(label)
        if let name = aliases[key] { return name }
        // iso-8859-N written in its many spellings: iso8859-2, iso_8859-2, iso-8859-2:1987, latin2 is in the table.
        let compact = key.filter { $0.isLetter || $0.isNumber }
        if compact.hasPrefix("iso8859") {
            let digits = compact.dropFirst(7).prefix { $0.isNumber }
            if let part = Int(digits), (1...16).contains(part), part != 12 {
                return part == 1 ? "ISO-8859-1" : "ISO-8859-\(part)"
            }
        }
        for prefix in ["windows", "cp", "xcp", "win"] where compact.hasPrefix(prefix) {
            let digits = compact.dropFirst(prefix.count)
            if let number = Int(digits), (1250...1258).contains(number) { return "CP\(number)" }
        }
        return nil
    }

    private static let aliases: [String: String] = {
        var table: [String: String] = [:]
        func add(_ name: String, _ labels: [String]) { for label in labels { table[label] = name } }
        add("UTF-8", ["utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8", "unicode-2-0-utf-8"])
        add("US-ASCII", ["us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "646", "iso-ir-6", "cp367"])
        add("ISO-8859-1", ["iso-8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819", "csisolatin1"])
        add("ISO-8859-2", ["latin2", "l2", "csisolatin2"])
        add("ISO-8859-3", ["latin3", "l3"])
        add("ISO-8859-4", ["latin4", "l4"])
        add("ISO-8859-5", ["cyrillic", "csisolatincyrillic"])
        add("ISO-8859-6", ["arabic", "asmo-708", "ecma-114"])
        add("ISO-8859-7", ["greek", "greek8", "elot_928", "ecma-118"])
        add("ISO-8859-8", ["hebrew", "iso-8859-8-i", "iso-8859-8-e", "visual", "logical"])
        add("ISO-8859-9", ["latin5", "l5"])
        add("ISO-8859-10", ["latin6", "l6"])
        add("ISO-8859-13", ["latin7", "l7"])
        add("ISO-8859-14", ["latin8", "l8"])
        add("ISO-8859-15", ["latin9", "latin-9", "l9", "latin0"])
        add("ISO-8859-16", ["latin10", "l10"])
        add("CP874", ["windows-874", "cp874", "tis-620", "tis620", "iso-8859-11", "x-windows-874"])
        add("KOI8-R", ["koi8-r", "koi8r", "koi8", "cskoi8r"])
        add("KOI8-U", ["koi8-u", "koi8u", "koi8-ru"])
        add("CP866", ["cp866", "ibm866", "866"])
        add(
            "ISO-2022-JP-2",
            [
                "iso-2022-jp", "csiso2022jp", "iso-2022-jp-2", "csiso2022jp2", "iso-2022-jp-1", "cp50220", "cp50221",
                "cp50222", "iso-2022-jp-ms", "x-iso-2022-jp",
            ])
        add("ISO-2022-JP-3", ["iso-2022-jp-3", "iso-2022-jp-2004"])
        add(
            "CP932",
            [
                "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932", "ms932",
                "x-ms-cp932", "shift_jisx0213", "shift_jis-2004", "x-shift_jis",
            ])
        add("EUC-JP-MS", ["euc-jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese", "euc-jp-ms", "ujis", "x-euc"])
        add(
            "GB18030",
            [
                "gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "csgb2312", "chinese",
                "gb_2312-80", "iso-ir-58", "x-euc-cn", "hz-gb-2312-not",
            ])
        add("BIG5-HKSCS", ["big5", "big-5", "cn-big5", "x-x-big5", "csbig5", "big5-hkscs", "cp950", "x-big5"])
        add(
            "CP949",
            [
                "euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "cp949", "uhc", "windows-949",
                "korean", "iso-ir-149", "cseuckr", "x-euc-kr",
            ])
        add("ISO-2022-KR", ["iso-2022-kr", "csiso2022kr"])
        add("ISO-2022-CN", ["iso-2022-cn"])
        add("UTF-16", ["utf-16", "utf16", "ucs-2", "unicode"])
        add("UTF-16LE", ["utf-16le", "utf16le"])
        add("UTF-16BE", ["utf-16be", "utf16be"])
        add("UTF-32", ["utf-32", "utf32"])
        add("UTF-32LE", ["utf-32le"])
        add("UTF-32BE", ["utf-32be"])
        add("UTF-7", ["utf-7", "utf7", "unicode-1-1-utf-7"])
        add("MACINTOSH", ["macintosh", "mac", "x-mac-roman", "csmacintosh", "macroman"])
        add("CP437", ["cp437", "ibm437"])
        add("CP850", ["cp850", "ibm850"])
        add("TCVN", ["viscii-not"])
        return table
    }()

    /// Decodes `bytes` labelled `label` (nil when the mail gave none).
    ///
    /// - Missing label or US-ASCII with ISO-2022 escape sequences (`ESC $ B`…) is read as ISO-2022-JP (RFC 1468).
    /// - Missing label or US-ASCII with 8-bit bytes: valid UTF-8 is UTF-8 (RFC 6532 practice), else a heuristic.
    /// - UTF-8 that is not valid UTF-8: a heuristic between Shift_JIS, EUC-JP and windows-1252, with a note.
    /// - ISO-8859-1 with bytes 0x80–0x9F is read as windows-1252 (what senders mean; WHATWG does the same).
    /// - An unknown label: UTF-8 with U+FFFD replacements, with a note.
    static func decode(_ bytes: [UInt8], label rawLabel: String?) -> Decoded {
        let label = rawLabel.map(normalizedLabel).flatMap { $0.isEmpty ? nil : $0 }
        var body = bytes[...]
        // A UTF-8 byte order mark says more than a label.
        if body.starts(with: [0xEF, 0xBB, 0xBF]) {
            body = body.dropFirst(3)
            return Decoded(
                text: lossyUTF8(body),
                note: label == nil || iconvName(for: label ?? "") == "UTF-8"
                    ? nil : "charset \(label ?? "none") overridden by a UTF-8 byte order mark")
        }
        let isASCII = !body.contains { $0 >= 0x80 }
        let hasISO2022Escape = containsISO2022Escape(body)
        guard let label else {
            if hasISO2022Escape {
                return Decoded(
                    text: convertISO2022JP(body).text,
                    note: "no charset; ISO-2022-JP escape sequences found, decoded as ISO-2022-JP")
            }
            if isASCII { return Decoded(text: String(decoding: body, as: UTF8.self), note: nil) }
            return guessed(body, reason: "no charset given for 8-bit text")
        }
        if label == "unknown-8bit" || label == "x-unknown" || label == "unknown" || label == "8bit"
            || label == "x-user-defined"
        {
            if hasISO2022Escape {
                return Decoded(
                    text: convertISO2022JP(body).text,
                    note: "charset \(label); ISO-2022-JP escape sequences found, decoded as ISO-2022-JP")
            }
            if isASCII { return Decoded(text: String(decoding: body, as: UTF8.self), note: nil) }
            return guessed(body, reason: "charset \(label)")
        }
        guard var name = iconvName(for: label) else {
            if hasISO2022Escape {
                return Decoded(
                    text: convertISO2022JP(body).text,
                    note: "unknown charset \(label); ISO-2022-JP escape sequences found, decoded as ISO-2022-JP")
            }
            if isASCII { return Decoded(text: String(decoding: body, as: UTF8.self), note: nil) }
            if let valid = strictUTF8(body) {
                return Decoded(
                    text: valid, note: "unknown charset \(label); the bytes are valid UTF-8, decoded as UTF-8")
            }
            return Decoded(
                text: lossyUTF8(body), note: "unknown charset \(label); decoded as UTF-8 with replacement characters")
        }
        if name == "UTF-16", !body.starts(with: [0xFF, 0xFE]), !body.starts(with: [0xFE, 0xFF]) {
            // No byte order mark: RFC 2781 §4.3 says big-endian, but Windows senders write little-endian. ASCII-heavy
            // text shows which: the zero bytes sit at odd offsets in little-endian.
            let pairs = body.count / 2
            let zeroAtOdd = stride(from: body.startIndex + 1, to: body.endIndex, by: 2).filter { body[$0] == 0 }.count
            let zeroAtEven = stride(from: body.startIndex, to: body.endIndex, by: 2).filter { body[$0] == 0 }.count
            // glibc's "UTF-16" without a BOM reads host order, so always name the order explicitly.
            name = pairs > 0 && zeroAtOdd > zeroAtEven ? "UTF-16LE" : "UTF-16BE"
        }
        if ["ISO-8859-1", "ISO-8859-15", "CP1252"].contains(name), !isASCII, let utf8 = strictUTF8(body) {
            // Latin text is almost never valid UTF-8 by chance; UTF-8 labelled Latin-1 is a common client bug.
            return Decoded(text: utf8, note: "labelled \(label) but the 8-bit bytes are valid UTF-8; decoded as UTF-8")
        }
        switch name {
        case "US-ASCII":
            if hasISO2022Escape {
                return Decoded(
                    text: convertISO2022JP(body).text,
                    note: "labelled \(label) but contains ISO-2022-JP escape sequences; decoded as ISO-2022-JP")
            }
            if isASCII { return Decoded(text: String(decoding: body, as: UTF8.self), note: nil) }
            return guessed(body, reason: "labelled \(label) but contains 8-bit bytes")
        case "UTF-8":
            if let valid = strictUTF8(body) { return Decoded(text: valid, note: nil) }
            if hasISO2022Escape && isASCII {
                return Decoded(
                    text: convertISO2022JP(body).text,
                    note: "labelled \(label) but contains ISO-2022-JP escape sequences; decoded as ISO-2022-JP")
            }
            return guessed(body, reason: "labelled \(label) but not valid UTF-8")
        case "ISO-8859-1":
            if body.contains(where: { (0x80...0x9F).contains($0) }) {
                let result = convert(body, from: "CP1252")
                if result.errors == 0 {
                    return Decoded(
                        text: result.text, note: "labelled \(label) with bytes 0x80-0x9F; decoded as windows-1252")
                }
            }
            return Decoded(text: convert(body, from: name).text, note: nil)
        default:
            if isASCII && !name.hasPrefix("UTF-16") && !name.hasPrefix("UTF-32") && !name.hasPrefix("UTF-7")
                && !name.hasPrefix("ISO-2022")
            {
                return Decoded(text: String(decoding: body, as: UTF8.self), note: nil)
            }
            let result = name == "ISO-2022-JP-2" ? convertISO2022JP(body) : convert(body, from: name)
            if result.errors > 0 {
                return Decoded(
                    text: result.text,
                    note: "charset \(label): \(result.errors) invalid byte sequence(s) replaced with U+FFFD")
            }
            return Decoded(text: result.text, note: nil)
        }
    }

    /// Decodes bytes in a known charset only when every byte sequence is valid; nil otherwise (or for unknown labels).
    static func decodeStrictly(_ bytes: [UInt8], label: String) -> String? {
        guard let name = iconvName(for: label) else { return nil }
        switch name {
        case "UTF-8": return strictUTF8(bytes)
        case "US-ASCII":
            if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
            return strictUTF8(bytes)
        case "ISO-8859-1":
            return decode(bytes, label: label).text
        case "ISO-2022-JP-2":
            let result = convertISO2022JP(bytes)
            return result.errors == 0 ? result.text : nil
        default:
            let result = convert(bytes, from: name)
            return result.errors == 0 ? result.text : nil
        }
    }

    /// Whether bytes hold an ISO-2022 escape sequence that designates a Japanese set (RFC 1468): ESC $ @, ESC $ B, ESC ( J, ESC ( I, ESC $ ( D.
    static func containsISO2022Escape<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8, C.Index == Int {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x1B, index + 2 < bytes.endIndex {
                let first = bytes[index + 1]
                let second = bytes[index + 2]
                if first == 0x24 && (second == 0x40 || second == 0x42 || second == 0x28 || second == 0x41) {
                    return true
                }
                if first == 0x28 && (second == 0x4A || second == 0x49) { return true }
            }
            index += 1
        }
        return false
    }

    /// Guesses the charset of 8-bit bytes whose label is missing or wrong: UTF-8, then Shift_JIS, EUC-JP, windows-1252.
    static func guessed(_ bytes: ArraySlice<UInt8>, reason: String) -> Decoded {
        if let valid = strictUTF8(bytes) {
            return Decoded(text: valid, note: "\(reason); the bytes are valid UTF-8, decoded as UTF-8")
        }
        let japanese = [("CP932", "Shift_JIS"), ("EUC-JP-MS", "EUC-JP")]
        for (name, display) in japanese {
            let result = convert(bytes, from: name)
            if result.errors == 0, japaneseRatio(result.text) >= 0.5 {
                return Decoded(text: result.text, note: "\(reason); decoded as \(display) (guessed)")
            }
        }
        let western = convert(bytes, from: "CP1252")
        if western.errors == 0 {
            return Decoded(text: western.text, note: "\(reason); decoded as windows-1252 (guessed)")
        }
        return Decoded(
            text: convert(bytes, from: "ISO-8859-1").text, note: "\(reason); decoded as ISO-8859-1 (guessed)")
    }

    /// The share of non-ASCII scalars that are kana, CJK ideographs or full-width forms.
    private static func japaneseRatio(_ text: String) -> Double {
        var nonASCII = 0
        var japanese = 0
        for scalar in text.unicodeScalars where scalar.value >= 0x80 {
            nonASCII += 1
            switch scalar.value {
            case 0x3000...0x30FF, 0x4E00...0x9FFF, 0xFF00...0xFFEF, 0x3400...0x4DBF, 0x2460...0x24FF: japanese += 1
            default: break
            }
        }
        return nonASCII == 0 ? 0 : Double(japanese) / Double(nonASCII)
    }

    /// The bytes as a String when they are valid UTF-8, else nil.
    static func strictUTF8<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        let valid =
            bytes.withContiguousStorageIfAvailable { isValidUTF8($0) }
            ?? Array(bytes).withUnsafeBufferPointer {
                isValidUTF8($0)
            }
        return valid ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// Whether `bytes` are well-formed UTF-8 (RFC 3629 §4): shortest forms only, no surrogates, nothing above
    /// U+10FFFF — the sequences `String(decoding:as:)` keeps without replacement. (The standard library's
    /// `String(validating:as:)` needs macOS 15; the package still builds for macOS 14.)
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The second byte's range depends on the lead (RFC 3629 §4, UTF8-2 … UTF8-4).
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: return false
            }
            guard index + length <= count, (low...high).contains(bytes[index + 1]) else { return false }
            var position = index + 2
            while position < index + length {
                guard bytes[position] & 0xC0 == 0x80 else { return false }
                position += 1
            }
            index += length
        }
        return true
    }

    /// The bytes as UTF-8, with U+FFFD for invalid sequences.
    static func lossyUTF8<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: Array(bytes), as: UTF8.self)
    }

    private enum ISO2022Mode { case ascii, jis0208, kana, jis0212 }

    /// Decodes ISO-2022-JP (RFC 1468) as Microsoft's CP50220/CP50221 do: JIS X 0208 with the NEC row-13 specials
    /// (①, ㈱), half-width katakana by `ESC ( I`, SO/SI or raw 8-bit bytes, and JIS X 0212. It transcodes to
    /// EUC-JP and lets iconv's EUC-JP-MS table (which has the NEC and IBM extensions) do the mapping. Other ISO-2022
    /// designations (ISO-2022-JP-2's Chinese, Korean, Latin sets) go to iconv's ISO-2022-JP-2 as a whole.
    static func convertISO2022JP<C: Collection>(_ bytes: C) -> (text: String, errors: Int) where C.Element == UInt8 {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var mode = ISO2022Mode.ascii
        var beforeShiftOut = ISO2022Mode.ascii
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x1B {
                let rest = input[(index + 1)..<min(input.count, index + 4)]
                if rest.starts(with: [0x24, 0x40]) || rest.starts(with: [0x24, 0x42]) {
                    mode = .jis0208
                    index += 3
                } else if rest.starts(with: [0x24, 0x28, 0x44]) {
                    mode = .jis0212
                    index += 4
                } else if rest.starts(with: [0x24, 0x28, 0x51]) || rest.starts(with: [0x24, 0x28, 0x4F]) {
                    mode = .jis0208
                    index += 4
                } else if rest.starts(with: [0x28, 0x42]) || rest.starts(with: [0x28, 0x4A])
                    || rest.starts(with: [0x28, 0x48])
                {
                    mode = .ascii
                    index += 3
                } else if rest.starts(with: [0x28, 0x49]) {
                    mode = .kana
                    index += 3
                } else {
                    return convert(input, from: "ISO-2022-JP-2")
                }
                continue
            }
            if byte == 0x0E {
                beforeShiftOut = mode
                mode = .kana
                index += 1
                continue
            }
            if byte == 0x0F {
                mode = beforeShiftOut == .kana ? .ascii : beforeShiftOut
                index += 1
                continue
            }
            if byte >= 0xA1 && byte <= 0xDF {
                // Raw 8-bit half-width katakana (CP50222 senders, broken encoders).
                output += [0x8E, byte]
                index += 1
                continue
            }
            switch mode {
            case .ascii:
                output.append(byte)
                index += 1
            case .kana:
                if byte >= 0x21 && byte <= 0x5F {
                    output += [0x8E, byte | 0x80]
                } else {
                    output.append(byte)
                }
                index += 1
            case .jis0208, .jis0212:
                if byte >= 0x21 && byte <= 0x7E, index + 1 < input.count, input[index + 1] >= 0x21,
                    input[index + 1] <= 0x7E
                {
                    if mode == .jis0212 { output.append(0x8F) }
                    output += [byte | 0x80, input[index + 1] | 0x80]
                    index += 2
                } else {
                    output.append(byte)
                    index += 1
                }
            }
        }
        return convert(output, from: "EUC-JP-MS")
    }

    /// Converts bytes from the iconv charset `name` to a String; invalid sequences become U+FFFD and are counted.
    static func convert<C: Collection>(_ bytes: C, from name: String) -> (text: String, errors: Int)
    where C.Element == UInt8 {
        var input = Array(bytes)
        if input.isEmpty { return ("", 0) }
        guard let descriptor = IconvPool.shared.take(from: name) else {
            return (lossyUTF8(input), input.count)
        }
        defer { IconvPool.shared.give(descriptor, from: name) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2)
        var chunk = [UInt8](repeating: 0, count: max(256, input.count * 4))
        var errors = 0
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        let total = input.count
        var consumed = 0
        input.withUnsafeMutableBufferPointer { inputBuffer in
            guard let inputBase = inputBuffer.baseAddress else { return }
            chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                guard let chunkBase = chunkBuffer.baseAddress else { return }
                while consumed <= total {
                    var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inputBase + consumed)
                        .assumingMemoryBound(to: CChar.self)
                    var inLeft = total - consumed
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(chunkBase)
                        .assumingMemoryBound(to: CChar.self)
                    var outLeft = chunkBuffer.count
                    let atEnd = consumed == total
                    let result: Int
                    if atEnd {
                        // Flush the shift state (ISO-2022 and friends).
                        result = iconv(descriptor, nil, nil, &outPointer, &outLeft)
                    } else {
                        result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                    }
                    let failure = errno
                    let produced = chunkBuffer.count - outLeft
                    output.append(contentsOf: UnsafeBufferPointer(start: chunkBase, count: produced))
                    if atEnd { break }
                    consumed = total - inLeft
                    if result == -1 {
                        switch failure {
                        case E2BIG:
                            continue
                        case EILSEQ:
                            errors += 1
                            output.append(contentsOf: replacement)
                            consumed += 1
                        case EINVAL:
                            // An incomplete sequence at the end of the input.
                            errors += 1
                            output.append(contentsOf: replacement)
                            consumed = total
                        default:
                            errors += 1
                            output.append(contentsOf: replacement)
                            consumed += 1
                        }
                    }
                }
            }
        }
        return (String(decoding: output, as: UTF8.self), errors)
    }
}

/// Open iconv descriptors to UTF-8, kept for reuse: opening one loads and sets up a gconv module, which costs more
/// than converting a typical mail part. A descriptor is used by one conversion at a time and reset before the next.
final class IconvPool: @unchecked Sendable {
    static let shared = IconvPool()

    /// The most idle descriptors kept per charset (one per concurrent conversion is all that is ever needed).
    private let idleLimit = 4
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var idle: [String: [iconv_t]] = [:]

    /// A descriptor converting from the iconv charset `name` to UTF-8 in its initial state, or nil when iconv does
    /// not know the charset.
    func take(from name: String) -> iconv_t? {
        lock.lock()
        let reused = idle[name]?.popLast()
        lock.unlock()
        if let reused {
            // Back to the initial shift state (iconv(3): all-null arguments).
            _ = iconv(reused, nil, nil, nil, nil)
            return reused
        }
        let opened = iconv_open("UTF-8", name)
        return Int(bitPattern: opened) == -1 ? nil : opened
    }

    /// Returns a descriptor from `take(from:)` for reuse.
    func give(_ descriptor: iconv_t, from name: String) {
        lock.lock()
        defer { lock.unlock() }
        if idle[name, default: []].count < idleLimit {
            idle[name, default: []].append(descriptor)
        } else {
            iconv_close(descriptor)
        }
    }
}

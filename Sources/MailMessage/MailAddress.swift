/// One mailbox: an optional display name and an address (RFC 5322 §3.4).
///
/// The domain is lowercased (domains are case-insensitive, RFC 5321 §2.4); the local part is kept as written.
/// Internationalised domains and local parts (RFC 6532) are kept as given, not converted to punycode.
public struct MailAddress: Sendable, Hashable, Codable {
    /// The display name, RFC 2047 decoded and unquoted, or nil when there is none.
    public var name: String?
    /// The addr-spec, `local@domain`, with the domain lowercased.
    public var address: String

    /// Makes an address; the domain of `address` is lowercased.
    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = MailAddress.normalizedAddress(address)
    }

    /// The local part (before the last "@"), or the whole address when it has no "@".
    public var localPart: String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return String(address[..<at])
    }

    /// The domain (after the last "@"), or "" when the address has none.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...])
    }

    /// `addr` with whitespace removed and the domain lowercased.
    static func normalizedAddress(_ addr: String) -> String {
        // Bytes: every byte dropped is ASCII, so no multi-byte scalar is cut.
        let compact = addr.utf8.filter { !$0.isASCIIWhitespace && $0 >= 0x20 && $0 != 0x7F }
        guard let at = compact.lastIndex(of: UInt8(ascii: "@")) else {
            return compact.count == addr.utf8.count ? addr : String(decoding: compact, as: UTF8.self)
        }
        let domain = compact[(at + 1)...]
        if compact.count == addr.utf8.count, !domain.contains(where: { (0x41...0x5A).contains($0) || $0 >= 0x80 }) {
            return addr
        }
        return String(decoding: compact[...at], as: UTF8.self)
            + String(decoding: Array(domain).mailLowercasedUTF8(), as: UTF8.self)
    }

    /// Parses an address-list header value (From, To, Cc, Reply-To…) leniently.
    ///
    /// Handles groups (`Team: a@x, b@y;`, RFC 5322 §3.4), comments (§3.2.2), quoted and RFC 2047 encoded display
    /// names (RFC 2047 §5 (3)), the legacy `addr (Name)` form, obsolete routes (§4.4) and raw UTF-8 (RFC 6532).
    /// Entries without any address are skipped; it never fails.
    public static func parseList(_ headerValue: String) -> [MailAddress] {
        var notes: [String] = []
        return parseList(headerValue, notes: &notes)
    }

    private enum Token {
        case atom(String)
        case quoted(String)
        case comment(String)
        case angle(String)
        case special(Unicode.Scalar)
        case space
    }

    static func parseList(_ headerValue: String, notes: inout [String]) -> [MailAddress] {
        let tokens = tokenize(headerValue)
        var result: [MailAddress] = []
        var current: [Token] = []
        // Whether `current` holds an address (an angle-addr or an atom with "@"), kept as tokens arrive: searching
        // `current` at every colon made "a a a … <x> : : :" quadratic.
        var currentHasAddress = false
        func flush() {
            if let mailbox = mailbox(from: current, notes: &notes) { result.append(mailbox) }
            current = []
            currentHasAddress = false
        }
        for token in tokens {
            switch token {
            case .special(","):
                flush()
            case .special(";"):
                flush()
            case .special(":"):
                // display-name ":" [group-list] ";"  — a colon outside angle brackets starts a group.
                if currentHasAddress {
                    current.append(.atom(":"))
                } else {
                    current = []
                }
            default:
                switch token {
                case .angle: currentHasAddress = true
                case .atom(let text) where text.utf8.contains(UInt8(ascii: "@")): currentHasAddress = true
                default: break
                }
                current.append(token)
            }
        }
        flush()
        return result
    }

    /// Splits a header value into tokens. Works on UTF-8 bytes: every delimiter is ASCII and no byte of a
    /// multi-byte scalar is, so a non-ASCII scalar always lands whole in the token around it.
    private static func tokenize(_ value: String) -> [Token] {
        let bytes = Array(value.utf8)
        var tokens: [Token] = []
        var index = 0
        var atomStart: Int?
        func text(_ buffer: [UInt8]) -> String { String(decoding: buffer, as: UTF8.self) }
        func flushAtom() {
            if let start = atomStart, start < index {
                tokens.append(.atom(String(decoding: bytes[start..<index], as: UTF8.self)))
            }
            atomStart = nil
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                flushAtom()
                var buffer: [UInt8] = []
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                    buffer.append(bytes[index])
                    index += 1
                }
                tokens.append(.quoted(text(buffer)))
            case UInt8(ascii: "("):
                flushAtom()
                var depth = 1
                var buffer: [UInt8] = []
                index += 1
                while index < bytes.count {
                    let inner = bytes[index]
                    if inner == UInt8(ascii: "\\"), index + 1 < bytes.count {
                        index += 1
                        buffer.append(bytes[index])
                    } else if inner == UInt8(ascii: "(") {
                        depth += 1
                        buffer.append(inner)
                    } else if inner == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 { break }
                        buffer.append(inner)
                    } else {
                        buffer.append(inner)
                    }
                    index += 1
                }
                tokens.append(.comment(text(buffer)))
            case UInt8(ascii: "<"):
                flushAtom()
                var buffer: [UInt8] = []
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: ">") {
                    if bytes[index] == UInt8(ascii: "\"") {
                        // A quoted local part inside the angle brackets.
                        buffer.append(bytes[index])
                        index += 1
                        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                            buffer.append(bytes[index])
                            index += 1
                        }
                        if index < bytes.count { buffer.append(bytes[index]) }
                    } else {
                        buffer.append(bytes[index])
                    }
                    index += 1
                }
                tokens.append(.angle(text(buffer)))
            case UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"):
                flushAtom()
                tokens.append(.special(Unicode.Scalar(byte)))
            case 0x20, 0x09, 0x0D, 0x0A:
                flushAtom()
                if case .space? = tokens.last {} else { tokens.append(.space) }
            case UInt8(ascii: ">"):
                flushAtom()
            default:
                if atomStart == nil { atomStart = index }
            }
            index += 1
        }
        flushAtom()
        return tokens
    }

    /// Characters that make a local part need quotes (RFC 5322 §3.2.3 specials, and space).
    private static let specials = Array(" \"(),:;<>@[\\]".utf8)

    private static func mailbox(from tokens: [Token], notes: inout [String]) -> MailAddress? {
        var phrase: [String] = []
        var comments: [String] = []
        var angle: String?
        var specParts: [String] = []
        for token in tokens {
            switch token {
            case .atom(let text):
                if angle == nil {
                    phrase.append(text)
                    specParts.append(text)
                }
            case .quoted(let text):
                if angle == nil {
                    phrase.append(text)
                    let needsQuotes = text.utf8.contains { Self.specials.contains($0) }
                    specParts.append(needsQuotes ? "\"" + text + "\"" : text)
                }
            case .comment(let text):
                comments.append(text)
            case .angle(let text):
                if angle == nil { angle = text }
            case .space:
                break
            case .special:
                break
            }
        }
        var address: String
        var name: String?
        if var inner = angle {
            // obs-route: "<@a,@b:user@host>" (RFC 5322 §4.4).
            if inner.hasPrefix("@"), let colon = inner.firstIndex(of: ":") {
                inner = String(inner[inner.index(after: colon)...])
            }
            address = inner
            name = phrase.joined(separator: " ")
            if name?.isEmpty ?? true, let comment = comments.first { name = comment }
        } else {
            address = specParts.joined()
            name = comments.first
            if !address.utf8.contains(UInt8(ascii: "@")) && phrase.count > 1 {
                // "Name address@x" without brackets is not valid; an address without "@" stays as written.
                address = phrase.joined(separator: " ")
            }
        }
        address = address.trimmingASCIIWhitespace()
        if address.hasPrefix("mailto:") { address = String(address.dropFirst(7)) }
        if address.isEmpty { return nil }
        if let raw = name {
            var decodedNotes: [String] = []
            let decoded = EncodedWord.decode(raw, notes: &decodedNotes).trimmingASCIIWhitespace()
            notes += decodedNotes
            name = decoded.isEmpty ? nil : decoded
        }
        return MailAddress(name: name, address: address)
    }
}

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
        let compact = String(
            String.UnicodeScalarView(
                addr.unicodeScalars.filter { !$0.isASCIIWhitespace && $0.value >= 0x20 && $0.value != 0x7F }))
        guard let at = compact.lastIndex(of: "@") else { return compact }
        return String(compact[...at]) + compact[compact.index(after: at)...].lowercased()
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
        func flush() {
            if let mailbox = mailbox(from: current, notes: &notes) { result.append(mailbox) }
            current = []
        }
        for token in tokens {
            switch token {
            case .special(","):
                flush()
            case .special(";"):
                flush()
            case .special(":"):
                // display-name ":" [group-list] ";"  — a colon outside angle brackets starts a group.
                let hasAddress = current.contains {
                    if case .angle = $0 { return true }
                    if case .atom(let text) = $0 { return text.contains("@") }
                    return false
                }
                if hasAddress {
                    current.append(.atom(":"))
                } else {
                    current = []
                }
            default:
                current.append(token)
            }
        }
        flush()
        return result
    }

    private static func tokenize(_ value: String) -> [Token] {
        let scalars = Array(value.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        var atom = String.UnicodeScalarView()
        func flushAtom() {
            if !atom.isEmpty { tokens.append(.atom(String(atom))) }
            atom = String.UnicodeScalarView()
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\"":
                flushAtom()
                var text = String.UnicodeScalarView()
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    text.append(scalars[index])
                    index += 1
                }
                tokens.append(.quoted(String(text)))
            case "(":
                flushAtom()
                var depth = 1
                var text = String.UnicodeScalarView()
                index += 1
                while index < scalars.count {
                    let inner = scalars[index]
                    if inner == "\\", index + 1 < scalars.count {
                        index += 1
                        text.append(scalars[index])
                    } else if inner == "(" {
                        depth += 1
                        text.append(inner)
                    } else if inner == ")" {
                        depth -= 1
                        if depth == 0 { break }
                        text.append(inner)
                    } else {
                        text.append(inner)
                    }
                    index += 1
                }
                tokens.append(.comment(String(text)))
            case "<":
                flushAtom()
                var text = String.UnicodeScalarView()
                index += 1
                while index < scalars.count, scalars[index] != ">" {
                    if scalars[index] == "\"" {
                        // A quoted local part inside the angle brackets.
                        text.append(scalars[index])
                        index += 1
                        while index < scalars.count, scalars[index] != "\"" {
                            text.append(scalars[index])
                            index += 1
                        }
                        if index < scalars.count { text.append(scalars[index]) }
                    } else {
                        text.append(scalars[index])
                    }
                    index += 1
                }
                tokens.append(.angle(String(text)))
            case ",", ";", ":":
                flushAtom()
                tokens.append(.special(scalar))
            case " ", "\t", "\r", "\n":
                flushAtom()
                if case .space? = tokens.last {} else { tokens.append(.space) }
            case ">":
                flushAtom()
            default:
                atom.append(scalar)
            }
            index += 1
        }
        flushAtom()
        return tokens
    }

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
                    let needsQuotes = text.unicodeScalars.contains { " \"(),:;<>@[\\]".unicodeScalars.contains($0) }
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
            if !address.contains("@") && phrase.count > 1 {
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

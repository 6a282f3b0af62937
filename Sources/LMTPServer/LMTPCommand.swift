/// One command line of a client, parsed (RFC 2033 §4, RFC 5321 §4.1).
enum LMTPCommand: Equatable {
    case lhlo(domain: String)
    /// HELO or EHLO: RFC 2033 §4.1 has LMTP servers refuse them.
    case smtpGreeting(verb: String)
    case mail(reversePath: String, parameters: [MailParameter])
    case rcpt(forwardPath: String, hasParameters: Bool)
    case data
    case rset
    case noop
    case quit
    case vrfy
    /// A known verb with arguments it does not take, or arguments it needs missing.
    case syntaxError(verb: String, reason: String)
    /// A MAIL or RCPT whose path cannot be read.
    case badPath(verb: String)
    case unknown

    /// An ESMTP parameter of MAIL FROM (RFC 5321 §4.1.2 `Mail-parameters`).
    enum MailParameter: Equatable {
        /// RFC 1870 §3: the size the client declares, in bytes.
        case size(Int)
        /// RFC 6152 §2.
        case body(LMTPBodyType)
        /// A keyword we do not offer, or a value that is not valid (answered 555 / 501).
        case unrecognized(String)
        case invalid(String)
    }

    // command  = verb [ SP arguments ] CRLF       (RFC 5321 §4.1.1; verbs are case-insensitive, §2.4)
    /// Parses one command line (without CRLF). Never fails: what cannot be read is `.unknown` or `.syntaxError`.
    static func parse(_ line: [UInt8]) -> LMTPCommand {
        // Printable US-ASCII, SP and HT only: SMTPUTF8 (RFC 6531) is not offered.
        guard line.allSatisfy({ (0x20...0x7E).contains($0) || $0 == 0x09 }) else { return .unknown }
        let text = String(decoding: line, as: UTF8.self)
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let argument = text[verbEnd...].drop { $0 == " " }
        switch verb {
        case "LHLO":
            // lhlo = "LHLO" SP Domain CRLF   (RFC 2033 §4.1, the EHLO argument of RFC 5321 §4.1.1.1)
            let domain = argument.split(separator: " ").first.map(String.init) ?? ""
            return domain.isEmpty ? .syntaxError(verb: verb, reason: "LHLO needs a domain") : .lhlo(domain: domain)
        case "HELO", "EHLO":
            return .smtpGreeting(verb: verb)
        case "MAIL":
            // mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF   (RFC 5321 §4.1.1.2)
            guard let rest = stripKeyword("FROM:", from: argument) else {
                return .syntaxError(verb: verb, reason: "use MAIL FROM:<address>")
            }
            guard let (path, tail) = readPath(rest) else { return .badPath(verb: verb) }
            return .mail(reversePath: path, parameters: tail.split(separator: " ").map(parseMailParameter))
        case "RCPT":
            // rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]
            guard let rest = stripKeyword("TO:", from: argument) else {
                return .syntaxError(verb: verb, reason: "use RCPT TO:<address>")
            }
            guard let (path, tail) = readPath(rest), !path.isEmpty else { return .badPath(verb: verb) }
            return .rcpt(forwardPath: path, hasParameters: !tail.allSatisfy { $0 == " " })
        case "DATA":
            return argument.isEmpty ? .data : .syntaxError(verb: verb, reason: "DATA takes no argument")
        case "RSET":
            return argument.isEmpty ? .rset : .syntaxError(verb: verb, reason: "RSET takes no argument")
        case "NOOP":
            // noop = "NOOP" [ SP String ] CRLF: the argument is ignored (RFC 5321 §4.1.1.9).
            return .noop
        case "QUIT":
            return argument.isEmpty ? .quit : .syntaxError(verb: verb, reason: "QUIT takes no argument")
        case "VRFY":
            return argument.isEmpty ? .syntaxError(verb: verb, reason: "VRFY needs an argument") : .vrfy
        default:
            return .unknown
        }
    }

    /// The argument after a case-insensitive keyword such as `FROM:`, allowing spaces after the colon (common
    /// though RFC 5321 §4.1.2 has none).
    private static func stripKeyword(_ keyword: String, from argument: Substring) -> Substring? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        return argument.dropFirst(keyword.count).drop { $0 == " " }
    }

    // Reverse-path = Path / "<>"
    // Path         = "<" [ A-d-l ":" ] Mailbox ">"      (RFC 5321 §4.1.2; the source route is ignored, §C)
    // Mailbox      = Local-part "@" ( Domain / address-literal ); Local-part may be a Quoted-string
    /// The address between the angle brackets (source route dropped) and what follows the closing bracket.
    static func readPath(_ text: Substring) -> (String, Substring)? {
        guard text.first == "<" else { return nil }
        var inQuotes = false
        var escaped = false
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if escaped {
                escaped = false
            } else if character == "\\" && inQuotes {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
            } else if character == ">" && !inQuotes {
                break
            } else if character == "<" && !inQuotes {
                return nil
            }
            index = text.index(after: index)
        }
        guard index < text.endIndex else { return nil }
        var inner = text[text.index(after: text.startIndex)..<index]
        let tail = text[text.index(after: index)...]
        guard tail.isEmpty || tail.first == " " else { return nil }
        if inner.first == "@", let colon = inner.firstIndex(of: ":") {
            inner = inner[inner.index(after: colon)...]
        }
        let address = String(inner)
        guard address.isEmpty || Self.isMailbox(address) else { return nil }
        return (address, tail)
    }

    /// A mailbox has one "@" outside quotes with text on both sides, or is the special "Postmaster" (§4.1.1.3).
    private static func isMailbox(_ address: String) -> Bool {
        if address.lowercased() == "postmaster" { return true }
        guard let at = address.lastIndex(of: "@"), at != address.startIndex,
            address.index(after: at) != address.endIndex
        else { return false }
        return !address.contains(where: { $0 == " " && !address.hasPrefix("\"") })
    }

    // Mail-parameters = esmtp-param *(SP esmtp-param);  esmtp-param = esmtp-keyword ["=" esmtp-value]
    // size-param = "SIZE=" 1*20DIGIT   (RFC 1870 §3);  body-value = "7BIT" / "8BITMIME"   (RFC 6152 §2)
    private static func parseMailParameter(_ text: Substring) -> MailParameter {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let keyword = parts[0].uppercased()
        let value = parts.count > 1 ? String(parts[1]) : nil
        switch keyword {
        case "SIZE":
            guard let value, (1...20).contains(value.count), value.allSatisfy(\.isASCIIDigitCharacter) else {
                return .invalid("SIZE needs a number")
            }
            return .size(Int(value) ?? Int.max)
        case "BODY":
            guard let value, let body = LMTPBodyType(rawValue: value.uppercased()) else {
                return .invalid("BODY is 7BIT or 8BITMIME")
            }
            return .body(body)
        default:
            return .unrecognized(keyword)
        }
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

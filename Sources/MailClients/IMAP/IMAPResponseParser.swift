import Foundation

/// Pure parsing of complete `IMAPFrame`s into `IMAPResponse`s (grammar: RFC 3501 §9, RFC 9051 §9).
///
/// Every failure is a thrown `MailClientError(.protocolViolation)` naming the offending position; never a crash.
enum IMAPResponseParser {
    /// Parses one frame (a whole response including its literals and final CRLF).
    static func parse(_ frame: IMAPFrame) throws -> IMAPResponse {
        var buffer = IMAPParseBuffer(frame.bytes)
        let response = try parseResponse(&buffer)
        try buffer.expectCRLF()
        guard buffer.isAtEnd else { throw buffer.violation("bytes after the final CRLF") }
        return response
    }

    // response        = continue-req / response-data / response-tagged
    // continue-req    = "+" SP (resp-text / base64) CRLF
    // response-data   = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data) CRLF
    // response-tagged = tag SP resp-cond-state CRLF
    static func parseResponse(_ buffer: inout IMAPParseBuffer) throws -> IMAPResponse {
        switch buffer.peek() {
        case UInt8(ascii: "+"):
            buffer.advance()
            // Some servers send a bare "+" with no SP and no text.
            if buffer.peek() == UInt8(ascii: " ") { buffer.advance() }
            return .continuation(buffer.readText())
        case UInt8(ascii: "*"):
            buffer.advance()
            try buffer.expectSpace()
            return .untagged(try parseUntagged(&buffer))
        default:
            let tag = try parseTag(&buffer)
            try buffer.expectSpace()
            let status = try parseStatus(&buffer)
            guard status.kind == .ok || status.kind == .no || status.kind == .bad else {
                throw buffer.violation("tagged response with \(status.kind.rawValue)")
            }
            return .tagged(tag: tag, status)
        }
    }

    // tag             = 1*<any ASTRING-CHAR except "+">
    static func parseTag(_ buffer: inout IMAPParseBuffer) throws -> String {
        let tag = buffer.readWhile { IMAPParseBuffer.isAStringChar($0) && $0 != UInt8(ascii: "+") }
        guard !tag.isEmpty else { throw buffer.violation("expected a tag, '*' or '+'") }
        return String(decoding: tag, as: UTF8.self)
    }

    // response-data   = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data) CRLF
    // mailbox-data    = "FLAGS" SP flag-list / "SEARCH" *(SP nz-number) / number SP "EXISTS" / number SP "RECENT" / …
    // message-data    = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))
    static func parseUntagged(_ buffer: inout IMAPParseBuffer) throws -> IMAPUntaggedResponse {
        if let first = buffer.peek(), IMAPParseBuffer.isDigit(first) {
            let number = try buffer.readNumber32()
            try buffer.expectSpace()
            let keyword = try buffer.readAtom().uppercased()
            switch keyword {
            case "EXISTS":
                return .exists(number)
            case "RECENT":
                return .recent(number)
            case "EXPUNGE":
                return .expunge(number)
            case "FETCH":
                try buffer.expectSpace()
                return .fetch(sequenceNumber: number, try parseMessageAttributes(&buffer))
            default:
                // e.g. Gmail's "* n VANISHED"-like extensions we never asked for.
                _ = buffer.readText()
                return .other(keyword)
            }
        }
        let keyword = try buffer.readAtom().uppercased()
        switch keyword {
        case "OK", "NO", "BAD", "PREAUTH", "BYE":
            return .status(try parseStatusText(&buffer, kind: IMAPStatusKind(rawValue: keyword) ?? .ok))
        case "CAPABILITY":
            return .capability(try parseCapabilityList(&buffer, stopAtBracket: false))
        case "FLAGS":
            try buffer.expectSpace()
            return .flags(try parseFlagList(&buffer))
        case "SEARCH":
            return .search(try parseSearchNumbers(&buffer))
        default:
            _ = buffer.readText()
            return .other(keyword)
        }
    }

    // resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
    // resp-cond-auth  = ("OK" / "PREAUTH") SP resp-text
    // resp-cond-bye   = "BYE" SP resp-text
    static func parseStatus(_ buffer: inout IMAPParseBuffer) throws -> IMAPStatusResponse {
        let word = try buffer.readAtom().uppercased()
        guard let kind = IMAPStatusKind(rawValue: word) else {
            throw buffer.violation("expected OK, NO, BAD, PREAUTH or BYE, got \(word.prefix(40))")
        }
        return try parseStatusText(&buffer, kind: kind)
    }

    // resp-text       = ["[" resp-text-code "]" SP] text
    /// Parses the SP and resp-text after a condition word. Lenient where real servers are sloppy: the SP and text
    /// may be missing (`A1 OK`), and an unparseable response code is kept as plain text.
    static func parseStatusText(_ buffer: inout IMAPParseBuffer, kind: IMAPStatusKind) throws -> IMAPStatusResponse {
        if buffer.peek() == UInt8(ascii: " ") { buffer.advance() }
        let rawStart = buffer.index
        var code: IMAPResponseCode?
        if buffer.peek() == UInt8(ascii: "[") {
            var attempt = buffer
            attempt.advance()
            if let parsed = try? parseResponseCode(&attempt), attempt.peek() == UInt8(ascii: "]") {
                attempt.advance()
                if attempt.peek() == UInt8(ascii: " ") { attempt.advance() }
                code = parsed
                buffer = attempt
            }
        }
        let text = buffer.readText()
        let raw = String(decoding: buffer.bytes[rawStart..<buffer.index], as: UTF8.self)
        return IMAPStatusResponse(kind: kind, code: code, text: text, rawText: raw)
    }

    // resp-text-code  = "ALERT" / "BADCHARSET" [SP "(" charset *(SP charset) ")" ] / capability-data / "PARSE" /
    //                   "PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")" / "READ-ONLY" / "READ-WRITE" /
    //                   "TRYCREATE" / "UIDNEXT" SP nz-number / "UIDVALIDITY" SP nz-number / "UNSEEN" SP nz-number /
    //                   atom [SP 1*<any TEXT-CHAR except "]">]
    // RFC 5530 §3 adds AUTHENTICATIONFAILED, AUTHORIZATIONFAILED, UNAVAILABLE, EXPIRED, LIMIT, …
    static func parseResponseCode(_ buffer: inout IMAPParseBuffer) throws -> IMAPResponseCode {
        let name = try buffer.readAtom().uppercased()
        switch name {
        case "ALERT": return .alert
        case "AUTHENTICATIONFAILED": return .authenticationFailed
        case "AUTHORIZATIONFAILED": return .authorizationFailed
        case "UNAVAILABLE": return .unavailable
        case "EXPIRED": return .expired
        case "LIMIT": return .limit
        case "PARSE": return .parse
        case "READ-ONLY": return .readOnly
        case "READ-WRITE": return .readWrite
        case "TRYCREATE": return .tryCreate
        case "CAPABILITY":
            return .capability(try parseCapabilityList(&buffer, stopAtBracket: true))
        case "PERMANENTFLAGS":
            try buffer.expectSpace()
            return .permanentFlags(try parseFlagList(&buffer))
        case "UIDNEXT":
            try buffer.expectSpace()
            return .uidNext(try buffer.readNumber32())
        case "UIDVALIDITY":
            try buffer.expectSpace()
            return .uidValidity(try buffer.readNumber32())
        case "UNSEEN":
            try buffer.expectSpace()
            return .unseen(try buffer.readNumber32())
        default:
            var argument: String?
            if buffer.peek() == UInt8(ascii: " ") {
                buffer.advance()
                let bytes = buffer.readWhile { $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "\r") }
                argument = String(decoding: bytes, as: UTF8.self)
            }
            return .other(name: name, argument: argument)
        }
    }

    // capability-data = "CAPABILITY" *(SP capability) SP "IMAP4rev1" *(SP capability)
    // capability      = ("AUTH=" auth-type) / atom
    /// Capability names, uppercased. We do not insist on IMAP4rev1 being listed (IMAP4rev2-only servers).
    static func parseCapabilityList(_ buffer: inout IMAPParseBuffer, stopAtBracket: Bool) throws -> [String] {
        var capabilities: [String] = []
        while buffer.peek() == UInt8(ascii: " ") {
            buffer.advance()
            // Tolerate a trailing space before CRLF or "]".
            if buffer.peek() == UInt8(ascii: "\r") || (stopAtBracket && buffer.peek() == UInt8(ascii: "]")) { break }
            capabilities.append(try buffer.readAtom().uppercased())
        }
        return capabilities
    }

    // flag-list       = "(" [flag *(SP flag)] ")"
    // flag            = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension
    // flag-extension  = "\" atom
    // flag-perm       = flag / "\*"
    static func parseFlagList(_ buffer: inout IMAPParseBuffer) throws -> [String] {
        try buffer.expect(UInt8(ascii: "("))
        var flags: [String] = []
        while true {
            if buffer.peek() == UInt8(ascii: ")") {
                buffer.advance()
                return flags
            }
            if !flags.isEmpty { try buffer.expectSpace() }
            flags.append(try parseFlag(&buffer))
        }
    }

    // flag-fetch      = flag / "\Recent"
    static func parseFlag(_ buffer: inout IMAPParseBuffer) throws -> String {
        if buffer.peek() == UInt8(ascii: "\\") {
            buffer.advance()
            if buffer.peek() == UInt8(ascii: "*") {
                buffer.advance()
                return "\\*"
            }
            return "\\" + (try buffer.readAtom())
        }
        return try buffer.readAtom()
    }

    // mailbox-data    =/ "SEARCH" *(SP nz-number)
    // RFC 7162 §3.1.5 may append SP "(MODSEQ" SP mod-sequence-value ")"; we ignore it.
    static func parseSearchNumbers(_ buffer: inout IMAPParseBuffer) throws -> [UInt32] {
        var numbers: [UInt32] = []
        while buffer.peek() == UInt8(ascii: " ") {
            buffer.advance()
            guard let next = buffer.peek() else { break }
            if next == UInt8(ascii: "(") {
                try buffer.skipValue()
                continue
            }
            if next == UInt8(ascii: "\r") { break }
            numbers.append(try buffer.readNumber32())
        }
        return numbers
    }

    // msg-att         = "(" (msg-att-dynamic / msg-att-static) *(SP (msg-att-dynamic / msg-att-static)) ")"
    // msg-att-dynamic = "FLAGS" SP "(" [flag-fetch *(SP flag-fetch)] ")"
    // msg-att-static  = "ENVELOPE" SP envelope / "INTERNALDATE" SP date-time / "RFC822" [".HEADER" / ".TEXT"] SP nstring /
    //                   "RFC822.SIZE" SP number / "BODY" ["STRUCTURE"] SP body /
    //                   "BODY" section ["<" number ">"] SP nstring / "UID" SP uniqueid
    static func parseMessageAttributes(_ buffer: inout IMAPParseBuffer) throws -> IMAPFetchAttributes {
        try buffer.expect(UInt8(ascii: "("))
        var attributes = IMAPFetchAttributes()
        var first = true
        while true {
            if buffer.peek() == UInt8(ascii: ")") {
                buffer.advance()
                return attributes
            }
            if !first { try buffer.expectSpace() }
            first = false
            let name = try parseFetchAttributeName(&buffer)
            try buffer.expectSpace()
            switch name {
            case "UID":
                attributes.uid = try buffer.readNumber32()
            case "FLAGS":
                attributes.flags = try parseFlagList(&buffer)
            case "INTERNALDATE":
                let text = try buffer.readQuoted()
                guard let date = parseDateTime(text) else {
                    throw buffer.violation("INTERNALDATE \"\(text.prefix(40))\" is not a date-time")
                }
                attributes.internalDate = date
            case "RFC822.SIZE":
                let size = try buffer.readNumber64()
                guard size <= UInt64(Int.max) else { throw buffer.violation("RFC822.SIZE out of range") }
                attributes.rfc822Size = Int(size)
            case "BODY[]", "BODY[]<0>", "RFC822", "BINARY[]":
                attributes.body = try buffer.readNString()
            case "BODY[HEADER]", "BODY[HEADER]<0>", "RFC822.HEADER":
                attributes.header = try buffer.readNString()
            default:
                try buffer.skipValue()
            }
        }
    }

    /// A fetch attribute name, uppercased, with its `[section]` and `<origin>` (`BODY[HEADER.FIELDS (FROM)]<0>`).
    static func parseFetchAttributeName(_ buffer: inout IMAPParseBuffer) throws -> String {
        var name = try buffer.readWhileNonEmpty(
            "a fetch attribute",
            { IMAPParseBuffer.isAtomChar($0) && $0 != UInt8(ascii: "[") }
        )
        if buffer.peek() == UInt8(ascii: "[") {
            let section = buffer.readWhile { $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "\r") }
            try buffer.expect(UInt8(ascii: "]"))
            name += section + [UInt8(ascii: "]")]
            if buffer.peek() == UInt8(ascii: "<") {
                let origin = buffer.readWhile { $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: "\r") }
                try buffer.expect(UInt8(ascii: ">"))
                name += origin + [UInt8(ascii: ">")]
            }
        }
        return String(decoding: name, as: UTF8.self).uppercased()
    }

    // date-time       = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    // date-day-fixed  = (SP DIGIT) / 2DIGIT
    // date-month      = "Jan" / "Feb" / "Mar" / "Apr" / "May" / "Jun" / "Jul" / "Aug" / "Sep" / "Oct" / "Nov" / "Dec"
    // time            = 2DIGIT ":" 2DIGIT ":" 2DIGIT
    // zone            = ("+" / "-") 4DIGIT
    /// Parses the inside of an INTERNALDATE's quotes, e.g. `17-Jul-1996 02:44:25 -0700`; `nil` if malformed.
    static func parseDateTime(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 26 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                if byte == UInt8(ascii: " ") && index == range.lowerBound { continue }
                guard IMAPParseBuffer.isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        guard bytes[2] == UInt8(ascii: "-"), bytes[6] == UInt8(ascii: "-"), bytes[11] == UInt8(ascii: " "),
            bytes[14] == UInt8(ascii: ":"), bytes[17] == UInt8(ascii: ":"), bytes[20] == UInt8(ascii: " "),
            let day = number(0..<2), let year = number(7..<11), let hour = number(12..<14),
            let minute = number(15..<17), let second = number(18..<20), let zone = number(22..<26),
            let monthIndex = months.firstIndex(of: String(decoding: bytes[3..<6], as: UTF8.self).uppercased()),
            (1...31).contains(day), hour < 24, minute < 60, second < 61, zone % 100 < 60,
            bytes[21] == UInt8(ascii: "+") || bytes[21] == UInt8(ascii: "-")
        else { return nil }
        let zoneSeconds = (zone / 100 * 3600 + zone % 100 * 60) * (bytes[21] == UInt8(ascii: "-") ? -1 : 1)
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - zoneSeconds
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

import Foundation

/// One IMAP4rev1 connection to a `FakeMailbox` (RFC 3501): LOGIN, SELECT/EXAMINE, UID SEARCH, UID FETCH, UID STORE,
/// NOOP, IDLE (RFC 2177), LOGOUT, just as far as postdesk's client uses them, with the fault book applied to every
/// answer. Any password is accepted.
final class FakeIMAPSession: FakeMailSession {
    private let connection: Int
    private let mailbox: FakeMailbox
    private let faults: FakeMailFaultBook
    private let capabilities: String
    private var drip: Duration?
    private var selected = false
    private var idleTag: String?

    init(connection: Int, mailbox: FakeMailbox, faults: FakeMailFaultBook, capabilities: String) {
        self.connection = connection
        self.mailbox = mailbox
        self.faults = faults
        self.capabilities = capabilities
    }

    func greeting() -> FakeMailReply {
        faults.answer(.greeting, connection: connection, tag: "*", drip: &drip) {
            .lines(["* OK [CAPABILITY \(capabilities)] fake IMAP server ready"])
        }
    }

    func respond(to line: String) -> FakeMailReply {
        if let idleTag {
            return faults.answer(.command(line), connection: connection, tag: idleTag, drip: &drip) {
                guard line.uppercased() == "DONE" else { return unexpected(tag: idleTag) }
                self.idleTag = nil
                return .lines(["\(idleTag) OK Idle completed"])
            }
        }
        let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let tag = parts.first.map(String.init) ?? "*"
        let command = parts.count > 1 ? String(parts[1]) : ""
        return faults.answer(.command(command), connection: connection, tag: tag, drip: &drip) {
            normalAnswer(command, tag: tag)
        }
    }

    private func unexpected(tag: String) -> FakeMailReply {
        var reply = FakeMailReply.lines(["\(tag) BAD unexpected command (fake IMAP server)"])
        reply.unexpected = true
        return reply
    }

    private func normalAnswer(_ command: String, tag: String) -> FakeMailReply {
        let words = command.split(separator: " ").map(String.init)
        let verb = words.first?.uppercased() ?? ""
        let isUID = verb == "UID" && words.count > 1
        let name = isUID ? "UID " + words[1].uppercased() : verb
        let arguments = Array(words.dropFirst(isUID ? 2 : 1))
        switch name {
        case "CAPABILITY":
            return .lines(["* CAPABILITY \(capabilities)", "\(tag) OK Capability completed"])
        case "LOGIN", "AUTHENTICATE":
            return .lines(["\(tag) OK [CAPABILITY \(capabilities)] Logged in"])
        case "SELECT", "EXAMINE":
            return select(tag: tag, readOnly: name == "EXAMINE")
        case "UID SEARCH" where selected:
            guard let uids = search(arguments) else { return unexpected(tag: tag) }
            let found = uids.isEmpty ? "* SEARCH" : "* SEARCH " + uids.map(String.init).joined(separator: " ")
            return .lines([found, "\(tag) OK Search completed"])
        case "UID FETCH" where selected && arguments.count >= 2:
            return fetch(set: arguments[0], items: arguments.dropFirst().joined(separator: " ").uppercased(), tag: tag)
        case "UID STORE" where selected && arguments.count >= 3:
            return store(set: arguments[0], operation: arguments[1], flags: arguments.dropFirst(2), tag: tag)
        case "NOOP", "CHECK":
            return .lines(["\(tag) OK \(name) completed"])
        case "IDLE" where selected:
            idleTag = tag
            return .lines(["+ idling"])
        case "CLOSE", "UNSELECT":
            selected = false
            return .lines(["\(tag) OK \(name) completed"])
        case "LOGOUT":
            return .lines(["* BYE Logging out", "\(tag) OK Logout completed"], then: .close)
        default:
            return unexpected(tag: tag)
        }
    }

    // RFC 3501 §6.3.1: FLAGS, EXISTS, RECENT, UIDVALIDITY, UIDNEXT, then the tagged OK.
    private func select(tag: String, readOnly: Bool) -> FakeMailReply {
        guard mailbox.exists else {
            selected = false
            return .lines(["\(tag) NO [NONEXISTENT] Mailbox doesn't exist: INBOX"])
        }
        selected = true
        let messages = mailbox.messages
        return .lines([
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            "* \(messages.count) EXISTS",
            "* 0 RECENT",
            "* OK [UIDVALIDITY \(mailbox.uidValidity)] UIDs valid",
            "* OK [UIDNEXT \(mailbox.uidNext)] Predicted next UID",
            "\(tag) OK [\(readOnly ? "READ-ONLY" : "READ-WRITE")] Select completed",
        ])
    }

    /// `UID n:m`, `NOT UID n:m`, `SEEN`, `UNSEEN`, `DELETED`, `UNDELETED`, `SINCE d-Mon-yyyy`, `ALL`, ANDed
    /// (RFC 3501 §6.4.4); nil for anything else.
    private func search(_ keys: [String]) -> [UInt32]? {
        let messages = mailbox.messages
        var chosen = messages
        var index = 0
        while index < keys.count {
            let key = keys[index].uppercased()
            switch key {
            case "ALL":
                break
            case "SEEN":
                chosen = chosen.filter { $0.flags.contains("\\Seen") }
            case "UNSEEN":
                chosen = chosen.filter { !$0.flags.contains("\\Seen") }
            case "DELETED":
                chosen = chosen.filter { $0.flags.contains("\\Deleted") }
            case "UNDELETED":
                chosen = chosen.filter { !$0.flags.contains("\\Deleted") }
            case "UID" where index + 1 < keys.count:
                index += 1
                guard let set = Self.parseSet(keys[index], highest: messages.last?.uid ?? 0) else { return nil }
                chosen = chosen.filter { Self.contains(set, $0.uid) }
            case "NOT" where index + 2 < keys.count && keys[index + 1].uppercased() == "UID":
                index += 2
                guard let set = Self.parseSet(keys[index], highest: messages.last?.uid ?? 0) else { return nil }
                chosen = chosen.filter { !Self.contains(set, $0.uid) }
            case "SINCE" where index + 1 < keys.count:
                index += 1
                guard let day = Self.parseDay(keys[index]) else { return nil }
                chosen = chosen.filter { $0.internalDate >= day }
            default:
                return nil
            }
            index += 1
        }
        return chosen.map(\.uid)
    }

    // msg-att: UID, FLAGS, INTERNALDATE, RFC822.SIZE, and BODY[] or BODY[HEADER] as a literal (RFC 3501 §7.4.2).
    private func fetch(set text: String, items: String, tag: String) -> FakeMailReply {
        let messages = mailbox.messages
        guard let set = Self.parseSet(text, highest: messages.last?.uid ?? 0) else { return unexpected(tag: tag) }
        var steps: [FakeMailScript.Step] = []
        for (offset, message) in messages.enumerated() where Self.contains(set, message.uid) {
            let flags = message.flags.sorted().joined(separator: " ")
            var head =
                "* \(offset + 1) FETCH (UID \(message.uid) FLAGS (\(flags)) INTERNALDATE \"\(Self.dateTime(message.internalDate))\" RFC822.SIZE \(message.raw.count)"
            let section: (name: String, bytes: [UInt8])?
            if items.contains("BODY.PEEK[HEADER]") || items.contains("BODY[HEADER]") {
                section = ("BODY[HEADER]", Self.headerSection(message.raw))
            } else if items.contains("BODY.PEEK[]") || items.contains("BODY[]") {
                section = ("BODY[]", message.raw)
            } else {
                section = nil
            }
            if let section {
                head += " \(section.name) {\(section.bytes.count)}"
                steps += [.line(head), .bytes(section.bytes), .line(")")]
            } else {
                steps.append(.line(head + ")"))
            }
        }
        steps.append(.line("\(tag) OK Fetch completed"))
        return FakeMailReply(steps)
    }

    // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    private func store(set text: String, operation: String, flags: ArraySlice<String>, tag: String) -> FakeMailReply {
        let messages = mailbox.messages
        guard let set = Self.parseSet(text, highest: messages.last?.uid ?? 0) else { return unexpected(tag: tag) }
        let names = Set(
            flags.joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: " ")
                .map(String.init))
        let uids = Set(messages.map(\.uid).filter { Self.contains(set, $0) })
        let operation = operation.uppercased()
        if operation.hasPrefix("+") {
            mailbox.changeFlags(uids: uids, adding: names, removing: [])
        } else if operation.hasPrefix("-") {
            mailbox.changeFlags(uids: uids, adding: [], removing: names)
        } else {
            return unexpected(tag: tag)
        }
        var lines: [String] = []
        if !operation.hasSuffix(".SILENT") {
            for (offset, message) in mailbox.messages.enumerated() where uids.contains(message.uid) {
                lines.append(
                    "* \(offset + 1) FETCH (UID \(message.uid) FLAGS (\(message.flags.sorted().joined(separator: " "))))"
                )
            }
        }
        return .lines(lines + ["\(tag) OK Store completed"])
    }

    // sequence-set: ranges `a`, `a:b`, `a:*`, comma-separated; `*` is the highest UID in use (RFC 3501 §9), so
    // `n:*` always takes the highest message even below n (§6.4.8).
    static func parseSet(_ text: String, highest: UInt32) -> [ClosedRange<UInt32>]? {
        var ranges: [ClosedRange<UInt32>] = []
        for part in text.split(separator: ",") {
            let ends = part.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2 else { return nil }
            var values: [UInt32] = []
            for end in ends {
                if end == "*" {
                    values.append(highest)
                } else if let value = UInt32(end) {
                    values.append(value)
                } else {
                    return nil
                }
            }
            ranges.append((values.min() ?? 0)...(values.max() ?? 0))
        }
        return ranges.isEmpty ? nil : ranges
    }

    static func contains(_ set: [ClosedRange<UInt32>], _ uid: UInt32) -> Bool {
        set.contains { $0.contains(uid) }
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }

    // date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    static func dateTime(_ date: Date) -> String {
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let day = String(format: "%2d", parts.day ?? 1)
        return
            "\(day)-\(months[max(0, min(11, (parts.month ?? 1) - 1))])-\(parts.year ?? 1970) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }

    // date = date-day "-" date-month "-" date-year: the start of that day, UTC.
    static func parseDay(_ text: String) -> Date? {
        let parts = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).split(separator: "-")
        guard parts.count == 3, let day = Int(parts[0]), let year = Int(parts[2]),
            let month = months.firstIndex(where: { $0.caseInsensitiveCompare(String(parts[1])) == .orderedSame })
        else { return nil }
        return utc.date(from: DateComponents(year: year, month: month + 1, day: day))
    }

    /// The header section: up to and with the empty line (RFC 3501 §6.4.5 HEADER).
    static func headerSection(_ raw: [UInt8]) -> [UInt8] {
        var index = 0
        while index + 3 < raw.count {
            if raw[index] == 13, raw[index + 1] == 10, raw[index + 2] == 13, raw[index + 3] == 10 {
                return Array(raw[..<(index + 4)])
            }
            index += 1
        }
        return raw
    }
}

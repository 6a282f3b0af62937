/// One POP3 connection to a `FakeMailbox` (RFC 1939): CAPA, USER/PASS, STAT, LIST, UIDL, RETR, DELE, RSET, NOOP,
/// QUIT, with the fault book applied to every answer. Messages are numbered at login; DELEted ones are removed
/// from the mailbox only by QUIT (the UPDATE state, §6). Any password is accepted.
final class FakePOP3Session: FakeMailSession {
    private let connection: Int
    private let mailbox: FakeMailbox
    private let faults: FakeMailFaultBook
    private var drip: Duration?
    private var maildrop: [FakeMailbox.Message]?
    private var deleted: Set<Int> = []

    init(connection: Int, mailbox: FakeMailbox, faults: FakeMailFaultBook) {
        self.connection = connection
        self.mailbox = mailbox
        self.faults = faults
    }

    func greeting() -> FakeMailReply {
        faults.answer(.greeting, connection: connection, tag: "", drip: &drip) {
            .lines(["+OK fake POP3 server ready"])
        }
    }

    func respond(to line: String) -> FakeMailReply {
        faults.answer(.command(line), connection: connection, tag: "", drip: &drip) { normalAnswer(line) }
    }

    private func normalAnswer(_ line: String) -> FakeMailReply {
        let words = line.split(separator: " ").map(String.init)
        let verb = words.first?.uppercased() ?? ""
        let number = words.count > 1 ? Int(words[1]) : nil
        switch verb {
        case "CAPA":
            return .lines(["+OK Capability list follows", "USER", "UIDL", "TOP", "."])
        case "USER":
            return .lines(["+OK"])
        case "PASS":
            maildrop = mailbox.messages
            deleted = []
            return .lines(["+OK Logged in"])
        case "QUIT":
            if let maildrop {
                // RFC 1939 §6: only now are the DELEted messages removed.
                mailbox.remove(uidls: Set(deleted.map { maildrop[$0 - 1].uidl }))
            }
            return .lines(["+OK Logging out"], then: .close)
        default:
            break
        }
        guard let maildrop else { return unexpected("-ERR log in first") }
        let live = maildrop.indices.map { $0 + 1 }.filter { !deleted.contains($0) }
        func message(_ number: Int?) -> FakeMailbox.Message? {
            guard let number, live.contains(number) else { return nil }
            return maildrop[number - 1]
        }
        switch verb {
        case "STAT":
            return .lines(["+OK \(live.count) \(live.map { maildrop[$0 - 1].raw.count }.reduce(0, +))"])
        case "LIST" where words.count == 1:
            return .lines(["+OK \(live.count) messages"] + live.map { "\($0) \(maildrop[$0 - 1].raw.count)" } + ["."])
        case "UIDL" where words.count == 1:
            return .lines(["+OK"] + live.map { "\($0) \(maildrop[$0 - 1].uidl)" } + ["."])
        case "RETR":
            guard let found = message(number) else { return .lines(["-ERR no such message"]) }
            return FakeMailReply([.line("+OK \(found.raw.count) octets"), .bytes(Self.dotStuffed(found.raw))])
        case "DELE":
            guard message(number) != nil, let number else { return .lines(["-ERR no such message"]) }
            deleted.insert(number)
            return .lines(["+OK message \(number) deleted"])
        case "RSET":
            deleted = []
            return .lines(["+OK"])
        case "NOOP":
            return .lines(["+OK"])
        default:
            return unexpected("-ERR unexpected command (fake POP3 server)")
        }
    }

    private func unexpected(_ text: String) -> FakeMailReply {
        var reply = FakeMailReply.lines([text])
        reply.unexpected = true
        return reply
    }

    /// RFC 1939 §3: lines starting with "." get another, and "." CRLF ends the message.
    static func dotStuffed(_ raw: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var atLineStart = true
        for byte in raw {
            if atLineStart && byte == UInt8(ascii: ".") { output.append(byte) }
            output.append(byte)
            atLineStart = byte == 10
        }
        if !atLineStart { output += [13, 10] }
        return output + Array(".\r\n".utf8)
    }
}

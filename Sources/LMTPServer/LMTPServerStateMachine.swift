import MailWire

/// The LMTP session as a value (RFC 2033 with RFC 5321 §4.1.4's command order): what each command, each verdict
/// of the owner and the end of DATA lead to. No I/O and no business logic: the handler performs the actions and the
/// owner decides recipients and deliveries.
struct LMTPServerStateMachine {
    /// Limits and names of one server.
    struct Limits: Equatable {
        /// The name in the greeting and the LHLO reply.
        var hostname: String
        /// Largest message accepted (announced as SIZE, RFC 1870 §4).
        var maximumMessageSize: Int
        /// Most recipients in one transaction (RFC 5321 §4.5.3.1.8: at least 100).
        var maximumRecipients: Int
        /// Bad commands in one session before it is closed.
        var maximumErrors: Int
    }

    /// What the handler does next.
    enum Action: Equatable {
        /// Send the reply; read on.
        case reply(LMTPReply)
        /// Ask the owner about a RCPT address; read nothing more until the verdict is in.
        case askRecipient(String)
        /// Send the 354 reply and read the message content.
        case startData(LMTPReply)
        /// Hand the message to the owner; read nothing more until its results are in.
        case deliver(LMTPDelivery)
        /// Send these replies, in order (one per recipient after DATA).
        case replies([LMTPReply])
        /// Send the reply and close the connection.
        case close(LMTPReply)
    }

    /// The envelope being collected.
    struct Transaction: Equatable {
        var reversePath: String
        var body: LMTPBodyType
        var recipients: [String] = []
    }

    /// Where the session stands.
    enum Phase: Equatable {
        /// Greeted; LHLO not yet received.
        case greeted
        /// After LHLO, between transactions.
        case ready
        /// After MAIL FROM (and any RCPT TO).
        case transaction(Transaction)
        /// A RCPT address is with the owner.
        case awaitingVerdict(Transaction, address: String)
        /// Reading the content after 354.
        case data(Transaction)
        /// The message is with the owner.
        case delivering(Transaction)
        case closed
    }

    let limits: Limits
    private(set) var phase = Phase.greeted
    private var errors = 0

    /// A session that has just sent the greeting.
    init(limits: Limits) {
        self.limits = limits
    }

    /// The greeting (RFC 5321 §4.3.1, RFC 2033 §4.1).
    var greeting: LMTPReply { LMTPReply(220, nil, "\(limits.hostname) LMTP postdesk ready") }

    /// Whether the session sits between commands with nothing outstanding (where a shutdown may close it).
    var isBetweenCommands: Bool {
        switch phase {
        case .greeted, .ready, .transaction: true
        case .awaitingVerdict, .data, .delivering, .closed: false
        }
    }

    /// Whether the content after DATA is being read.
    var isReadingData: Bool {
        if case .data = phase { return true }
        return false
    }

    /// One command line received.
    mutating func command(_ line: [UInt8]) -> Action {
        let command = LMTPCommand.parse(line)
        switch (command, phase) {
        case (_, .closed), (_, .awaitingVerdict), (_, .data), (_, .delivering):
            // The handler feeds no commands in these phases; answer safely if it ever did.
            return badSequence("not now")
        case (.lhlo, _):
            // RFC 5321 §4.1.4: a second LHLO (like EHLO) resets the transaction.
            phase = .ready
            return .reply(
                LMTPReply(
                    code: 250, enhancedCode: nil,
                    lines: [
                        limits.hostname, "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                        "SIZE \(limits.maximumMessageSize)",
                    ]))
        case (.smtpGreeting(let verb), _):
            // RFC 2033 §4.1: "the LMTP server MUST return a 500 reply" to HELO and EHLO.
            return error(LMTPReply(500, "5.5.1", "\(verb) is SMTP; this is LMTP: use LHLO"))
        case (.quit, _):
            phase = .closed
            return .close(LMTPReply(221, "2.0.0", "\(limits.hostname) closing connection"))
        case (.noop, _):
            return .reply(LMTPReply(250, "2.0.0", "OK"))
        case (.vrfy, _):
            // RFC 5321 §3.5.3: 252 when the server will not verify but will accept mail for the address.
            return .reply(LMTPReply(252, "2.5.0", "cannot VRFY; send the message and RCPT TO decides"))
        case (.rset, .greeted):
            return .reply(LMTPReply(250, "2.0.0", "OK"))
        case (.rset, _):
            phase = .ready
            return .reply(LMTPReply(250, "2.0.0", "OK"))
        case (.syntaxError(_, let reason), _):
            return error(LMTPReply(501, "5.5.4", reason))
        case (.unknown, _):
            return error(LMTPReply(500, "5.5.1", "command not recognized"))
        case (_, .greeted):
            return badSequence("send LHLO first")
        case (.badPath(let verb), _):
            return error(LMTPReply(501, verb == "MAIL" ? "5.1.7" : "5.1.3", "bad address syntax"))
        case (.mail, .transaction):
            return badSequence("a transaction is already open; RSET first")
        case (.mail(let reversePath, let parameters), .ready):
            return mail(reversePath: reversePath, parameters: parameters)
        case (.rcpt, .ready):
            return badSequence("send MAIL FROM first")
        case (.rcpt(_, true), .transaction):
            // RFC 5321 §4.1.1.11: parameters we did not announce are refused with 555.
            return error(LMTPReply(555, "5.5.4", "RCPT TO parameters not recognized"))
        case (.rcpt(let address, false), .transaction(let transaction)):
            guard transaction.recipients.count < limits.maximumRecipients else {
                // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client sends the rest later.
                return .reply(LMTPReply(452, "4.5.3", "too many recipients in one transaction"))
            }
            phase = .awaitingVerdict(transaction, address: address)
            return .askRecipient(address)
        case (.data, .ready):
            return badSequence("send MAIL FROM first")
        case (.data, .transaction(let transaction)):
            // RFC 2033 §4.2: DATA without a successful RCPT must fail with 503.
            guard !transaction.recipients.isEmpty else { return badSequence("no valid recipients") }
            phase = .data(transaction)
            return .startData(LMTPReply(354, nil, "start mail input; end with <CRLF>.<CRLF>"))
        }
    }

    private mutating func mail(reversePath: String, parameters: [LMTPCommand.MailParameter]) -> Action {
        var body = LMTPBodyType.sevenBit
        for parameter in parameters {
            switch parameter {
            case .size(let size) where size > limits.maximumMessageSize:
                // RFC 1870 §6.1: a declared size over the limit is refused at MAIL with 552.
                return .reply(LMTPReply(552, "5.3.4", "message size exceeds fixed maximum message size"))
            case .size:
                continue
            case .body(let declared):
                body = declared
            case .unrecognized(let keyword):
                return error(LMTPReply(555, "5.5.4", "MAIL FROM parameter \(keyword) not recognized"))
            case .invalid(let reason):
                return error(LMTPReply(501, "5.5.4", reason))
            }
        }
        phase = .transaction(Transaction(reversePath: reversePath, body: body))
        return .reply(LMTPReply(250, "2.1.0", "sender ok"))
    }

    /// The owner's verdict on the address asked about.
    mutating func verdict(_ verdict: LMTPRecipientVerdict) -> Action {
        guard case .awaitingVerdict(var transaction, let address) = phase else { return .replies([]) }
        if verdict == .accepted { transaction.recipients.append(address) }
        phase = .transaction(transaction)
        return .reply(verdict.reply(for: address))
    }

    /// The content after DATA ended: `message` is nil when it was over the size limit.
    mutating func dataEnded(message: [UInt8]?) -> Action {
        guard case .data(let transaction) = phase else { return .replies([]) }
        guard let message else {
            phase = .ready
            // RFC 2033 §4.2: one reply per recipient after DATA; RFC 3463 §3.4 5.3.4 "message too big".
            let reply = LMTPReply(
                552, "5.3.4", "message exceeds the fixed maximum of \(limits.maximumMessageSize) bytes")
            return .replies(transaction.recipients.map { _ in reply })
        }
        phase = .delivering(transaction)
        return .deliver(
            LMTPDelivery(
                reversePath: transaction.reversePath, recipients: transaction.recipients, body: transaction.body,
                message: message))
    }

    /// The owner's results for the message handed over; one is owed per recipient, missing ones count as failed.
    mutating func delivered(_ results: [LMTPDeliveryResult]) -> Action {
        guard case .delivering(let transaction) = phase else { return .replies([]) }
        phase = .ready
        return .replies(
            transaction.recipients.enumerated().map { index, address in
                (index < results.count ? results[index] : .temporaryFailure).reply(for: address)
            })
    }

    /// A line the framing could not accept; the session ends.
    mutating func framingFailed(_ failure: CRLFLineReader.Failure) -> Action {
        phase = .closed
        switch failure {
        case .tooLong:
            // RFC 5321 §4.5.3.1.4 and §4.2.2: 500 "line too long".
            return .close(LMTPReply(500, "5.5.2", "line too long; closing connection"))
        case .bareLineFeed:
            return .close(LMTPReply(500, "5.5.2", "lines must end in CRLF; closing connection"))
        }
    }

    /// The server is shutting down: the session ends between commands (RFC 5321 §3.8).
    mutating func shutdown() -> Action {
        phase = .closed
        return .close(LMTPReply(421, "4.3.2", "\(limits.hostname) shutting down; try again later"))
    }

    /// The client sent nothing for too long (RFC 5321 §4.5.3.2.7).
    mutating func timedOut() -> Action {
        phase = .closed
        return .close(LMTPReply(421, "4.4.2", "\(limits.hostname) idle too long; closing connection"))
    }

    private mutating func badSequence(_ text: String) -> Action {
        error(LMTPReply(503, "5.5.1", "bad sequence of commands: \(text)"))
    }

    /// Counts a refused command; past the limit the session ends, so a stream of garbage costs little.
    private mutating func error(_ reply: LMTPReply) -> Action {
        errors += 1
        guard errors <= limits.maximumErrors else {
            phase = .closed
            return .close(LMTPReply(421, "4.7.0", "too many errors; closing connection"))
        }
        return .reply(reply)
    }
}

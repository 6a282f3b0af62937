/// The SMTP client's protocol state as a value: which replies are owed, in order, and the STARTTLS hand-off.
///
/// Every command is answered by exactly one reply (RFC 5321 §4.2); the greeting is owed before any.
/// No business logic: what to send next is the connection's decision.
struct SMTPClientStateMachine {
    /// What a reply we wait for answers.
    enum Expectation: Equatable {
        case greeting
        case command(String)
        case startTLS
    }

    /// What the handler does with a reply.
    enum ReplyAction: Equatable {
        /// Pass the reply on.
        case forward
        /// Pass the reply on; it accepted STARTTLS, so every plaintext byte after it is dropped until TLS is up
        /// (RFC 3207 §4.2: data the server sent before TLS may have been injected).
        case forwardThenDiscardUntilTLS
    }

    private(set) var owed: [Expectation] = [.greeting]
    private var startTLSOutstanding = false

    /// True while the server owes us a reply: the reply deadline runs.
    var isAwaitingReply: Bool { !owed.isEmpty }

    /// A short name of the oldest owed reply, for timeout messages.
    var oldestOwed: String? {
        switch owed.first {
        case .none: nil
        case .greeting: "the greeting"
        case .command(let name): "the reply to \(name)"
        case .startTLS: "the reply to STARTTLS"
        }
    }

    /// Records that `command` is sent. Throws if a STARTTLS reply is still owed: RFC 3207 §4 forbids
    /// pipelining anything after STARTTLS.
    mutating func willSend(_ command: SMTPCommand) throws {
        guard !startTLSOutstanding else {
            throw MailClientError(.protocolViolation, "no command may follow STARTTLS before its reply")
        }
        if case .startTLS = command {
            startTLSOutstanding = true
            owed.append(.startTLS)
        } else {
            owed.append(.command(command.description))
        }
    }

    /// Records a reply. Throws for a reply nobody asked for (a 421 shutdown notice becomes `.connectionClosed`
    /// with the server's words, RFC 5321 §3.8).
    mutating func didReceive(_ reply: SMTPReply) throws -> ReplyAction {
        guard !owed.isEmpty else {
            if reply.code == 421 {
                throw MailClientError(
                    .connectionClosed,
                    "the server is closing the connection",
                    serverText: reply.verbatim,
                    replyCode: reply.code
                )
            }
            throw MailClientError(
                .protocolViolation,
                "the server sent a reply nobody asked for",
                serverText: reply.verbatim,
                replyCode: reply.code
            )
        }
        let expectation = owed.removeFirst()
        if expectation == .startTLS {
            startTLSOutstanding = false
            if reply.code == 220 { return .forwardThenDiscardUntilTLS }
        }
        return .forward
    }
}

/// The POP3 client's protocol state as a value: which answers are owed, in order, and the STLS hand-off.
///
/// Every command is answered by exactly one response (RFC 1939 §3); the greeting is owed first. The shape of
/// each answer (one line or a body) is handed to the decoder by the handler; this only tracks names and STLS.
struct POP3ClientStateMachine {
    /// What an owed response answers.
    enum Expectation: Equatable {
        case greeting
        case command(String)
        case stls
    }

    /// What the handler does with a response.
    enum ResponseAction: Equatable {
        /// Pass it on.
        case forward
        /// Pass it on; it accepted STLS, so plaintext after it is dropped until TLS is up (RFC 2595 §4).
        case forwardThenDiscardUntilTLS
    }

    private(set) var owed: [Expectation] = [.greeting]
    private var stlsOutstanding = false

    /// True while the server owes us a response: the deadline runs.
    var isAwaitingResponse: Bool { !owed.isEmpty }

    /// A short name of the oldest owed response, for timeout messages.
    var oldestOwed: String? {
        switch owed.first {
        case .none: nil
        case .greeting: "the greeting"
        case .command(let name): "the answer to \(name)"
        case .stls: "the answer to STLS"
        }
    }

    /// Records that `command` is sent; nothing may follow STLS before its answer (RFC 2595 §4).
    mutating func willSend(_ command: POP3Command) throws {
        guard !stlsOutstanding else {
            throw MailClientError(.protocolViolation, "no command may follow STLS before its answer")
        }
        if case .stls = command {
            stlsOutstanding = true
            owed.append(.stls)
        } else {
            owed.append(.command(command.description))
        }
    }

    /// Records a response. Throws for one nobody asked for.
    mutating func didReceive(_ response: POP3Response) throws -> ResponseAction {
        guard !owed.isEmpty else {
            throw MailClientError(
                .protocolViolation,
                "the POP3 server sent a response nobody asked for",
                serverText: response.statusLine
            )
        }
        let expectation = owed.removeFirst()
        if expectation == .stls {
            stlsOutstanding = false
            if response.status == .ok { return .forwardThenDiscardUntilTLS }
        }
        return .forward
    }
}

/// The client side of the IMAP command/response dialogue as a value: which tag is outstanding, which literal
/// chunks still wait for a `+`, whether we are idling, and the STARTTLS hand-off. No I/O, no business logic.
struct IMAPClientStateMachine {
    enum IdlePhase: Hashable {
        /// IDLE sent, `+` not yet seen; `doneWanted` when DONE was asked for early.
        case requested(doneWanted: Bool)
        /// `+ idling` seen.
        case accepted
        /// DONE sent; waiting for the tagged response.
        case doneSent
    }

    enum State: Hashable {
        /// Connected, waiting for the server greeting.
        case awaitingGreeting
        /// No command outstanding.
        case ready
        /// Command `tag` outstanding; `chunks` still to send, each after a `+`.
        case sendingLiterals(tag: String, chunks: [[UInt8]], startsTLS: Bool, expectsContinuations: Bool)
        /// Command `tag` fully sent.
        case awaitingCompletion(tag: String, startsTLS: Bool, expectsContinuations: Bool)
        /// IDLE outstanding (RFC 2177).
        case idling(tag: String, IdlePhase)
        /// STARTTLS accepted: every plaintext byte is dropped until the TLS handshake completes
        /// (RFC 3501 §6.2.1; RFC 2595 §3.1).
        case tlsHandoff
        /// The server said BYE or we failed; nothing more is sent.
        case closed
    }

    /// What the handler does with an inbound response.
    enum InboundAction: Hashable {
        /// Pass it on to the connection.
        case forward
        /// Pass it on, and from now on drop plaintext (STARTTLS go-ahead).
        case forwardAndStartTLSHandoff
        /// Swallow it and write `bytes` (the next literal chunk).
        case write([UInt8], lastChunk: Bool)
        /// Swallow the `+`, then write DONE (it was asked for before the server accepted IDLE).
        case writeDone
        /// Drop it (plaintext after the STARTTLS go-ahead).
        case drop
    }

    private(set) var state = State.awaitingGreeting

    /// Whether a command or IDLE is outstanding (the handler's command deadline runs).
    var commandOutstanding: Bool {
        switch self.state {
        case .sendingLiterals, .awaitingCompletion, .idling: return true
        case .awaitingGreeting, .ready, .tlsHandoff, .closed: return false
        }
    }

    /// Starts `command`; returns the first chunk to write. Only one command at a time.
    mutating func sendCommand(_ command: IMAPCommand, literalPlus: Bool) throws -> [UInt8] {
        guard case .ready = self.state else {
            throw MailClientError(.protocolViolation, "client bug: a command was sent while \(self.stateName)")
        }
        var chunks = try IMAPCommandEncoder.encode(command, literalPlus: literalPlus)
        let first = chunks.removeFirst()
        if chunks.isEmpty {
            self.state = .awaitingCompletion(
                tag: command.tag,
                startsTLS: command.startsTLS,
                expectsContinuations: command.expectsContinuations
            )
        } else {
            self.state = .sendingLiterals(
                tag: command.tag,
                chunks: chunks,
                startsTLS: command.startsTLS,
                expectsContinuations: command.expectsContinuations
            )
        }
        return first
    }

    // idle            = "IDLE" CRLF *(continue-req / response-data) "DONE"   (RFC 2177 §3)
    /// Starts IDLE with `tag`; returns the bytes to write.
    mutating func sendIdle(tag: String) throws -> [UInt8] {
        guard case .ready = self.state else {
            throw MailClientError(.protocolViolation, "client bug: IDLE was sent while \(self.stateName)")
        }
        let bytes = try IMAPCommandEncoder.encode(IMAPCommand(tag: tag, [.raw("IDLE")]), literalPlus: false)
        self.state = .idling(tag: tag, .requested(doneWanted: false))
        return bytes[0]
    }

    /// Ends IDLE; returns `DONE\r\n` when it is to be written now, `nil` when not (already sent, or the `+` is
    /// still outstanding, or IDLE already ended).
    mutating func sendDone() -> [UInt8]? {
        guard case .idling(let tag, let phase) = self.state else { return nil }
        switch phase {
        case .requested:
            self.state = .idling(tag: tag, .requested(doneWanted: true))
            return nil
        case .accepted:
            self.state = .idling(tag: tag, .doneSent)
            return Array("DONE\r\n".utf8)
        case .doneSent:
            return nil
        }
    }

    // logout          = "LOGOUT"   (RFC 3501 §6.1.3)
    /// The bytes that end the session politely when its answers will not be read (shutdown): DONE first while
    /// IDLE runs (RFC 2177 §3), then `tag LOGOUT`, pipelined behind a command in flight (RFC 3501 §5.5).
    /// Nothing is sent before the greeting or during a TLS hand-off; the dialogue is closed afterwards.
    mutating func sendFarewell(tag: String) -> [UInt8] {
        let logout = Array("\(tag) LOGOUT\r\n".utf8)
        defer { self.state = .closed }
        switch self.state {
        case .awaitingGreeting, .tlsHandoff, .closed:
            return []
        case .idling(_, .doneSent):
            return logout
        case .idling:
            return Array("DONE\r\n".utf8) + logout
        case .ready, .sendingLiterals, .awaitingCompletion:
            return logout
        }
    }

    /// A continuation line answering the server's `+` during AUTHENTICATE (RFC 3501 §6.2.2).
    mutating func sendContinuation() throws {
        guard case .awaitingCompletion(_, _, true) = self.state else {
            throw MailClientError(.protocolViolation, "client bug: continuation data sent while \(self.stateName)")
        }
    }

    /// Decides what to do with `response`; throws `.protocolViolation` when it breaks the dialogue.
    mutating func receive(_ response: IMAPResponse) throws -> InboundAction {
        switch self.state {
        case .closed:
            return .drop
        case .tlsHandoff:
            return .drop
        case .awaitingGreeting:
            // greeting        = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
            guard case .untagged(.status(let status)) = response,
                status.kind == .ok || status.kind == .preauth || status.kind == .bye
            else {
                throw MailClientError(.protocolViolation, "the server did not start with an IMAP greeting")
            }
            self.state = status.kind == .bye ? .closed : .ready
            return .forward
        case .ready, .sendingLiterals, .awaitingCompletion, .idling:
            break
        }

        switch response {
        case .untagged(.status(let status)) where status.kind == .bye:
            // RFC 3501 §7.1.5: the server is closing; the tagged reply may or may not follow (LOGOUT).
            return .forward
        case .untagged:
            return .forward
        case .continuation:
            return try self.receiveContinuation()
        case .tagged(let tag, let status):
            return try self.receiveTagged(tag: tag, status: status)
        }
    }

    private mutating func receiveContinuation() throws -> InboundAction {
        switch self.state {
        case .sendingLiterals(let tag, var chunks, let startsTLS, let expectsContinuations):
            let next = chunks.removeFirst()
            if chunks.isEmpty {
                self.state = .awaitingCompletion(
                    tag: tag,
                    startsTLS: startsTLS,
                    expectsContinuations: expectsContinuations
                )
            } else {
                self.state = .sendingLiterals(
                    tag: tag,
                    chunks: chunks,
                    startsTLS: startsTLS,
                    expectsContinuations: expectsContinuations
                )
            }
            return .write(next, lastChunk: chunks.isEmpty)
        case .awaitingCompletion(_, _, true):
            return .forward
        case .idling(let tag, .requested(let doneWanted)):
            if doneWanted {
                self.state = .idling(tag: tag, .doneSent)
                return .writeDone
            }
            self.state = .idling(tag: tag, .accepted)
            return .forward
        default:
            throw MailClientError(.protocolViolation, "unexpected continuation request while \(self.stateName)")
        }
    }

    private mutating func receiveTagged(tag: String, status: IMAPStatusResponse) throws -> InboundAction {
        let expected: String
        var startsTLS = false
        switch self.state {
        case .sendingLiterals(let outstanding, _, _, _):
            // The server refused a literal (NO/BAD instead of "+"): the command is over.
            expected = outstanding
        case .awaitingCompletion(let outstanding, let tls, _):
            expected = outstanding
            startsTLS = tls
        case .idling(let outstanding, _):
            expected = outstanding
        default:
            throw MailClientError(
                .protocolViolation,
                "tagged response \(tag.prefix(20)) while no command is outstanding"
            )
        }
        guard tag == expected else {
            throw MailClientError(
                .protocolViolation,
                "tagged response \(tag.prefix(20)) does not match the outstanding command \(expected)"
            )
        }
        if startsTLS && status.kind == .ok {
            self.state = .tlsHandoff
            return .forwardAndStartTLSHandoff
        }
        self.state = .ready
        return .forward
    }

    /// The TLS handshake after STARTTLS completed: commands may flow again.
    mutating func tlsHandshakeCompleted() {
        if case .tlsHandoff = self.state {
            self.state = .ready
        }
    }

    /// The connection is over; nothing more is sent or forwarded.
    mutating func close() {
        self.state = .closed
    }

    private var stateName: String {
        switch self.state {
        case .awaitingGreeting: return "waiting for the greeting"
        case .ready: return "ready"
        case .sendingLiterals(let tag, _, _, _): return "sending literals of \(tag)"
        case .awaitingCompletion(let tag, _, _): return "waiting for \(tag) to complete"
        case .idling(let tag, _): return "idling (\(tag))"
        case .tlsHandoff: return "switching to TLS"
        case .closed: return "closed"
        }
    }
}

import Testing

@testable import MailClients

/// Several mail transactions in one session: refusals are outcomes, not errors, and RSET follows a transaction
/// that failed before its content (RFC 5321 §4.1.1.5).
@Suite("SMTP transactions in one session")
struct SMTPTransactionTests {
    static let open: [SMTPScriptStep] = [
        .server("220 mx ESMTP\r\n"), .client("EHLO desk.test\r\n"), .server("250-mx\r\n250 8BITMIME\r\n"),
    ]

    static func accepted(_ recipient: String, id: String) -> [SMTPScriptStep] {
        [
            .client("MAIL FROM:<desk@desk.test>\r\n"), .server("250 2.1.0 Ok\r\n"),
            .client("RCPT TO:<\(recipient)>\r\n"), .server("250 2.1.5 Ok\r\n"),
            .client("DATA\r\n"), .server("354 go ahead\r\n"),
            .client("x\r\n.\r\n"), .server("250 2.0.0 Ok: queued as \(id)\r\n"),
        ]
    }

    static let message = Array("x\n".utf8)

    @Test("refused recipients, DATA and content, each followed by the next message over the same session")
    func refusalsKeepTheSession() async throws {
        let outcomes = try await runSMTPScript(
            Self.open + [
                // All recipients refused: RSET, then the next transaction.
                .client("MAIL FROM:<desk@desk.test>\r\n"), .server("250 Ok\r\n"),
                .client("RCPT TO:<a@x.test>\r\n"), .server("550 5.1.1 unknown\r\n"),
                .client("RCPT TO:<b@x.test>\r\n"), .server("450 4.2.1 try later\r\n"),
                .client("RSET\r\n"), .server("250 Ok\r\n"),
                // DATA refused: RSET.
                .client("MAIL FROM:<desk@desk.test>\r\n"), .server("250 Ok\r\n"),
                .client("RCPT TO:<a@x.test>\r\n"), .server("250 Ok\r\n"),
                .client("DATA\r\n"), .server("554 5.7.1 policy\r\n"),
                .client("RSET\r\n"), .server("250 Ok\r\n"),
                // Content refused after the dot: the transaction is over, no RSET.
                .client("MAIL FROM:<desk@desk.test>\r\n"), .server("250 Ok\r\n"),
                .client("RCPT TO:<a@x.test>\r\n"), .server("250 Ok\r\n"),
                .client("DATA\r\n"), .server("354 go ahead\r\n"),
                .client("x\r\n.\r\n"), .server("451 4.3.0 later\r\n"),
            ] + Self.accepted("a@x.test", id: "Q4")
        ) { connection in
            var outcomes: [SMTPTransactionOutcome] = []
            outcomes.append(
                try await connection.transaction(Self.message, from: "desk@desk.test", to: ["a@x.test", "b@x.test"]))
            for _ in 0..<3 {
                outcomes.append(
                    try await connection.transaction(Self.message, from: "desk@desk.test", to: ["a@x.test"]))
            }
            return outcomes
        }
        #expect(
            outcomes[0]
                == .recipientsRefused([
                    SMTPRecipientRejection(address: "a@x.test", reply: SMTPReply(code: 550, lines: ["5.1.1 unknown"])),
                    SMTPRecipientRejection(
                        address: "b@x.test", reply: SMTPReply(code: 450, lines: ["4.2.1 try later"])),
                ]))
        #expect(outcomes[1] == .dataRefused(SMTPReply(code: 554, lines: ["5.7.1 policy"]), rejectedRecipients: []))
        #expect(outcomes[2] == .contentRefused(SMTPReply(code: 451, lines: ["4.3.0 later"]), rejectedRecipients: []))
        guard case .accepted(let receipt) = outcomes[3] else {
            Issue.record("expected the fourth message to be accepted, got \(outcomes[3])")
            return
        }
        #expect(receipt.serverText == "250 2.0.0 Ok: queued as Q4")
    }

    @Test("a 421 ends the transaction without RSET: the server is closing the session")
    func serverClosing() async throws {
        let outcome = try await runSMTPScript(
            Self.open + [
                .client("MAIL FROM:<desk@desk.test>\r\n"), .server("250 Ok\r\n"),
                .client("RCPT TO:<a@x.test>\r\n"), .server("421 4.7.0 mx closing connection\r\n"),
                // What the client sends next must be our NOOP, not an RSET.
                .client("NOOP\r\n"), .server("250 Ok\r\n"),
            ]
        ) { connection in
            let outcome = try await connection.transaction(
                Self.message, from: "desk@desk.test", to: ["a@x.test", "b@x.test"])
            try await connection.noop()
            return outcome
        }
        #expect(outcome == .serverClosing(SMTPReply(code: 421, lines: ["4.7.0 mx closing connection"])))
    }

    @Test("an address that would break the command line is unsendable and nothing is written")
    func unsendable() async throws {
        let outcome = try await runSMTPScript(Self.open + [.client("NOOP\r\n"), .server("250 Ok\r\n")]) { connection in
            let outcome = try await connection.transaction(
                Self.message, from: "desk@desk.test", to: ["a@x.test>\r\nRCPT TO:<evil@x.test"])
            try await connection.noop()
            return outcome
        }
        guard case .unsendable(let reason) = outcome else {
            Issue.record("expected unsendable, got \(outcome)")
            return
        }
        #expect(reason.contains("control characters"))
    }

    @Test("checkSender sends MAIL FROM then RSET, and returns a refusal without throwing")
    func checkSender() async throws {
        let replies = try await runSMTPScript(
            Self.open + [
                .client("MAIL FROM:<desk@desk.test>\r\n"), .server("250 2.1.0 Ok\r\n"),
                .client("RSET\r\n"), .server("250 2.0.0 Ok\r\n"),
                .client("MAIL FROM:<other@desk.test>\r\n"), .server("553 5.7.1 not owned by user\r\n"),
            ]
        ) { connection in
            [try await connection.checkSender("desk@desk.test"), try await connection.checkSender("other@desk.test")]
        }
        #expect(replies.map(\.code) == [250, 553])
    }
}

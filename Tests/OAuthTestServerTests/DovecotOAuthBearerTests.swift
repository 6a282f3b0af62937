import Foundation
import Logging
import MailClients
import MailServerHarness
import OAuthTestServer
import Testing

/// The three protocols a token logs in with.
enum MailProtocol: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case imap = "IMAP"
    case pop3 = "POP3"
    case submission = "SMTP submission"

    var testDescription: String { rawValue }

    /// The protocol's STARTTLS port on `servers`.
    func endpoint(_ servers: MailServers) -> MailServerEndpoint {
        let port =
            switch self {
            case .imap: servers.imapPort
            case .pop3: servers.pop3Port
            case .submission: servers.submissionPort
            }
        return MailServerEndpoint(host: "127.0.0.1", port: port, tls: .starttls, caFile: servers.caFile)
    }

    /// Dovecot's login process for the protocol, as its log lines name it (`imap-login: Login: … method=…`).
    var loginProcess: String {
        switch self {
        case .imap: "imap-login"
        case .pop3: "pop3-login"
        case .submission: "submission-login"
        }
    }

    /// Logs in with `credentials` and does one harmless command, so a success is a real session.
    func login(_ servers: MailServers, _ credentials: MailCredentials, logger: Logger) async throws {
        let endpoint = endpoint(servers)
        switch self {
        case .imap:
            try await IMAPClient.withConnection(to: endpoint, logger: logger) { imap in
                try await imap.login(credentials)
                _ = try await imap.select("INBOX", readOnly: true)
            }
        case .pop3:
            try await POP3Client.withConnection(to: endpoint, logger: logger) { pop3 in
                try await pop3.login(credentials)
                _ = try await pop3.stat()
            }
        case .submission:
            try await SMTPClient.withConnection(
                to: endpoint, credentials: credentials, heloName: "desk.test", logger: logger
            ) { smtp in _ = try await smtp.noop() }
        }
    }
}

@Suite("Real Dovecot takes OAUTHBEARER and XOAUTH2 over IMAP, POP3 and submission")
struct DovecotOAuthBearerTests {
    static let user = DovecotOAuth2Tests.user

    /// The `method=` of Dovecot's successful login lines for `process`, in order.
    static func loginMethods(_ servers: MailServers, _ process: String) -> [String] {
        let log = (try? String(contentsOfFile: servers.dovecotLog, encoding: .utf8)) ?? ""
        // e.g. "imap-login: Info: Login: user=<help@oauth.test>, method=OAUTHBEARER, rip=127.0.0.1, …"
        let lines = log.split(separator: "\n").filter { $0.contains("\(process): ") && $0.contains(" Login: user=") }
        return lines.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("method=") }.map {
                String($0.dropFirst("method=".count).prefix { $0 != "," })
            }
        }
    }

    @Test(
        "automatic picks OAUTHBEARER, a forced XOAUTH2 works, a revoked token is refused with the JSON status decoded",
        arguments: MailProtocol.allCases)
    func loginsAndRefusals(_ mailProtocol: MailProtocol) async throws {
        try await withOAuthServer { server in
            try await DovecotOAuth2Tests.withDovecot(server) { servers, _ in
                let capture = CapturedLog()
                let logger = capture.logger(label: "DovecotOAuthBearerTests")
                let tokens = try server.issueTokens(clientID: "desk-ms", user: Self.user)
                let token = tokens.accessToken
                let asked = server.introspectionCount

                try await mailProtocol.login(servers, .oauth2(username: Self.user, accessToken: token), logger: logger)
                try await mailProtocol.login(
                    servers, .oauth2(username: Self.user, accessToken: token, mechanism: .oauthBearer), logger: logger)
                try await mailProtocol.login(
                    servers, .oauth2(username: Self.user, accessToken: token, mechanism: .xoauth2), logger: logger)
                #expect(server.introspectionCount >= asked + 3, "Dovecot must ask the introspection endpoint")
                // Dovecot writes its login lines a moment after the client is told OK.
                var methods: [String] = []
                for _ in 0..<100 {
                    methods = Self.loginMethods(servers, mailProtocol.loginProcess)
                    if methods.count >= 3 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(methods == ["OAUTHBEARER", "OAUTHBEARER", "XOAUTH2"], "see \(servers.dovecotLog)")

                server.revokeGrants(of: Self.user)
                // Dovecot 2.3.19's challenges: {"status":"invalid_token"} for OAUTHBEARER,
                // {"status":"401","schemes":"bearer","scope":"mail"} for XOAUTH2.
                let expected: [(OAuthMechanism, OAuthBearerFailure)] = [
                    (.automatic, OAuthBearerFailure(status: "invalid_token")),
                    (.xoauth2, OAuthBearerFailure(status: "401", scope: "mail")),
                ]
                for (mechanism, failure) in expected {
                    let refused = await #expect(throws: MailClientError.self) {
                        try await mailProtocol.login(
                            servers, .oauth2(username: Self.user, accessToken: token, mechanism: mechanism),
                            logger: logger)
                    }
                    #expect(refused?.code == .authenticationFailed, "\(mechanism): \(String(describing: refused))")
                    #expect(refused?.oauthFailure == failure, "\(mechanism): \(String(describing: refused))")
                    #expect(refused.map { !"\($0)".contains(token) } == true)
                }
                let lines = capture.all
                #expect(!lines.isEmpty, "the trace logger must have seen the sessions")
                #expect(!lines.contains { $0.contains(token) }, "a log line holds the access token")
            }
        }
    }

    @Test("submission with OAUTHBEARER relays a message through OpenSMTPD into the recipient's Dovecot INBOX")
    func submissionRelays() async throws {
        try await withOAuthServer { server in
            try await DovecotOAuth2Tests.withDovecot(server) { servers, _ in
                try servers.addUser("customer@desk.test", password: "secret")
                let tokens = try server.issueTokens(clientID: "desk-ms", user: Self.user)
                let subject = "relayed \(UUID().uuidString)"
                let message = Array(
                    "From: \(Self.user)\r\nTo: customer@desk.test\r\nSubject: \(subject)\r\n\r\nHello over submission\r\n"
                        .utf8)
                let receipt = try await SMTPClient.send(
                    message, from: Self.user, to: ["customer@desk.test"],
                    via: MailProtocol.submission.endpoint(servers),
                    credentials: .oauth2(username: Self.user, accessToken: tokens.accessToken),
                    heloName: "desk.test", logger: DovecotOAuth2Tests.logger)
                #expect(receipt.acceptedRecipients == ["customer@desk.test"])
                let inbox = try await servers.waitForMessages(1, in: "customer@desk.test", timeout: .seconds(20))
                #expect(inbox.contains { $0.raw.contains("Subject: \(subject)") })

                // A password user of the other domains submits with PLAIN, as before.
                _ = try await SMTPClient.send(
                    message, from: "customer@desk.test", to: ["customer@desk.test"],
                    via: MailProtocol.submission.endpoint(servers),
                    credentials: MailCredentials(username: "customer@desk.test", password: "secret"),
                    heloName: "desk.test", logger: DovecotOAuth2Tests.logger)
                #expect(
                    try await servers.waitForMessages(2, in: "customer@desk.test", timeout: .seconds(20)).count == 2)
            }
        }
    }
}

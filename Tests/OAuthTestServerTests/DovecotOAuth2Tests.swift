import Foundation
import Logging
import MailClients
import MailServerHarness
import OAuthTestServer
import Testing

@Suite("Real Dovecot checks OAuth tokens at the test server's introspection endpoint")
struct DovecotOAuth2Tests {
    static let logger = Logger(label: "DovecotOAuth2Tests")
    static let user = "help@oauth.test"

    /// A private Dovecot whose oauth2 passdb asks `server`, with an oauth user holding one message and a password
    /// user; stopped after `body`.
    static func withDovecot(
        _ server: OAuthTestServer, _ body: (MailServers, MailServerEndpoint) async throws -> Void
    ) async throws {
        let credentials = try #require(server.configuration.introspectionCredentials)
        let servers = try await MailServers.start(
            oauth2: OAuth2Passdb(
                introspectionURL: server.introspectionURL, clientID: credentials.id,
                clientSecret: credentials.secret))
        defer { servers.stop() }
        try servers.addOAuthUser(user)
        try servers.deliver(Array("From: a@customer.test\r\nSubject: hi\r\n\r\nBody\r\n".utf8), to: user)
        try await body(
            servers,
            MailServerEndpoint(host: "127.0.0.1", port: servers.imapPort, tls: .starttls, caFile: servers.caFile))
    }

    static func imapLogin(_ endpoint: MailServerEndpoint, _ credentials: MailCredentials) async throws -> Int {
        try await IMAPClient.withConnection(to: endpoint, logger: logger) { imap in
            try await imap.login(credentials)
            return try await imap.select("INBOX", readOnly: true).exists
        }
    }

    @Test("IMAP XOAUTH2 with a device-flow token logs in; expired, revoked and another user's tokens are refused")
    func imapXOAuth2() async throws {
        try await withOAuthServer { server in
            try await Self.withDovecot(server) { servers, endpoint in
                let start = try await startDeviceFlow(server, clientID: "desk-ms")
                try server.approve(userCode: try #require(start.string("user_code")), as: Self.user)
                let tokens = try await pollDeviceCode(server, try #require(start.string("device_code")))
                let access = try #require(tokens.string("access_token"))

                let asked = server.introspectionCount
                let good = MailCredentials.oauth2(username: Self.user, accessToken: access)
                #expect(try await Self.imapLogin(endpoint, good) == 1)
                #expect(server.introspectionCount > asked, "Dovecot must ask the introspection endpoint")

                // Each refusal is followed by a good login: Dovecot's per-address auth penalty (2, 4, 8, 15 s)
                // starts over after a success, so the test stays short.
                // Users of the other domains keep their passwords.
                try servers.addUser("pw@desk.test", password: "secret")
                #expect(
                    try await Self.imapLogin(endpoint, MailCredentials(username: "pw@desk.test", password: "secret"))
                        == 0)
                // The token is not a password, and the oauth user has none.
                let asPassword = await #expect(throws: MailClientError.self) {
                    try await Self.imapLogin(endpoint, MailCredentials(username: Self.user, password: access))
                }
                #expect(asPassword?.code == .authenticationFailed)
                #expect(try await Self.imapLogin(endpoint, good) == 1)

                // Someone else's valid token does not open this mailbox (username_attribute).
                let other = try server.issueTokens(clientID: "desk-ms", user: "other@oauth.test")
                let foreign = await #expect(throws: MailClientError.self) {
                    try await Self.imapLogin(endpoint, .oauth2(username: Self.user, accessToken: other.accessToken))
                }
                #expect(foreign?.code == .authenticationFailed)
                #expect(try await Self.imapLogin(endpoint, good) == 1)

                // Expired: the server's clock passes expires_in; a refreshed token works again.
                server.clock.advance(by: .seconds(3601))
                let expired = await #expect(throws: MailClientError.self) {
                    try await Self.imapLogin(endpoint, good)
                }
                #expect(expired?.code == .authenticationFailed)
                let renewed = try await refresh(server, try #require(tokens.string("refresh_token")))
                let fresh = try #require(renewed.string("access_token"))
                #expect(try await Self.imapLogin(endpoint, .oauth2(username: Self.user, accessToken: fresh)) == 1)

                // Revoked ("password changed"): the same token is refused from now on.
                server.revokeGrants(of: Self.user)
                let revoked = await #expect(throws: MailClientError.self) {
                    try await Self.imapLogin(endpoint, .oauth2(username: Self.user, accessToken: fresh))
                }
                #expect(revoked?.code == .authenticationFailed)
            }
        }
    }

    @Test("POP3 AUTH XOAUTH2 with a fresh token logs in and a revoked one is refused")
    func pop3XOAuth2() async throws {
        try await withOAuthServer { server in
            try await Self.withDovecot(server) { servers, _ in
                let endpoint = MailServerEndpoint(
                    host: "127.0.0.1", port: servers.pop3Port, tls: .starttls, caFile: servers.caFile)
                let tokens = try server.issueTokens(clientID: "desk-ms", user: Self.user)
                let credentials = MailCredentials.oauth2(username: Self.user, accessToken: tokens.accessToken)
                let count = try await POP3Client.withConnection(to: endpoint, logger: Self.logger) { pop3 in
                    try await pop3.login(credentials)
                    return try await pop3.stat().count
                }
                #expect(count == 1)
                server.revokeGrants(of: Self.user)
                let error = await #expect(throws: MailClientError.self) {
                    try await POP3Client.withConnection(to: endpoint, logger: Self.logger) { pop3 in
                        try await pop3.login(credentials)
                    }
                }
                #expect(error?.code == .authenticationFailed)
            }
        }
    }

    // This test once drove OAUTHBEARER over a blocking socket (MailClients did not speak it). A blocking recv holds
    // a thread of Swift's cooperative pool (2 threads on a 2-core machine) while Dovecot waits for this process's
    // introspection endpoint, which needs a pool thread to answer; when another suite blocked the second thread
    // (HarnessTests' synchronous process waits), the introspection timed out and Dovecot answered
    // "NO [UNAVAILABLE] Temporary authentication failure". The async client leaves the pool free.
    @Test("IMAP AUTHENTICATE OAUTHBEARER (RFC 7628 §3.1) with a fresh token logs in; a revoked one gets the JSON error")
    func oauthBearer() async throws {
        try await withOAuthServer { server in
            try await Self.withDovecot(server) { _, endpoint in
                let tokens = try server.issueTokens(clientID: "desk-ms", user: Self.user)
                let credentials = MailCredentials.oauth2(
                    username: Self.user, accessToken: tokens.accessToken, mechanism: .oauthBearer)
                #expect(try await Self.imapLogin(endpoint, credentials) == 1)

                server.revokeGrants(of: Self.user)
                // §3.2.2: the server sends a JSON error challenge, the client answers with a lone ^A, then NO.
                let refused = await #expect(throws: MailClientError.self) {
                    try await Self.imapLogin(endpoint, credentials)
                }
                #expect(refused?.code == .authenticationFailed)
                #expect(refused?.oauthFailure?.status == "invalid_token", "\(String(describing: refused))")
                #expect(refused?.serverText?.contains("\"status\"") == true)
            }
        }
    }
}

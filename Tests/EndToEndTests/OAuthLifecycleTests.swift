import Foundation
import MailServerHarness
import OAuthTestServer
import Testing

/// The whole life of an OAuth 2.0 mailbox through the real binary, a real Dovecot that checks every token at the
/// test authorization server's introspection endpoint, and that server: linked by the device flow, refreshed with
/// rotation (the server refuses a rotated-away refresh token, so a rotation postdesk did not save would kill the
/// grant), revoked by a password change → needs-attention with the provider's words explained → reauthorized
/// without unlinking, and the mail that arrived meanwhile becomes requests.
@Suite("OAuth 2.0 mailbox lifecycle, end to end", .serialized, .timeLimit(.minutes(4)))
struct OAuthLifecycleTests {
    static let user = "help@oauth.test"
    static let customer = "carol@customer.test"
    static let scopes = [
        "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access",
    ]

    struct Health: Decodable {
        struct Grant: Decodable {
            var app: String
            var lastRefreshAt: Date?
            var refreshCount: Int
            var failure: String?
        }
        struct Mailbox: Decodable {
            var address: String
            var state: String
            var detail: String?
            var oauth: Grant?
        }
        struct Relay: Decodable {
            var state: String
            var oauth: Grant?
        }
        var channels: [Mailbox]
        var relay: Relay
    }

    /// Runs a CLI command on a thread of its own (it waits for the device flow), so the test can approve the code
    /// meanwhile without a blocked thread of the cooperative pool.
    static func runDetached(_ desk: PostdeskProcess, _ arguments: [String]) async throws -> (
        status: Int32, out: String, err: String
    ) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try desk.run(arguments) }) }
        }
    }

    /// Approves the first device code that shows up at the authorization server, as the user would in a browser.
    static func approveNextCode(_ server: OAuthTestServer, as user: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let code = server.pendingUserCodes().first {
                try server.approve(userCode: code, as: user)
                return code
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PostdeskTestError("no device code was requested within 30 s")
    }

    static func mail(_ subject: String) -> [UInt8] {
        Array(
            """
            From: Carol <\(customer)>\r
            To: \(user)\r
            Subject: \(subject)\r
            Message-ID: <\(UUID().uuidString)@customer.test>\r
            Date: Tue, 01 Dec 2026 10:00:00 +0000\r
            \r
            \(subject), please.\r

            """.utf8)
    }

    @Test("device-flow link, rotated refreshes, revocation diagnosed, reauthorize keeps the mail that came meanwhile")
    func lifecycle() async throws {
        var configuration = OAuthTestServerConfiguration()
        configuration.pollingInterval = 1
        configuration.accessTokenLifetime = 8
        configuration.refreshTokenRotation = .rotate
        try await withOAuthDesk(
            configuration, clients: [OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: Self.scopes)]
        ) { server, servers, desk in
            try await lifecycle(server: server, servers: servers, desk: desk)
        }
    }

    private func lifecycle(server: OAuthTestServer, servers: MailServers, desk: PostdeskProcess) async throws {
        try servers.addOAuthUser(Self.user)
        try desk.createProject("OA", name: "OAuth desk", signup: "public")
        var app = [
            "oauth", "app", "add", "entra", "--provider", "custom", "--client-id", "desk-ms", "--token-url",
            server.tokenURL, "--device-authorization-url", server.deviceAuthorizationURL, "--authorization-url",
            server.authorizationURL,
        ]
        for scope in Self.scopes { app += ["--scope", scope] }
        try desk.ok(app)

        // Link by the device flow: the CLI prints the code and waits; the "user" approves it at the server.
        async let linking = Self.runDetached(
            desk,
            [
                "channel", "add", "OA", "--address", Self.user, "--protocol", "imap", "--host", "127.0.0.1", "--port",
                "\(servers.imapPort)", "--tls", "starttls", "--ca-file", servers.caFile, "--oauth-app", "entra",
                "--request-type", "Help",
            ])
        let code = try await Self.approveNextCode(server, as: Self.user)
        let linked = try await linking
        #expect(linked.status == 0, "channel add failed: \(linked.err)")
        #expect(linked.out.contains("enter the code \(code)"), "\(linked.out)")
        #expect(linked.out.contains("Linked \(Self.user) to project OA"), "\(linked.out)")

        try servers.deliver(Self.mail("First request"), to: Self.user)
        _ = try await desk.eventually("the first mail as OA-1") {
            try desk.json([QueueRow].self, ["queue", "OA"]).count == 1 ? true : nil
        }

        // Tokens live 8 s; postdesk refreshes at 3/4 of their life. Two refreshes on a rotating server: the second
        // is sent with the refresh token the first rotated in, so it succeeds only if that one was saved.
        _ = try await desk.eventually("two refreshes", timeout: .seconds(45)) {
            server.refreshCount(of: Self.user) >= 2 ? true : nil
        }
        let refreshed = try #require(try desk.json(Health.self, ["status"]).channels.first?.oauth)
        #expect(refreshed.app == "entra")
        #expect(refreshed.refreshCount >= 2)
        #expect(refreshed.lastRefreshAt != nil)
        #expect(refreshed.failure == nil)
        #expect(try desk.ok(["status"]).contains("refreshed"), "status shows the last refresh")
        // A new login works with the refreshed token (channel test refreshes and logs in anew).
        let test = try desk.run(["channel", "test", Self.user])
        #expect(test.status == 0, "channel test: \(test.out) \(test.err)")

        // A password change at the provider revokes the grant; the next refresh is refused with AADSTS50173.
        #expect(server.revokeGrants(of: Self.user, reason: .passwordChanged) >= 1)
        let attention = try await desk.eventually("needs-attention after the revocation", timeout: .seconds(45)) {
            try desk.json(Health.self, ["status"]).channels.first { $0.state == "needs-attention" }
        }
        let detail = attention.detail ?? ""
        #expect(detail.contains("AADSTS50173"), "the provider's words: \(detail)")
        #expect(detail.contains("password"), "explained: \(detail)")
        #expect(detail.contains("reauthorize"), "the fix: \(detail)")

        // Mail keeps arriving while the mailbox waits for a new sign-in.
        try servers.deliver(Self.mail("Second request"), to: Self.user)
        try servers.deliver(Self.mail("Third request"), to: Self.user)

        async let reauthorizing = Self.runDetached(desk, ["channel", "reauthorize", Self.user, "--oauth-app", "entra"])
        _ = try await Self.approveNextCode(server, as: Self.user)
        let reauthorized = try await reauthorizing
        #expect(reauthorized.status == 0, "reauthorize failed: \(reauthorized.err)")
        #expect(reauthorized.out.contains("Reauthorized \(Self.user)"), "\(reauthorized.out)")

        let queue = try await desk.eventually("the mail of the outage as requests", timeout: .seconds(30)) {
            let rows = try desk.json([QueueRow].self, ["queue", "OA"])
            return rows.count == 3 ? rows : nil
        }
        #expect(Set(queue.map(\.summary)) == ["First request", "Second request", "Third request"])
        let health = try desk.json(Health.self, ["status"])
        #expect(health.channels.first?.state != "needs-attention")
        #expect(health.channels.first?.oauth?.failure == nil)

        // No token ever reaches the log.
        let log = desk.serverLog
        for grant in server.grants(of: Self.user) {
            for token in grant.validRefreshTokens + grant.activeAccessTokens {
                #expect(!log.contains(token), "a token is in the server log")
            }
        }
    }

    @Test("the SMTP relay signs in with OAuth 2.0: smtp set --oauth-app, then notifications go out by submission")
    func relay() async throws {
        var configuration = OAuthTestServerConfiguration()
        configuration.pollingInterval = 1
        try await withOAuthDesk(
            configuration, clients: [OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: Self.scopes)]
        ) { server, servers, desk in
            try await relay(server: server, servers: servers, desk: desk)
        }
    }

    private func relay(server: OAuthTestServer, servers: MailServers, desk: PostdeskProcess) async throws {
        let support = "support@desk.test"
        try servers.addOAuthUser(Self.user)
        try servers.addUser(support, password: "secret")
        try servers.addUser(Self.customer, password: "secret")
        try desk.createProject("RL", name: "Relay desk", signup: "public")
        var app = [
            "oauth", "app", "add", "entra", "--provider", "custom", "--client-id", "desk-ms", "--token-url",
            server.tokenURL, "--device-authorization-url", server.deviceAuthorizationURL,
        ]
        for scope in Self.scopes { app += ["--scope", scope] }
        try desk.ok(app)

        // The relay: Dovecot's submission service, which checks the token at the authorization server.
        async let setting = Self.runDetached(
            desk,
            [
                "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.submissionPort)", "--tls", "starttls",
                "--ca-file", servers.caFile, "--from", Self.user, "--username", Self.user, "--oauth-app", "entra",
            ])
        _ = try await Self.approveNextCode(server, as: Self.user)
        let set = try await setting
        #expect(set.status == 0, "smtp set failed: \(set.err) \(set.out)")
        #expect(set.out.contains("SMTP relay set"), "\(set.out)")
        #expect(try desk.json(Health.self, ["status"]).relay.oauth?.app == "entra")
        // The app is in use: it cannot be removed from under the relay.
        #expect(try desk.run(["oauth", "app", "remove", "entra"]).err.contains("the SMTP relay"))

        let passwordFile = desk.dataDirectory.appendingPathComponent("pw.txt")
        try Data("secret\n".utf8).write(to: passwordFile)
        try desk.ok([
            "channel", "add", "RL", "--address", support, "--protocol", "imap", "--host", "127.0.0.1", "--port",
            "\(servers.imapPort)", "--tls", "none", "--password-file", passwordFile.path, "--request-type", "Help",
        ])
        var mail = Self.mail("Relay me")
        mail = Array(String(decoding: mail, as: UTF8.self).replacingOccurrences(of: Self.user, with: support).utf8)
        try servers.deliver(mail, to: support)
        let request = try await desk.eventually("the mail as a request") {
            try desk.json([QueueRow].self, ["queue", "RL"]).first
        }
        try desk.ok(["request", "comment", request.key, "--author", "agent@desk.test", "--body", "On our way"])
        let delivered = try await servers.waitForMessages(1, in: Self.customer, timeout: .seconds(30))
        #expect(delivered.first?.raw.contains("On our way") == true)
        #expect(try desk.json(Health.self, ["status"]).relay.state == "ok")
        #expect(try String(contentsOfFile: servers.dovecotLog, encoding: .utf8).contains("method=OAUTHBEARER"))
    }
}

import Foundation
import MailServerHarness
import OAuthTestServer
import Testing

/// Runs `body` with the parts every OAuth end-to-end test needs: the test authorization server (with `clients`
/// registered), a private Dovecot whose oauth2 passdb asks that server's introspection endpoint, and a started
/// postdesk. All three are stopped afterwards; a failure records the server's log first.
func withOAuthDesk(
    _ configuration: OAuthTestServerConfiguration, clients: [OAuthClientRegistration],
    _ body: (OAuthTestServer, MailServers, PostdeskProcess) async throws -> Void
) async throws {
    try await OAuthTestServer.with(configuration, registering: clients) { server in
        let desk = try PostdeskProcess()
        var servers: MailServers?
        do {
            let credentials = try #require(server.configuration.introspectionCredentials)
            let started = try await MailServers.start(
                oauth2: OAuth2Passdb(
                    introspectionURL: server.introspectionURL, clientID: credentials.id,
                    clientSecret: credentials.secret))
            servers = started
            try await desk.start()
            try await body(server, started, desk)
            try await desk.stop()
            started.stop()
        } catch {
            Issue.record("server log:\n\(desk.serverLog.suffix(6000))")
            try? await desk.stop()
            servers?.stop()
            throw error
        }
    }
}

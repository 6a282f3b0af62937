import Foundation
import Testing

/// `postdesk oauth app add`, `list` and `remove` through the real binary and server: the client secret goes in
/// from a file or stdin and never comes back out, in the list's text, its JSON or the server's log.
@Suite("OAuth app registrations, end to end", .serialized, .timeLimit(.minutes(2)))
struct OAuthAppCommandTests {
    struct App: Decodable {
        var name: String
        var provider: String
        var clientId: String
        var tenant: String?
        var tokenURL: String
        var deviceAuthorizationURL: String?
        var scopes: [String]
        var secretSet: Bool
    }

    @Test("apps are added from a secret file and stdin, listed without their secrets, and removed")
    func addListRemove() async throws {
        let desk = try PostdeskProcess()
        try await desk.start()
        let fileSecret = "file-secret-7b3a91"
        let stdinSecret = "stdin-secret-e40c22"
        let secretFile = desk.dataDirectory.appendingPathComponent("client-secret.txt")
        try Data((fileSecret + "\n").utf8).write(to: secretFile)

        try desk.ok([
            "oauth", "app", "add", "test", "--provider", "custom", "--client-id", "postdesk-test",
            "--client-secret-file", secretFile.path, "--token-url", "http://127.0.0.1:9/token",
            "--device-authorization-url", "http://127.0.0.1:9/device", "--scope", "imap", "--scope", "smtp",
        ])
        let added = try desk.ok(
            [
                "oauth", "app", "add", "m365", "--provider", "microsoft", "--client-id", "1111-2222",
                "--client-secret-file", "-",
            ],
            stdin: stdinSecret + "\n")
        #expect(added.contains("Registered OAuth app m365"), "\(added)")
        try desk.ok([
            "oauth", "app", "add", "public", "--provider", "google", "--client-id", "g.apps.googleusercontent.com",
        ])

        let text = try desk.ok(["oauth", "app", "list"])
        for secret in [fileSecret, stdinSecret] { #expect(!text.contains(secret), "\(text)") }
        #expect(text.contains("m365: microsoft, client id 1111-2222, tenant organizations, secret set"), "\(text)")
        #expect(text.contains("public: google, client id g.apps.googleusercontent.com, no secret"), "\(text)")
        #expect(text.contains("https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"), "\(text)")
        #expect(text.contains("imap smtp"), "\(text)")

        let json = try desk.run(["oauth", "app", "list", "--json"])
        for secret in [fileSecret, stdinSecret] { #expect(!json.out.contains(secret)) }
        let apps = try desk.json([App].self, ["oauth", "app", "list"])
        #expect(apps.map(\.name) == ["m365", "public", "test"])
        #expect(apps.map(\.secretSet) == [true, false, true])
        #expect(apps.last?.tokenURL == "http://127.0.0.1:9/token")
        #expect(apps.last?.scopes == ["imap", "smtp"])
        #expect(apps.first?.scopes.contains("offline_access") == true)

        // Refusals reach the admin as one line and a failure status.
        let duplicate = try desk.run(["oauth", "app", "add", "TEST", "--provider", "google", "--client-id", "x"])
        #expect(duplicate.status != 0)
        #expect(duplicate.err.contains("already exists"), "\(duplicate.err)")
        let plainHTTP = try desk.run([
            "oauth", "app", "add", "lan", "--provider", "custom", "--client-id", "x",
            "--token-url", "http://192.0.2.10/token", "--device-authorization-url", "https://192.0.2.10/device",
        ])
        #expect(plainHTTP.status != 0)
        #expect(plainHTTP.err.contains("plain http"), "\(plainHTTP.err)")
        let unknown = try desk.run(["oauth", "app", "add", "y", "--provider", "yahoo", "--client-id", "x"])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("yahoo"), "\(unknown.err)")

        try desk.ok(["oauth", "app", "remove", "test"])
        #expect(try desk.json([App].self, ["oauth", "app", "list"]).map(\.name) == ["m365", "public"])
        let again = try desk.run(["oauth", "app", "remove", "test"])
        #expect(again.status != 0)
        #expect(again.err.contains("no OAuth app named test"), "\(again.err)")

        try await desk.stop()
        for secret in [fileSecret, stdinSecret] { #expect(!desk.serverLog.contains(secret)) }
    }
}

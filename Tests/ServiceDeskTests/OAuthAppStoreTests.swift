import Foundation
import GRDB
import Testing

@testable import ServiceDesk

/// A fresh temporary directory.
private func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("postdesk-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A registration at a loopback test server, with `change` applied.
private func draft(
    name: String = "test", secret: String? = "s3cret-Client-Value", _ change: (inout OAuthAppDraft) -> Void = { _ in }
) -> OAuthAppDraft {
    var draft = OAuthAppDraft(
        name: name, provider: .custom, clientId: "postdesk-client", clientSecret: secret, tenant: nil,
        authorizationURL: "http://127.0.0.1:8080/authorize", tokenURL: "http://127.0.0.1:8080/token",
        deviceAuthorizationURL: "http://127.0.0.1:8080/device", scopes: ["imap", "smtp"], caFile: nil)
    change(&draft)
    return draft
}

@Suite("OAuth app registrations in the store")
struct OAuthAppStoreTests {
    @Test("an added app is listed with its endpoints and scopes, and removed by name", arguments: StoreBackend.allCases)
    func addListRemove(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let added = try await store.addOAuthApp(draft(name: "zeta", secret: nil))
        _ = try await store.addOAuthApp(draft(name: "Alpha"))
        #expect(added.id != nil)
        #expect(added.hasSecret == false)
        let apps = try await store.oauthApps()
        #expect(apps.map(\.name) == ["Alpha", "zeta"])
        let alpha = try #require(apps.first)
        #expect(alpha.provider == .custom)
        #expect(alpha.clientId == "postdesk-client")
        #expect(alpha.tokenURL == "http://127.0.0.1:8080/token")
        #expect(alpha.deviceAuthorizationURL == "http://127.0.0.1:8080/device")
        #expect(alpha.scopes == ["imap", "smtp"])
        #expect(alpha.hasSecret)
        try await store.removeOAuthApp(name: "alpha")
        #expect(try await store.oauthApps().map(\.name) == ["zeta"])
    }

    @Test(
        "a name already taken, in any case, is a conflict and the first app stays as it was",
        arguments: StoreBackend.allCases)
    func duplicateName(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        _ = try await store.addOAuthApp(draft(name: "m365"))
        let error = await #expect(throws: DeskError.self) {
            _ = try await store.addOAuthApp(draft(name: "M365") { $0.clientId = "other" })
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("M365") == true, "\(error?.message ?? "")")
        #expect(try await store.oauthApps().map(\.clientId) == ["postdesk-client"])
    }

    @Test("removing an unknown app says so and names the list command", arguments: StoreBackend.allCases)
    func removeUnknown(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let error = await #expect(throws: DeskError.self) { try await store.removeOAuthApp(name: "nowhere") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("postdesk oauth app list") == true)
    }

    @Test("the client secret is sealed in the database file: its plaintext is in no column and nowhere in the file")
    func secretSealed() async throws {
        let directory = try temporaryDirectory("oauth-secret")
        let path = directory.appendingPathComponent("postdesk.sqlite").path
        let secrets = SecretBox()
        let secret = "plaintext-client-secret-4f1d"
        do {
            let store = try DeskStore(path: path, secrets: secrets)
            _ = try await store.addOAuthApp(draft(secret: secret))
        }
        let queue = try DatabaseQueue(path: path)
        let sealed = try await queue.read { db in
            try Data.fetchOne(db, sql: "SELECT secret FROM oauthApp WHERE name = 'test'")
        }
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT * FROM oauthApp") }
        try queue.close()
        let blob = try #require(sealed)
        #expect(blob.range(of: Data(secret.utf8)) == nil)
        #expect(try secrets.open(blob) == secret, "the sealed column opens to the secret with the data directory's key")
        for row in rows {
            for (column, value) in row {
                #expect(!"\(value)".contains(secret), "column \(column)")
            }
        }
        // The WAL and the main file alike: nothing on disk holds the plaintext.
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file)")
        }
    }

    @Test("an app in use is refused removal, naming who uses it")
    func usageRefusal() {
        #expect(OAuthAppUsage().refusal(name: "m365") == nil)
        let refusal = OAuthAppUsage(channels: ["sales@desk.test", "help@desk.test"], relay: true).refusal(name: "m365")
        #expect(refusal?.code == .conflict)
        #expect(
            refusal?.message.contains("channel help@desk.test, channel sales@desk.test, the SMTP relay") == true,
            "\(refusal?.message ?? "")")
    }

    /// A registration the store refuses, and words the refusal must contain.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var change: @Sendable (inout OAuthAppDraft) -> Void
        var words: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(
            name: "plain http to another host", change: { $0.tokenURL = "http://login.example.com/token" },
            words: "plain http"),
        Refusal(
            name: "plain http device endpoint to a LAN address",
            change: { $0.deviceAuthorizationURL = "http://192.168.1.5/device" }, words: "--device-authorization-url"),
        Refusal(
            name: "a name that resolves to loopback is not loopback",
            change: { $0.authorizationURL = "http://localhost.example.com/authorize" }, words: "plain http"),
        Refusal(name: "not a URL", change: { $0.tokenURL = "token" }, words: "not an absolute URL"),
        Refusal(name: "another scheme", change: { $0.tokenURL = "ftp://127.0.0.1/token" }, words: "not an https URL"),
        Refusal(name: "a fragment", change: { $0.tokenURL = "https://login.example.com/token#x" }, words: "fragment"),
        Refusal(
            name: "credentials in the URL", change: { $0.tokenURL = "https://user:pw@login.example.com/token" },
            words: "user name or password"),
        Refusal(
            name: "no flow endpoint",
            change: {
                $0.authorizationURL = nil
                $0.deviceAuthorizationURL = nil
            }, words: "--device-authorization-url"),
        Refusal(name: "a scope with a space", change: { $0.scopes = ["imap smtp"] }, words: "scope"),
        Refusal(name: "an empty client id", change: { $0.clientId = " " }, words: "client id"),
        Refusal(name: "a name with a slash", change: { $0.name = "a/b" }, words: "not valid"),
        Refusal(name: "an empty name", change: { $0.name = "" }, words: "not valid"),
        Refusal(name: "a CA file for plain http", change: { $0.caFile = "/etc/hostname" }, words: "--ca-file"),
        Refusal(
            name: "a CA file that cannot be read",
            change: {
                $0.tokenURL = "https://login.example.com/token"
                $0.caFile = "/nonexistent/ca.pem"
            }, words: "cannot be read"),
    ]

    @Test("registrations the store refuses", arguments: refusals)
    func refused(_ refusal: Refusal) async throws {
        let store = try DeskStore.inMemory()
        let error = await #expect(throws: DeskError.self) { _ = try await store.addOAuthApp(draft(refusal.change)) }
        #expect(error?.code == .invalid)
        #expect(error?.message.contains(refusal.words) == true, "\(error?.message ?? "")")
        #expect(try await store.oauthApps().isEmpty)
    }

    @Test(
        "https anywhere, plain http only to this machine",
        arguments: [
            ("https://login.example.com/token", true),
            ("https://10.0.0.1:8443/token", true),
            ("http://127.0.0.1:8080/token", false),
            ("http://127.200.0.9/token", false),
            ("http://[::1]:8080/token", false),
            ("http://localhost:8080/token", false),
            ("HTTP://LOCALHOST/token", false),
        ])
    func accepted(url: String, https: Bool) throws {
        #expect(try OAuthEndpointRule.check(url, what: "--token-url") == https)
    }

    @Test("a database at schema v6-inbound is upgraded and takes OAuth apps")
    func upgradeFromV6() async throws {
        let directory = try temporaryDirectory("oauth-upgrade")
        let path = directory.appendingPathComponent("postdesk.sqlite").path
        let old = try DatabaseQueue(path: path)
        try DeskStore.migrator.migrate(old, upTo: "v6-inbound")
        #expect(try await old.read { db in try db.tableExists("oauthApp") } == false)
        try await old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO project (id, key, name, signup, nextRequestNumber, createdAt)
                        VALUES (1, 'SD', 'Service Desk', 'public', 1, '2026-11-01 10:00:00.000');
                    """)
        }
        try old.close()
        let secrets = SecretBox()
        let store = try DeskStore(path: path, secrets: secrets)
        #expect(try await store.projects().map(\.key) == ["SD"])
        #expect(try await store.oauthApps().isEmpty)
        _ = try await store.addOAuthApp(draft(name: "after-upgrade"))
        let reopened = try DeskStore(path: path, secrets: secrets)
        #expect(try await reopened.oauthApps().map(\.name) == ["after-upgrade"])
        // The upgrade ran every migration since, this one included.
        #expect(DeskStore.migrator.migrations.contains("v7-oauth-app"))
        #expect(DeskStore.schemaVersion == DeskStore.migrator.migrations.last)
    }
}

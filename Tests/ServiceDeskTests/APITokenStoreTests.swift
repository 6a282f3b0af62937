import Foundation
import GRDB
import Testing

@testable import ServiceDesk

@Suite("API tokens in the store")
struct APITokenStoreTests {
    @Test(
        "a token's secret is returned once, kept only as a hash, found by the secret, and gone once revoked",
        arguments: StoreBackend.allCases)
    func lifecycle(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let (token, secret) = try await store.createAPIToken(name: "crm", role: .agent)
        #expect(token.role == .agent && secret.hasPrefix("pd_") && secret.count > 40)
        let stored = try await store.read { db in "\(try SQLRow.fetchAll(db, sql: "SELECT * FROM apiToken"))" }
        #expect(!stored.contains(secret.dropFirst(3)))
        #expect(try await store.apiToken(secret: secret)?.name == "crm")
        #expect(try await store.apiTokens().first?.lastUsedAt != nil)
        #expect(try await store.apiToken(secret: secret + "x") == nil)
        #expect(try await store.apiToken(secret: "crm") == nil)
        #expect(try await store.apiToken(secret: "pd_" + String(repeating: "a", count: 10_000)) == nil)
        await #expect(throws: DeskError.self) { try await store.createAPIToken(name: "CRM", role: .admin) }
        await #expect(throws: DeskError.self) { try await store.createAPIToken(name: "two words", role: .admin) }
        try await store.revokeAPIToken(name: "crm")
        #expect(try await store.apiToken(secret: secret) == nil)
        await #expect(throws: DeskError.self) { try await store.revokeAPIToken(name: "crm") }
    }
}

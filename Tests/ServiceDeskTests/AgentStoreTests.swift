import Foundation
import GRDB
import Testing

@testable import ServiceDesk

/// A stand-in for a bcrypt hash: the store keeps whatever hash it is given.
private let someHash = "$2b$12$abcdefghijklmnopqrstuuM4G5m0y8W9Z3y1cC7p3b5dJ8l0E6rS."

/// Now, 0.6 ms past a whole second: the database keeps milliseconds, so an expiry check that compares this
/// full-precision time with a stored (rounded) one would disagree with the database by a fraction of a millisecond.
private func subMillisecondNow() -> Date {
    Date(timeIntervalSinceReferenceDate: Date().timeIntervalSinceReferenceDate.rounded(.down) + 0.0006)
}

@Suite("Agents, password links and console sessions in the store")
struct AgentStoreTests {
    @Test(
        "an agent is added with a normalised address, listed by address and found by id",
        arguments: StoreBackend.allCases)
    func addAndList(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let bob = try await store.addAgent(
            email: "  Bob@Desk.TEST ", name: " Bob Agent ", role: .agent, passwordHash: nil)
        let alice = try await store.addAgent(
            email: "alice@desk.test", name: "Alice", role: .admin, passwordHash: someHash)
        #expect(bob.email == "bob@desk.test")
        #expect(bob.name == "Bob Agent")
        #expect(bob.passwordSet == false)
        #expect(bob.disabled == false)
        #expect(bob.locale == nil)
        #expect(alice.passwordSet)
        #expect(alice.role == .admin)
        #expect(try await store.agents().map(\.email) == ["alice@desk.test", "bob@desk.test"])
        #expect(try await store.agent(id: bob.id) == bob)
        #expect(try await store.agent(id: 9999) == nil)
        let login = try #require(try await store.agentLogin(email: "ALICE@desk.test"))
        #expect(login.agent == alice)
        #expect(login.passwordHash == someHash)
        #expect(try await store.agentLogin(email: "nobody@desk.test") == nil)
        #expect(try await store.agentLogin(email: "not an address") == nil)
    }

    @Test(
        "an address already taken, in any case, is a conflict; a bad address or name is invalid",
        arguments: StoreBackend.allCases)
    func duplicates(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        _ = try await store.addAgent(email: "alice@desk.test", name: "Alice", role: .agent, passwordHash: nil)
        for taken in ["alice@desk.test", "ALICE@DESK.TEST", " Alice@Desk.Test", "<alice@desk.test>"] {
            let error = await #expect(throws: DeskError.self) {
                _ = try await store.addAgent(email: taken, name: "Other", role: .admin, passwordHash: nil)
            }
            #expect(error?.code == .conflict, "\(taken)")
        }
        // Beyond ASCII the address is lowercased the Unicode way, and the column compares without case too.
        _ = try await store.addAgent(email: "Ärzte@desk.test", name: "Ä", role: .agent, passwordHash: nil)
        let unicode = await #expect(throws: DeskError.self) {
            _ = try await store.addAgent(email: "ärzte@desk.test", name: "ä", role: .agent, passwordHash: nil)
        }
        #expect(unicode?.code == .conflict)
        for (email, name) in [("no-at-sign", "X"), ("a@b.c", "  "), ("a@b.c", "two\nlines")] {
            let error = await #expect(throws: DeskError.self) {
                _ = try await store.addAgent(email: email, name: name, role: .agent, passwordHash: nil)
            }
            #expect(error?.code == .invalid)
        }
        #expect(try await store.agents().count == 2)
    }

    @Test(
        "disabling an agent ends their sessions and password links, and they can no longer get new ones",
        arguments: StoreBackend.allCases)
    func disableEndsSessions(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let alice = try await store.addAgent(email: "alice@desk.test", name: "Alice", role: .agent, passwordHash: nil)
        let bob = try await store.addAgent(email: "bob@desk.test", name: "Bob", role: .agent, passwordHash: nil)
        let later = Date().addingTimeInterval(3600)
        let aliceSession = AgentToken.generate()
        let aliceSecond = AgentToken.generate()
        let bobSession = AgentToken.generate()
        let aliceLink = AgentToken.generate()
        try await store.createSession(
            agentId: alice.id, tokenHash: aliceSession.hash, csrfToken: "c1", expiresAt: later)
        try await store.createSession(agentId: alice.id, tokenHash: aliceSecond.hash, csrfToken: "c2", expiresAt: later)
        try await store.createSession(agentId: bob.id, tokenHash: bobSession.hash, csrfToken: "c3", expiresAt: later)
        try await store.createPasswordSetup(agentId: alice.id, tokenHash: aliceLink.hash, expiresAt: later)
        #expect(try await store.session(tokenHash: aliceSession.hash, now: Date())?.agent == alice)

        let disabled = try await store.disableAgent(email: "ALICE@desk.test")
        #expect(disabled.disabled)
        #expect(try await store.session(tokenHash: aliceSession.hash, now: Date()) == nil)
        #expect(try await store.session(tokenHash: aliceSecond.hash, now: Date()) == nil)
        #expect(try await store.passwordSetupAgent(tokenHash: aliceLink.hash, now: Date()) == nil)
        // The rows are gone, not merely hidden.
        let rows = try await store.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM agentSession WHERE agentId = ?", arguments: [alice.id])
        }
        #expect(rows == 0)
        #expect(try await store.session(tokenHash: bobSession.hash, now: Date())?.agent == bob)
        #expect(try await store.agentLogin(email: "alice@desk.test")?.agent.disabled == true)

        let again = await #expect(throws: DeskError.self) {
            try await store.createSession(
                agentId: alice.id, tokenHash: AgentToken.generate().hash, csrfToken: "c", expiresAt: later)
        }
        #expect(again?.code == .invalid)
        #expect(try await store.disableAgent(email: "alice@desk.test").disabled)
        let unknown = await #expect(throws: DeskError.self) { _ = try await store.disableAgent(email: "x@desk.test") }
        #expect(unknown?.code == .notFound)
    }

    @Test(
        "a password link works once, not after it expired, and a newer link replaces it",
        arguments: StoreBackend.allCases)
    func passwordLinks(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let agent = try await store.addAgent(email: "carol@desk.test", name: "Carol", role: .agent, passwordHash: nil)
        let now = subMillisecondNow()
        let link = AgentToken.generate()
        try await store.createPasswordSetup(agentId: agent.id, tokenHash: link.hash, expiresAt: now + 48 * 3600)
        #expect(try await store.passwordSetupAgent(tokenHash: link.hash, now: now)?.id == agent.id)
        #expect(try await store.consumePasswordSetup(tokenHash: link.hash, now: now)?.id == agent.id)
        #expect(try await store.consumePasswordSetup(tokenHash: link.hash, now: now) == nil)

        let expiring = AgentToken.generate()
        try await store.createPasswordSetup(agentId: agent.id, tokenHash: expiring.hash, expiresAt: now + 60)
        #expect(try await store.passwordSetupAgent(tokenHash: expiring.hash, now: now + 59.999) != nil)
        #expect(try await store.passwordSetupAgent(tokenHash: expiring.hash, now: now + 60) == nil)
        #expect(try await store.consumePasswordSetup(tokenHash: expiring.hash, now: now + 61) == nil)
        // The failed attempt spent it: it does not work again even with a clock that is behind.
        #expect(try await store.consumePasswordSetup(tokenHash: expiring.hash, now: now) == nil)

        let first = AgentToken.generate()
        let second = AgentToken.generate()
        try await store.createPasswordSetup(agentId: agent.id, tokenHash: first.hash, expiresAt: now + 3600)
        try await store.createPasswordSetup(agentId: agent.id, tokenHash: second.hash, expiresAt: now + 3600)
        #expect(try await store.consumePasswordSetup(tokenHash: first.hash, now: now) == nil)
        #expect(try await store.passwordSetupAgent(tokenHash: second.hash, now: now) != nil)

        // Setting the password spends the outstanding link and ends the agent's sessions, not another agent's.
        let session = AgentToken.generate()
        try await store.createSession(agentId: agent.id, tokenHash: session.hash, csrfToken: "c", expiresAt: now + 600)
        let other = try await store.addAgent(email: "olga@desk.test", name: "Olga", role: .agent, passwordHash: nil)
        let otherSession = AgentToken.generate()
        try await store.createSession(
            agentId: other.id, tokenHash: otherSession.hash, csrfToken: "d", expiresAt: now + 600)
        #expect(try await store.session(tokenHash: session.hash, now: now) != nil)
        try await store.setAgentPassword(agentId: agent.id, passwordHash: someHash)
        #expect(try await store.session(tokenHash: session.hash, now: now) == nil)
        #expect(try await store.session(tokenHash: otherSession.hash, now: now) != nil)
        #expect(try await store.passwordSetupAgent(tokenHash: second.hash, now: now) == nil)
        #expect(try await store.agent(id: agent.id)?.passwordSet == true)
        #expect(try await store.agentLogin(email: "carol@desk.test")?.passwordHash == someHash)
        #expect(try await store.consumePasswordSetup(tokenHash: AgentToken.generate().hash, now: now) == nil)
    }

    @Test(
        "a session is found until it expires; sign-out and the expiry sweep delete sessions",
        arguments: StoreBackend.allCases)
    func sessionExpiry(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let agent = try await store.addAgent(email: "dave@desk.test", name: "Dave", role: .admin, passwordHash: nil)
        let now = subMillisecondNow()
        let short = AgentToken.generate()
        let long = AgentToken.generate()
        let other = AgentToken.generate()
        try await store.createSession(
            agentId: agent.id, tokenHash: short.hash, csrfToken: "csrf-1", expiresAt: now + 60)
        try await store.createSession(
            agentId: agent.id, tokenHash: long.hash, csrfToken: "csrf-2", expiresAt: now + 7200)
        try await store.createSession(
            agentId: agent.id, tokenHash: other.hash, csrfToken: "csrf-3", expiresAt: now + 7200)

        let found = try #require(try await store.session(tokenHash: short.hash, now: now))
        #expect(found.agent == agent)
        #expect(found.csrfToken == "csrf-1")
        #expect(abs(found.expiresAt.timeIntervalSince(now + 60)) < 0.01)
        #expect(try await store.session(tokenHash: short.hash, now: now + 59) != nil)
        #expect(try await store.session(tokenHash: short.hash, now: now + 60) == nil)
        #expect(try await store.session(tokenHash: AgentToken.hash("never issued"), now: now) == nil)

        try await store.deleteExpiredSessions(now: now + 120)
        let left = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM agentSession") }
        #expect(left == 2)
        #expect(try await store.session(tokenHash: long.hash, now: now + 120)?.csrfToken == "csrf-2")
        try await store.deleteSession(tokenHash: long.hash)
        #expect(try await store.session(tokenHash: long.hash, now: now) == nil)
        #expect(try await store.session(tokenHash: other.hash, now: now) != nil)

        let bad = await #expect(throws: DeskError.self) {
            try await store.createSession(
                agentId: agent.id, tokenHash: Data([1, 2, 3]), csrfToken: "x", expiresAt: now)
        }
        #expect(bad?.code == .invalid)
    }

    @Test("tokens are 32 random bytes in base64url, and the store keeps only their SHA-256")
    func tokens() async throws {
        let one = AgentToken.generate()
        let two = AgentToken.generate()
        #expect(one.token != two.token)
        #expect(one.token.count == 43)
        #expect(one.token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(one.hash == AgentToken.hash(one.token))
        #expect(one.hash.count == 32)
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        #expect(
            AgentToken.hash("abc").map { String(format: "%02x", $0) }.joined()
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        let store = try DeskStore.inMemory()
        let agent = try await store.addAgent(email: "erin@desk.test", name: "Erin", role: .agent, passwordHash: nil)
        try await store.createSession(agentId: agent.id, tokenHash: one.hash, csrfToken: "c", expiresAt: Date() + 60)
        let stored = try await store.read { db in try Data.fetchAll(db, sql: "SELECT tokenHash FROM agentSession")
        }
        #expect(stored == [one.hash])
    }

    @Test("an agent's language is set and cleared; an unknown agent is not found", arguments: StoreBackend.allCases)
    func locale(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let agent = try await store.addAgent(email: "fumi@desk.test", name: "Fumi", role: .agent, passwordHash: nil)
        try await store.setAgentLocale(agentId: agent.id, locale: .ja)
        #expect(try await store.agent(id: agent.id)?.locale == .ja)
        try await store.setAgentLocale(agentId: agent.id, locale: nil)
        #expect(try await store.agent(id: agent.id)?.locale == nil)
        let error = await #expect(throws: DeskError.self) { try await store.setAgentLocale(agentId: 42, locale: .en) }
        #expect(error?.code == .notFound)
        let password = await #expect(throws: DeskError.self) {
            try await store.setAgentPassword(agentId: 42, passwordHash: someHash)
        }
        #expect(password?.code == .notFound)
    }
}

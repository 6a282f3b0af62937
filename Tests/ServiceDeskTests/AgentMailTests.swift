import Foundation
import GRDB
import Testing

@testable import ServiceDesk

@Suite("Agents answering by mail")
struct AgentMailTests {
    @Test(
        "an agent's mail that threads to a request is an agent comment, mailed to the customer",
        arguments: StoreBackend.allCases)
    func agentAnswersByMail(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(signup: .restricted, on: backend)
        _ = try await store.addCustomer(projectKey: "SD", address: "alice@customer.test", name: "Alice")
        #expect(try await storeAndApply(store, channel: channel, intake()) == .created("SD-1"))
        _ = try await store.addAgent(email: "ada@desk.test", name: "Ada", role: .agent, passwordHash: nil)

        let answer = intake(
            from: "Ada@Desk.test", subject: "Re: Printer jammed", body: "Try the second tray.",
            messageID: "agent-1@desk.test", references: ["m1@customer.test"], reply: "Try the second tray.")
        #expect(try await storeAndApply(store, channel: channel, answer) == .commented("SD-1"))
        let detail = try await store.request(key: "SD-1")
        let comment = try #require(detail.comments.last)
        #expect(comment.source == .agent)
        #expect(comment.isPublic)
        #expect(comment.author == "ada@desk.test")
        #expect(detail.request.status == .waitingForCustomer)
        let outbox = try await store.outbox(requestKey: "SD-1")
        #expect(outbox.count == 1)
        #expect(outbox.first?.recipients == ["alice@customer.test"])
        // The agent did not become a customer, though signup is restricted and they are not on the list.
        #expect(try await store.customers(projectKey: "SD").map(\.address) == ["alice@customer.test"])
    }

    @Test("a disabled agent's mail is not an agent comment", arguments: StoreBackend.allCases)
    func disabledAgent(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        #expect(try await storeAndApply(store, channel: channel, intake()) == .created("SD-1"))
        _ = try await store.addAgent(email: "ada@desk.test", name: "Ada", role: .agent, passwordHash: nil)
        _ = try await store.disableAgent(email: "ada@desk.test")
        let answer = intake(
            from: "ada@desk.test", subject: "Re: Printer jammed", messageID: "agent-2@desk.test",
            references: ["m1@customer.test"])
        let outcome = try await storeAndApply(store, channel: channel, answer)
        #expect(outcome != .commented("SD-1"))
        #expect(try await store.request(key: "SD-1").comments.allSatisfy { $0.source == .email })
        #expect(try await store.outbox(requestKey: "SD-1").isEmpty)
    }
}

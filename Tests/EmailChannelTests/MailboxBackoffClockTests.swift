import Foundation
import Logging
import MailServerHarness
import ServiceDesk
import Testing

@testable import EmailChannel

/// The mailbox actor's backoff with an injected clock against a server replaying a provider's
/// replies: the Outlook POP3 lock-out waits exactly 15 minutes, and a refused login waits for an
/// admin instead of retrying.
@Suite("Mailbox backoff with an injected clock", .timeLimit(.minutes(1)))
struct MailboxBackoffClockTests {
    static func mailbox(
        _ server: FakeMailServer, protocol mailProtocol: MailboxProtocol, provider: MailProvider, clock: ManualClock,
        board: ChannelStatusBoard
    ) async throws -> MailboxActor {
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        // The channel row is made directly: linking would need the server's cooperation.
        var channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "desk@contoso.test", protocol: mailProtocol, host: "127.0.0.1", port: 1,
                tls: .none,
                caFile: nil, username: "desk@contoso.test", password: "pw", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1, pop3UIDLs: []))
        channel.port = server.port
        channel.provider = provider
        let router = RequestRouter(store: store, logger: Logger(label: "t"))
        return MailboxActor(
            channel: RunnableChannel(channel: channel, password: "pw", projectKey: "SD"), store: store, router: router,
            statusBoard: board, clock: clock, logger: Logger(label: "t"))
    }

    static func waitFor(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while await !condition() {
            if ContinuousClock.now > deadline { throw BackoffTestError(what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("Outlook's POP3 login limit: exactly 15 minutes before the next login")
    func outlookLockout() async throws {
        let server = try FakeMailServer(.outlookPOP3LoginLimit)
        defer { server.stop() }
        let clock = ManualClock()
        let board = ChannelStatusBoard()
        let mailbox = try await Self.mailbox(
            server, protocol: .pop3, provider: .outlook, clock: clock, board: board)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await mailbox.run() }
            try await Self.waitFor("the first backoff") { clock.pendingSleeps == [.seconds(900)] }
            #expect(server.connectionCount == 1)
            let status = await board.all().first
            #expect(status?.state == .backingOff)
            #expect(status?.detail?.contains("Exceeded the login limit for a 15 minute period") == true)
            #expect(status?.detail?.contains("IMAP") == true)
            clock.advance(by: .seconds(899))
            try await Task.sleep(for: .milliseconds(200))
            #expect(server.connectionCount == 1)
            clock.advance(by: .seconds(1))
            try await Self.waitFor("the second login") { server.connectionCount == 2 }
            try await Self.waitFor("the second backoff") { clock.pendingSleeps == [.seconds(900)] }
            group.cancelAll()
        }
    }

    @Test("a refused login needs attention and is not retried however long we wait")
    func noRetryOnAuthFailure() async throws {
        let server = try FakeMailServer(.gmailIMAPWebLoginAlert)
        defer { server.stop() }
        let clock = ManualClock()
        let board = ChannelStatusBoard()
        let mailbox = try await Self.mailbox(server, protocol: .imap, provider: .gmail, clock: clock, board: board)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await mailbox.run() }
            try await Self.waitFor("needs-attention") { await board.all().first?.state == .needsAttention }
            let status = await board.all().first
            #expect(status?.detail?.contains("Please log in via your web browser") == true)
            #expect(status?.detail?.contains("app password") == true)
            clock.advance(by: .seconds(7 * 24 * 3600))
            try await Task.sleep(for: .milliseconds(200))
            #expect(server.connectionCount == 1)
            group.cancelAll()
        }
    }
}

struct BackoffTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = "timed out waiting for \(description)" }
}

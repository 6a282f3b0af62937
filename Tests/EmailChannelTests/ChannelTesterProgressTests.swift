import Foundation
import Logging
import MailClients
import MailServerHarness
import ServiceDesk
import Synchronization
import Testing

@testable import EmailChannel

/// The steps a progress callback heard, with when.
private final class HeardSteps: Sendable {
    let steps = Mutex<[(step: ChannelTestReport.Step, at: ContinuousClock.Instant)]>([])

    func hear(_ step: ChannelTestReport.Step) {
        steps.withLock { $0.append((step, .now)) }
    }

    var names: [ChannelTestReport.Step] { steps.withLock { $0.map(\.step) } }
}

/// `channel test` reports each step as it is decided (the console's admin page streams them).
@Suite("Channel tester progress", .timeLimit(.minutes(2)))
struct ChannelTesterProgressTests {
    static let logger = Logger(label: "channel-tester-progress-test")

    @Test("a replayed Gmail ALERT: the progress callback hears exactly the report's steps, in order")
    func providerFailure() async throws {
        let server = try FakeMailServer(.gmailIMAPWebLoginAlert)
        defer { server.stop() }
        let heard = HeardSteps()
        let report = await ChannelTester().test(
            ChannelTestTarget(
                protocol: .imap,
                endpoint: MailServerEndpoint(host: "127.0.0.1", port: server.port, tls: .none),
                credentials: MailCredentials(username: "help@desk.test", password: "secret")),
            logger: Self.logger, progress: heard.hear)
        #expect(!report.ok)
        #expect(heard.names == report.steps)
        #expect(heard.names.last?.ok == false)
    }

    @Test("real Dovecot with a wrong password: the connect and STARTTLS steps are heard before the login fails")
    func liveSteps() async throws {
        let servers = try await MailServers.shared()
        let address = "progress-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "right")
        let heard = HeardSteps()
        let target = ChannelTestTarget(
            protocol: .imap,
            endpoint: MailServerEndpoint(
                host: "127.0.0.1", port: servers.imapPort, tls: .starttls, caFile: servers.caFile),
            credentials: MailCredentials(username: address, password: "wrong"),
            smtpRelay: .init(
                endpoint: MailServerEndpoint(host: "127.0.0.1", port: servers.smtpPort, tls: .none), credentials: nil,
                from: "help@desk.test"))
        let report = await ChannelTester().test(target, logger: Self.logger, progress: heard.hear)
        let finished = ContinuousClock.now
        #expect(heard.names == report.steps)
        #expect(report.steps.map(\.ok) == [true, true, false, true, true])
        // Dovecot answers a wrong password after its authentication delay: the steps before it were told then.
        let connected = try #require(heard.steps.withLock { $0.first?.at })
        let login = try #require(heard.steps.withLock { $0.first { !$0.step.ok }?.at })
        #expect(connected < login)
        #expect(finished - connected >= .milliseconds(200), "the first step was heard only at the end")
    }
}

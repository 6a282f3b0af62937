import Foundation
import Logging
import MailClients
import MailServerHarness
import Testing

@testable import EmailChannel

/// `smtp set`'s test of the relay against a scripted relay: the steps, the relay's own words, our diagnosis and
/// the fix, and that no mail is sent.
@Suite("Relay tester", .timeLimit(.minutes(1)))
struct RelayTesterTests {
    static func relay(_ server: FakeMailServer, credentials: MailCredentials?) -> ChannelTestTarget.SMTPRelay {
        ChannelTestTarget.SMTPRelay(
            endpoint: MailServerEndpoint(host: "127.0.0.1", port: server.port, tls: .none, commandTimeout: .seconds(5)),
            credentials: credentials, from: "help@desk.test")
    }

    static let login = MailCredentials(username: "help@desk.test", password: "relay-password")

    @Test("a working relay: connect, login and sender pass; MAIL FROM is reset and nothing is sent")
    func works() async throws {
        let server = try FakeMailServer(
            RelayScript.smtp(
                RelayScript.login + [
                    .expect("MAIL FROM:<help@desk.test>", "250 2.1.0 Ok"), .expect("RSET", "250 2.0.0 Ok"),
                ]))
        defer { server.stop() }
        let report = await RelayTester().test(Self.relay(server, credentials: Self.login), logger: Logger(label: "t"))
        #expect(report.ok, "\(report.renderText())")
        #expect(
            report.steps.map(\.name) == [
                "Connect to SMTP relay 127.0.0.1:\(server.port)", "Log in as help@desk.test", "Sender help@desk.test",
            ])
        #expect(report.capabilities.contains("AUTH"))
        #expect(server.receivedLines.contains { $0.hasPrefix("DATA") } == false)
        #expect(server.receivedLines.last == "QUIT")
        #expect(server.unexpectedLines.isEmpty)
    }

    @Test("a refused password: the login step fails with the relay's words, the diagnosis and the fix")
    func refusedLogin() async throws {
        let server = try FakeMailServer(RelayScript.smtp(RelayScript.refusedLogin))
        defer { server.stop() }
        let report = await RelayTester().test(Self.relay(server, credentials: Self.login), logger: Logger(label: "t"))
        #expect(!report.ok)
        #expect(report.steps.map(\.ok) == [true, false])
        #expect(report.steps.last?.name == "Log in as help@desk.test")
        #expect(report.serverText == "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6")
        #expect(report.diagnosis?.cause == "badCredentials")
        #expect(report.diagnosis?.fix.contains("app password") == true)
        let text = report.renderText()
        #expect(text.contains("✗ Log in as help@desk.test"))
        #expect(text.contains("Server said: 535 5.7.8"))
        #expect(!text.contains("relay-password"))
    }

    @Test("a relay that wants STARTTLS first says so at MAIL FROM, and the fix names --tls starttls")
    func startTLSRequired() async throws {
        let server = try FakeMailServer(
            RelayScript.smtp([.expect("MAIL FROM", "530 5.7.0 Must issue a STARTTLS command first")]))
        defer { server.stop() }
        let report = await RelayTester().test(Self.relay(server, credentials: nil), logger: Logger(label: "t"))
        #expect(!report.ok)
        #expect(report.steps.last?.name == "Sender help@desk.test")
        #expect(report.serverText == "530 5.7.0 Must issue a STARTTLS command first")
        #expect(report.diagnosis?.cause == "tlsRequired")
        #expect(report.diagnosis?.fix.contains("--tls starttls") == true)
    }

    @Test("nothing listening: the connect step fails and says to check host and port")
    func nothingListening() async throws {
        let port = try ReservedLoopbackPort()
        let relay = ChannelTestTarget.SMTPRelay(
            endpoint: MailServerEndpoint(host: "127.0.0.1", port: port.port, tls: .none), credentials: nil,
            from: "help@desk.test")
        let report = await RelayTester().test(relay, logger: Logger(label: "t"))
        #expect(!report.ok)
        #expect(report.steps.count == 1)
        #expect(report.diagnosis?.fix.contains("--port") == true)
    }
}
